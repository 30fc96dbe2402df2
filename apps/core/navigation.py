"""The portal's navigation: each entry says who sees it, so menus follow roles."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import authz
from .authz import Perm


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    needs: str | None = None  # a project permission held in any project; None = everyone
    cloud_admin_only: bool = False


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
            Item(_("Unassigned namespaces"), "portal:namespace_unassigned", cloud_admin_only=True),
        ),
    ),
    Group(
        _("Infrastructure"),
        (
            Item(_("Clusters"), "portal:cluster_list", needs=Perm.VIEW_INFRASTRUCTURE),
            Item(_("Nodes"), "portal:node_list", needs=Perm.VIEW_INFRASTRUCTURE),
        ),
    ),
    Group(
        _("Storage"),
        (
            Item(_("Storage classes"), "portal:storageclass_list", needs=Perm.VIEW_INFRASTRUCTURE),
            Item(
                _("Persistent volumes"),
                "portal:persistentvolume_list",
                needs=Perm.VIEW_INFRASTRUCTURE,
            ),
            Item(_("Volume claims"), "portal:persistentvolumeclaim_list"),
        ),
    ),
    Group(
        _("Configuration"),
        (
            Item(_("ConfigMaps"), "portal:configmap_list", needs=Perm.OPERATE),
            Item(_("Secrets"), "portal:secret_list", needs=Perm.OPERATE),
        ),
    ),
    Group(
        _("Operations"),
        (
            Item(_("Operations"), "portal:operation_list"),
            Item(_("Audit log"), "portal:auditevent_list", needs=Perm.VIEW_AUDIT),
            Item(_("System"), "portal:system", cloud_admin_only=True),
        ),
    ),
    Group(_("Account"), (Item(_("API tokens"), "portal:apitoken_list"),)),
]


def held_permissions(request) -> set[str]:
    """Project permissions the user holds anywhere; one query, cached per request."""
    if not hasattr(request, "_held_permissions"):
        from django.apps import apps

        grants = apps.get_model("tenancy", "ProjectUserObjectPermission")
        request._held_permissions = set(
            grants.objects.filter(user=request.user).values_list("permission__codename", flat=True)
        )
    return request._held_permissions


def menu_for(request) -> list[dict]:
    admin = authz.is_cloud_admin(request.user)
    menu = []
    for group in MENU:
        items = [
            {"label": item.label, "url": reverse(item.url_name)}
            for item in group.items
            if admin
            or (
                not item.cloud_admin_only
                and (item.needs is None or item.needs in held_permissions(request))
            )
        ]
        if items:
            menu.append({"label": group.label, "items": items})
    return menu
