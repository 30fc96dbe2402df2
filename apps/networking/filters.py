import django_filters
from django.utils.translation import gettext_lazy as _

from apps.workloads.filters import KubeFilterSet

from .models import Ingress, Service


class ServiceFilterSet(KubeFilterSet):
    search_fields = ("name", "cluster_ip", "external_address")
    type = django_filters.ChoiceFilter(choices=Service.Type.choices, label=_("Type"))

    class Meta:
        model = Service
        fields = ["cluster", "project", "namespace", "type", "label"]


class IngressFilterSet(KubeFilterSet):
    search_fields = ("name", "address")
    host = django_filters.CharFilter(method="with_host", label=_("Host"))

    def with_host(self, queryset, name, value):
        return queryset.filter(hosts__icontains=value.strip())

    class Meta:
        model = Ingress
        fields = ["cluster", "project", "namespace", "host", "label"]
