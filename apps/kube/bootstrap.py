"""Preparing a new cluster for the portal: a default StorageClass, the Application CRD and
its roles."""

from .client import Kube
from .errors import KubeError

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
APPLICATION_CRD = "applications.app.k8s.io"


def ensure_default_storage_class(kube: Kube, provisioner: str) -> str:
    """The name of the cluster's default StorageClass, creating "standard" if it has none."""
    classes = kube.call(kube.storage.list_storage_class).items
    for sc in classes:
        if (sc.metadata.annotations or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            return sc.metadata.name
    body = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": provisioner,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }
    if any(sc.metadata.name == "standard" for sc in classes):
        kube.call(
            kube.storage.patch_storage_class,
            "standard",
            {"metadata": {"annotations": {DEFAULT_CLASS_ANNOTATION: "true"}}},
        )
    else:
        kube.call(kube.storage.create_storage_class, body)
    return "standard"


def application_crd() -> dict:
    """The Application CRD (app.k8s.io/v1beta1) that groups an application's workloads."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": APPLICATION_CRD},
        "spec": {
            "group": "app.k8s.io",
            "scope": "Namespaced",
            "names": {
                "plural": "applications",
                "singular": "application",
                "kind": "Application",
                "shortNames": ["app"],
            },
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def ensure_application_crd(kube: Kube) -> bool:
    """Install the Application CRD if missing; True when it was installed now. (Its roles
    come with the RoleBindings that use them: ``apps.namespaces.access``.)"""
    try:
        kube.call(kube.extensions.read_custom_resource_definition, APPLICATION_CRD, retry=False)
        return False
    except KubeError as exc:
        if not exc.not_found:
            raise
    kube.call(kube.extensions.create_custom_resource_definition, application_crd())
    return True


# As a CRD's installer does: ClusterRoles aggregated into the default admin, edit and view
# roles, so that whoever may edit (view) a namespace may do so with its Applications too.
APPLICATION_ROLES = {
    "kcs:applications:edit": (
        ("admin", "edit"),
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    ),
    "kcs:applications:view": (("admin", "edit", "view"), ["get", "list", "watch"]),
}
PORTAL_LABEL = {"app.kubernetes.io/managed-by": "kcs-portal"}


def application_roles() -> list[dict]:
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": name,
                "labels": {
                    **PORTAL_LABEL,
                    **{f"rbac.authorization.k8s.io/aggregate-to-{r}": "true" for r in roles},
                },
            },
            "rules": [
                {
                    "apiGroups": ["app.k8s.io"],
                    "resources": ["applications", "applications/status"],
                    "verbs": verbs,
                }
            ],
        }
        for name, (roles, verbs) in APPLICATION_ROLES.items()
    ]


def ensure_application_roles(kube: Kube) -> int:
    """Create the Application ClusterRoles that are missing (one list when none is)."""
    have = {
        role.metadata.name
        for role in kube.call(
            kube.rbac.list_cluster_role, label_selector="app.kubernetes.io/managed-by=kcs-portal"
        ).items
    }
    missing = [role for role in application_roles() if role["metadata"]["name"] not in have]
    for role in missing:
        try:
            kube.call(kube.rbac.create_cluster_role, role)  # a 409 after a retry: it is there
        except KubeError as exc:
            if exc.status != 409:
                raise
    return len(missing)
