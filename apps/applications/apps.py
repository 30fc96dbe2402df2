from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "apps.applications"
    verbose_name = _("Applications")

    def ready(self):
        from . import sync  # noqa: F401  (registers the Application mirror)
