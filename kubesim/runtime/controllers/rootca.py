"""The root CA publisher (kube-controller-manager's root-ca-cert-publisher).

Every namespace that is not terminating gets the ConfigMap `kube-root-ca.crt` with the
cluster's CA bundle (`ca.crt`: the CA that signed the API server's certificate, the one
kubeconfigs carry), which pods use to verify the API server at kubernetes.default.svc.
The controller puts it back when it is deleted and restores its data when it is edited,
as the real one does.
"""

from __future__ import annotations

from kubesim.runtime.controllers.base import Context, Controller
from kubesim.storage import errors

NAME = "kube-root-ca.crt"
DESCRIPTION = "kubernetes.io/description"
DESCRIPTION_TEXT = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
MANAGER = "kube-controller-manager"


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"
    component = "root-ca-cert-publisher"
    watches = ("Namespace", "ConfigMap")

    def reconcile(self, ctx: Context) -> None:
        cluster = ctx.cluster
        if not cluster.ca_pem:
            return  # a cluster outside a hub has no CA to publish
        if ctx.resync:
            namespaces = {n["metadata"]["name"] for n in cluster.list("v1", "Namespace")}
        else:
            namespaces = {name for _, name in ctx.changed_names("Namespace")}
            namespaces |= {ns for ns, name in ctx.changed_names("ConfigMap") if name == NAME}
        for namespace in sorted(namespaces):
            self._sync(cluster, namespace)

    def _sync(self, cluster, namespace: str) -> None:
        ns = cluster.store.get(("", "namespaces"), "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        data = {"ca.crt": cluster.ca_pem}
        try:
            current = cluster.get("v1", "ConfigMap", NAME, namespace)
        except errors.ApiError as exc:
            if exc.code != 404:
                raise
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": NAME,
                    "namespace": namespace,
                    "annotations": {DESCRIPTION: DESCRIPTION_TEXT},
                },
                "data": data,
            }
            try:
                cluster.create(body, MANAGER)
            except errors.ApiError as exc:
                if exc.code not in (403, 409):  # the namespace began terminating; raced
                    raise
            return
        annotations = current["metadata"].get("annotations") or {}
        if current.get("data") == data and annotations.get(DESCRIPTION):
            return
        current["data"] = data
        current["metadata"]["annotations"] = {**annotations, DESCRIPTION: DESCRIPTION_TEXT}
        cluster.update(current, MANAGER)


CONTROLLERS = [RootCACertPublisher]
