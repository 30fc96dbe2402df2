"""Workloads: create and edit (YAML), scale, stop and start, redeploy, roll back, set an
image, CronJobs' suspend and run-now, delete.

Every kind is declared on the shared write path (``apps.kube.services``). Fast changes
(scale, stop, start, suspend) are done in the request; a redeploy, a rollback or a new
image starts an Operation that follows the rollout to its end (``tasks.py``), which is
what a CI/CD pipeline calling the API waits on.
"""

import hashlib
import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from apps.core import audit, authz, operations
from apps.core import yaml as kyaml
from apps.core.audit import audited
from apps.core.models import AuditEvent, Operation
from apps.kube import objects
from apps.kube.errors import KubeError
from apps.kube.services import YAML, ObjectService, as_validation_error

from .models import Pod, Workload
from .status import unfollowable
from .sync import PODS, WORKLOADS

K = Workload.Kind
# Where stop remembers the replicas to start again with.
REPLICAS_ANNOTATION = "kcs.io/replicas"
RESTARTED_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
MAX_REPLICAS = 1000
# The kinds with a rollout and revisions to roll back to.
ROLLED = (K.DEPLOYMENT, K.STATEFULSET, K.DAEMONSET)


def _claim_templates(obj: dict) -> list[dict]:
    """The claims a workload makes Kubernetes create: a StatefulSet's volumeClaimTemplates
    and the pod template's ephemeral volumes."""
    spec = obj.get("spec") if isinstance(obj, dict) else None
    if not isinstance(spec, dict):
        return []
    found = list(spec.get("volumeClaimTemplates") or [])
    template = spec.get("template")
    job = spec.get("jobTemplate")
    if isinstance(job, dict) and isinstance(job.get("spec"), dict):
        template = job["spec"].get("template")
    pod_spec = template.get("spec") if isinstance(template, dict) else None
    volumes = pod_spec.get("volumes") if isinstance(pod_spec, dict) else None
    for volume in volumes if isinstance(volumes, list) else []:
        ephemeral = volume.get("ephemeral") if isinstance(volume, dict) else None
        if isinstance(ephemeral, dict) and ephemeral.get("volumeClaimTemplate"):
            found.append(ephemeral["volumeClaimTemplate"])
    return [claim for claim in found if isinstance(claim, dict)]


def _guard_workload(actor, obj: dict, target) -> None:
    """The claims a tenant's workload makes are held to what a claim of theirs may be: a
    volume from a storage class, never one that exists (see storage's claim guard). On an
    edit, only new or changed templates are checked."""
    if authz.is_cloud_admin(actor):
        return
    from apps.storage.services import guard_claim

    templates = _claim_templates(obj)
    if isinstance(target, Workload):
        before = _claim_templates(target.manifest or {})
        templates = [claim for claim in templates if claim not in before]
    namespace = (obj.get("metadata") or {}).get("namespace")
    for claim in templates:
        metadata = claim.get("metadata") if isinstance(claim.get("metadata"), dict) else {}
        guard_claim(
            actor,
            {
                "metadata": {"namespace": namespace, "annotations": metadata.get("annotations")},
                "spec": claim.get("spec") or {},
            },
            target,
        )


def _detail(row: Workload) -> dict:
    """What a workload's audit events say of it; of a kind with revisions, also the pod
    template it has after the change (its hash), which is how its revision list names who
    made each revision (``revisions``)."""
    detail = {"kind": row.kind, "images": row.images}
    if row.kind in ROLLED:
        detail.update(uid=row.uid, pod_template=template_hash(_pod_template(row.manifest)))
    return detail


services = {
    kind: ObjectService(
        WORKLOADS[kind],
        noun="workload",
        detail=_detail,
        guard=_guard_workload,
    )
    for kind in K.values
}


def service(workload: Workload) -> ObjectService:
    return services[workload.kind]


def _refuse(message: str, field: str = "__all__"):
    raise ValidationError({field: message})


# --- YAML -----------------------------------------------------------------------------


def _kind_of(text: str) -> str:
    """The kind of a single workload in YAML (many documents belong to applications)."""
    try:
        documents = kyaml.load_all(text)
    except ValidationError as exc:
        raise ValidationError({YAML: exc.messages}) from None
    if len(documents) != 1:
        raise ValidationError(
            {
                YAML: _(
                    "Give exactly one workload (found %(n)s documents); several objects are "
                    "imported as an application."
                )
                % {"n": len(documents)}
            }
        )
    kind = documents[0].get("kind")
    if kind not in K.values:
        raise ValidationError(
            {
                YAML: _("kind must be one of %(kinds)s (it is %(kind)s).")
                % {"kinds": ", ".join(K.values), "kind": kind or _("missing")}
            }
        )
    return kind


@audited("workload.create", Workload)
def create_from_yaml(actor, namespace, text: str) -> Workload:
    """A workload from YAML, in the namespace chosen (and allowed)."""
    services[K.DEPLOYMENT].authorize_create(actor, namespace)
    return services[_kind_of(text)].create_from_yaml(actor, namespace, text)


def workload_yaml(actor, workload: Workload) -> str:
    return service(workload).yaml(actor, workload)


def replace_yaml(actor, workload: Workload, text: str):
    """Replace the workload with the user's YAML. A change to the pods of a Deployment,
    StatefulSet or DaemonSet (a new generation) returns the Operation following its
    rollout, as an edit in the wizard does; otherwise the workload."""
    before = _generation(workload)
    was = pod_template_before(workload)
    workload = service(workload).replace_from_yaml(actor, workload, text, **was)
    if _generation(workload) != before and followed(workload):
        return follow(actor, workload, "update", record=False)
    return workload


def pod_template_before(workload: Workload, live: dict | None = None) -> dict:
    """The audit detail of a change to the pod template, from the workload before it: the
    template it had (a change that leaves it as it was makes no revision) and the revision
    it was at (the change makes a later one)."""
    if workload.kind not in ROLLED:
        return {}
    obj = live or workload.manifest or {}
    detail = {"pod_template_was": template_hash(_pod_template(obj))}
    revision = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    if isinstance(revision, str) and revision.isdigit():
        detail["revision_before"] = int(revision)
    return detail


def _generation(workload: Workload) -> int:
    return int(((workload.manifest or {}).get("metadata") or {}).get("generation") or 0)


@audited("workload.dry_run")
def dry_run(actor, namespace, text: str) -> dict:
    """What Kubernetes would make of the YAML (server-side dry run): the object, or the
    errors by field. Nothing is changed."""
    kind = _kind_of(text)
    service_ = services[kind]
    service_.authorize_create(actor, namespace)
    obj = service_.load(text, namespace=namespace.name)
    try:
        return objects.create(namespace.cluster.kube(), obj, dry_run=True)
    except KubeError as exc:
        raise as_validation_error(exc, YAML) from exc


# --- fast changes ---------------------------------------------------------------------


def _patch(actor, workload, body, *, verb: str, **detail) -> Workload:
    return service(workload).patch(actor, workload, body, verb=verb, **detail)


@audited("workload.scale")
def scale(actor, workload: Workload, replicas: int):
    """Run ``replicas`` pods (Deployments and StatefulSets); returns the Operation that
    follows the pods coming and going (the workload itself for an OnDelete StatefulSet,
    whose rollout cannot be followed)."""
    authz.require(actor, "change", workload)
    if not workload.scalable:
        _refuse(_("A %(kind)s cannot be scaled.") % {"kind": workload.get_kind_display()})
    if not isinstance(replicas, int) or not 0 <= replicas <= MAX_REPLICAS:
        _refuse(_("Give between 0 and %(n)s replicas.") % {"n": MAX_REPLICAS}, "replicas")
    following = followed(workload)
    workload = _patch(
        actor,
        workload,
        {"spec": {"replicas": replicas}},
        verb="scale",
        record=not following,
        replicas=replicas,
    )
    return follow(actor, workload, "scale", replicas=replicas) if following else workload


@audited("workload.stop")
def stop(actor, workload: Workload) -> Workload:
    """Stop: no pods (the replica count is remembered for start), or suspended (Jobs)."""
    authz.require(actor, "change", workload)
    if workload.kind in (K.CRONJOB, K.JOB):
        return _patch(actor, workload, {"spec": {"suspend": True}}, verb="stop")
    if workload.kind == K.DAEMONSET:
        _refuse(_("A DaemonSet runs one pod on every node: it cannot be stopped, only deleted."))
    if workload.desired == 0:
        _refuse(_("It is already stopped."))
    body = {
        "metadata": {"annotations": {REPLICAS_ANNOTATION: str(workload.desired or 1)}},
        "spec": {"replicas": 0},
    }
    return _patch(actor, workload, body, verb="stop", replicas=workload.desired)


@audited("workload.start")
def start(actor, workload: Workload) -> Workload:
    """Start again with the replicas it had when stopped (one if it never had a count)."""
    authz.require(actor, "change", workload)
    if workload.kind in (K.CRONJOB, K.JOB):
        return _patch(actor, workload, {"spec": {"suspend": False}}, verb="start")
    if workload.kind == K.DAEMONSET or workload.desired:
        _refuse(_("It is running."))
    remembered = (workload.annotations or {}).get(REPLICAS_ANNOTATION, "1")
    replicas = int(remembered) if remembered.isdigit() else 1
    body = {
        "metadata": {"annotations": {REPLICAS_ANNOTATION: None}},
        "spec": {"replicas": replicas},
    }
    return _patch(actor, workload, body, verb="start", replicas=replicas)


@audited("workload.run_now")
def run_now(actor, workload: Workload) -> Workload:
    """Run a CronJob's job now (``kubectl create job --from=cronjob/...``)."""
    authz.require(actor, "change", workload)
    if workload.kind != K.CRONJOB:
        _refuse(_("Only a CronJob can be run now."))
    live = _live(workload)
    template = (live.get("spec") or {}).get("jobTemplate") or {}
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    name = f"{workload.name[: 52 - len(stamp)]}-manual-{stamp}"[:63].rstrip("-")
    metadata = template.get("metadata") or {}
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": workload.namespace_name,
            "labels": metadata.get("labels") or {},
            "annotations": {
                **(metadata.get("annotations") or {}),
                "cronjob.kubernetes.io/instantiate": "manual",
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": workload.name,
                    "uid": live["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": template.get("spec") or {},
    }
    job = services[K.JOB].create(actor, workload.namespace, body, source="run-now")
    audit.record(actor, "workload.run_now", workload, detail={"job": job.name})
    return job


@audited("workload.delete")
def delete(actor, workload: Workload) -> Workload:
    """Delete it, and what it made (ReplicaSets, pods, a CronJob's Jobs) with it."""
    return service(workload).delete(actor, workload)


# --- rollouts -------------------------------------------------------------------------


def _live(workload: Workload) -> dict:
    try:
        return objects.read(
            workload.cluster.kube(),
            workload.api_version,
            workload.kind,
            workload.name,
            workload.namespace_name,
        )
    except KubeError as exc:
        raise as_validation_error(exc) from exc


def _manifest(workload: Workload) -> dict:
    return {**(workload.manifest or {}), "kind": workload.kind}


def follow(actor, workload: Workload, verb: str, *, record: bool = True, **detail):
    """Start the Operation that follows the rollout just begun (to the generation the change
    wrote). One already following this workload takes the change on instead, as it follows
    the workload as it is: a second click on + while the first rollout runs is not
    refused."""
    from .tasks import follow_rollout

    generation = int(((workload.manifest or {}).get("metadata") or {}).get("generation") or 0)
    lock = f"workload:{workload.pk}"
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update()
            .filter(lock=lock, status__in=Operation.UNFINISHED, task_name=follow_rollout.name)
            .first()
        )
        if operation is not None:
            args = [*operation.task_args, "", 0][:3]
            args[2] = max(args[2] if isinstance(args[2], int) else 0, generation)
            operation.task_args = args
            operation.save(update_fields=["task_args"])
            operations.Progress(operation).log(
                gettext_lazy("Also following: %(action)s by %(user)s."), action=verb, user=actor
            )
        else:
            operation = operations.start(
                actor,
                f"workload.{verb}",
                follow_rollout,
                target=workload,
                project=workload.namespace.project if workload.namespace_id else None,
                args=(workload.pk, workload.resource_version, generation),
                lock=lock,
            )
        if record:
            detail = {**_detail(workload), **detail}
            audit.record(actor, f"workload.{verb}", workload, detail=detail, operation=operation)
    return operation


def rollout_of(workload: Workload):
    """The Operation following the workload's rollout now, if one is."""
    from .tasks import follow_rollout

    return (
        Operation.objects.filter(
            lock=f"workload:{workload.pk}",
            status__in=Operation.UNFINISHED,
            task_name=follow_rollout.name,
        )
        .order_by("-pk")
        .first()
    )


def followed(workload: Workload) -> bool:
    """Whether a change to its pods starts an Operation following the rollout."""
    return workload.kind in (K.DEPLOYMENT, K.STATEFULSET, K.DAEMONSET) and not unfollowable(
        _manifest(workload)
    )


def _rollable(workload: Workload) -> None:
    if workload.kind not in (K.DEPLOYMENT, K.STATEFULSET, K.DAEMONSET):
        _refuse(
            _("A %(kind)s has no rollout: it runs to completion.")
            % {"kind": workload.get_kind_display()}
        )
    refusal = unfollowable(_manifest(workload))
    if refusal:
        hint = _(
            "Change it through its YAML and delete the pods to replace, or switch it to "
            "RollingUpdate."
        )
        _refuse(f"{refusal} {hint}")


@audited("workload.redeploy")
def redeploy(actor, workload: Workload):
    """Replace every pod with a new one (``kubectl rollout restart``); returns the Operation."""
    authz.require(actor, "change", workload)
    _rollable(workload)
    stamp = timezone.now().isoformat(timespec="seconds")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_ANNOTATION: stamp}}}}}
    was = pod_template_before(workload)
    workload = service(workload).patch(actor, workload, body, verb="restart", record=False)
    return follow(actor, workload, "redeploy", **was)


@audited("workload.set_image")
def set_image(actor, workload: Workload, *, container: str, image: str, cause: str = ""):
    """Run ``image`` in ``container`` (the CI/CD hook); returns the Operation following it."""
    authz.require(actor, "change", workload)
    _rollable(workload)
    image = (image or "").strip()
    if not image or any(c.isspace() for c in image):
        _refuse(_("Give an image, e.g. nginx:1.27 or registry.example.com/app:v2."), "image")
    live = _live(workload)
    template = (live.get("spec") or {}).get("template") or {}
    names = [c["name"] for c in (template.get("spec") or {}).get("containers") or []]
    if container not in names:
        _refuse(
            _("There is no container %(name)s; the containers are %(names)s.")
            % {"name": container or '""', "names": ", ".join(names)},
            "container",
        )
    body = {
        "metadata": {"annotations": {CHANGE_CAUSE: cause or f"image {container}={image}"}},
        "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}},
    }
    workload = service(workload).patch(actor, workload, body, verb="image", record=False)
    return follow(
        actor,
        workload,
        "set_image",
        container=container,
        image=image,
        **pod_template_before(workload, live),
    )


def revisions(actor, workload: Workload) -> list[dict]:
    """The workload's revisions, newest first: number, images, when, change cause, template,
    and who made it in the portal (``changed_by``, ``changed_at``, ``change``; see
    ``_attribute``).

    A Deployment's are its ReplicaSets; a StatefulSet's and a DaemonSet's their
    ControllerRevisions. Read live (they are what a rollback goes back to).
    """
    authz.require(actor, "view", workload)
    if workload.kind not in ROLLED:
        return []
    kube = workload.cluster.kube()
    owner_kind = "ReplicaSet" if workload.kind == K.DEPLOYMENT else "ControllerRevision"
    selector = ",".join(f"{k}={v}" for k, v in sorted(workload.selector.items()))
    try:
        answer = objects.list_(
            kube, "apps/v1", owner_kind, workload.namespace_name, label_selector=selector
        )
    except KubeError as exc:
        raise as_validation_error(exc) from exc
    found = []
    for item in answer.get("items") or []:
        metadata = item.get("metadata") or {}
        owners = metadata.get("ownerReferences") or []
        if not any(o.get("uid") == workload.uid for o in owners):
            continue
        if owner_kind == "ReplicaSet":
            number = (metadata.get("annotations") or {}).get(REVISION_ANNOTATION, "")
            template = (item.get("spec") or {}).get("template") or {}
        else:
            number = str(item.get("revision", ""))
            template = ((item.get("data") or {}).get("spec") or {}).get("template") or {}
        if not number.isdigit():
            continue
        found.append(
            {
                "revision": int(number),
                "name": metadata.get("name", ""),
                "created": metadata.get("creationTimestamp", ""),
                "cause": (metadata.get("annotations") or {}).get(CHANGE_CAUSE, ""),
                "images": [
                    c.get("image", "") for c in (template.get("spec") or {}).get("containers", [])
                ],
                "template": _comparable(template),
            }
        )
    found.sort(key=lambda r: r["revision"], reverse=True)
    _attribute(workload, found)
    return found


def _comparable(template: dict) -> dict:
    """A pod template as revisions compare: without the hash Kubernetes adds to its labels
    (nor a ControllerRevision's ``$patch`` directive, which is not part of the template)."""
    template = json.loads(json.dumps(template))
    template.pop("$patch", None)
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    labels.pop("controller-revision-hash", None)
    return template


def template_hash(template: dict) -> str:
    """A short hash of a pod template, the same for a ReplicaSet's or a ControllerRevision's
    copy of it as for the workload's own."""
    text = json.dumps(_comparable(template or {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pod_template(obj: dict) -> dict:
    """A Deployment's, StatefulSet's or DaemonSet's pod template."""
    spec = (obj or {}).get("spec") if isinstance(obj, dict) else None
    return (spec.get("template") if isinstance(spec, dict) else None) or {}


# The audited actions that give a workload a new pod template, as its revisions say them.
CHANGES = {
    "workload.create": pgettext_lazy("a revision's change", "Created"),
    "workload.update": pgettext_lazy("a revision's change", "Edited"),
    "workload.set_image": pgettext_lazy("a revision's change", "Image set"),
    "workload.redeploy": pgettext_lazy("a revision's change", "Redeployed"),
    "workload.restart": pgettext_lazy("a revision's change", "Redeployed"),  # an application's
    "workload.rollback": pgettext_lazy("a revision's change", "Rolled back"),
}
# How far apart an event without a template hash (recorded before hashes were) and the
# ReplicaSet it made may be, by the cluster's clock, for one to be taken as the other's.
LEGACY_WINDOW = (timedelta(seconds=5), timedelta(seconds=2))
HISTORY_EVENTS = 1000


def _attribute(workload: Workload, found: list[dict]) -> None:
    """Name who made each revision in the portal, from the audit trail (one query).

    A revision is the pod template of the successful template-changing event (``CHANGES``)
    that recorded the same template hash: the latest such event later than those of the
    revisions before it, and not before a revision made outside the portal that came after
    the revision the workload was at when the event was recorded (then it is that outside
    change that brought the template back). A rollback brings an old ReplicaSet back under
    a new number, with its old creation time: the hash finds its event all the same. An
    event recorded before events carried a hash is matched by time, to a revision created
    within seconds of it. Any other revision was made outside the portal: ``changed_by``
    is empty, ``changed_at`` its creation time.
    """
    if not found:
        return
    offset = timedelta(seconds=workload.cluster.clock_offset or 0)
    events = AuditEvent.objects.filter(
        target_type=f"{Workload._meta.app_label}.{Workload._meta.model_name}",
        target_id=str(workload.pk),
        action__in=list(CHANGES),
        result=AuditEvent.Result.SUCCESS,
    )
    # The latest only: a pipeline's thousands of set-images over a year are not all read
    # for the ten revisions Kubernetes keeps (each is one of the latest changes).
    events = events.order_by("-created", "-pk").values_list(
        "actor_name", "action", "created", "detail"
    )[:HISTORY_EVENTS]
    events = list(reversed(events))
    candidates = []
    for actor_name, action, created, detail in events:
        detail = detail if isinstance(detail, dict) else {}
        if detail.get("uid", workload.uid) != workload.uid:
            continue  # a workload of the same name before this one
        if "pod_template" in detail and detail.get("pod_template_was") == detail["pod_template"]:
            continue  # a change that left the pod template as it was
        candidates.append((actor_name, action, created, detail))
    outside = set()
    last = -1
    for revision in sorted(found, key=lambda r: r["revision"]):
        number, chosen = revision["revision"], None
        fingerprint = template_hash(revision["template"])
        born = parse_datetime(revision["created"] or "")
        for index in range(len(candidates) - 1, last, -1):
            _name, action, created, detail = candidates[index]
            if "pod_template" in detail:
                if detail["pod_template"] != fingerprint:
                    continue
                # a create comes before every revision
                before = detail.get("revision_before", 0 if action == "workload.create" else None)
                if isinstance(before, int) and (
                    before >= number or any(before < n < number for n in outside)
                ):
                    continue
            elif born is None or not (
                born - LEGACY_WINDOW[0] <= created + offset <= born + LEGACY_WINDOW[1]
            ):
                continue
            chosen = index
            break
        if chosen is None:
            outside.add(number)
            revision.update(changed_by="", changed_at=born, change="", action="")
            continue
        last = chosen
        actor_name, action, created, _ = candidates[chosen]
        revision.update(
            changed_by=actor_name, changed_at=created, change=CHANGES[action], action=action
        )


@audited("workload.rollback")
def rollback(actor, workload: Workload, revision: int):
    """Go back to a listed revision's pod template (``kubectl rollout undo --to-revision``)."""
    authz.require(actor, "change", workload)
    _rollable(workload)
    listed = {r["revision"]: r for r in revisions(actor, workload)}
    if revision not in listed:
        _refuse(
            _("There is no revision %(n)s; the revisions are %(list)s.")
            % {"n": revision, "list": ", ".join(map(str, sorted(listed))) or _("none")},
            "revision",
        )
    if revision == max(listed):
        _refuse(_("Revision %(n)s is the one running.") % {"n": revision}, "revision")
    template = listed[revision]["template"]
    # A JSON patch: the whole template is replaced, as kubectl's undo does. The change
    # cause says so: left alone, the last change's ("image web=…") would be copied onto
    # the revision brought back, which runs something else.
    cause = f"rollback to revision {revision}"
    annotations = ((workload.manifest or {}).get("metadata") or {}).get("annotations")
    body = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": cause}
        if annotations
        else {"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: cause}},
    ]
    was = pod_template_before(workload)
    workload = service(workload).patch(actor, workload, body, verb="undo", record=False)
    images = listed[revision]["images"]
    return follow(actor, workload, "rollback", revision=revision, images=images, **was)


# --- pods -----------------------------------------------------------------------------

pods = ObjectService(PODS, noun="pod", detail=lambda row: {"node": row.node_name})


def pod_yaml(actor, pod: Pod) -> str:
    return pods.yaml(actor, pod)


def delete_pod(actor, pod: Pod) -> Pod:
    """Delete a pod (gracefully); a workload's controller replaces it."""
    return pods.delete(actor, pod)
