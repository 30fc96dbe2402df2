"""The embedded metrics store: what the sampler records from metrics.k8s.io.

One narrow row per (cluster, node or pod, instant, resolution): CPU in cores, memory in
bytes and, for pods, the network counters the kubelet reports (cumulative bytes).
Raw rows (``step`` = MONITORING_RAW_STEP seconds) are kept MONITORING_RAW_RETENTION;
``downsample`` folds them into MONITORING_COARSE_STEP rows kept MONITORING_COARSE_RETENTION.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sample(models.Model):
    class Kind(models.TextChoices):
        NODE = "node", _("node")
        POD = "pod", _("pod")

    cluster = models.ForeignKey("clusters.Cluster", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    namespace = models.CharField(max_length=63, blank=True)  # a pod's; empty for a node
    name = models.CharField(max_length=253)
    node = models.CharField(max_length=253, blank=True)  # where the pod ran
    step = models.PositiveIntegerField()  # seconds one row stands for
    at = models.DateTimeField()
    cpu = models.FloatField()  # cores
    memory = models.BigIntegerField()  # bytes
    rx = models.BigIntegerField(null=True)  # cumulative bytes received (pods)
    tx = models.BigIntegerField(null=True)  # cumulative bytes sent (pods)

    class Meta:
        verbose_name = _("metric sample")
        verbose_name_plural = _("metric samples")
        indexes = [
            # every chart: one object's (or a few pods') rows of one resolution over time
            models.Index(
                fields=["cluster", "kind", "step", "namespace", "name", "at"],
                name="monitoring_sample_series",
            ),
            # cluster and node charts, pruning and downsampling by time
            models.Index(fields=["cluster", "step", "at"], name="monitoring_sample_time"),
        ]

    def __str__(self):
        return f"{self.kind} {self.namespace}/{self.name} @ {self.at:%Y-%m-%d %H:%M}"
