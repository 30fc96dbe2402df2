from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkingConfig(AppConfig):
    name = "apps.networking"
    verbose_name = _("Networking")

    def ready(self):
        from . import sync  # noqa: F401  (registers the Service, EndpointSlice, Ingress mirrors)
