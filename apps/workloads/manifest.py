"""The create wizard's manifest builder: the wizard's structured data -> a workload manifest,
and back (an edit starts from the running object). Pure functions, no Django models.

The structured data is what the portal's forms produce and what the API accepts: flat
top-level fields (``name``, ``replicas``, ``strategy``, ``schedule`` ...) and lists of
rows (``containers``, ``ports``, ``env``, ``env_from``, ``volumes``, ``mounts``,
``affinity``, ``tolerations``, ``claims``). Rows that belong to a container name it in
``container`` (empty: the first one). Every part of the manifest remembers which field
it came from (``Built.origins``), so Kubernetes' errors about a path of the manifest
are shown next to that field.
"""

import copy
from dataclasses import dataclass, field

# The progress deadline Kubernetes does not give StatefulSets and DaemonSets, as an
# annotation on the workload (seconds; unset, the Deployment's own default of 600).
DEADLINE_ANNOTATION = "kcs.io/progress-deadline-seconds"

KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
API_VERSION = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
# Where each kind keeps its pod template.
TEMPLATE_PATH = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
TOPOLOGY_KEYS = {"hostname": "kubernetes.io/hostname", "zone": "topology.kubernetes.io/zone"}
PROBES = ("liveness", "readiness", "startup")
HOOKS = ("post_start", "pre_stop")
PROBE_NUMBERS = {
    "initial_delay": "initialDelaySeconds",
    "period": "periodSeconds",
    "timeout": "timeoutSeconds",
    "success_threshold": "successThreshold",
    "failure_threshold": "failureThreshold",
}
APP_LABEL = "app"


@dataclass
class Built:
    manifest: dict
    # manifest path ("spec.template.spec.containers[0].image") -> data field
    # ("containers.0.image"); the longest matching prefix names an error's field.
    origins: dict = field(default_factory=dict)

    def field_for(self, path: str) -> str:
        """The data field a Kubernetes error path concerns ("" when none does)."""
        path = path.strip()
        best = ""
        for prefix in self.origins:
            if (
                path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
            ) and len(prefix) > len(best):
                best = prefix
        return self.origins.get(best, "")


def _set(obj: dict, path, value):
    for key in path[:-1]:
        obj = obj.setdefault(key, {})
    obj[path[-1]] = value


def dig(obj: dict, path, default=None):
    """The value at ``path`` (keys) in nested dicts, or ``default``."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def _int(value):
    return None if value in (None, "") else int(value)


def _prune(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def _container_index(data: dict, name: str) -> int:
    names = [c.get("name") for c in data.get("containers") or []]
    return names.index(name) if name in names else 0 if not name else -1


def _probe(kind_prefix: str, c: dict) -> dict | None:
    kind = c.get(f"{kind_prefix}_type") or ""
    if not kind:
        return None
    probe: dict = {}
    if kind == "http":
        probe["httpGet"] = _prune(
            {
                "path": c.get(f"{kind_prefix}_path") or "/",
                "port": _port(c.get(f"{kind_prefix}_port")),
            }
        )
    elif kind == "tcp":
        probe["tcpSocket"] = {"port": _port(c.get(f"{kind_prefix}_port"))}
    elif kind == "exec":
        probe["exec"] = {"command": list(c.get(f"{kind_prefix}_command") or [])}
    for key, name in PROBE_NUMBERS.items():
        value = _int(c.get(f"{kind_prefix}_{key}"))
        if value is not None:
            probe[name] = value
    return probe


def _hook(prefix: str, c: dict) -> dict | None:
    kind = c.get(f"{prefix}_type") or ""
    if kind == "exec":
        return {"exec": {"command": list(c.get(f"{prefix}_command") or [])}}
    if kind == "http":
        return {
            "httpGet": _prune(
                {"path": c.get(f"{prefix}_path") or "/", "port": _port(c.get(f"{prefix}_port"))}
            )
        }
    return None


def _port(value):
    """A probe's port: a number, or a named container port."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def _resources(c: dict) -> dict:
    resources = {}
    for section in ("requests", "limits"):
        values = _prune({r: (c.get(f"{section}_{r}") or "").strip() for r in ("cpu", "memory")})
        if values:
            resources[section] = values
    return resources


def _env(row: dict) -> dict:
    source = row.get("source") or "value"
    if source == "configmap":
        return {
            "name": row["name"],
            "valueFrom": {
                "configMapKeyRef": {"name": row.get("ref", ""), "key": row.get("key", "")}
            },
        }
    if source == "secret":
        return {
            "name": row["name"],
            "valueFrom": {"secretKeyRef": {"name": row.get("ref", ""), "key": row.get("key", "")}},
        }
    return {"name": row["name"], "value": row.get("value") or ""}


def _volume(row: dict) -> dict:
    kind, ref = row.get("type"), row.get("ref") or ""
    volume: dict = {"name": row["name"]}
    if kind == "pvc":
        volume["persistentVolumeClaim"] = _prune(
            {"claimName": ref, "readOnly": True if row.get("read_only") else None}
        )
    elif kind == "configmap":
        volume["configMap"] = {"name": ref}
    elif kind == "secret":
        volume["secret"] = {"secretName": ref}
    else:
        volume["emptyDir"] = _prune(
            {
                "medium": "Memory" if row.get("medium") == "Memory" else None,
                "sizeLimit": row.get("size_limit") or None,
            }
        )
    return volume


def _selector_rule(row: dict) -> dict:
    """A node-selector requirement or a pod label-selector requirement from one row."""
    operator = row.get("operator") or "In"
    rule = {"key": row.get("key", ""), "operator": operator}
    values = [v for v in row.get("values") or [] if v]
    if operator in ("In", "NotIn", "Gt", "Lt"):
        rule["values"] = values
    return rule


def _affinity(data: dict, selector: dict, origins: dict, spec_path: str) -> dict:
    """The pod's affinity from the preset ("spread", "pack") and the custom rows."""
    affinity: dict = {}
    preset = data.get("preset") or ""
    topology = TOPOLOGY_KEYS.get(data.get("topology") or "hostname", TOPOLOGY_KEYS["hostname"])
    if preset in ("spread", "pack"):
        kind = "podAntiAffinity" if preset == "spread" else "podAffinity"
        affinity[kind] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": dict(selector)},
                        "topologyKey": topology,
                    },
                }
            ]
        }
        origins[f"{spec_path}.affinity.{kind}"] = "preset"
    for i, row in enumerate(data.get("affinity") or []):
        kind = {"node": "nodeAffinity", "pod": "podAffinity", "anti": "podAntiAffinity"}.get(
            row.get("type") or "", ""
        )
        if not kind:
            continue
        required = bool(row.get("required"))
        section = affinity.setdefault(kind, {})
        if kind == "nodeAffinity":
            rule = _selector_rule(row)
            if required:
                terms = section.setdefault(
                    "requiredDuringSchedulingIgnoredDuringExecution", {"nodeSelectorTerms": []}
                )["nodeSelectorTerms"]
                if not terms:
                    terms.append({"matchExpressions": []})
                terms[0]["matchExpressions"].append(rule)
            else:
                section.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
                    {
                        "weight": _int(row.get("weight")) or 50,
                        "preference": {"matchExpressions": [rule]},
                    }
                )
        else:
            term = {
                "labelSelector": {"matchExpressions": [_selector_rule(row)]},
                "topologyKey": TOPOLOGY_KEYS.get(row.get("topology") or "hostname", topology),
            }
            if required:
                section.setdefault("requiredDuringSchedulingIgnoredDuringExecution", []).append(
                    term
                )
            else:
                section.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
                    {"weight": _int(row.get("weight")) or 50, "podAffinityTerm": term}
                )
        origins.setdefault(f"{spec_path}.affinity.{kind}", f"affinity.{i}.key")
    return affinity


def _pod_spec(data: dict, selector: dict, origins: dict, spec_path: str, base: dict) -> dict:
    spec = copy.deepcopy(base)
    kind = data.get("kind")
    base_containers = {c.get("name"): c for c in base.get("containers") or []}
    containers = []
    for i, c in enumerate(data.get("containers") or []):
        path = f"{spec_path}.containers[{i}]"
        container = copy.deepcopy(base_containers.get(c.get("name"), {}))
        for key in (
            "command",
            "args",
            "workingDir",
            "ports",
            "env",
            "envFrom",
            "volumeMounts",
            "resources",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
            "imagePullPolicy",
        ):
            container.pop(key, None)
        container.update(
            _prune(
                {
                    "name": c.get("name"),
                    "image": c.get("image"),
                    "imagePullPolicy": c.get("pull_policy") or None,
                    "command": list(c.get("command") or []),
                    "args": list(c.get("args") or []),
                    "workingDir": c.get("working_dir") or None,
                    "resources": _resources(c),
                }
            )
        )
        container.setdefault("resources", {})
        for key in ("name", "image", "imagePullPolicy", "command", "args", "workingDir"):
            origins[f"{path}.{key}"] = f"containers.{i}." + {
                "imagePullPolicy": "pull_policy",
                "workingDir": "working_dir",
            }.get(key, key)
        for section in ("requests", "limits"):
            origins[f"{path}.resources.{section}"] = f"containers.{i}.{section}_cpu"
            for r in ("cpu", "memory"):
                origins[f"{path}.resources.{section}.{r}"] = f"containers.{i}.{section}_{r}"
        origins[f"{path}.resources"] = f"containers.{i}.requests_cpu"
        for probe in PROBES:
            built = _probe(probe, c)
            if built:
                container[f"{probe}Probe"] = built
                origins[f"{path}.{probe}Probe"] = f"containers.{i}.{probe}_type"
                for key, name in PROBE_NUMBERS.items():
                    origins[f"{path}.{probe}Probe.{name}"] = f"containers.{i}.{probe}_{key}"
                for action in ("httpGet", "tcpSocket"):
                    origins[f"{path}.{probe}Probe.{action}.port"] = f"containers.{i}.{probe}_port"
                origins[f"{path}.{probe}Probe.httpGet.path"] = f"containers.{i}.{probe}_path"
                origins[f"{path}.{probe}Probe.exec"] = f"containers.{i}.{probe}_command"
        lifecycle = {}
        for hook, name in zip(HOOKS, ("postStart", "preStop"), strict=True):
            built = _hook(hook, c)
            if built:
                lifecycle[name] = built
                origins[f"{path}.lifecycle.{name}"] = f"containers.{i}.{hook}_type"
        if lifecycle:
            container["lifecycle"] = lifecycle
        containers.append(container)
    for list_name, manifest_key, make in (
        ("ports", "ports", _port_entry),
        ("env", "env", _env),
        ("env_from", "envFrom", _env_from),
        ("mounts", "volumeMounts", _mount),
    ):
        for j, row in enumerate(data.get(list_name) or []):
            index = _container_index(data, row.get("container") or "")
            if index < 0 or index >= len(containers):
                continue
            entries = containers[index].setdefault(manifest_key, [])
            origins[f"{spec_path}.containers[{index}].{manifest_key}[{len(entries)}]"] = (
                f"{list_name}.{j}." + _FIRST_FIELD[list_name]
            )
            entries.append(make(row))
    spec["containers"] = containers
    origins[f"{spec_path}.containers"] = "containers.0.image"
    known = {"persistentVolumeClaim", "configMap", "secret", "emptyDir"}
    kept = [v for v in base.get("volumes") or [] if not known & set(v)]
    volumes = []
    for j, row in enumerate(data.get("volumes") or []):
        origins[f"{spec_path}.volumes[{len(kept) + j}]"] = f"volumes.{j}.ref"
        origins[f"{spec_path}.volumes[{len(kept) + j}].name"] = f"volumes.{j}.name"
        volumes.append(_volume(row))
    _put(spec, "volumes", kept + volumes)
    _put(spec, "imagePullSecrets", [{"name": n} for n in data.get("image_pull_secrets") or [] if n])
    origins[f"{spec_path}.imagePullSecrets"] = "image_pull_secrets"
    _put(spec, "nodeSelector", dict(data.get("node_selector") or {}))
    origins[f"{spec_path}.nodeSelector"] = "node_selector"
    _put(spec, "affinity", _affinity(data, selector, origins, spec_path))
    tolerations = []
    for j, row in enumerate(data.get("tolerations") or []):
        origins[f"{spec_path}.tolerations[{j}]"] = f"tolerations.{j}.key"
        operator = row.get("operator") or "Equal"
        tolerations.append(
            _prune(
                {
                    "key": row.get("key") or None,
                    "operator": operator,
                    "value": (row.get("value") or None) if operator == "Equal" else None,
                    "effect": row.get("effect") or None,
                    "tolerationSeconds": _int(row.get("seconds")),
                }
            )
        )
    _put(spec, "tolerations", tolerations)
    if kind in ("Job", "CronJob"):
        spec["restartPolicy"] = data.get("restart_policy") or spec.get("restartPolicy") or "Never"
        origins[f"{spec_path}.restartPolicy"] = "restart_policy"
    elif spec.get("restartPolicy") not in (None, "Always"):
        spec["restartPolicy"] = "Always"
    return spec


_FIRST_FIELD = {"ports": "port", "env": "name", "env_from": "ref", "mounts": "path"}


def _put(obj: dict, key: str, value):
    if value:
        obj[key] = value
    else:
        obj.pop(key, None)


def _port_entry(row: dict) -> dict:
    return _prune(
        {
            "name": row.get("name") or None,
            "containerPort": _int(row.get("port")),
            "protocol": row.get("protocol") or "TCP",
        }
    )


def _env_from(row: dict) -> dict:
    key = "secretRef" if row.get("source") == "secret" else "configMapRef"
    return _prune({key: {"name": row.get("ref", "")}, "prefix": row.get("prefix") or None})


def _mount(row: dict) -> dict:
    return _prune(
        {
            "name": row.get("volume", ""),
            "mountPath": row.get("path", ""),
            "subPath": row.get("sub_path") or None,
            "readOnly": True if row.get("read_only") else None,
        }
    )


def _strategy(data: dict, kind: str, origins: dict) -> tuple[str, dict]:
    """The kind's update strategy field and value."""
    chosen = data.get("strategy") or ""
    if kind == "Deployment":
        if chosen == "Recreate":
            value = {"type": "Recreate"}
        else:
            value = {
                "type": "RollingUpdate",
                "rollingUpdate": _prune(
                    {
                        "maxSurge": _int_or_percent(data.get("max_surge")),
                        "maxUnavailable": _int_or_percent(data.get("max_unavailable")),
                    }
                ),
            }
        origins["spec.strategy.rollingUpdate.maxSurge"] = "max_surge"
        origins["spec.strategy.rollingUpdate.maxUnavailable"] = "max_unavailable"
        origins["spec.strategy"] = "strategy"
        return "strategy", _prune(value)
    if kind == "StatefulSet":
        if chosen == "OnDelete":
            return "updateStrategy", {"type": "OnDelete"}
        origins["spec.updateStrategy.rollingUpdate.partition"] = "partition"
        origins["spec.updateStrategy.rollingUpdate.maxUnavailable"] = "max_unavailable"
        rolling = _prune(
            {
                "partition": _int(data.get("partition")),
                "maxUnavailable": _int_or_percent(data.get("max_unavailable")),
            }
        )
        return "updateStrategy", _prune({"type": "RollingUpdate", "rollingUpdate": rolling})
    if chosen == "OnDelete":
        return "updateStrategy", {"type": "OnDelete"}
    origins["spec.updateStrategy.rollingUpdate.maxUnavailable"] = "max_unavailable"
    origins["spec.updateStrategy.rollingUpdate.maxSurge"] = "max_surge"
    rolling = _prune(
        {
            "maxUnavailable": _int_or_percent(data.get("max_unavailable")),
            "maxSurge": _int_or_percent(data.get("max_surge")),
        }
    )
    return "updateStrategy", _prune({"type": "RollingUpdate", "rollingUpdate": rolling})


def _int_or_percent(value):
    if value in (None, ""):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def build(data: dict, *, namespace: str, base: dict | None = None) -> Built:
    """The manifest for ``data`` in ``namespace``; an edit passes the running object as
    ``base``, whose fields the wizard does not manage (and its selector) are kept."""
    kind = data.get("kind") or "Deployment"
    origins: dict = {"metadata.name": "name", "metadata.labels": "labels"}
    base = copy.deepcopy(base or {})
    for key in ("status",):
        base.pop(key, None)
    metadata = base.get("metadata") or {}
    for key in ("managedFields", "creationTimestamp", "generation", "uid", "selfLink"):
        metadata.pop(key, None)
    name = data.get("name") or metadata.get("name", "")
    labels = dict(data.get("labels") or {})
    own = {APP_LABEL: labels.get(APP_LABEL, name)}
    # A Job's selector is Kubernetes' own (its controller-uid); presets match on "app".
    selector = (
        own if kind in ("Job", "CronJob") else dig(base, ("spec", "selector", "matchLabels")) or own
    )
    labels = {**selector, **labels} if not base else labels
    metadata.update({"name": name, "namespace": namespace})
    _put(metadata, "labels", labels)
    annotations = dict(data.get("annotations") or {})
    if base:
        # Kubernetes' own annotations (revision, last change) are kept; the user's are theirs.
        kept = {
            k: v
            for k, v in (metadata.get("annotations") or {}).items()
            if "kubernetes.io/" in k or k.startswith("kcs.io/")
        }
        annotations = {**kept, **annotations}
    _put(metadata, "annotations", annotations)
    origins["metadata.annotations"] = "annotations"
    manifest = {"apiVersion": API_VERSION[kind], "kind": kind, "metadata": metadata}
    spec = base.get("spec") or {}
    manifest["spec"] = spec
    template_path = TEMPLATE_PATH[kind]
    template = dig(base, template_path) or {}
    template_metadata = template.get("metadata") or {}
    template_labels = {**(template_metadata.get("labels") or {}), **labels, **selector}
    if kind in ("Job", "CronJob"):
        template_labels = {**(template_metadata.get("labels") or {}), **labels}
    template_metadata["labels"] = template_labels
    spec_path = ".".join(template_path) + ".spec"
    pod_spec = _pod_spec(data, selector, origins, spec_path, template.get("spec") or {})
    _set(manifest, template_path, {"metadata": template_metadata, "spec": pod_spec})

    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        spec["selector"] = dig(base, ("spec", "selector")) or {"matchLabels": selector}
        key, value = _strategy(data, kind, origins)
        spec[key] = value
        _number(
            spec, "minReadySeconds", data.get("min_ready_seconds"), origins, "min_ready_seconds"
        )
        _number(
            spec,
            "revisionHistoryLimit",
            data.get("revision_history_limit"),
            origins,
            "revision_history_limit",
        )
    if kind in ("Deployment", "StatefulSet"):
        replicas = _int(data.get("replicas"))
        spec["replicas"] = 1 if replicas is None else replicas
        origins["spec.replicas"] = "replicas"
    if kind == "Deployment":
        _number(
            spec,
            "progressDeadlineSeconds",
            data.get("progress_deadline_seconds"),
            origins,
            "progress_deadline_seconds",
        )
    elif kind in ("StatefulSet", "DaemonSet"):
        # Kubernetes gives them no progress deadline: the portal's own, as an annotation.
        deadline = _int(data.get("progress_deadline_seconds"))
        annotations = metadata.get("annotations") or {}
        annotations.pop(DEADLINE_ANNOTATION, None)
        if deadline:
            annotations[DEADLINE_ANNOTATION] = str(deadline)
        _put(metadata, "annotations", annotations)
        origins[f"metadata.annotations.{DEADLINE_ANNOTATION}"] = "progress_deadline_seconds"
    if kind == "StatefulSet":
        spec["serviceName"] = data.get("service_name") or spec.get("serviceName") or name
        origins["spec.serviceName"] = "service_name"
        claims = []
        for j, row in enumerate(data.get("claims") or []):
            origins[f"spec.volumeClaimTemplates[{j}]"] = f"claims.{j}.size"
            origins[f"spec.volumeClaimTemplates[{j}].metadata.name"] = f"claims.{j}.name"
            claims.append(
                {
                    "metadata": {"name": row["name"]},
                    "spec": _prune(
                        {
                            "accessModes": [row.get("access_mode") or "ReadWriteOnce"],
                            "storageClassName": row.get("storage_class") or None,
                            "resources": {"requests": {"storage": row.get("size") or "1Gi"}},
                        }
                    ),
                }
            )
        if not base:
            _put(spec, "volumeClaimTemplates", claims)
    if kind in ("Job", "CronJob"):
        job = spec if kind == "Job" else dig(spec, ("jobTemplate", "spec"))
        prefix = "spec" if kind == "Job" else "spec.jobTemplate.spec"
        for key, name_ in (
            ("completions", "completions"),
            ("parallelism", "parallelism"),
            ("backoff_limit", "backoffLimit"),
            ("active_deadline_seconds", "activeDeadlineSeconds"),
        ):
            _number(job, name_, data.get(key), origins, key, prefix)
        if kind == "Job" and not base:
            job.pop("selector", None)  # Kubernetes makes a Job's own (its controller-uid)
    if kind == "CronJob":
        spec["schedule"] = data.get("schedule") or ""
        origins["spec.schedule"] = "schedule"
        _put(spec, "timeZone", data.get("time_zone") or None)
        origins["spec.timeZone"] = "time_zone"
        spec["concurrencyPolicy"] = data.get("concurrency_policy") or "Allow"
        origins["spec.concurrencyPolicy"] = "concurrency_policy"
        spec["suspend"] = bool(data.get("suspend"))
        for key, name_ in (
            ("successful_history", "successfulJobsHistoryLimit"),
            ("failed_history", "failedJobsHistoryLimit"),
            ("starting_deadline_seconds", "startingDeadlineSeconds"),
        ):
            _number(spec, name_, data.get(key), origins, key)
        spec["jobTemplate"].setdefault("metadata", {})
        if labels:
            spec["jobTemplate"]["metadata"]["labels"] = labels
    return Built(manifest, origins)


def _number(obj: dict, key: str, value, origins: dict, field_name: str, prefix: str = "spec"):
    number = _int(value)
    if number is None:
        obj.pop(key, None)
    else:
        obj[key] = number
    origins[f"{prefix}.{key}"] = field_name


# --- the other way: a running object as the wizard's data --------------------------


def _probe_data(prefix: str, probe: dict | None) -> dict:
    if not probe:
        return {}
    data: dict = {}
    if "httpGet" in probe:
        data.update(
            {
                f"{prefix}_type": "http",
                f"{prefix}_path": probe["httpGet"].get("path", "/"),
                f"{prefix}_port": str(probe["httpGet"].get("port", "")),
            }
        )
    elif "tcpSocket" in probe:
        data.update(
            {f"{prefix}_type": "tcp", f"{prefix}_port": str(probe["tcpSocket"].get("port", ""))}
        )
    elif "exec" in probe:
        data.update(
            {f"{prefix}_type": "exec", f"{prefix}_command": probe["exec"].get("command") or []}
        )
    for key, name in PROBE_NUMBERS.items():
        if name in probe:
            data[f"{prefix}_{key}"] = probe[name]
    return data


def to_data(manifest: dict) -> dict:
    """The wizard's data for a running object (what an edit form starts from)."""
    kind = manifest.get("kind")
    metadata = manifest.get("metadata") or {}
    spec = manifest.get("spec") or {}
    template = dig(manifest, TEMPLATE_PATH[kind]) or {}
    pod = template.get("spec") or {}
    annotations = {
        k: v
        for k, v in (metadata.get("annotations") or {}).items()
        if "kubernetes.io/" not in k and not k.startswith("kcs.io/")
    }
    data: dict = {
        "kind": kind,
        "name": metadata.get("name", ""),
        "labels": dict(metadata.get("labels") or {}),
        "annotations": annotations,
        "image_pull_secrets": [s.get("name") for s in pod.get("imagePullSecrets") or []],
        "containers": [],
        "ports": [],
        "env": [],
        "env_from": [],
        "volumes": [],
        "mounts": [],
        "affinity": [],
        "tolerations": [],
        "claims": [],
        "node_selector": dict(pod.get("nodeSelector") or {}),
    }
    for c in pod.get("containers") or []:
        resources = c.get("resources") or {}
        row = {
            "name": c.get("name", ""),
            "image": c.get("image", ""),
            "pull_policy": c.get("imagePullPolicy", ""),
            "command": c.get("command") or [],
            "args": c.get("args") or [],
            "working_dir": c.get("workingDir", ""),
        }
        for section in ("requests", "limits"):
            for r in ("cpu", "memory"):
                row[f"{section}_{r}"] = str((resources.get(section) or {}).get(r, ""))
        for probe in PROBES:
            row.update(_probe_data(probe, c.get(f"{probe}Probe")))
        lifecycle = c.get("lifecycle") or {}
        for hook, name in zip(HOOKS, ("postStart", "preStop"), strict=True):
            handler = lifecycle.get(name) or {}
            if "exec" in handler:
                row.update(
                    {
                        f"{hook}_type": "exec",
                        f"{hook}_command": handler["exec"].get("command") or [],
                    }
                )
            elif "httpGet" in handler:
                row.update(
                    {
                        f"{hook}_type": "http",
                        f"{hook}_path": handler["httpGet"].get("path", "/"),
                        f"{hook}_port": str(handler["httpGet"].get("port", "")),
                    }
                )
        data["containers"].append(row)
        owner = c.get("name", "")
        for p in c.get("ports") or []:
            data["ports"].append(
                {
                    "container": owner,
                    "name": p.get("name", ""),
                    "port": p.get("containerPort"),
                    "protocol": p.get("protocol", "TCP"),
                }
            )
        for e in c.get("env") or []:
            ref = e.get("valueFrom") or {}
            if "configMapKeyRef" in ref:
                source, target = "configmap", ref["configMapKeyRef"]
            elif "secretKeyRef" in ref:
                source, target = "secret", ref["secretKeyRef"]
            elif ref:
                continue  # fieldRef / resourceFieldRef: kept only in YAML
            else:
                source, target = "value", {}
            data["env"].append(
                {
                    "container": owner,
                    "name": e.get("name", ""),
                    "source": source,
                    "value": e.get("value", ""),
                    "ref": target.get("name", ""),
                    "key": target.get("key", ""),
                }
            )
        for e in c.get("envFrom") or []:
            source = "secret" if "secretRef" in e else "configmap"
            data["env_from"].append(
                {
                    "container": owner,
                    "source": source,
                    "ref": (e.get("secretRef") or e.get("configMapRef") or {}).get("name", ""),
                    "prefix": e.get("prefix", ""),
                }
            )
        for m in c.get("volumeMounts") or []:
            data["mounts"].append(
                {
                    "container": owner,
                    "volume": m.get("name", ""),
                    "path": m.get("mountPath", ""),
                    "sub_path": m.get("subPath", ""),
                    "read_only": bool(m.get("readOnly")),
                }
            )
    for v in pod.get("volumes") or []:
        if "persistentVolumeClaim" in v:
            row = {"type": "pvc", "ref": v["persistentVolumeClaim"].get("claimName", "")}
            row["read_only"] = bool(v["persistentVolumeClaim"].get("readOnly"))
        elif "configMap" in v:
            row = {"type": "configmap", "ref": v["configMap"].get("name", "")}
        elif "secret" in v:
            row = {"type": "secret", "ref": v["secret"].get("secretName", "")}
        elif "emptyDir" in v:
            empty = v["emptyDir"] or {}
            row = {
                "type": "emptydir",
                "medium": empty.get("medium", ""),
                "size_limit": str(empty.get("sizeLimit", "")),
            }
        else:
            continue
        data["volumes"].append({"name": v.get("name", ""), **row})
    for t in pod.get("tolerations") or []:
        data["tolerations"].append(
            {
                "key": t.get("key", ""),
                "operator": t.get("operator", "Equal"),
                "value": t.get("value", ""),
                "effect": t.get("effect", ""),
                "seconds": t.get("tolerationSeconds"),
            }
        )
    own = spec.get("selector") or {}
    if kind in ("Job", "CronJob"):
        labels = (template.get("metadata") or {}).get("labels") or {}
        own = {"matchLabels": {APP_LABEL: labels.get(APP_LABEL, metadata.get("name", ""))}}
    data.update(_affinity_data(pod.get("affinity") or {}, own))
    if kind in ("Deployment", "StatefulSet"):
        data["replicas"] = spec.get("replicas", 1)
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        strategy = spec.get("strategy") or spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        data.update(
            {
                "strategy": strategy.get("type", "RollingUpdate"),
                "max_surge": _str(rolling.get("maxSurge")),
                "max_unavailable": _str(rolling.get("maxUnavailable")),
                "partition": rolling.get("partition"),
                "min_ready_seconds": spec.get("minReadySeconds"),
                "revision_history_limit": spec.get("revisionHistoryLimit"),
                "progress_deadline_seconds": spec.get("progressDeadlineSeconds"),
            }
        )
        if kind != "Deployment":
            deadline = str((metadata.get("annotations") or {}).get(DEADLINE_ANNOTATION, ""))
            data["progress_deadline_seconds"] = int(deadline) if deadline.isdigit() else None
    if kind == "StatefulSet":
        data["service_name"] = spec.get("serviceName", "")
        for claim in spec.get("volumeClaimTemplates") or []:
            claim_spec = claim.get("spec") or {}
            data["claims"].append(
                {
                    "name": (claim.get("metadata") or {}).get("name", ""),
                    "size": dig(claim_spec, ("resources", "requests", "storage"), ""),
                    "storage_class": claim_spec.get("storageClassName", ""),
                    "access_mode": (claim_spec.get("accessModes") or ["ReadWriteOnce"])[0],
                }
            )
    if kind in ("Job", "CronJob"):
        job = spec if kind == "Job" else dig(spec, ("jobTemplate", "spec"), {})
        data.update(
            {
                "completions": job.get("completions"),
                "parallelism": job.get("parallelism"),
                "backoff_limit": job.get("backoffLimit"),
                "active_deadline_seconds": job.get("activeDeadlineSeconds"),
                "restart_policy": pod.get("restartPolicy", "Never"),
            }
        )
    if kind == "CronJob":
        data.update(
            {
                "schedule": spec.get("schedule", ""),
                "time_zone": spec.get("timeZone", ""),
                "concurrency_policy": spec.get("concurrencyPolicy", "Allow"),
                "suspend": bool(spec.get("suspend")),
                "successful_history": spec.get("successfulJobsHistoryLimit"),
                "failed_history": spec.get("failedJobsHistoryLimit"),
                "starting_deadline_seconds": spec.get("startingDeadlineSeconds"),
            }
        )
    return data


def _str(value) -> str:
    return "" if value is None else str(value)


def _affinity_data(affinity: dict, selector: dict) -> dict:
    """A preset when the affinity is exactly what it makes, else custom rows."""
    own = (selector or {}).get("matchLabels") or {}
    for kind, preset in (("podAntiAffinity", "spread"), ("podAffinity", "pack")):
        terms = (affinity.get(kind) or {}).get("preferredDuringSchedulingIgnoredDuringExecution")
        if (
            set(affinity) == {kind}
            and set(affinity[kind]) == {"preferredDuringSchedulingIgnoredDuringExecution"}
            and len(terms or []) == 1
        ):
            term = terms[0].get("podAffinityTerm") or {}
            topology = {v: k for k, v in TOPOLOGY_KEYS.items()}.get(term.get("topologyKey"))
            if topology and (term.get("labelSelector") or {}).get("matchLabels") == own:
                return {"preset": preset, "topology": topology, "affinity": []}
    rows = []
    node = affinity.get("nodeAffinity") or {}
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for rule in term.get("matchExpressions") or []:
            rows.append({"type": "node", "required": True, **_rule_data(rule)})
    for pref in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        for rule in (pref.get("preference") or {}).get("matchExpressions") or []:
            rows.append(
                {
                    "type": "node",
                    "required": False,
                    "weight": pref.get("weight"),
                    **_rule_data(rule),
                }
            )
    for kind, row_type in (("podAffinity", "pod"), ("podAntiAffinity", "anti")):
        section = affinity.get(kind) or {}
        for term in section.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
            rows.extend(_term_rows(term, row_type, True, None))
        for pref in section.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            rows.extend(
                _term_rows(pref.get("podAffinityTerm") or {}, row_type, False, pref.get("weight"))
            )
    return {"preset": "custom" if rows else "", "topology": "hostname", "affinity": rows}


def _rule_data(rule: dict) -> dict:
    return {
        "key": rule.get("key", ""),
        "operator": rule.get("operator", "In"),
        "values": list(rule.get("values") or []),
    }


def _term_rows(term: dict, row_type: str, required: bool, weight) -> list[dict]:
    topology = {v: k for k, v in TOPOLOGY_KEYS.items()}.get(term.get("topologyKey"), "hostname")
    selector = term.get("labelSelector") or {}
    rules = [
        {"key": k, "operator": "In", "values": [v]}
        for k, v in (selector.get("matchLabels") or {}).items()
    ] + list(selector.get("matchExpressions") or [])
    return [
        {
            "type": row_type,
            "required": required,
            "weight": weight,
            "topology": topology,
            **_rule_data(rule),
        }
        for rule in rules
    ]
