import django_filters
from django.utils.translation import gettext_lazy as _

from apps.workloads.filters import KubeFilterSet

from .models import Application


class ApplicationFilterSet(KubeFilterSet):
    search_fields = ("name", "description")
    status = django_filters.ChoiceFilter(choices=Application.Status.choices, label=_("Status"))

    class Meta:
        model = Application
        fields = ["cluster", "project", "namespace", "status", "label"]
