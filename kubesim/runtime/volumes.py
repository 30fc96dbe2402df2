"""What a container sees of its pod's ConfigMaps and Secrets: mounted files and env.

`mounted_files` lays out volumes the way the kubelet's atomic writer does: each key is
a symlink `<mountPath>/<path> -> ..data/<path>` to a file with the volume's mode, and
a subPath mount is a plain file. Call it again after a ConfigMap changes to see the new
content (the kubelet's sync); subPath mounts keep the content they had at container
start (pass `at_start`), as on a real node.

`env_for` resolves env and envFrom as the kubelet does before starting a container;
a missing non-optional reference raises `ConfigError` with the kubelet's message (the
container then waits with reason CreateContainerConfigError).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re

from kubesim.storage.quantity import parse_quantity

DEFAULT_MODE = 0o644
# The volume kinds whose content comes from API objects; always mounted read-only.
API_VOLUMES = ("configMap", "secret", "projected", "downwardAPI")


class ConfigError(Exception):
    """A referenced ConfigMap/Secret or key is missing (CreateContainerConfigError)."""


class File(bytes):
    """File content with the metadata `ls -l` shows.

    mode: permission bits; link: symlink target as written (None for a plain file);
    directory: an empty directory entry (content is b""); read_only: on a read-only mount.
    """

    mode: int = DEFAULT_MODE
    link: str | None = None
    directory: bool = False
    read_only: bool = False

    def __new__(
        cls, content: bytes = b"", mode=DEFAULT_MODE, link=None, directory=False, read_only=False
    ):
        obj = super().__new__(cls, content)
        obj.mode, obj.link, obj.directory, obj.read_only = mode, link, directory, read_only
        return obj


def _b64(value: str) -> bytes:
    return base64.b64decode(value or "")


def configmap_data(cm: dict) -> dict[str, bytes]:
    data = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
    data.update({k: _b64(v) for k, v in (cm.get("binaryData") or {}).items()})
    return data


def secret_data(secret: dict) -> dict[str, bytes]:
    data = {k: _b64(v) for k, v in (secret.get("data") or {}).items()}
    # stringData is write-only in the API; honour it in case the object was not normalised.
    data.update({k: v.encode() for k, v in (secret.get("stringData") or {}).items()})
    return data


# ---------------------------------------------------------------- field references


def field_value(pod: dict, path: str) -> str:
    """Downward API fieldRef values."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return (meta.get(match[1]) or {}).get(match[2], "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
        "status.podIPs": ",".join(ip.get("ip", "") for ip in status.get("podIPs") or []),
        "status.hostIPs": ",".join(ip.get("ip", "") for ip in status.get("hostIPs") or []),
    }
    return simple.get(path) or ""


def resource_value(pod: dict, container_name: str, ref: dict) -> str:
    """resourceFieldRef: limits/requests in units of `divisor`, rounded up like the kubelet."""
    container = _container(pod, ref.get("containerName") or container_name) or {}
    kind, _, resource = ref.get("resource", "").partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(resource)
    if value is None:
        return "0"
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    return str(math.ceil(parse_quantity(str(value)) / divisor))


def _container(pod: dict, name: str) -> dict | None:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return None


# ---------------------------------------------------------------- environment


def env_for(pod: dict, container: str, configmaps: dict, secrets: dict) -> dict[str, str]:
    """The container's environment from envFrom then env, with $(VAR) expansion."""
    spec = _container(pod, container) or {}
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    env: dict[str, str] = {}
    for source in spec.get("envFrom") or []:
        prefix = source.get("prefix", "")
        data = _env_source(source, ns, configmaps, secrets)
        env.update({prefix + k: v.decode(errors="replace") for k, v in data.items()})
    for var in spec.get("env") or []:
        if "valueFrom" in var:
            value = _value_from(pod, container, var["valueFrom"], ns, configmaps, secrets)
            if value is None:
                continue
        else:
            value = expand(var.get("value", ""), env)
        env[var["name"]] = value
    return env


def _env_source(source: dict, ns: str, configmaps: dict, secrets: dict) -> dict[str, bytes]:
    if "configMapRef" in source:
        ref = source["configMapRef"]
        obj = configmaps.get(ref.get("name"))
        if obj is None:
            _missing(ref, f'configmap "{ref.get("name")}" not found')
            return {}
        return configmap_data(obj)
    ref = source.get("secretRef") or {}
    obj = secrets.get(ref.get("name"))
    if obj is None:
        _missing(ref, f'secret "{ref.get("name")}" not found')
        return {}
    return secret_data(obj)


def _value_from(pod, container, source, ns, configmaps, secrets) -> str | None:
    if "fieldRef" in source:
        return field_value(pod, source["fieldRef"].get("fieldPath", ""))
    if "resourceFieldRef" in source:
        return resource_value(pod, container, source["resourceFieldRef"])
    for ref_name, objects, kind, decode in (
        ("configMapKeyRef", configmaps, "ConfigMap", configmap_data),
        ("secretKeyRef", secrets, "Secret", secret_data),
    ):
        if ref_name in source:
            ref = source[ref_name]
            name, key = ref.get("name"), ref.get("key")
            obj = objects.get(name)
            if obj is None:
                return _missing(ref, f'{kind.lower()} "{name}" not found')
            data = decode(obj)
            if key not in data:
                return _missing(ref, f"couldn't find key {key} in {kind} {ns}/{name}")
            return data[key].decode(errors="replace")
    return None


def _missing(ref: dict, message: str) -> None:
    if not ref.get("optional"):
        raise ConfigError(message)


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes $(VAR) expansion: $$ escapes, unknown references stay as written."""

    def sub(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        return env.get(match[1], match[0])

    return re.sub(r"\$\$|\$\(([^)]*)\)", sub, value)


# ---------------------------------------------------------------- volumes


def mounted_files(
    pod: dict,
    container: str,
    configmaps: dict,
    secrets: dict,
    at_start: dict | None = None,
) -> dict[str, File]:
    """Absolute path -> File for every volume mount of `container`.

    Directories of non-API volumes (emptyDir, PVCs ...) appear as empty directories.
    at_start: an earlier result (from container start) whose subPath files are kept.
    """
    spec = _container(pod, container) or {}
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    files: dict[str, File] = {}
    for mount in spec.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        root = mount.get("mountPath", "").rstrip("/") or "/"
        api = any(kind in volume for kind in API_VOLUMES)
        read_only = bool(mount.get("readOnly")) or api
        content = volume_content(pod, volume, configmaps, secrets) if api else {}
        sub = mount.get("subPath", "").strip("/")
        if sub:
            _mount_sub_path(files, root, sub, content, read_only, at_start)
            continue
        files[root] = File(directory=True, read_only=read_only)
        if api:
            files[f"{root}/..data"] = File(directory=True, mode=0o755, read_only=True)
        for rel, data in content.items():
            top = rel.split("/")[0]
            files[f"{root}/{top}"] = (
                File(link=f"..data/{top}", mode=0o777, directory=True, read_only=True)
                if "/" in rel
                else File(data, mode=0o777, link=f"..data/{rel}", read_only=True)
            )
            files[f"{root}/..data/{rel}"] = File(data, mode=data.mode, read_only=True)
    return files


def _mount_sub_path(files, root, sub, content, read_only, at_start) -> None:
    if at_start is not None and root in at_start:
        # subPath mounts are bind mounts of the file at container start: never refreshed.
        for path, data in at_start.items():
            if path == root or path.startswith(root + "/"):
                files[path] = data
        return
    if sub in content:
        data = content[sub]
        files[root] = File(data, mode=data.mode, read_only=read_only)
        return
    files[root] = File(directory=True, read_only=read_only)
    for rel, data in content.items():
        if rel.startswith(sub + "/"):
            files[f"{root}/{rel[len(sub) + 1 :]}"] = File(data, mode=data.mode, read_only=read_only)


def volume_content(pod: dict, volume: dict, configmaps: dict, secrets: dict) -> dict[str, File]:
    """Relative path -> File for one API-backed volume (configMap, secret, projected ...)."""
    if "projected" in volume:
        projected = volume["projected"]
        mode = projected.get("defaultMode", DEFAULT_MODE)
        out: dict[str, File] = {}
        for source in projected.get("sources") or []:
            out.update(_source_content(pod, source, configmaps, secrets, mode))
        return out
    kind = next(k for k in API_VOLUMES if k in volume)
    source = volume[kind]
    return _source_content(
        pod, {kind: source}, configmaps, secrets, source.get("defaultMode", DEFAULT_MODE)
    )


def _source_content(pod, source, configmaps, secrets, mode) -> dict[str, File]:
    if "configMap" in source:
        ref = source["configMap"]
        obj = configmaps.get(ref.get("name"))
        return _items(ref, configmap_data(obj) if obj else {}, mode)
    if "secret" in source:
        ref = source["secret"]
        obj = secrets.get(ref.get("secretName") or ref.get("name"))
        return _items(ref, secret_data(obj) if obj else {}, mode)
    if "downwardAPI" in source:
        out = {}
        for item in source["downwardAPI"].get("items") or []:
            if "fieldRef" in item:
                value = field_value(pod, item["fieldRef"].get("fieldPath", ""))
            else:
                ref = item.get("resourceFieldRef") or {}
                value = resource_value(pod, ref.get("containerName", ""), ref)
            out[item["path"]] = File(value.encode(), mode=item.get("mode", mode))
        return out
    if "serviceAccountToken" in source:
        token = source["serviceAccountToken"]
        return {token.get("path", "token"): File(service_account_token(pod), mode=mode)}
    return {}


def _items(ref: dict, data: dict[str, bytes], mode: int) -> dict[str, File]:
    items = ref.get("items")
    if not items:
        return {k: File(v, mode=mode) for k, v in data.items()}
    return {
        item["path"]: File(data[item["key"]], mode=item.get("mode", mode))
        for item in items
        if item.get("key") in data
    }


def missing_sources(pod: dict, configmaps: dict, secrets: dict) -> list[str]:
    """FailedMount event messages for volumes whose non-optional object is missing."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        sources = (volume.get("projected") or {}).get("sources") or [volume]
        for source in sources:
            for kind, objects, field in (
                ("configMap", configmaps, "name"),
                ("secret", secrets, "secretName"),
            ):
                ref = source.get(kind)
                if ref is None or ref.get("optional"):
                    continue
                name = ref.get(field) or ref.get("name")
                if name not in objects:
                    out.append(
                        f'MountVolume.SetUp failed for volume "{volume.get("name")}" : '
                        f'{kind.lower()} "{name}" not found'
                    )
    return out


def service_account_token(pod: dict) -> bytes:
    """A stable token-shaped string; kubesim does not sign tokens."""
    uid = (pod.get("metadata") or {}).get("uid", "")
    digest = hashlib.sha256(f"token/{uid}".encode()).digest()
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"kubesim"}').rstrip(b"=")
    claims = base64.urlsafe_b64encode(f'{{"sub":"pod:{uid}"}}'.encode()).rstrip(b"=")
    return header + b"." + claims + b"." + base64.urlsafe_b64encode(digest).rstrip(b"=")
