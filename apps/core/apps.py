from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import signals  # noqa: F401  (connects the Celery context handlers)

        # Every process (not only workers) needs the operation kinds that the
        # apps' tasks modules declare, to show their names.
        autodiscover_modules("tasks")
