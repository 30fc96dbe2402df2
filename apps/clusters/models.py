from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import Perm, RestrictedQuerySet
from apps.core.fields import EncryptedTextField
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
    nodes_ready = models.PositiveIntegerField(_("ready nodes"), default=0)
    nodes_total = models.PositiveIntegerField(_("nodes"), default=0)
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
        from apps.kube.client import Kube

        if not self.kubeconfig:
            from apps.kube.errors import KubeError

            raise KubeError(_("The cluster has no kubeconfig yet."))
        return Kube.for_kubeconfig(self.kubeconfig, self.kubeconfig_context or None, **options)

    @property
    def is_busy(self) -> bool:
        return self.status in self.BUSY


class Node(models.Model):
    class Role(models.TextChoices):
        MASTER = "master", _("Master")
        WORKER = "worker", _("Worker")

    cluster = models.ForeignKey(
        Cluster, on_delete=models.CASCADE, related_name="nodes", verbose_name=_("cluster")
    )
    name = models.CharField(_("name"), max_length=253)
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
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    taints = models.JSONField(_("taints"), default=list, blank=True)
    capacity = models.JSONField(_("capacity"), default=dict, blank=True)
    allocatable = models.JSONField(_("allocatable"), default=dict, blank=True)
    usage = models.JSONField(_("usage"), default=dict, blank=True)
    resource_version = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(_("created in Kubernetes"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["cluster__name", "name"]
        verbose_name = _("node")
        verbose_name_plural = _("nodes")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="clusters_node_unique")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("portal:node", args=[self.pk])


def _clusters_of_projects(user):
    """Clusters with a namespace of a project whose infrastructure the user may view."""
    from apps.namespaces.models import Namespace

    namespaces = Namespace.objects.filter(
        project__in=authz.project_ids(user, Perm.VIEW_INFRASTRUCTURE)
    )
    return Q(pk__in=namespaces.values("cluster"))


authz.register(Cluster, actions={"view": _clusters_of_projects})
authz.register(
    Node,
    actions={
        "view": lambda user: Q(cluster__in=Cluster.objects.filter(_clusters_of_projects(user)))
    },
)
