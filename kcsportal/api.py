"""The REST API's routes: each app contributes its viewsets here."""

from rest_framework.routers import DefaultRouter

from apps.applications.api import ApplicationViewSet, ImportViewSet
from apps.clusters.api import ClusterViewSet, NodeViewSet
from apps.configs.api import ConfigMapViewSet, SecretViewSet
from apps.core.api.views import ApiTokenViewSet, AuditEventViewSet, OperationViewSet
from apps.events.api import EventViewSet
from apps.logs.api import LogViewSet
from apps.namespaces.api import NamespaceViewSet
from apps.networking.api import IngressViewSet, ServiceViewSet
from apps.storage.api import (
    PersistentVolumeClaimViewSet,
    PersistentVolumeViewSet,
    StorageClassViewSet,
)
from apps.tenancy.api import (
    DepartmentAdminViewSet,
    DepartmentViewSet,
    MembershipViewSet,
    ProjectViewSet,
)
from apps.workloads.api import AutoscalerViewSet, PodViewSet, WorkloadViewSet

router = DefaultRouter()
router.register("departments", DepartmentViewSet)
router.register("projects", ProjectViewSet)
router.register("memberships", MembershipViewSet)
router.register("department-admins", DepartmentAdminViewSet)
router.register("clusters", ClusterViewSet)
router.register("nodes", NodeViewSet)
router.register("namespaces", NamespaceViewSet)
router.register("storageclasses", StorageClassViewSet)
router.register("persistentvolumes", PersistentVolumeViewSet)
router.register("persistentvolumeclaims", PersistentVolumeClaimViewSet)
router.register("operations", OperationViewSet)
router.register("audit-events", AuditEventViewSet)
router.register("tokens", ApiTokenViewSet)
router.register("configmaps", ConfigMapViewSet)
router.register("secrets", SecretViewSet)
router.register("workloads", WorkloadViewSet)
router.register("pods", PodViewSet)
router.register("applications", ApplicationViewSet)
router.register("application-imports", ImportViewSet)
router.register("autoscalers", AutoscalerViewSet)
router.register("services", ServiceViewSet)
router.register("ingresses", IngressViewSet)
router.register("logs", LogViewSet, basename="log")
router.register("events", EventViewSet)
