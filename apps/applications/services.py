"""Applications: create, import (preview, apply, retry), add and associate workloads,
detach them, start, stop, redeploy, delete, export, and group workloads into a new one.

The Application object is declared on the shared write path; what it groups is changed
through each kind's own service (so a workload stopped as part of its application is
authorized and audited as a workload too). Anything that touches many objects is an
Operation with per-object progress (``tasks.py``).
"""

import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core import audit, authz, operations
from apps.core import yaml as kyaml
from apps.core.audit import audited
from apps.kube.errors import KubeError
from apps.kube.services import ObjectService, as_validation_error
from apps.workloads import services as workload_services
from apps.workloads.models import Workload

from . import components, plan
from .models import NAME_LABEL, Application, Import
from .sync import APPLICATIONS

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

applications = ObjectService(
    APPLICATIONS,
    noun="application",
    detail=lambda row: {"selector": row.selector},
)


def _refuse(message, field="__all__"):
    raise ValidationError({field: message})


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not DNS_LABEL.match(name) or len(name) > 63:
        _refuse(
            _(
                "Use at most 63 lower-case letters, digits and '-', starting and ending "
                "with a letter or digit."
            ),
            "name",
        )
    return name


# --- create, edit -----------------------------------------------------------------------


@audited("application.create", Application)
def create(actor, namespace, *, name: str, description: str = "", version: str = ""):
    """An application with no components yet (add or associate workloads next)."""
    applications.authorize_create(actor, namespace)
    name = _check_name(name)
    body = plan.application_object(
        name, {NAME_LABEL: name}, description=description.strip(), version=version.strip()
    )
    body["metadata"]["namespace"] = namespace.name
    return applications.create(actor, namespace, body)


def check_new(actor, namespace, name: str) -> str:
    """Whether ``name`` can be a new application of ``namespace`` (before its workloads are
    described); the name cleaned, or a ValidationError."""
    applications.authorize_create(actor, namespace)
    name = _check_name(name)
    if _existing(namespace, name) is not None:
        _refuse(
            _("An application named %(name)s exists in the namespace.") % {"name": name}, "name"
        )
    return name


def application_yaml(actor, application: Application) -> str:
    return applications.yaml(actor, application)


def replace_yaml(actor, application: Application, text: str) -> Application:
    return applications.replace_from_yaml(actor, application, text)


# --- import ---------------------------------------------------------------------------


def preview_import(actor, namespace, text: str, application: str = "") -> plan.Plan:
    """What importing ``text`` would do: each object checked, then dry-run by Kubernetes.
    Nothing is changed. Refused objects carry their reasons."""
    authz.require(actor, "work", namespace)
    existing = _existing(namespace, application)
    return plan.dry_run(plan.check(actor, namespace, text, application, existing=existing))


def _existing(namespace, name: str) -> Application | None:
    if not name:
        return None
    return Application.objects.filter(
        cluster_id=namespace.cluster_id, namespace_name=namespace.name, name=name
    ).first()


@audited("application.import")
def import_(actor, namespace, text: str, application: str = ""):
    """Apply ``text`` into ``namespace`` as one application; returns the Operation.

    The objects are checked and dry-run again (the preview may be stale): one refusal
    and nothing is applied. Then they are applied in dependency order, one by one.
    """
    authz.require(actor, "work", namespace)
    if namespace.is_terminating:
        _refuse(_("The namespace is being deleted."), "namespace")
    checked = preview_import(actor, namespace, text, application)
    checked.raise_if_refused()
    return _start_import(actor, namespace, checked)


def _start_import(actor, namespace, checked: plan.Plan, kind: str = "application.import"):
    from .tasks import apply_import

    with transaction.atomic():
        record = Import(namespace=namespace, application=checked.application, actor=actor)
        record.documents = checked.documents
        record.summary = [[item.kind, item.name] for item in checked.items]
        record.save()
        operation = operations.start(
            actor,
            kind,
            apply_import,
            target=namespace,
            project=namespace.project,
            target_name=f"{namespace.name}/{checked.application}",
            args=(record.pk,),
            lock=f"import:{namespace.pk}:{checked.application}",
        )
        record.operation = operation
        record.save(update_fields=["operation"])
        audit.record(
            actor,
            kind,
            namespace,
            detail={
                "application": checked.application,
                "objects": [f"{kind}/{name}" for kind, name in record.summary],
            },
            operation=operation,
        )
    return operation


@audited("application.import")
def retry_import(actor, record: Import):
    """Go on with a failed import from the object that failed."""
    from .tasks import apply_import

    authz.require(actor, "view", record)
    authz.require(actor, "change", record)
    authz.require(actor, "work", record.namespace)
    if not record.documents or record.applied >= len(record.documents):
        _refuse(_("This import has nothing left to apply."))
    if record.operation is not None and not record.operation.is_finished:
        _refuse(_("This import is still running."))
    with transaction.atomic():
        operation = operations.start(
            actor,
            "application.import",
            apply_import,
            target=record.namespace,
            project=record.namespace.project,
            target_name=f"{record.namespace.name}/{record.application}",
            args=(record.pk,),
            lock=f"import:{record.namespace_id}:{record.application}",
        )
        Import.objects.filter(pk=record.pk).update(operation=operation)
        audit.record(
            actor,
            "application.import",
            record.namespace,
            detail={"application": record.application, "retry_from": record.applied},
            operation=operation,
        )
    return operation


# --- create with workloads --------------------------------------------------------------


def _prefixed(exc: ValidationError, prefix: str) -> dict:
    """A ValidationError's messages keyed ``prefix`` + its field ("workloads.0.image")."""
    if hasattr(exc, "error_dict"):
        return {
            (prefix + key if key != NON_FIELD_ERRORS else prefix.rstrip(".")): messages
            for key, messages in exc.message_dict.items()
        }
    return {prefix.rstrip("."): exc.messages}


def _composed(namespace, name, description, version, workloads) -> list[dict]:
    """The objects of a new application: its Application object, each workload built by
    the workload wizard's manifest builder, and each workload's Service (if it asks for
    one) by the networking form's. A ValidationError names each field as
    ``workloads.<n>.<field>`` or ``workloads.<n>.service.<field>``."""
    from apps.networking import services as networking
    from apps.workloads import manifest, wizard

    errors: dict[str, list] = {}
    documents = []
    if not workloads:
        errors["workloads"] = [_("Add at least one workload.")]
    for index, entry in enumerate(workloads):
        data = dict(entry.get("workload") or {})
        built = None
        try:
            wizard.check(data)
            built = manifest.build(data, namespace=namespace.name).manifest
        except ValidationError as exc:
            errors.update(_prefixed(exc, f"workloads.{index}."))
        else:
            documents.append(built)
        wanted = entry.get("service")
        if not wanted or built is None:
            continue
        wanted = dict(wanted)
        service_name = (wanted.pop("name", "") or "").strip() or built["metadata"]["name"]
        if not wanted.get("selector"):
            template = manifest.dig(built, manifest.TEMPLATE_PATH[built["kind"]]) or {}
            wanted["selector"] = dict((template.get("metadata") or {}).get("labels") or {})
        try:
            documents.append(networking.checked_manifest(namespace, service_name, wanted))
        except ValidationError as exc:
            errors.update(_prefixed(exc, f"workloads.{index}.service."))
    if errors:
        raise ValidationError(errors)
    kinds = {document["kind"] for document in documents}
    own = plan.application_object(
        name, {NAME_LABEL: name}, kinds, description=description, version=version
    )
    return [own, *documents]


def preview_create(
    actor, namespace, *, name: str, description: str = "", version: str = "", workloads=()
) -> plan.Plan:
    """What creating the application with ``workloads`` would apply: every object built,
    checked and dry-run by Kubernetes, as an import's preview is. Nothing is changed.

    ``workloads``: one entry a workload, ``{"workload": <the workload wizard's data>,
    "service": <the Service form's fields, or None>}``; a Service's selector defaults to
    the workload's pods and its name to the workload's."""
    applications.authorize_create(actor, namespace)
    name = _check_name(name)
    documents = _composed(
        namespace, name, description.strip(), version.strip(), list(workloads or [])
    )
    checked = plan.dry_run(plan.check(actor, namespace, kyaml.dump_all(documents)))
    for item in checked.items:
        if item.exists:  # a new application takes nothing over
            item.errors.append(
                _("%(kind)s %(name)s already exists in the namespace: choose another name.")
                % {"kind": item.kind, "name": item.name}
            )
    return checked


@audited("application.create", Application)
def create_with_workloads(
    actor, namespace, *, name: str, description: str = "", version: str = "", workloads=()
):
    """A new application with its workloads (each maybe with a Service) as one Operation
    with per-object progress, applied as an import is: checked and dry-run again (one
    refusal and nothing is applied), then the Application object, then the workloads, then
    their Services. Returns (the Application row, the Operation)."""
    if namespace.is_terminating:
        _refuse(_("The namespace is being deleted."), "namespace")
    checked = preview_create(
        actor,
        namespace,
        name=name,
        description=description,
        version=version,
        workloads=workloads,
    )
    if not checked.ok:
        messages = list(checked.errors) + [
            f"{item.kind} {item.name}: {'; '.join(item.errors)}"
            for item in checked.items
            if item.errors
        ]
        _refuse(messages)
    own = next(item.obj for item in checked.items if item.is_application)
    # The Application first, at once, so the user lands on its page and follows the rest.
    application = applications.create(actor, namespace, own)
    operation = _start_import(actor, namespace, checked, kind="application.create")
    return application, operation


@audited("application.add")
def add(actor, application: Application, text: str):
    """Add new components (a workload, its Service, ...) from YAML; returns the Operation."""
    authz.require(actor, "change", application)
    return import_(actor, application.namespace, text, application.name)


# --- workloads in and out -------------------------------------------------------------


def _workloads(actor, application, workloads) -> list[Workload]:
    found = []
    for workload in workloads:
        authz.require(actor, "change", workload)
        if (workload.cluster_id, workload.namespace_name) != (
            application.cluster_id,
            application.namespace_name,
        ):
            _refuse(_("%(name)s is in another namespace.") % {"name": workload.name}, "workloads")
        if workload.owner_kind:
            _refuse(
                _("%(name)s is run by its %(owner)s: associate the %(owner)s instead.")
                % {"name": workload.name, "owner": workload.owner_kind},
                "workloads",
            )
        found.append(workload)
    if not found:
        _refuse(_("Choose at least one workload."), "workloads")
    return found


def _ensure_kinds(actor, application: Application, kinds) -> None:
    """The Application lists every kind it now groups (``spec.componentKinds``)."""
    listed = [entry.get("kind") for entry in application.component_kinds or []]
    wanted = {*listed, *kinds} - {None}
    if listed and set(listed) >= set(kinds):
        return
    body = {"spec": {"componentKinds": components.component_kinds(wanted)}}
    applications.patch(actor, application, body, verb="kinds", record=False)


@audited("application.associate")
def associate(actor, application: Application, workloads) -> Application:
    """Label existing workloads into the application (关联负载)."""
    authz.require(actor, "change", application)
    if not application.selector:
        _refuse(_("The application selects nothing (its selector is empty): edit its YAML."))
    chosen = _workloads(actor, application, workloads)
    for workload in chosen:
        body = {"metadata": {"labels": dict(application.selector)}}
        workload_services.service(workload).patch(
            actor, workload, body, verb="associate", application=application.name
        )
    _ensure_kinds(actor, application, {w.kind for w in chosen})
    audit.record(
        actor,
        "application.associate",
        application,
        detail={"workloads": [f"{w.kind}/{w.name}" for w in chosen]},
    )
    return application


@audited("application.detach")
def detach(actor, application: Application, workloads) -> Application:
    """Take workloads out of the application (their labels go; they keep running)."""
    authz.require(actor, "change", application)
    chosen = _workloads(actor, application, workloads)
    for workload in chosen:
        if not application.selects(workload.labels or {}):
            _refuse(_("%(name)s is not part of this application.") % {"name": workload.name})
    for workload in chosen:
        body = {"metadata": {"labels": dict.fromkeys(application.selector)}}
        workload_services.service(workload).patch(
            actor, workload, body, verb="detach", application=application.name
        )
    audit.record(
        actor,
        "application.detach",
        application,
        detail={"workloads": [f"{w.kind}/{w.name}" for w in chosen]},
    )
    return application


@audited("application.create", Application)
def group(actor, namespace, *, name: str, workloads, description: str = "") -> Application:
    """A new application of workloads that have none (native resources floating up)."""
    chosen = list(workloads)
    for workload in chosen:
        authz.require(actor, "change", workload)
        if workload.application_name:
            _refuse(
                _("%(name)s is already part of %(app)s.")
                % {"name": workload.name, "app": workload.application_name},
                "workloads",
            )
    application = create(actor, namespace, name=name, description=description)
    return associate(actor, application, chosen)


# --- start, stop, redeploy, delete ----------------------------------------------------


def _lifecycle(actor, application: Application, verb: str, *args):
    from .tasks import run_lifecycle

    authz.require(actor, "delete" if verb == "delete" else "change", application)
    with transaction.atomic():
        operation = operations.start(
            actor,
            f"application.{verb}",
            run_lifecycle,
            target=application,
            project=application.namespace.project if application.namespace_id else None,
            args=(application.pk, verb, *args),
            lock=f"application:{application.pk}",
        )
        detail = {"components": args[0]} if verb == "delete" else {}
        audit.record(actor, f"application.{verb}", application, detail=detail, operation=operation)
    return operation


@audited("application.start")
def start(actor, application: Application):
    """Start every workload again with its remembered replicas; CronJobs resumed."""
    return _lifecycle(actor, application, "start")


@audited("application.stop")
def stop(actor, application: Application):
    """Every workload to zero pods (counts remembered), Jobs and CronJobs suspended."""
    return _lifecycle(actor, application, "stop")


@audited("application.redeploy")
def redeploy(actor, application: Application):
    """Replace the pods of every Deployment, StatefulSet and DaemonSet; follow them all."""
    return _lifecycle(actor, application, "redeploy")


@audited("application.delete")
def delete(actor, application: Application, *, with_components: bool):
    """Delete the application; with its components, or leaving them running unlabelled
    by nothing (they stay as they are, without an application)."""
    return _lifecycle(actor, application, "delete", bool(with_components))


# --- export ---------------------------------------------------------------------------


def _default_class(cluster) -> str:
    from apps.storage.models import StorageClass

    found = StorageClass.objects.filter(cluster=cluster, is_default=True).first()
    return found.name if found else ""


def _dump(documents: list[dict], header: str) -> str:
    return f"# {header}\n" + kyaml.dump_all(documents)


@audited("application.export")
def export(actor, application: Application) -> str:
    """The application and its components as one multi-document YAML that imports
    unchanged into another namespace or cluster. Secrets are included with their data."""
    authz.require(actor, "change", application)
    try:
        live = components.live_objects(application)
        own = applications.read(application) or application.manifest
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    default = _default_class(application.cluster)
    documents = [components.clean(own)]
    documents += [components.clean(obj, default) for obj in live if components.exportable(obj)]
    audit.record(
        actor,
        "application.export",
        application,
        detail={"objects": [f"{d['kind']}/{d['metadata']['name']}" for d in documents]},
    )
    return _dump(documents, _("Application %(name)s") % {"name": application.name})


@audited("application.export")
def export_namespace(actor, namespace) -> str:
    """Every application and every object an application may group, of one namespace."""
    authz.require(actor, "work", namespace)
    kube = namespace.cluster.kube()
    default = _default_class(namespace.cluster)
    documents = []
    try:
        kinds = [(components.APPLICATION_API, "Application"), *components.KIND_KEYS]
        for api_version, kind in kinds:
            for obj in components.list_live(kube, api_version, kind, namespace.name):
                if components.exportable(obj):
                    documents.append(components.clean(obj, default))
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    audit.record(actor, "application.export", namespace, detail={"objects": len(documents)})
    return _dump(documents, _("Namespace %(name)s") % {"name": namespace.name})
