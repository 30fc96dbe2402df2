"""The Celery app. Broker and result store come from settings (Redis or embedded)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kcsportal.settings")

app = Celery("kcsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
