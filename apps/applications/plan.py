"""Checking an import before anything is applied.

An import is many YAML documents (``List`` documents are opened up) going into one
namespace as one application. ``check`` looks at each object without asking
Kubernetes: a kind an application may group, in this namespace, with a name, of the
right types, and nothing this user may not set (each kind's own service guard: Secret
types, claims binding someone's volume, ...). ``dry_run`` then asks Kubernetes what it
would make of each one. Only a plan without a single refusal is applied, in
dependency order, so a refused object means nothing is applied.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from apps.core import yaml as kyaml
from apps.kube import objects, schema
from apps.kube.errors import KubeError
from apps.kube.services import as_validation_error, service_for

from . import components
from .components import APPLICATION_API, BY_KIND, ORDER
from .models import NAME_LABEL

MAX_BYTES = 2 * 1024 * 1024
MAX_OBJECTS = 200

# Kinds that are not namespaced, named for the refusal's sake (any kind whose
# apiVersion/kind the portal knows as cluster-scoped is refused as well).
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass
class Item:
    obj: dict
    errors: list[str] = field(default_factory=list)
    exists: bool | None = None  # known after the dry run

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion") or "")

    @property
    def name(self) -> str:
        metadata = self.obj.get("metadata")
        return str((metadata or {}).get("name") or "") if isinstance(metadata, dict) else ""

    @property
    def is_application(self) -> bool:
        return (self.api_version, self.kind) == (APPLICATION_API, "Application")


@dataclass
class Plan:
    namespace: object
    application: str
    selector: dict
    items: list[Item]
    errors: list[str] = field(default_factory=list)  # about the import as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and not any(item.errors for item in self.items)

    @property
    def refused(self) -> int:
        return sum(1 for item in self.items if item.errors)

    @property
    def documents(self) -> list[dict]:
        return [item.obj for item in self.items]

    def raise_if_refused(self) -> None:
        if self.ok:
            return
        messages = list(self.errors)
        messages += [
            f"{item.kind or '?'} {item.name or '?'}: {'; '.join(item.errors)}"
            for item in self.items
            if item.errors
        ]
        raise ValidationError({"yaml": messages})


def parse(text: str) -> list[dict]:
    """Every object of the YAML, ``List`` documents opened up; ValidationError if unreadable."""
    documents = kyaml.load_all(text, max_bytes=MAX_BYTES)
    found = []
    for document in documents:
        items = document.get("items")
        if str(document.get("kind", "")).endswith("List") and isinstance(items, list):
            for item in items:
                if not isinstance(item, dict):
                    raise ValidationError(_("Each item of a List must be a Kubernetes object."))
                found.append(item)
        else:
            found.append(document)
    if not found:
        raise ValidationError(_("The YAML holds no objects."))
    if len(found) > MAX_OBJECTS:
        raise ValidationError(
            _("An import holds at most %(n)s objects (this one has %(found)s).")
            % {"n": MAX_OBJECTS, "found": len(found)}
        )
    return found


def check(actor, namespace, text: str, application: str = "", *, existing=None) -> Plan:
    """The plan of importing ``text`` into ``namespace`` as ``application``: every object
    checked, labelled and put in apply order; nothing asked of Kubernetes yet.

    Into an ``existing`` application, the objects take its selector, and its Application
    object is brought to list the kinds they add."""
    autodiscover_modules("services")  # every kind's guard is declared by its service
    items = [Item(obj) for obj in parse(text)]
    errors = []
    declared = [item for item in items if item.is_application]
    if len(declared) > 1:
        errors.append(_("An import holds at most one Application."))
    name = application or (declared[0].name if declared else "")
    if not name:
        errors.append(_("Name the application (or include an Application object)."))
    if declared and application and declared[0].name and declared[0].name != application:
        declared[0].errors.append(
            _("The Application is named %(name)s, but the import is for %(app)s.")
            % {"name": declared[0].name, "app": application}
        )
    if existing is not None and not declared:
        selector = dict(existing.selector) or {NAME_LABEL: name}
    else:
        selector = _selector(declared[0].obj if declared else None, name)
    seen = set()
    for item in items:
        _check_item(actor, namespace, item)
        key = (item.kind, item.name)
        if item.name and key in seen:
            item.errors.append(_("The import holds this object twice."))
        seen.add(key)
    if not declared and name:
        kinds = {item.kind for item in items if item.kind in BY_KIND}
        if existing is not None:
            listed = {entry.get("kind") for entry in existing.component_kinds or []}
            kinds = kinds | (listed & set(BY_KIND)) if listed else set(BY_KIND)
            own = application_object(name, selector, kinds or BY_KIND)
            own["spec"].pop("descriptor")  # the existing description stays as it is
        else:
            own = application_object(name, selector, kinds or BY_KIND)
        items.append(Item(own))
    for item in items:
        if not item.errors and isinstance(item.obj.get("metadata"), dict):
            item.obj["metadata"]["namespace"] = namespace.name
            if not item.is_application:
                item.obj = components.labelled(item.obj, selector)
    items.sort(key=_apply_order)
    return Plan(namespace, name, selector, items, errors)


def _selector(declared: dict | None, name: str) -> dict:
    """The labels the application's components carry: its own selector, or the portal's."""
    if declared:
        labels = ((declared.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if isinstance(labels, dict) and labels:
            return {str(k): str(v) for k, v in labels.items()}
    return {NAME_LABEL: name} if name else {}


def application_object(name: str, selector: dict, kinds=(), description="", version="") -> dict:
    spec = {
        "selector": {"matchLabels": selector},
        "componentKinds": components.component_kinds(kinds or BY_KIND),
        "descriptor": {
            k: v for k, v in {"description": description, "version": version}.items() if v
        },
    }
    return {
        "apiVersion": APPLICATION_API,
        "kind": "Application",
        "metadata": {"name": name, "labels": dict(selector)},
        "spec": spec,
    }


def _apply_order(item: Item) -> int:
    """The Application first (it shows at once), then what is referred to before what refers."""
    return -1 if item.is_application else ORDER.get(item.kind, len(ORDER))


def _check_item(actor, namespace, item: Item) -> None:
    obj, kind, api_version = item.obj, item.kind, item.api_version
    if not kind or not api_version:
        item.errors.append(_("Each object needs apiVersion and kind."))
        return
    group = api_version.rpartition("/")[0]
    known = objects.KINDS.get((api_version, kind))
    if group == RBAC_GROUP:
        item.errors.append(
            _(
                "Roles and their bindings are not imported: who may do what in the "
                "namespace is managed by the project's members and roles."
            )
        )
        return
    if kind in CLUSTER_SCOPED or (known is not None and not known.namespaced):
        item.errors.append(
            _("A %(kind)s is cluster-wide; an import only creates objects in its namespace.")
            % {"kind": kind}
        )
        return
    if not item.is_application and (
        kind not in BY_KIND or BY_KIND[kind].api_version != api_version
    ):
        item.errors.append(
            _("%(kind)s (%(api)s) cannot be part of an application; it groups %(kinds)s.")
            % {
                "kind": kind,
                "api": api_version,
                "kinds": ", ".join(f"{k.kind} ({k.api_version})" for k in components.KINDS),
            }
        )
        return
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        item.errors.append(_("metadata must be a mapping."))
        return
    if metadata.get("namespace") not in (None, "", namespace.name):
        item.errors.append(
            _(
                "This object is for namespace %(other)s; the import goes into %(ns)s only "
                "(remove metadata.namespace to import it here)."
            )
            % {"other": metadata["namespace"], "ns": namespace.name}
        )
    if not metadata.get("name"):
        item.errors.append(
            _("Give metadata.name (generateName is not enough: an import can be repeated).")
        )
    if item.errors:
        return
    try:
        if not item.is_application:
            schema.check(obj)
        service = service_for(api_version, kind)
        if service is not None:
            service.guard(actor, obj, namespace)
    except ValidationError as exc:
        item.errors.extend(exc.messages)


def dry_run(plan: Plan) -> Plan:
    """Ask Kubernetes what it would make of each object (nothing is changed); its
    refusals become the objects' errors. Whether each exists already is noted."""
    if plan.errors or not plan.items:
        return plan
    kube = plan.namespace.cluster.kube()
    for item in plan.items:
        if item.errors:
            continue
        try:
            objects.read(kube, item.api_version, item.kind, item.name, plan.namespace.name)
            item.exists = True
        except KubeError as exc:
            if not exc.not_found:
                item.errors.extend(as_validation_error(exc).messages)
                continue
            item.exists = False
        if item.is_application and not _serves_applications(kube, plan.namespace.name):
            item.errors.append(
                _("The cluster does not serve Applications: ask a cloud admin to prepare it.")
            )
            continue
        try:
            components.apply(kube, item.obj, dry_run=True)
        except KubeError as exc:
            item.errors.extend(as_validation_error(exc).messages)
    return plan


def _serves_applications(kube, namespace: str) -> bool:
    """Whether the CRD is installed, asked in the namespace: a tenant may list there only."""
    try:
        objects.list_(kube, APPLICATION_API, "Application", namespace, limit=1)
    except KubeError as exc:
        if exc.not_found:
            return False
        raise
    return True
