"""Cluster and node operations. Validate → authorize → act → audit.

Long operations (create, scale-out, delete, drain) record an Operation and run
in Celery (tasks.py); fast node operations go to Kubernetes in the request and
then update the row from Kubernetes' answer.
"""

import contextlib
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core import audit, authz, operations
from apps.core.audit import audited
from apps.core.models import Operation
from apps.kube import nodes as kube_nodes
from apps.kube.client import InvalidKubeconfig, parse_kubeconfig
from apps.kube.errors import KubeError
from apps.tenancy.models import dns_label
from apps.tenancy.services import ensure_admin_project

from . import providers
from .models import Cluster, Node
from .sync import NODES, node_summary

ARCHITECTURES = ("amd64", "arm64")
MAX_WORKERS = 200
# Labels and taints Kubernetes and its components manage; users may not edit them.
PROTECTED_PREFIXES = ("kubernetes.io/", "node-role.kubernetes.io/", "node.kubernetes.io/")
PROTECTED_SUFFIXES = (".kubernetes.io",)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
# A zone becomes the topology.kubernetes.io/zone label's value: Kubernetes' rule for those.
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def zone_errors(zones) -> list[str]:
    """Why each zone could not be a node label value in Kubernetes (none: all are fine)."""
    return [
        _(
            "%(zone)s is not a valid zone name: at most 63 letters, digits, '-', '_' or "
            "'.', beginning and ending with a letter or digit."
        )
        % {"zone": zone}
        for zone in zones
        if len(zone) > 63 or not _LABEL_VALUE.fullmatch(zone)
    ]


def cluster_lock(cluster) -> str:
    return f"cluster:{cluster.pk}"


def _start(actor, kind: str, task, cluster: Cluster, *args, target=None):
    """Start a long operation on the cluster, holding its lock (one at a time)."""
    return operations.start(
        actor,
        kind,
        task,
        target=target or cluster,
        project=cluster.project,
        args=args,
        lock=cluster_lock(cluster),
    )


def _audit(actor, action: str, target, cluster: Cluster, **kwargs):
    return audit.record(
        actor, action, target, project=cluster.project, cluster=cluster.name, **kwargs
    )


def _refuse_while_busy(cluster) -> None:
    """Name the operation that holds the cluster, rather than only its status."""
    running = Operation.objects.filter(
        lock=cluster_lock(cluster), status__in=Operation.UNFINISHED
    ).first()
    if running is not None:
        raise ValidationError(
            _("%(operation)s is still running here; wait for it to finish.")
            % {"operation": running}
        )


# --- clusters ----------------------------------------------------------------------


@audited("cluster.create", Cluster)
def create_cluster(
    actor,
    *,
    name: str,
    provider: str = "sandbox",
    version: str = "",
    control_plane_nodes: int = 1,
    workers: int = 0,
    zones=(),
    arch: str = "amd64",
    display_name: str = "",
    description: str = "",
    kubeconfig: str = "",
    context: str = "",
):
    """Start creating (or importing) a cluster; returns (cluster, operation)."""
    from .tasks import provision_cluster

    authz.require_cloud_admin(actor)
    try:
        chosen = providers.get(provider)
    except providers.ProviderError as exc:
        raise ValidationError({"provider": exc.message}) from None
    ready, why = chosen.available()
    if not ready:
        raise ValidationError({"provider": why})
    zones = [z.strip() for z in zones if z and z.strip()]
    errors = {}
    try:
        dns_label(name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    if control_plane_nodes not in (1, 3):
        errors["control_plane_nodes"] = _(
            "Choose 1 control-plane node, or 3 for high availability."
        )
    if not 0 <= workers <= MAX_WORKERS:
        errors["workers"] = _("Choose between 0 and %(n)s workers.") % {"n": MAX_WORKERS}
    if arch not in ARCHITECTURES:
        errors["arch"] = _("Choose one of: %(a)s.") % {"a": ", ".join(ARCHITECTURES)}
    if zone_errors(zones):
        errors["zones"] = zone_errors(zones)
    if chosen.versions and version and version not in chosen.versions:
        errors["version"] = _("This provider offers: %(v)s.") % {"v": ", ".join(chosen.versions)}
    if Cluster.objects.filter(name=name).exclude(status=Cluster.Status.DELETED).exists():
        errors["name"] = _("A cluster with this name already exists.")
    if errors:
        raise ValidationError(errors)
    if provider == "kubeconfig":
        # Check an import at once, so a bad kubeconfig is an error on the form.
        try:
            data, context, server = providers.kubeconfig.check(kubeconfig, context)
        except providers.kubeconfig.ImportFailed as exc:
            field = "context" if exc.kind == "context" else "kubeconfig"
            raise ValidationError({field: exc.message}) from None
        existing = _already_there(providers.kubeconfig.endpoint(data, context))
        if existing is not None:
            field = "context" if len(providers.kubeconfig.contexts(data)) > 1 else "kubeconfig"
            raise ValidationError(
                {
                    field: _("This cluster (%(server)s) is already in the portal as %(cluster)s.")
                    % {"server": server, "cluster": existing.name}
                }
            )

    spec = providers.ClusterSpec(
        name=name,
        version=version,
        control_plane_nodes=control_plane_nodes,
        workers=workers,
        zones=zones,
        arch=arch,
    )
    with transaction.atomic():
        cluster = Cluster(
            name=name,
            display_name=display_name,
            description=description,
            provider=provider,
            version=version,
            status=Cluster.Status.PROVISIONING,
            control_plane_nodes=control_plane_nodes,
            zones=zones,
            architectures=[arch],
            spec={k: v for k, v in vars(spec).items() if k not in ("kubeconfig", "context")},
            project=ensure_admin_project(),
            created_by=actor,
            # An import's kubeconfig is kept from the start (encrypted), never in the spec.
            kubeconfig=kubeconfig if provider == "kubeconfig" else "",
            kubeconfig_context=context if provider == "kubeconfig" else "",
        )
        cluster.full_clean(exclude=["kubeconfig"])
        cluster.save()
        operation = _start(actor, "cluster.create", provision_cluster, cluster, cluster.pk)
        _audit(
            actor,
            "cluster.create",
            cluster,
            cluster,
            detail={"provider": provider, **cluster.spec},
            operation=operation,
        )
    return cluster, operation


def _already_there(endpoint: tuple[str, str]) -> Cluster | None:
    """The live cluster whose kubeconfig reaches the same API server with the same CA."""
    server, _ca = endpoint
    if not server:
        return None
    live = Cluster.objects.exclude(status=Cluster.Status.DELETED).exclude(kubeconfig="")
    for cluster in live.only("pk", "name", "api_server", "kubeconfig", "kubeconfig_context"):
        try:
            theirs = providers.kubeconfig.endpoint(
                parse_kubeconfig(cluster.kubeconfig), cluster.kubeconfig_context
            )
        except InvalidKubeconfig:
            continue
        if theirs == endpoint:
            return cluster
    return None


@audited("cluster.retry")
def retry_cluster(actor, cluster: Cluster):
    """Resume a cluster creation that failed (or was cancelled), from the step that failed."""
    from .tasks import provision_cluster

    authz.require_cloud_admin(actor)
    # Only a creation leaves a cluster in error (tasks._mark_failed, _creation_cancelled);
    # one cancelled during its last step may have been synced already.
    if cluster.status != Cluster.Status.ERROR:
        raise ValidationError(_("Only a cluster whose creation failed can be retried."))
    with transaction.atomic():
        Cluster.objects.filter(pk=cluster.pk).update(
            status=Cluster.Status.PROVISIONING, status_message=""
        )
        operation = _start(actor, "cluster.create", provision_cluster, cluster, cluster.pk)
        _audit(actor, "cluster.retry", cluster, cluster, operation=operation)
    return operation


@audited("cluster.scale_out")
def scale_out(actor, cluster: Cluster, *, workers: int, zone: str = "", arch: str = "amd64"):
    from .tasks import scale_out_cluster

    authz.require_cloud_admin(actor)
    if not providers.get(cluster.provider).capabilities.scale_out:
        raise ValidationError(_("Clusters of this provider cannot be scaled out here."))
    _refuse_while_busy(cluster)
    if cluster.status not in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED):
        raise ValidationError(
            _("The cluster is %(status)s; it can be scaled out when running.")
            % {"status": cluster.get_status_display()}
        )
    if not 1 <= workers <= MAX_WORKERS:
        raise ValidationError(
            {"workers": _("Add between 1 and %(n)s workers.") % {"n": MAX_WORKERS}}
        )
    if arch not in ARCHITECTURES:
        raise ValidationError(
            {"arch": _("Choose one of: %(a)s.") % {"a": ", ".join(ARCHITECTURES)}}
        )
    zone = zone.strip()
    if zone_errors([zone]):
        raise ValidationError({"zone": zone_errors([zone])})
    try:
        # The target is fixed now, over the nodes Kubernetes has (the rows may lag), so a
        # re-run of the task adds only what is missing. No zone: over all the workers.
        target = len(kube_nodes.workers(kube_nodes.list_(cluster.kube()), zone)) + workers
    except KubeError as exc:
        raise ValidationError(
            _("The cluster's API server did not answer: %(error)s") % {"error": exc.message}
        ) from exc
    with transaction.atomic():
        operation = _start(
            actor, "cluster.scale_out", scale_out_cluster, cluster, cluster.pk, target, zone, arch
        )
        Cluster.objects.filter(pk=cluster.pk).update(status=Cluster.Status.SCALING)
        _audit(
            actor,
            "cluster.scale_out",
            cluster,
            cluster,
            detail={"workers": workers, "zone": zone, "arch": arch},
            operation=operation,
        )
    return operation


@audited("cluster.delete")
def delete_cluster(actor, cluster: Cluster):
    from .tasks import delete_cluster as delete_task

    authz.require_cloud_admin(actor)
    if cluster.status == Cluster.Status.DELETED:
        raise ValidationError(_("The cluster is already deleted."))
    with transaction.atomic():
        operation = _start(actor, "cluster.delete", delete_task, cluster, cluster.pk)
        Cluster.objects.filter(pk=cluster.pk).update(status=Cluster.Status.DELETING)
        _audit(actor, "cluster.delete", cluster, cluster, operation=operation)
    return operation


@audited("cluster.update")
def update_cluster(actor, cluster: Cluster, **changes) -> Cluster:
    """Change how the portal names and describes a cluster, or where its charts come from
    (its Prometheus: URL, user, password or token); nothing in Kubernetes."""
    authz.require(actor, "change", cluster)
    unknown = set(changes) - {
        "display_name",
        "description",
        "prometheus_url",
        "prometheus_username",
        "prometheus_secret",
    }
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        for name, value in changes.items():
            setattr(cluster, name, value)
        cluster.full_clean(exclude=["kubeconfig"])
        cluster.save(update_fields=[*changes])
        _audit(actor, "cluster.update", cluster, cluster, detail={"changed": sorted(changes)})
    return cluster


@audited("cluster.sync")
def check_health(actor, cluster: Cluster) -> Cluster:
    """Sync the cluster's inventory and check its health now, instead of at the next beat."""
    from . import health

    authz.require_cloud_admin(actor)
    health.check(cluster, sync=True)
    _audit(actor, "cluster.sync", cluster, cluster, detail={"status": cluster.status})
    return cluster


@audited("cluster.kubeconfig.download")
def download_kubeconfig(actor, cluster: Cluster) -> str:
    """The cluster's kubeconfig, for cloud admins only; every download is audited."""
    authz.require(actor, "download_kubeconfig", cluster)
    if not cluster.kubeconfig:
        raise ValidationError(_("The cluster has no kubeconfig yet."))
    _audit(actor, "cluster.kubeconfig.download", cluster, cluster)
    return cluster.kubeconfig


# --- nodes -------------------------------------------------------------------------


class _Stale(KubeError):
    """The node's user labels or taints in Kubernetes are not the ones the portal showed."""

    def __init__(self, live):
        super().__init__(
            _(
                "It was changed by someone else since you loaded it. Reload and apply "
                "your change again."
            ),
            status=409,
            reason="Conflict",
        )
        self.live = live


def _store(node: Node, live: dict) -> None:
    NODES.apply(node.cluster, [live])
    node.refresh_from_db()


def _node_change(actor, node: Node, action: str, change, detail: dict) -> Node:
    """Apply ``change(kube, name)`` in Kubernetes, then store what Kubernetes answered."""
    authz.require(actor, action, node)
    cluster = node.cluster
    try:
        answer = change(cluster.kube(), node.name)
    except KubeError as exc:
        if isinstance(exc, _Stale):
            _store(node, exc.live)  # so that a reload shows what is there now
        raise ValidationError(exc.message) from exc
    _store(node, answer)
    _audit(actor, f"node.{action}", node, cluster, detail=detail)
    return node


@audited("node.cordon")
def cordon(actor, node: Node) -> Node:
    return _node_change(actor, node, "cordon", lambda k, n: kube_nodes.cordon(k, n, True), {})


@audited("node.uncordon")
def uncordon(actor, node: Node) -> Node:
    return _node_change(actor, node, "uncordon", lambda k, n: kube_nodes.cordon(k, n, False), {})


def drain_refusals(
    plan: kube_nodes.DrainPlan, *, force: bool, delete_emptydir_data: bool
) -> dict[str, str]:
    """Why the drain cannot go without the options not given, by option (none: it can)."""
    unmanaged, local_data = plan.blocked(force=force, delete_emptydir_data=delete_emptydir_data)
    errors = {}
    if unmanaged:
        errors["force"] = _(
            "These pods are not managed by a controller, so nothing would recreate them: "
            "%(pods)s. Tick “force” to evict them all the same."
        ) % {"pods": ", ".join(map(kube_nodes.pod_name, unmanaged))}
    if local_data:
        errors["delete_emptydir_data"] = _(
            "These pods keep data in emptyDir volumes, which is lost when they go: "
            "%(pods)s. Tick “delete emptyDir data” to evict them all the same."
        ) % {"pods": ", ".join(map(kube_nodes.pod_name, local_data))}
    return errors


def drain_plan(actor, node: Node) -> kube_nodes.DrainPlan:
    """What a drain of the node would do to the pods on it now (for the confirmation)."""
    authz.require(actor, "drain", node)
    kube = node.cluster.kube()
    try:
        plan = kube_nodes.drain_plan(kube, node.name)
    except KubeError as exc:
        raise ValidationError(exc.message) from exc
    # The budgets are a hint on the confirmation; the drain honours them anyway.
    with contextlib.suppress(KubeError):
        plan.held = kube_nodes.held_by_budgets(kube, plan.evict)
    return plan


@audited("node.drain")
def drain(actor, node: Node, *, force: bool = False, delete_emptydir_data: bool = False):
    """Cordon the node and evict its pods, as an operation; follows ``kubectl drain``.

    Pods no controller manages are evicted only with ``force``, pods with emptyDir
    volumes only with ``delete_emptydir_data``: without them the drain is refused here,
    naming those pods, before anything is cordoned. The task checks again (the node's
    pods may have changed by the time it runs). DaemonSet and mirror pods stay.
    """
    from .tasks import drain_node

    authz.require(actor, "drain", node)
    _refuse_while_busy(node.cluster)
    refusals = drain_refusals(
        drain_plan(actor, node), force=force, delete_emptydir_data=delete_emptydir_data
    )
    if refusals:
        raise ValidationError(refusals)
    options = {"force": bool(force), "delete_emptydir_data": bool(delete_emptydir_data)}
    with transaction.atomic():
        operation = _start(
            actor,
            "node.drain",
            drain_node,
            node.cluster,
            node.pk,
            options["force"],
            options["delete_emptydir_data"],
            target=node,
        )
        _audit(actor, "node.drain", node, node.cluster, detail=options, operation=operation)
    return operation


@audited("node.label")
def set_labels(actor, node: Node, labels: dict[str, str]) -> Node:
    """Replace the node's user labels; protected (system) labels stay as they are.

    The change is what the user changed from the labels the portal showed (the row). If
    the user labels in Kubernetes are no longer those (someone else changed them since
    the last sync), nothing is changed: the user is told to reload, and the row is
    refreshed. System labels are never sent, so they cannot be lost.
    """
    labels = {str(k).strip(): str(v).strip() for k, v in labels.items()}
    _validate_labels(labels)
    seen = _user_labels(node.labels)
    patch = {k: None for k in seen if k not in labels}
    patch.update({k: v for k, v in labels.items() if seen.get(k) != v})

    def change(kube, name):
        live = kube_nodes.read(kube, name)
        if _user_labels(live["metadata"].get("labels")) != seen:
            raise _Stale(live)
        return kube_nodes.patch_labels(kube, name, patch, live["metadata"]["resourceVersion"])

    return _node_change(actor, node, "label", change, {"labels": labels})


@audited("node.taint")
def set_taints(actor, node: Node, taints: list[dict]) -> Node:
    """Replace the node's user taints; taints Kubernetes manages stay as they are.

    As for labels, a change over user taints someone else changed is refused. The
    system taints sent back are the node's current ones, exactly as Kubernetes has them
    (with their timeAdded), never the row's, which may be older.
    """
    cleaned = _validate_taints(taints)
    seen = _user_taints(node.taints)

    def change(kube, name):
        live = kube_nodes.read(kube, name)
        current = (live.get("spec") or {}).get("taints") or []
        if _user_taints(node_summary(live)["taints"]) != seen:
            raise _Stale(live)
        system = [t for t in current if is_protected(t["key"])]
        return kube_nodes.set_taints(
            kube, name, system + cleaned, live["metadata"]["resourceVersion"]
        )

    return _node_change(actor, node, "taint", change, {"taints": cleaned})


def _user_labels(labels) -> dict:
    return {k: v for k, v in (labels or {}).items() if not is_protected(k)}


def _user_taints(taints: list[dict]) -> list[dict]:
    return [t for t in taints if not is_protected(t["key"])]


def is_protected(key: str) -> bool:
    prefix = key.split("/", 1)[0] + "/" if "/" in key else ""
    return key.startswith(PROTECTED_PREFIXES) or prefix.rstrip("/").endswith(PROTECTED_SUFFIXES)


def _validate_key(key: str) -> str | None:
    prefix, _sep, name = key.rpartition("/")
    if not _LABEL_NAME.match(name):
        return _("%(key)s: a name of at most 63 letters, digits, '-', '_' or '.'") % {"key": key}
    if prefix and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix)):
        return _("%(key)s: the prefix must be a DNS subdomain") % {"key": key}
    if is_protected(key):
        return _("%(key)s is managed by Kubernetes and cannot be changed here") % {"key": key}
    return None


def _validate_labels(labels: dict[str, str]) -> None:
    errors = [e for e in (_validate_key(k) for k in labels) if e]
    errors += [
        _("%(key)s: the value must be at most 63 letters, digits, '-', '_' or '.'") % {"key": k}
        for k, v in labels.items()
        if v and not _LABEL_NAME.match(v)
    ]
    if errors:
        raise ValidationError(errors)


def _validate_taints(taints: list[dict]) -> list[dict]:
    cleaned, errors, seen = [], [], set()
    for taint in taints:
        key = str(taint.get("key", "")).strip()
        value = str(taint.get("value", "") or "").strip()
        effect = str(taint.get("effect", "")).strip()
        error = _validate_key(key)
        if error:
            errors.append(error)
        if value and not _LABEL_NAME.match(value):
            errors.append(_("%(key)s: the value is not a valid label value") % {"key": key})
        if effect not in TAINT_EFFECTS:
            errors.append(
                _("%(key)s: the effect must be one of %(e)s")
                % {"key": key, "e": ", ".join(TAINT_EFFECTS)}
            )
        if (key, effect) in seen:
            errors.append(_("%(key)s:%(effect)s appears twice") % {"key": key, "effect": effect})
        seen.add((key, effect))
        cleaned.append(
            {k: v for k, v in {"key": key, "value": value, "effect": effect}.items() if v}
        )
    if errors:
        raise ValidationError(errors)
    return cleaned
