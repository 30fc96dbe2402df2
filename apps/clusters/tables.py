from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table
from apps.kube.quantity import parse

from . import providers
from .models import Cluster, Node

GIB = Decimal(1024**3)


def quantity(value) -> Decimal | None:
    try:
        return parse(value) if value not in (None, "") else None
    except ValueError:
        return None


def cpu(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01')).normalize():f}"


def memory(value: Decimal | None) -> str:
    return "" if value is None else f"{(value / GIB).quantize(Decimal('0.1'))} GiB"


FORMATS = {"cpu": cpu, "memory": memory, "pods": lambda v: "" if v is None else f"{v:f}"}


def resource(row, name: str) -> dict:
    """One resource of a node: capacity, allocatable and usage (when measured), formatted."""
    show = FORMATS[name]
    return {
        part: show(quantity(getattr(row, part).get(name)))
        for part in ("capacity", "allocatable", "usage")
    }


@dataclass(frozen=True)
class ResourceColumn(Column):
    template: str | None = "clusters/cells/resource.html"

    def value(self, row):
        return resource(row, self.accessor)


@dataclass(frozen=True)
class ProviderColumn(Column):
    def value(self, row):
        provider = providers.PROVIDERS.get(row.provider)
        return provider.label if provider else row.provider


class ClusterTable(Table):
    columns = [
        # How the portal names a cluster everywhere: its display name if set, else its name.
        Column("__str__", _("Name"), link=True),
        ProviderColumn("provider", _("Provider")),
        Column("version", _("Version")),
        Column("status", _("Status"), template="core/cells/status.html", choices=Cluster.Status),
        Column("nodes_ready", _("Nodes ready"), template="clusters/cells/nodes_ready.html"),
        Column("zones", _("Zones"), template="clusters/cells/list.html"),
        Column("created", _("Created")),
    ]


NODE_COLUMNS = [
    Column("name", _("Name"), link=True),
    Column("role", _("Role"), choices=Node.Role),
    Column("zone", _("Zone")),
    Column("arch", _("Architecture")),
    Column("ready", _("Status"), template="clusters/cells/node_status.html"),
    Column("taints", _("Taints"), template="clusters/cells/taints.html"),
    Column("kubelet_version", _("Kubelet")),
    Column("internal_ip", _("Internal IP")),
    ResourceColumn("cpu", _("CPU cores")),
    ResourceColumn("memory", _("Memory")),
]


class NodeTable(Table):
    columns = [NODE_COLUMNS[0], Column("cluster", _("Cluster"), link="cluster"), *NODE_COLUMNS[1:]]
