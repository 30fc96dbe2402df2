from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table


class ServiceTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column("type", _("Type")),
        Column("cluster_ip", _("Cluster IP")),
        Column("external_address", _("External address")),
        Column("ports_display", _("Ports")),
        Column("created", _("Created")),
    ]
    empty_text = _("No Services yet.")


class IngressTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column("ingress_class", _("Class")),
        Column("hosts_display", _("Hosts")),
        Column("address", _("Address")),
        Column("created", _("Created")),
    ]
    empty_text = _("No Ingresses yet.")
