"""The log shipper a prepared cluster runs: fluent-bit as a DaemonSet, configured here.

fluent-bit tails every container's log on its node, adds the pod's Kubernetes metadata
(its ``kubernetes`` filter) and sends batches to the portal's ingest endpoint with its
``http`` output (JSON, ``date`` as epoch seconds), authenticated by the cluster's ingest
token, which it reads from a Secret as an environment variable. What is applied is what
a real cluster would run; kubesim emulates the DaemonSet from the same objects.
"""

import hashlib
from urllib.parse import urlsplit

from apps.kube.client import Kube
from apps.kube.errors import KubeError

NAMESPACE = "kube-system"
NAME = "fluent-bit"
IMAGE = "cr.fluentbit.io/fluent/fluent-bit:3.2.2"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "kcs-portal"}
TOKEN_ENV = "KCS_INGEST_TOKEN"  # noqa: S105 (the variable's name)


def config(endpoint: str) -> str:
    """fluent-bit.conf for shipping to ``endpoint`` (the portal's ingest URL)."""
    url = urlsplit(endpoint)
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    return f"""[SERVICE]
    Flush         2
    Log_Level     info
    Parsers_File  parsers.conf
    HTTP_Server   On
    HTTP_Port     2020

[INPUT]
    Name              tail
    Tag               kube.*
    Path              /var/log/containers/*.log
    multiline.parser  cri, docker
    DB                /var/fluent-bit/state/tail.db
    Mem_Buf_Limit     16MB
    Skip_Long_Lines   On
    Refresh_Interval  5

[FILTER]
    Name                kubernetes
    Match               kube.*
    Merge_Log           Off
    Keep_Log            On
    Labels              On
    Annotations         Off

[OUTPUT]
    Name              http
    Match             kube.*
    Host              {url.hostname}
    Port              {port}
    URI               {url.path or "/"}
    Format            json
    Json_date_key     date
    Json_date_format  double
    Header            Authorization Bearer ${{{TOKEN_ENV}}}
    Compress          gzip
    tls               {"On" if tls else "Off"}
    Retry_Limit       5
"""


PARSERS = """[PARSER]
    Name        cri
    Format      regex
    Regex       ^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%L%z
"""


def manifests(endpoint: str, token: str) -> list[dict]:
    meta = {"name": NAME, "namespace": NAMESPACE, "labels": LABELS}
    # fluent-bit reads its token at start: a new token (or endpoint) rolls the pods.
    stamp = hashlib.sha256(f"{endpoint} {token}".encode()).hexdigest()[:16]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": NAME, "labels": LABELS},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["namespaces", "pods"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME, "labels": LABELS},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {**meta, "name": f"{NAME}-ingest"},
            "type": "Opaque",
            "stringData": {"token": token},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {"fluent-bit.conf": config(endpoint), "parsers.conf": PARSERS},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta,
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                "template": {
                    "metadata": {"labels": LABELS, "annotations": {"kcs.io/config": stamp}},
                    "spec": {
                        "serviceAccountName": NAME,
                        "tolerations": [{"operator": "Exists"}],
                        "containers": [
                            {
                                "name": NAME,
                                "image": IMAGE,
                                "env": [
                                    {
                                        "name": TOKEN_ENV,
                                        "valueFrom": {
                                            "secretKeyRef": {
                                                "name": f"{NAME}-ingest",
                                                "key": "token",
                                            }
                                        },
                                    }
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"memory": "128Mi"},
                                },
                                "volumeMounts": [
                                    {"name": "config", "mountPath": "/fluent-bit/etc/"},
                                    {"name": "varlog", "mountPath": "/var/log", "readOnly": True},
                                    {"name": "state", "mountPath": "/var/fluent-bit/state"},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "config", "configMap": {"name": NAME}},
                            {"name": "varlog", "hostPath": {"path": "/var/log"}},
                            {
                                "name": "state",
                                "hostPath": {
                                    "path": "/var/fluent-bit/state",
                                    "type": "DirectoryOrCreate",
                                },
                            },
                        ],
                    },
                },
            },
        },
    ]


def _api(kube: Kube, kind: str):
    """(create, patch) for a kind, namespaced or not."""
    core, apps, rbac = kube.core, kube.apps, _rbac(kube)
    return {
        "ServiceAccount": (
            core.create_namespaced_service_account,
            core.patch_namespaced_service_account,
        ),
        "Secret": (core.create_namespaced_secret, core.patch_namespaced_secret),
        "ConfigMap": (core.create_namespaced_config_map, core.patch_namespaced_config_map),
        "DaemonSet": (apps.create_namespaced_daemon_set, apps.patch_namespaced_daemon_set),
        "ClusterRole": (rbac.create_cluster_role, rbac.patch_cluster_role),
        "ClusterRoleBinding": (rbac.create_cluster_role_binding, rbac.patch_cluster_role_binding),
    }[kind]


def _rbac(kube: Kube):
    from kubernetes import client as k8s

    return k8s.RbacAuthorizationV1Api(kube.api_client)


def apply(kube: Kube, endpoint: str, token: str) -> None:
    """Create the shipper's objects, or bring them up to date (a new token, endpoint)."""
    for manifest in manifests(endpoint, token):
        create, patch = _api(kube, manifest["kind"])
        namespaced = "namespace" in manifest["metadata"]
        args = (NAMESPACE,) if namespaced else ()
        try:
            kube.call(create, *args, manifest)
        except KubeError as exc:
            if exc.status != 409:
                raise
            name = manifest["metadata"]["name"]
            kube.call(patch, name, *args, manifest)


def remove(kube: Kube) -> None:
    """Take the shipper's DaemonSet and token off the cluster."""
    for fn, name in (
        (kube.apps.delete_namespaced_daemon_set, NAME),
        (kube.core.delete_namespaced_secret, f"{NAME}-ingest"),
    ):
        try:
            kube.call(fn, name, NAMESPACE)
        except KubeError as exc:
            if not exc.not_found:
                raise
