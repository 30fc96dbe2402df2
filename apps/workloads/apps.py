from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkloadsConfig(AppConfig):
    name = "apps.workloads"
    verbose_name = _("Workloads")

    def ready(self):
        from . import sync  # noqa: F401  (registers the Pod mirror)
