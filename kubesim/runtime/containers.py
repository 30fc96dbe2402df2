"""What a process inside a pod's container sees: its files, its environment, its shell.

The mounted ConfigMaps and Secrets (read again at every command, as the kubelet's volume
sync would: edits show at once), the env with the Services' docker-links variables, and
`kubesim.runtime.shell.Shell` over both. `kubectl exec` (serving.py) and exec probes
(controllers/probes.py) run their commands here.
"""

from __future__ import annotations

from kubesim.runtime.shell import Shell
from kubesim.runtime.volumes import ConfigError, env_for, mounted_files

POD_KEY = ("", "pods")
ROOT_CA = "-----BEGIN CERTIFICATE-----\nMIIkubesim\n-----END CERTIFICATE-----\n"


def _config_objects(cluster, namespace: str) -> tuple[dict, dict]:
    store = cluster.store
    configmaps = {c["metadata"]["name"]: c for c in store.list(("", "configmaps"), namespace)}
    configmaps.setdefault("kube-root-ca.crt", {"data": {"ca.crt": ROOT_CA}})
    secrets = {s["metadata"]["name"]: s for s in store.list(("", "secrets"), namespace)}
    return configmaps, secrets


def make_shell(cluster, pod: dict, container: str) -> Shell:
    meta = pod["metadata"]
    ns = meta["namespace"]
    configmaps, secrets = _config_objects(cluster, ns)
    at_start = mounted_files(pod, container, configmaps, secrets)

    def files():
        # the kubelet's volume sync: the current ConfigMaps and Secrets, every command
        current = cluster.store.get(POD_KEY, ns, meta["name"]) or pod
        cms, secs = _config_objects(cluster, ns)
        return mounted_files(current, container, cms, secs, at_start)

    try:
        env = env_for(pod, container, configmaps, secrets)
    except ConfigError:
        env = {}
    env = {**_service_env(cluster, ns, pod), **env}
    hostname = (pod.get("spec") or {}).get("hostname") or meta["name"]
    node = cluster.store.get(("", "nodes"), "", (pod.get("spec") or {}).get("nodeName") or "")
    arch = ((node or {}).get("status") or {}).get("nodeInfo", {}).get("architecture", "amd64")
    clock = cluster.clock  # the one simulated clock (its simulation's too)
    return Shell(
        pod,
        container,
        files,
        env,
        hostname,
        clock.now,
        "aarch64" if arch == "arm64" else "x86_64",
    )


def _service_env(cluster, namespace: str, pod: dict) -> dict[str, str]:
    """The docker-links style variables the kubelet sets for Services (enableServiceLinks)."""
    out = {}
    services = list(cluster.store.list(("", "services"), namespace))
    kubernetes = cluster.store.get(("", "services"), "default", "kubernetes")
    if kubernetes is not None and namespace != "default":
        services.append(kubernetes)
    links = (pod.get("spec") or {}).get("enableServiceLinks", True)
    for svc in services:
        name = svc["metadata"]["name"]
        if not links and name != "kubernetes":
            continue
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = name.upper().replace("-", "_")
        first = ports[0]
        proto = (first.get("protocol") or "TCP").lower()
        out[f"{prefix}_SERVICE_HOST"] = ip
        out[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
        out[f"{prefix}_PORT"] = f"{proto}://{ip}:{first.get('port')}"
        for port in ports:
            p_proto = port.get("protocol") or "TCP"
            base = f"{prefix}_PORT_{port.get('port')}_{p_proto}"
            out[base] = f"{p_proto.lower()}://{ip}:{port.get('port')}"
            out[f"{base}_PROTO"] = p_proto.lower()
            out[f"{base}_PORT"] = str(port.get("port"))
            out[f"{base}_ADDR"] = ip
            if port.get("name"):
                out[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(
                    port.get("port")
                )
    return out
