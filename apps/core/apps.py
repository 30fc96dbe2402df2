from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import signals  # noqa: F401  (connects the Celery context handlers)
        from .api import strict

        strict.install()

        # Grants read once per request are read again after a grant or namespace changes.
        from django.db.models.signals import post_delete, post_save

        from .authz import grants_changed

        for model in (
            "tenancy.ProjectUserObjectPermission",
            "namespaces.NamespaceUserObjectPermission",
            "namespaces.Namespace",
        ):
            for signal in (post_save, post_delete):
                signal.connect(grants_changed, sender=model, dispatch_uid=f"authz-{model}")

        # Every process (not only workers) needs the operation kinds that the
        # apps' tasks modules declare, to show their names.
        autodiscover_modules("tasks")
