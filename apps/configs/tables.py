from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table

KEYS = "configs/cells/keys.html"

CONFIGMAP_COLUMNS = [
    Column("name", _("Name"), link=True),
    Column("namespace_name", _("Namespace")),
    Column("cluster", _("Cluster")),
    Column("keys", _("Keys"), template=KEYS),
    Column("created", _("Created")),
]


class ConfigMapTable(Table):
    columns = CONFIGMAP_COLUMNS
    empty_text = _("No ConfigMaps yet.")


class SecretTable(Table):
    columns = [
        *CONFIGMAP_COLUMNS[:3],
        Column("type_label", _("Type")),
        *CONFIGMAP_COLUMNS[3:],
    ]
    empty_text = _("No Secrets yet.")
