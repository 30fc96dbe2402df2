from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClustersConfig(AppConfig):
    name = "apps.clusters"
    verbose_name = _("Clusters")

    def ready(self):
        from . import sync  # noqa: F401  (registers the Node mirror)
