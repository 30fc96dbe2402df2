from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NamespacesConfig(AppConfig):
    name = "apps.namespaces"
    verbose_name = _("Namespaces")

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from . import access, sync  # noqa: F401  (register the Namespace mirror, the bindings' guard)

        pre_delete.connect(
            access.user_deleting, sender=settings.AUTH_USER_MODEL, dispatch_uid="kcs-user-bindings"
        )
