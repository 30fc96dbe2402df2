from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table

from .models import Workload


class WorkloadTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("kind", _("Kind"), choices=Workload.Kind),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column("status", _("Status"), template="core/cells/status.html", choices=Workload.Status),
        Column("replicas_display", _("Pods ready")),
        Column("images", _("Images"), template="workloads/cells/images.html"),
        Column("application_name", _("Application")),
        Column("created", _("Created")),
    ]
    empty_text = _("No workloads.")


POD_COLUMNS = [
    Column("name", _("Name"), link=True),
    Column("namespace_name", _("Namespace")),
    Column("cluster", _("Cluster")),
    Column("ready_display", _("Ready")),
    Column("status", _("Status"), template="workloads/cells/pod_status.html"),
    Column("restarts", _("Restarts")),
    Column("node_name", _("Node")),
    Column("pod_ip", _("IP")),
    Column("created", _("Created")),
]


class PodTable(Table):
    columns = POD_COLUMNS
    empty_text = _("No pods.")


class WorkloadPodTable(Table):
    """A workload's own pods (its page says where they are)."""

    columns = [c for c in POD_COLUMNS if c.accessor not in ("namespace_name", "cluster")]
    empty_text = _("No pods.")
