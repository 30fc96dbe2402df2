from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigsConfig(AppConfig):
    name = "apps.configs"
    verbose_name = _("Configuration")

    def ready(self):
        from . import sync  # noqa: F401  (registers the ConfigMap and Secret mirrors)
