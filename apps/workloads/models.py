"""Workloads and their pods, mirrored from Kubernetes.

A ``Workload`` is one Deployment, StatefulSet, DaemonSet, Job or CronJob: its
kind is part of its key (a Deployment and a Job may share a name). Pods are
what the informer mirrors most of (tens of thousands per cluster): the row keeps
the summary a pod list shows and filters on, as ``kubectl get pods`` prints it,
and the workload it belongs to, found through its owner references.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import InNamespace
from apps.kube.models import KubeObject


class Workload(KubeObject):
    class Kind(models.TextChoices):
        DEPLOYMENT = "Deployment", _("Deployment")
        STATEFULSET = "StatefulSet", _("StatefulSet")
        DAEMONSET = "DaemonSet", _("DaemonSet")
        JOB = "Job", _("Job")
        CRONJOB = "CronJob", _("CronJob")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        UPDATING = "updating", _("Updating")
        STOPPED = "stopped", _("Stopped")
        DEGRADED = "degraded", _("Degraded")
        FAILED = "failed", _("Failed")
        COMPLETED = "completed", _("Completed")
        SUSPENDED = "suspended", _("Suspended")

    # The apiVersion of each kind.
    API_VERSIONS = {
        Kind.DEPLOYMENT: "apps/v1",
        Kind.STATEFULSET: "apps/v1",
        Kind.DAEMONSET: "apps/v1",
        Kind.JOB: "batch/v1",
        Kind.CRONJOB: "batch/v1",
    }
    SCALABLE = (Kind.DEPLOYMENT, Kind.STATEFULSET)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    images = models.JSONField(_("images"), default=list, blank=True)
    # Pods: asked for (replicas, a DaemonSet's scheduled nodes, a Job's completions), and
    # how many are ready, available and up to date with the current template.
    desired = models.PositiveIntegerField(_("desired"), null=True, blank=True)
    ready = models.PositiveIntegerField(_("ready"), default=0)
    available = models.PositiveIntegerField(_("available"), default=0)
    updated = models.PositiveIntegerField(_("up to date"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    revision = models.CharField(_("revision"), max_length=64, blank=True)
    # The pods' labels the workload selects (its selector's matchLabels).
    selector = models.JSONField(_("selector"), default=dict, blank=True)
    # What owns it: a Job a CronJob made names the CronJob here.
    owner_kind = models.CharField(_("owner kind"), max_length=64, blank=True)
    owner_name = models.CharField(_("owner"), max_length=253, blank=True)
    schedule = models.CharField(_("schedule"), max_length=100, blank=True)
    # A StatefulSet's or DaemonSet's rollout under way is stuck from then on (the cluster's
    # clock; its kcs.io/progress-deadline-seconds after its last change): status.py.
    progress_deadline = models.DateTimeField(_("progress deadline"), null=True, blank=True)
    # The application whose selector matches it, kept by apps.applications' rollup.
    application_name = models.CharField(_("application"), max_length=253, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("workload")
        verbose_name_plural = _("workloads")
        ordering = ["cluster_id", "namespace_name", "kind", "name"]
        indexes = [
            # The list sorted by age, paged by cursor (the default order is the unique
            # index's).
            models.Index(fields=["created", "id"], name="workloads_workload_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace_name", "kind", "name"],
                name="workloads_workload_unique",
            )
        ]

    def get_absolute_url(self):
        return reverse("portal:workload", args=[self.pk])

    @property
    def api_version(self) -> str:
        return self.API_VERSIONS[self.kind]

    @property
    def scalable(self) -> bool:
        return self.kind in self.SCALABLE

    def pods(self):
        """The workload's pods (a CronJob's are those of its Jobs), one query."""
        pods = Pod.objects.for_list().filter(
            cluster_id=self.cluster_id, namespace_name=self.namespace_name
        )
        if self.kind == self.Kind.CRONJOB:
            jobs = Workload.objects.filter(
                cluster_id=self.cluster_id,
                namespace_name=self.namespace_name,
                kind=self.Kind.JOB,
                owner_kind=self.Kind.CRONJOB,
                owner_name=self.name,
            ).values("name")
            return pods.filter(workload_kind=self.Kind.JOB, workload_name__in=jobs)
        return pods.filter(workload_kind=self.kind, workload_name=self.name)

    @property
    def replicas_display(self) -> str:
        if self.desired is None:
            return "—"
        return f"{self.ready}/{self.desired}"


class Pod(KubeObject):
    phase = models.CharField(_("phase"), max_length=16, blank=True)
    # What kubectl prints in STATUS: Running, ContainerCreating, CrashLoopBackOff, ...
    status = models.CharField(_("status"), max_length=64, blank=True)
    ready = models.BooleanField(_("ready"), default=False)
    ready_containers = models.PositiveSmallIntegerField(_("ready containers"), default=0)
    container_count = models.PositiveSmallIntegerField(_("containers"), default=0)
    restarts = models.PositiveIntegerField(_("restarts"), default=0)
    node_name = models.CharField(_("node"), max_length=253, blank=True)
    # The controller that owns the pod (a ReplicaSet, a Job, a StatefulSet, ...) and the
    # workload it belongs to (a ReplicaSet's Deployment; the Job itself, ...).
    owner_kind = models.CharField(_("owner kind"), max_length=64, blank=True)
    owner_name = models.CharField(_("owner"), max_length=253, blank=True)
    workload_kind = models.CharField(_("workload kind"), max_length=16, blank=True)
    workload_name = models.CharField(_("workload"), max_length=253, blank=True)
    pod_ip = models.CharField(_("pod IP"), max_length=64, blank=True)
    host_ip = models.CharField(_("host IP"), max_length=64, blank=True)
    # One entry per container (init containers first): name, image, state, reason, ...
    containers = models.JSONField(_("containers"), default=list, blank=True)
    # What the pod asks its node for, as the scheduler counts it (the larger of the
    # containers' sum and the largest init container): millicores and bytes.
    cpu_request = models.BigIntegerField(_("CPU request (millicores)"), default=0)
    memory_request = models.BigIntegerField(_("memory request (bytes)"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("pod")
        verbose_name_plural = _("pods")
        indexes = [
            models.Index(fields=["cluster", "node_name"], name="workloads_pod_node"),
            models.Index(
                fields=["cluster", "namespace_name", "workload_kind", "workload_name"],
                name="workloads_pod_workload",
            ),
            # The list's status filter (CrashLoopBackOff, Pending, ...) within a namespace,
            # in the list's order (by name), without reading the namespace's every pod.
            models.Index(
                fields=["cluster", "namespace_name", "status", "name"], name="workloads_pod_status"
            ),
            # The list sorted by age or restarts, paged by cursor: read in the index's order
            # (as the default order is the unique index's), the page's rows found by it.
            models.Index(fields=["created", "id"], name="workloads_pod_created"),
            models.Index(fields=["restarts", "id"], name="workloads_pod_restarts"),
        ]

    def get_absolute_url(self):
        return reverse("portal:pod", args=[self.pk])

    @property
    def ready_display(self) -> str:
        return f"{self.ready_containers}/{self.container_count}"

    @property
    def last_termination(self) -> str:
        """Why a container's previous run ended, when it did not simply complete
        (OOMKilled, Error, ...): what explains its restarts."""
        for container in self.containers or []:
            reason = container.get("last_reason") or ""
            if reason and reason != "Completed":
                return reason
        return ""


class HorizontalPodAutoscaler(KubeObject):
    """An autoscaling/v2 HorizontalPodAutoscaler: its target, bounds, utilisation targets
    and what the controller last reported (its metrics, desired replicas, conditions)."""

    target_kind = models.CharField(_("target kind"), max_length=64, blank=True)
    target_name = models.CharField(_("target"), max_length=253, blank=True)
    min_replicas = models.PositiveIntegerField(_("minimum replicas"), default=1)
    max_replicas = models.PositiveIntegerField(_("maximum replicas"), default=1)
    # Target average utilisation of the pods' requests, in percent (None: not a target).
    cpu_target = models.PositiveIntegerField(_("CPU target %"), null=True, blank=True)
    memory_target = models.PositiveIntegerField(_("memory target %"), null=True, blank=True)
    cpu_current = models.PositiveIntegerField(_("CPU %"), null=True, blank=True)
    memory_current = models.PositiveIntegerField(_("memory %"), null=True, blank=True)
    current_replicas = models.PositiveIntegerField(_("current replicas"), null=True, blank=True)
    desired_replicas = models.PositiveIntegerField(_("desired replicas"), null=True, blank=True)
    last_scale_time = models.DateTimeField(_("last scaled"), null=True, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("horizontal pod autoscaler")
        verbose_name_plural = _("horizontal pod autoscalers")
        indexes = [
            models.Index(
                fields=["cluster", "namespace_name", "target_kind", "target_name"],
                name="workloads_hpa_target",
            )
        ]

    @property
    def conditions(self) -> list[dict]:
        return (self.manifest.get("status") or {}).get("conditions") or []

    @property
    def behavior(self) -> dict:
        return (self.manifest.get("spec") or {}).get("behavior") or {}


ACTIONS = {"view": InNamespace(), "change": InNamespace(), "delete": InNamespace()}
authz.register(Workload, namespace="namespace", actions=ACTIONS)
authz.register(HorizontalPodAutoscaler, namespace="namespace", actions=ACTIONS)
authz.register(
    Pod,
    namespace="namespace",
    actions={
        "view": InNamespace(),
        "delete": InNamespace(),
        "logs": InNamespace(),
        "exec": InNamespace(),
    },
)
