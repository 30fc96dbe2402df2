"""The create/edit wizard's services: check the wizard's data, preview what it makes (the
YAML, for an edit the diff against what runs, Kubernetes' server-side dry run with its
errors next to the fields they concern, the namespace's remaining quota), then create or
replace. Nothing changes in the cluster until ``create`` / ``update``.

Errors are keyed by the data's field paths ("containers.0.limits_cpu", "schedule"); the
portal's forms name their fields the same way (formset prefix, index, field).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core import diff as textdiff
from apps.core import yaml as kyaml
from apps.core.audit import audited
from apps.core.models import AuditEvent
from apps.kube import objects, quantity, seen
from apps.kube.errors import KubeError
from apps.namespaces import services as ns_services

from . import cron, manifest
from . import services as workload_services
from .models import Workload
from .services import services

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUOTA_RESOURCES = {
    "requests.cpu": "requests_cpu",
    "cpu": "requests_cpu",
    "limits.cpu": "limits_cpu",
    "requests.memory": "requests_memory",
    "memory": "requests_memory",
    "limits.memory": "limits_memory",
}


@dataclass
class Preview:
    manifest: dict
    yaml: str
    diff: str = ""  # for an edit: unified diff of the running object and the new one
    errors: dict = field(default_factory=dict)  # field path -> messages (dry run, quota)
    quota: list = field(default_factory=list)  # rows for the "remaining quota" panel

    @property
    def ok(self) -> bool:
        return not self.errors


# --- checking the data ----------------------------------------------------------------


def check(data: dict) -> None:
    """Refuse, field by field, what cannot make a manifest (before Kubernetes sees it)."""
    errors: dict[str, list] = {}

    def bad(path, message):
        errors.setdefault(path, []).append(message)

    kind = data.get("kind")
    if kind not in manifest.KINDS:
        bad("kind", _("Choose one of %(kinds)s.") % {"kinds": ", ".join(manifest.KINDS)})
    name = data.get("name") or ""
    if not NAME.match(name) or len(name) > (52 if kind == "CronJob" else 63):
        bad(
            "name",
            _("Lower-case letters, digits and '-', starting and ending with a letter or digit."),
        )
    containers = data.get("containers") or []
    if not containers:
        bad("containers.0.image", _("A workload needs at least one container."))
    named = set()
    for i, c in enumerate(containers):
        cname = c.get("name") or ""
        if not NAME.match(cname):
            bad(f"containers.{i}.name", _("Give the container a name (e.g. web)."))
        elif cname in named:
            bad(f"containers.{i}.name", _("Two containers are named %(name)s.") % {"name": cname})
        named.add(cname)
        image = (c.get("image") or "").strip()
        if not image or any(ch.isspace() for ch in image):
            bad(f"containers.{i}.image", _("Give an image, e.g. nginx:1.27."))
        for section in ("requests", "limits"):
            for r in ("cpu", "memory"):
                value = (c.get(f"{section}_{r}") or "").strip()
                if value:
                    try:
                        if quantity.parse(value) < 0:
                            raise ValueError
                    except ValueError:
                        bad(
                            f"containers.{i}.{section}_{r}",
                            _("Not a quantity (e.g. 500m, 1, 256Mi, 2Gi)."),
                        )
        for r in ("cpu", "memory"):
            request, limit = c.get(f"requests_{r}"), c.get(f"limits_{r}")
            try:
                if request and limit and quantity.parse(request) > quantity.parse(limit):
                    bad(f"containers.{i}.limits_{r}", _("The limit is below the request."))
            except ValueError:
                pass
        for probe in manifest.PROBES:
            kind_ = c.get(f"{probe}_type") or ""
            if kind_ in ("http", "tcp") and not str(c.get(f"{probe}_port") or "").strip():
                bad(f"containers.{i}.{probe}_port", _("Give the port to check."))
            if kind_ == "exec" and not c.get(f"{probe}_command"):
                bad(f"containers.{i}.{probe}_command", _("Give the command to run."))
        for hook in manifest.HOOKS:
            kind_ = c.get(f"{hook}_type") or ""
            if kind_ == "exec" and not c.get(f"{hook}_command"):
                bad(f"containers.{i}.{hook}_command", _("Give the command to run."))
            if kind_ == "http" and not str(c.get(f"{hook}_port") or "").strip():
                bad(f"containers.{i}.{hook}_port", _("Give the port to call."))
    names = {c.get("name") for c in containers}

    def owner(list_name, j, row):
        if row.get("container") and row["container"] not in names:
            bad(
                f"{list_name}.{j}.container",
                _("There is no container %(name)s.") % {"name": row["container"]},
            )

    for j, row in enumerate(data.get("ports") or []):
        owner("ports", j, row)
        port = row.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            bad(f"ports.{j}.port", _("A port is a number from 1 to 65535."))
    for j, row in enumerate(data.get("env") or []):
        owner("env", j, row)
        if not ENV_NAME.match(row.get("name") or ""):
            bad(f"env.{j}.name", _("Give the variable a name (letters, digits, '_', '-', '.')."))
        if row.get("source") in ("configmap", "secret"):
            if not row.get("ref"):
                bad(f"env.{j}.ref", _("Which ConfigMap or Secret?"))
            if not row.get("key"):
                bad(f"env.{j}.key", _("Which key?"))
    for j, row in enumerate(data.get("env_from") or []):
        owner("env_from", j, row)
        if not row.get("ref"):
            bad(f"env_from.{j}.ref", _("Which ConfigMap or Secret?"))
    volumes = set()
    for j, row in enumerate(data.get("volumes") or []):
        vname = row.get("name") or ""
        if not NAME.match(vname):
            bad(f"volumes.{j}.name", _("Give the volume a name (e.g. data)."))
        elif vname in volumes:
            bad(f"volumes.{j}.name", _("Two volumes are named %(name)s.") % {"name": vname})
        volumes.add(vname)
        if row.get("type") in ("pvc", "configmap", "secret") and not row.get("ref"):
            bad(f"volumes.{j}.ref", _("Which claim, ConfigMap or Secret?"))
    claims = {c.get("name") for c in data.get("claims") or []}
    for j, row in enumerate(data.get("mounts") or []):
        owner("mounts", j, row)
        if row.get("volume") not in volumes | claims:
            bad(f"mounts.{j}.volume", _("Mount one of the volumes given above."))
        if not str(row.get("path") or "").startswith("/"):
            bad(f"mounts.{j}.path", _("A mount path is absolute (e.g. /data)."))
    for j, row in enumerate(data.get("claims") or []):
        if not NAME.match(row.get("name") or ""):
            bad(f"claims.{j}.name", _("Give the claim a name (e.g. data)."))
        try:
            quantity.parse(row.get("size") or "1Gi")
        except ValueError:
            bad(f"claims.{j}.size", _("Not a size (e.g. 1Gi)."))
    for j, row in enumerate(data.get("affinity") or []):
        if not row.get("key"):
            bad(f"affinity.{j}.key", _("Give the label key."))
        if row.get("operator", "In") in ("In", "NotIn") and not row.get("values"):
            bad(f"affinity.{j}.values", _("Give at least one value."))
    if kind == "CronJob":
        _runs, problem = cron.next_runs(data.get("schedule") or "", data.get("time_zone") or "")
        if problem:
            bad("schedule", problem)
    if errors:
        raise ValidationError(errors)


# --- Kubernetes' answers as field errors ------------------------------------------------

_QUOTA = re.compile(r"exceeded quota: [^,]+, requested: (?P<requested>.+?), used:")


def field_errors(exc: KubeError, built: manifest.Built, data: dict, *, pod=False) -> dict:
    """A refusal from Kubernetes, next to the fields it concerns (``pod``: a refusal of a
    pod made from the template, whose paths are the template's)."""
    errors: dict[str, list] = {}
    template = ".".join(manifest.TEMPLATE_PATH[built.manifest["kind"]])
    if exc.status == 422 and exc.causes:
        for cause in exc.causes:
            path = cause.get("field", "")
            if pod and path.startswith(("spec.", "metadata.")):
                path = f"{template}.{path}"
            name = built.field_for(path) if path else ""
            message = cause.get("message", "")
            errors.setdefault(name or NON_FIELD_ERRORS, []).append(
                message if name else f"{path}: {message}" if path else message
            )
        return errors
    match = _QUOTA.search(exc.message or "")
    if exc.status == 403 and match:
        for item in match.group("requested").split(","):
            resource = item.split("=")[0].strip()
            for name in _quota_fields(resource, data):
                errors.setdefault(name, []).append(exc.message)
        return errors or {NON_FIELD_ERRORS: [exc.message]}
    if exc.status == 409 and exc.reason == "AlreadyExists":
        return {"name": [_("A workload with this name already exists here.")]}
    return {NON_FIELD_ERRORS: [exc.message]}


def _quota_fields(resource: str, data: dict) -> list[str]:
    if resource == "pods":
        return ["replicas"]
    if resource in ("requests.storage", "persistentvolumeclaims"):
        return ["claims.0.size"] if data.get("claims") else [NON_FIELD_ERRORS]
    suffix = QUOTA_RESOURCES.get(resource)
    if not suffix:
        return [NON_FIELD_ERRORS]
    containers = data.get("containers") or [{}]
    set_ = [f"containers.{i}.{suffix}" for i, c in enumerate(containers) if c.get(suffix)]
    return set_ or [f"containers.0.{suffix}"]


# --- the namespace's remaining quota -----------------------------------------------------


def pods_of(data: dict, cluster_nodes: int = 1) -> int:
    kind = data.get("kind")
    if kind in ("Deployment", "StatefulSet"):
        replicas = data.get("replicas")
        return 1 if replicas in (None, "") else int(replicas)
    if kind == "DaemonSet":
        return cluster_nodes
    parallelism = data.get("parallelism")
    return 1 if parallelism in (None, "") else int(parallelism)


def quota_rows(namespace, data: dict, *, running: dict | None = None, nodes: int = 1) -> list:
    """For each cpu/memory/pods quota of the namespace: what remains, what the form asks
    for (every pod it would run), and whether that fits. ``running``: the workload's data
    as it runs now (an edit gives its share back)."""
    hard, used = namespace.quota_hard or {}, namespace.quota_used or {}
    # What the namespace's LimitRange gives a container that states nothing.
    request, limit = ns_services.container_defaults(hard)
    defaults = {f"requests_{k}": v for k, v in request.items()} | {
        f"limits_{k}": v for k, v in limit.items()
    }
    rows = []
    for key in ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods"):
        if key not in hard:
            continue
        try:
            limit = quantity.parse(hard[key])
            spent = quantity.parse(used.get(key, "0"))
            asked = _asks(key, data, nodes, defaults)
            if running is not None:
                spent = max(Decimal(0), spent - _asks(key, running, nodes, defaults))
        except (ValueError, TypeError):
            continue
        remaining = max(Decimal(0), limit - spent)
        binary = key.endswith("memory")
        rows.append(
            {
                "key": key,
                "field": "replicas" if key == "pods" else QUOTA_RESOURCES[key],
                "hard": quantity.render(limit, binary=binary),
                "remaining": quantity.render(remaining, binary=binary),
                "asked": quantity.render(asked, binary=binary),
                "fits": asked <= remaining,
            }
        )
    return rows


def _asks(key: str, data: dict, nodes: int, defaults: dict) -> Decimal:
    pods = Decimal(pods_of(data, nodes))
    if key == "pods":
        return pods
    suffix = QUOTA_RESOURCES[key]
    total = Decimal(0)
    for c in data.get("containers") or []:
        value = (c.get(suffix) or "").strip() or defaults.get(suffix, "0")
        total += quantity.parse(value)
    return total * pods


def _quota_errors(rows: list, data: dict) -> dict:
    errors: dict[str, list] = {}
    for row in rows:
        if row["fits"]:
            continue
        message = (
            _("%(asked)s of %(key)s asked for; %(remaining)s of the namespace's %(hard)s remains.")
            % row
        )
        for name in _quota_fields(row["key"], data):
            errors.setdefault(name, []).append(message)
    return errors


# --- preview, create, update ----------------------------------------------------------------


def _nodes(cluster) -> int:
    from apps.clusters.models import Node

    return max(1, Node.objects.filter(cluster=cluster).count())


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
        raise ValidationError({NON_FIELD_ERRORS: exc.message}) from exc


EDITOR = "wizard"  # what seen remembers the edit form by


def _built(data: dict, namespace, live: dict | None, resource_version: str = ""):
    built = manifest.build(
        data, namespace=namespace.name, base=kyaml.for_edit(live) if live else None
    )
    if live is not None:
        built.manifest["metadata"]["resourceVersion"] = seen.version_for(
            EDITOR, live, resource_version, manifest.to_data(live)
        )
    return built


def _pod_for(built: manifest.Built) -> dict:
    """A pod made from the workload's template: what its controller would create, which
    the pod quota and LimitRanges judge (a workload itself uses no quota)."""
    template = manifest.dig(built.manifest, manifest.TEMPLATE_PATH[built.manifest["kind"]]) or {}
    spec = dict(template.get("spec") or {})
    name = built.manifest["metadata"]["name"]
    claims = (built.manifest.get("spec") or {}).get("volumeClaimTemplates") or []
    if built.manifest["kind"] == "StatefulSet" and claims:
        # As the StatefulSet controller does: a volume for each claim of the first pod.
        own = {v.get("name") for v in spec.get("volumes") or []}
        spec["volumes"] = list(spec.get("volumes") or []) + [
            {
                "name": claim["metadata"]["name"],
                "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{name}-0"},
            }
            for claim in claims
            if claim["metadata"]["name"] not in own
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{built.manifest['metadata']['name']}-",
            "namespace": built.manifest["metadata"]["namespace"],
            "labels": (template.get("metadata") or {}).get("labels") or {},
        },
        "spec": spec,
    }


def _dry_run(namespace, built: manifest.Built, data: dict, *, replace: bool) -> dict:
    kube = namespace.cluster.kube()
    try:
        if replace:
            objects.replace(kube, built.manifest, dry_run=True)
        else:
            objects.create(kube, built.manifest, dry_run=True)
    except KubeError as exc:
        return field_errors(exc, built, data)
    try:
        objects.create(kube, _pod_for(built), dry_run=True)
    except KubeError as exc:
        # The workload passed; what its pods would meet (quota, LimitRanges, admission)
        # refuses it too.
        return field_errors(exc, built, data, pod=True)
    return {}


def _merge(*sources: dict) -> dict:
    merged: dict[str, list] = {}
    for source in sources:
        for key, messages in source.items():
            for message in messages if isinstance(messages, list) else [messages]:
                if message not in merged.setdefault(key, []):
                    merged[key].append(message)
    return merged


@audited("workload.dry_run")
def preview(actor, namespace, data: dict, *, workload: Workload | None = None, resource_version=""):
    """What applying ``data`` would do, checked by Kubernetes without changing anything.
    An edit names the ``workload`` (in ``namespace``, its own)."""
    if workload is not None:
        authz.require(actor, "change", workload)
        namespace = workload.namespace
        data = {**data, "kind": workload.kind, "name": workload.name}
    else:
        services[manifest.KINDS[0]].authorize_create(actor, namespace)
    check(data)
    live = _live(workload) if workload is not None else None
    built = _built(data, namespace, live, resource_version)
    running = manifest.to_data(live) if live is not None else None
    rows = quota_rows(namespace, data, running=running, nodes=_nodes(namespace.cluster))
    errors = _merge(
        _dry_run(namespace, built, data, replace=live is not None), _quota_errors(rows, data)
    )
    diff = ""
    if live is not None:
        running_object = kyaml.for_edit(live)
        built.manifest = ordered_like(built.manifest, running_object)
    text = kyaml.dump(built.manifest)
    if live is not None:
        diff = textdiff.unified(
            kyaml.dump(running_object), text, fromfile=_("running"), tofile=_("after the change")
        )
    # Inside the audited action a refusal is recorded here: the preview itself succeeded.
    outcome = (
        {"result": AuditEvent.Result.FAILURE, "reason": audit.errors_reason(errors)[:2000]}
        if errors
        else {}
    )
    audit.record(
        actor, "workload.dry_run", workload, **_where(namespace, data, workload), **outcome
    )
    return Preview(built.manifest, text, diff, errors, rows)


def ordered_like(new, old):
    """``new`` with its keys in ``old``'s order where both have them (a diff shows changes,
    not a reordering); lists' items follow the item of the same index or name."""
    if isinstance(new, dict) and isinstance(old, dict):
        keys = [k for k in old if k in new] + [k for k in new if k not in old]
        return {k: ordered_like(new[k], old.get(k)) for k in keys}
    if isinstance(new, list) and isinstance(old, list):
        named = {i.get("name"): i for i in old if isinstance(i, dict) and "name" in i}
        return [
            ordered_like(
                item,
                named.get(item.get("name"))
                if isinstance(item, dict) and "name" in item
                else old[i]
                if i < len(old)
                else None,
            )
            for i, item in enumerate(new)
        ]
    return new


def _where(namespace, data, workload) -> dict:
    if workload is not None:
        return {"detail": {"kind": workload.kind}}
    return {
        "project": namespace.project,
        "cluster": namespace.cluster.name,
        "namespace": namespace.name,
        "target_name": data.get("name", ""),
        "target_type": "workloads.workload",
        "detail": {"kind": data.get("kind")},
    }


@audited("workload.create", Workload)
def create(actor, namespace, data: dict) -> Workload:
    """Create the workload the wizard describes (after the same dry run as the preview)."""
    service = services.get(data.get("kind")) or services[manifest.KINDS[0]]
    service.authorize_create(actor, namespace)
    check(data)
    built = _built(data, namespace, None)
    rows = quota_rows(namespace, data, nodes=_nodes(namespace.cluster))
    errors = _merge(_dry_run(namespace, built, data, replace=False), _quota_errors(rows, data))
    if errors:
        raise ValidationError(errors)
    return service.create(actor, namespace, built.manifest, source="wizard")


@audited("workload.update")
def update(actor, workload: Workload, data: dict, *, resource_version: str = ""):
    """Replace the workload with what the edit form describes; ``resource_version`` is the
    one the user saw (someone else's change since is refused with "reload"). A change to
    the spec of a Deployment, StatefulSet or DaemonSet returns the Operation following its
    rollout (an OnDelete one, and the other kinds, the workload)."""
    authz.require(actor, "change", workload)
    data = {**data, "kind": workload.kind, "name": workload.name}
    check(data)
    live = _live(workload)
    built = _built(data, workload.namespace, live, resource_version)
    running = manifest.to_data(live)
    rows = quota_rows(workload.namespace, data, running=running, nodes=_nodes(workload.cluster))
    errors = _merge(
        _dry_run(workload.namespace, built, data, replace=True), _quota_errors(rows, data)
    )
    if errors:
        raise ValidationError(errors)
    before = (live.get("metadata") or {}).get("generation")
    was = workload_services.pod_template_before(workload, live)
    workload = services[workload.kind].replace(
        actor, workload, built.manifest, source="wizard", **was
    )
    after = ((workload.manifest or {}).get("metadata") or {}).get("generation")
    if after != before and workload_services.followed(workload):
        # a new pod template or replica count rolls out: followed like a new image
        return workload_services.follow(actor, workload, "update", record=False)
    return workload


def initial(actor, workload: Workload) -> tuple[dict, str]:
    """The edit form's data, from the running object, and the resourceVersion it is at."""
    authz.require(actor, "change", workload)
    live = _live(workload)
    data, version = manifest.to_data(live), live["metadata"].get("resourceVersion", "")
    # Its status moves on while the form is open: only a change to what it shows conflicts.
    seen.remember(EDITOR, live, data)
    return data, version


def remaining_quota(actor, namespace, data: dict, *, workload: Workload | None = None) -> list:
    """The quota panel beside the resources fields, as the user types (no dry run)."""
    running = None
    if workload is not None:
        authz.require(actor, "change", workload)
        namespace = workload.namespace
        running = manifest.to_data(workload.manifest or {"kind": workload.kind})
    else:
        authz.require(actor, "work", namespace)
    try:
        return quota_rows(namespace, data, running=running, nodes=_nodes(namespace.cluster))
    except (ValueError, TypeError):
        return []


def digest(data: dict, scope: str) -> str:
    """What a preview was of: applying asks for the same, or shows the new preview first."""
    text = json.dumps({"scope": scope, "data": data}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
