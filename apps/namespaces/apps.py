from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NamespacesConfig(AppConfig):
    name = "apps.namespaces"
    verbose_name = _("Namespaces")

    def ready(self):
        from . import sync  # noqa: F401  (registers the Namespace mirror)
