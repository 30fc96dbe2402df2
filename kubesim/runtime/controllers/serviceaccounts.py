"""The serviceaccounts-controller of kube-controller-manager: every active namespace has a
ServiceAccount named `default` (pods without `serviceAccountName` run as it); one that is
deleted is created again. Namespaces being deleted are left alone."""

from __future__ import annotations

from kubesim.runtime.controllers.base import Controller
from kubesim.storage import errors

SA_KEY = ("", "serviceaccounts")


class ServiceAccountsController(Controller):
    name = "serviceaccount"
    component = "serviceaccount-controller"
    watches = ("Namespace", "ServiceAccount")

    def reconcile(self, ctx) -> None:
        cluster = ctx.cluster
        if ctx.resync or ctx.timer:
            names = {ns["metadata"]["name"] for ns in cluster.list("v1", "Namespace")}
        else:
            names = {
                e.obj["metadata"]["name"] if e.key == ("", "namespaces") else e.namespace
                for e in ctx.changed("Namespace", "ServiceAccount")
            }
        for name in sorted(names):
            namespace = cluster.store.get(("", "namespaces"), "", name)
            if namespace is None or namespace["metadata"].get("deletionTimestamp"):
                continue
            if (namespace.get("status") or {}).get("phase") == "Terminating":
                continue
            if cluster.store.get(SA_KEY, name, "default") is None:
                sa = {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": name},
                }
                try:
                    cluster.create(sa, "kube-controller-manager")
                except errors.ApiError:
                    continue  # created meanwhile, or the namespace began terminating


CONTROLLERS = [ServiceAccountsController]
