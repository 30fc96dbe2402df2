from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table

from .models import BindingMode, ReclaimPolicy

LIST = "storage/cells/list.html"
YESNO = "storage/cells/yesno.html"
PHASE = "storage/cells/phase.html"


class StorageClassTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("cluster", _("Cluster")),
        Column("is_default", _("Default"), template="storage/cells/default.html"),
        Column("provisioner", _("Provisioner")),
        Column("reclaim_policy", _("Reclaim policy"), choices=ReclaimPolicy),
        Column("volume_binding_mode", _("Volume binding mode"), choices=BindingMode),
        Column("allow_expansion", _("Expansion"), template=YESNO),
        Column("created", _("Created")),
    ]
    empty_text = _("No storage classes.")


class PersistentVolumeTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("cluster", _("Cluster")),
        Column("capacity", _("Capacity")),
        Column("access_modes", _("Access modes"), template=LIST),
        Column("reclaim_policy", _("Reclaim policy"), choices=ReclaimPolicy),
        Column("phase", _("Status"), template=PHASE),
        Column("claim", _("Claim")),
        Column("storage_class", _("Storage class")),
        Column("created", _("Created")),
    ]
    empty_text = _("No persistent volumes.")


class PersistentVolumeClaimTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("namespace_name", _("Namespace")),
        Column("cluster", _("Cluster")),
        Column("phase", _("Status"), template=PHASE),
        Column("requested", _("Requested")),
        Column("capacity", _("Capacity")),
        Column("access_modes", _("Access modes"), template=LIST),
        Column("storage_class", _("Storage class")),
        Column("volume_name", _("Volume")),
        Column("created", _("Created")),
    ]
    empty_text = _("No volume claims.")
