from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import Perm, RestrictedQuerySet
from apps.core.fields import EncryptedTextField
from apps.kube.models import KubeObject
from apps.tenancy.models import dns_label


class Cluster(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROVISIONING = "provisioning", _("Provisioning")
        RUNNING = "running", _("Running")
        SCALING = "scaling", _("Scaling")
        DEGRADED = "degraded", _("Degraded")
        ERROR = "error", _("Error")
        DELETING = "deleting", _("Deleting")
        DELETED = "deleted", _("Deleted")

    # Statuses in which a long operation holds the cluster.
    BUSY = (Status.PROVISIONING, Status.SCALING, Status.DELETING)

    name = models.CharField(_("name"), max_length=63, validators=[dns_label])
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    provider = models.CharField(_("provider"), max_length=32)
    version = models.CharField(_("Kubernetes version"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    status_message = models.TextField(_("status message"), blank=True)
    control_plane_nodes = models.PositiveSmallIntegerField(_("control-plane nodes"), default=1)
    zones = models.JSONField(_("availability zones"), default=list, blank=True)
    architectures = models.JSONField(_("CPU architectures"), default=list, blank=True)
    spec = models.JSONField(
        _("provisioning spec"), default=dict, blank=True, help_text=_("What was asked for.")
    )
    api_server = models.CharField(_("API server"), max_length=255, blank=True)
    kubeconfig = EncryptedTextField(_("kubeconfig"), blank=True, editable=False)
    kubeconfig_context = models.CharField(max_length=255, blank=True, editable=False)
    # Monitoring: charts come from this Prometheus when set (apps/monitoring), else the sampler.
    prometheus_url = models.URLField(_("Prometheus URL"), max_length=500, blank=True)
    prometheus_username = models.CharField(_("Prometheus user"), max_length=150, blank=True)
    # the basic-auth password, or a bearer token when there is no user; never shown back
    prometheus_secret = EncryptedTextField(_("Prometheus password or token"), blank=True)
    provision_step = models.CharField(
        max_length=32, blank=True, editable=False, help_text="The last provisioning step done."
    )
    project = models.ForeignKey(
        "tenancy.Project",
        on_delete=models.PROTECT,
        related_name="clusters",
        verbose_name=_("owning project"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_sync = models.DateTimeField(_("last sync"), null=True, blank=True)
    # How far the cluster's clock is ahead of the portal's, in seconds, as last read
    # (apps.kube.clock): lists judge rollout deadlines by it without asking the cluster.
    clock_offset = models.FloatField(_("clock offset (s)"), default=0, editable=False)
    nodes_ready = models.PositiveIntegerField(_("ready nodes"), default=0)
    nodes_total = models.PositiveIntegerField(_("nodes"), default=0)
    # Totals over the nodes, kept as they change: {"cpu": {"capacity": "12", ...}, ...}.
    resources = models.JSONField(_("resources"), default=dict, blank=True)
    last_health_check = models.DateTimeField(_("last health check"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        constraints = [
            # A deleted cluster is kept for the record; its name may be used again.
            models.UniqueConstraint(
                fields=["name"],
                condition=~Q(status="deleted"),
                name="clusters_cluster_unique_live_name",
            )
        ]

    def __str__(self):
        return self.display_name or self.name

    def get_absolute_url(self):
        return reverse("portal:cluster", args=[self.pk])

    def kube(self, **options):
        """The cluster's API; inside a tenant's action it impersonates them
        (``apps.kube.identity``), otherwise it is the kubeconfig's own identity."""
        from apps.kube import identity
        from apps.kube.client import Kube

        if not self.kubeconfig:
            from apps.kube.errors import NotConfigured

            raise NotConfigured(_("The cluster has no kubeconfig yet."))
        options.setdefault("impersonate", identity.current())
        return Kube.for_kubeconfig(self.kubeconfig, self.kubeconfig_context or None, **options)

    @property
    def is_busy(self) -> bool:
        return self.status in self.BUSY


class Node(KubeObject):
    class Role(models.TextChoices):
        MASTER = "master", _("Master")
        WORKER = "worker", _("Worker")

    cluster = models.ForeignKey(
        Cluster,
        on_delete=models.CASCADE,
        related_name="nodes",
        db_index=False,  # the unique index starts with it
        verbose_name=_("cluster"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.WORKER)
    zone = models.CharField(_("zone"), max_length=100, blank=True)
    arch = models.CharField(_("architecture"), max_length=32, blank=True)
    os_image = models.CharField(_("OS image"), max_length=255, blank=True)
    kernel_version = models.CharField(_("kernel"), max_length=100, blank=True)
    kubelet_version = models.CharField(_("kubelet"), max_length=32, blank=True)
    container_runtime = models.CharField(_("container runtime"), max_length=100, blank=True)
    internal_ip = models.CharField(_("internal IP"), max_length=64, blank=True)
    schedulable = models.BooleanField(_("schedulable"), default=True)
    ready = models.BooleanField(_("ready"), default=False)
    taints = models.JSONField(_("taints"), default=list, blank=True)
    capacity = models.JSONField(_("capacity"), default=dict, blank=True)
    allocatable = models.JSONField(_("allocatable"), default=dict, blank=True)
    # From the metrics API, read by beat's resync (the portal's, not mirrored from the Node).
    usage = models.JSONField(_("usage"), default=dict, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("node")
        verbose_name_plural = _("nodes")

    def get_absolute_url(self):
        return reverse("portal:node", args=[self.pk])


def _clusters_of_projects(user):
    """Clusters with a namespace of a project whose infrastructure the user may view."""
    from apps.namespaces.models import Namespace

    namespaces = Namespace.objects.filter(
        project__in=authz.project_ids(user, Perm.VIEW_INFRASTRUCTURE)
    )
    return Q(pk__in=namespaces.values("cluster"))


def in_clusters_of(project, field: str = "cluster") -> Q:
    """Objects of the clusters where ``project`` has a namespace (for project-scoped lists)."""
    from apps.namespaces.models import Namespace

    return Q(**{f"{field}__in": Namespace.objects.filter(project=project).values("cluster")})


authz.register(
    Cluster,
    actions={"view": _clusters_of_projects},
    scope=lambda project: in_clusters_of(project, "pk"),
)
authz.register(
    Node,
    actions={
        "view": lambda user: Q(cluster__in=Cluster.objects.filter(_clusters_of_projects(user)))
    },
    scope=in_clusters_of,
)
