"""The portal's navigation: an entry shows to those who may open its page, so menus follow roles."""

import functools
from dataclasses import dataclass

from django.urls import resolve, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Item:
    """A menu entry. Who sees it is who may open its page (the view's ``may_open``)."""

    label: str
    url_name: str


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[Item, ...]


MENU: list[Group] = [
    Group(_("Overview"), (Item(_("Dashboard"), "portal:dashboard"),)),
    Group(
        _("Tenancy"),
        (
            Item(_("Departments"), "portal:department_list"),
            Item(_("Projects"), "portal:project_list"),
            Item(_("Members"), "portal:membership_list"),
            Item(_("Namespaces"), "portal:namespace_list"),
            Item(_("Unassigned namespaces"), "portal:namespace_unassigned"),
        ),
    ),
    Group(
        _("Infrastructure"),
        (
            Item(_("Clusters"), "portal:cluster_list"),
            Item(_("Nodes"), "portal:node_list"),
        ),
    ),
    Group(
        _("Application workloads"),
        (
            Item(_("Applications"), "portal:application_list"),
            Item(_("Workloads"), "portal:workload_list"),
            Item(_("Pods"), "portal:pod_list"),
        ),
    ),
    Group(
        _("Networking"),
        (Item(_("Services"), "portal:service_list"), Item(_("Ingresses"), "portal:ingress_list")),
    ),
    Group(
        _("Storage"),
        (
            Item(_("Storage classes"), "portal:storageclass_list"),
            Item(_("Persistent volumes"), "portal:persistentvolume_list"),
            Item(_("Volume claims"), "portal:persistentvolumeclaim_list"),
        ),
    ),
    Group(
        _("Configuration"),
        (
            Item(_("ConfigMaps"), "portal:configmap_list"),
            Item(_("Secrets"), "portal:secret_list"),
        ),
    ),
    Group(
        pgettext_lazy("menu group: running the portal", "Operations"),
        (
            Item(_("Operations"), "portal:operation_list"),
            Item(_("Log search"), "portal:logs"),
            Item(_("Events"), "portal:event_list"),
            Item(_("Log shippers"), "portal:logshipper_list"),
            Item(_("Audit log"), "portal:auditevent_list"),
            Item(_("System"), "portal:system"),
        ),
    ),
    Group(_("Account"), (Item(_("API tokens"), "portal:apitoken_list"),)),
]


@functools.cache
def _view_class(url_name: str):
    return getattr(resolve(reverse(url_name)).func, "view_class", None)


def may_open(request, url_name: str) -> bool:
    """Whether the page is for this user: the view's own rule, so menu and page agree."""
    view = _view_class(url_name)
    return view is None or not hasattr(view, "may_open") or view.may_open(request)


def menu_for(request) -> list[dict]:
    menu = []
    for group in MENU:
        items = [
            {"label": item.label, "url": reverse(item.url_name)}
            for item in group.items
            if may_open(request, item.url_name)
        ]
        if items:
            menu.append({"label": group.label, "items": items})
    return menu
