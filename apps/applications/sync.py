"""Applications mirrored from every cluster; their status follows their workloads."""

from apps.kube.mirror import Mirror, register
from apps.kube.signals import mirrored
from apps.workloads.models import Workload

from . import rollup
from .models import Application


def application_summary(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    descriptor = spec.get("descriptor") or {}
    return {
        "description": str(descriptor.get("description") or "")[:5000],
        "version": str(descriptor.get("version") or "")[:100],
        "selector": dict((spec.get("selector") or {}).get("matchLabels") or {}),
        "component_kinds": list(spec.get("componentKinds") or []),
    }


def _follow(sender, cluster, namespaces, **kwargs) -> None:
    """Workloads or applications changed in these namespaces: roll the statuses up again."""
    if sender in (Workload, Application) and namespaces:
        rollup.refresh(cluster, namespaces)


APPLICATIONS = register(
    Mirror(
        Application,
        "app.k8s.io/v1beta1",
        "Application",
        summary=application_summary,
        order=260,
        optional=True,  # clusters imported without the portal's preparation lack the CRD
    )
)
mirrored.connect(_follow, dispatch_uid="applications.follow")
