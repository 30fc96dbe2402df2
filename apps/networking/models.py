"""Services, their EndpointSlices, and Ingresses, mirrored from Kubernetes.

A ``Service`` row keeps what its list and page show: type, cluster IP, external address,
ports, selector, session affinity. An ``EndpointSlice`` row keeps its endpoints (which
pods, ready or not, on which node) under the Service it belongs to. An ``Ingress`` row
keeps its class, address, rules flattened to (host, path, path type, service, port) and
TLS entries, which the host/path conflict check reads.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.authz import InNamespace
from apps.kube.models import KubeObject


class Service(KubeObject):
    class Type(models.TextChoices):
        CLUSTER_IP = "ClusterIP", _("ClusterIP (inside the cluster)")
        NODE_PORT = "NodePort", _("NodePort (a port on every node)")
        LOAD_BALANCER = "LoadBalancer", _("LoadBalancer (an external address)")
        EXTERNAL_NAME = "ExternalName", _("ExternalName (a DNS alias)")

    type = models.CharField(_("type"), max_length=16, choices=Type.choices, blank=True)
    cluster_ip = models.CharField(_("cluster IP"), max_length=64, blank=True)
    # The load balancer's address (IP or hostname) once the cloud gave one; an ExternalName.
    external_address = models.CharField(_("external address"), max_length=253, blank=True)
    # name, protocol, port, target_port, node_port of each port.
    ports = models.JSONField(_("ports"), default=list, blank=True)
    selector = models.JSONField(_("selector"), default=dict, blank=True)
    session_affinity = models.CharField(_("session affinity"), max_length=16, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("Service")
        verbose_name_plural = _("Services")

    def get_absolute_url(self):
        return reverse("portal:service", args=[self.pk])

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"

    @property
    def ports_display(self) -> str:
        shown = []
        for port in self.ports:
            text = f"{port.get('port')}"
            if port.get("node_port"):
                text += f":{port['node_port']}"
            shown.append(f"{text}/{port.get('protocol') or 'TCP'}")
        return ", ".join(shown) or "—"


class EndpointSlice(KubeObject):
    service_name = models.CharField(_("Service"), max_length=253, blank=True)
    address_type = models.CharField(_("address type"), max_length=8, blank=True)
    ports = models.JSONField(_("ports"), default=list, blank=True)
    # ip, ready, serving, terminating, node, pod of each endpoint.
    endpoints = models.JSONField(_("endpoints"), default=list, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("EndpointSlice")
        verbose_name_plural = _("EndpointSlices")
        indexes = [
            models.Index(
                fields=["cluster", "namespace_name", "service_name"],
                name="networking_slice_service",
            )
        ]


class Ingress(KubeObject):
    ingress_class = models.CharField(_("ingress class"), max_length=253, blank=True)
    address = models.CharField(_("address"), max_length=253, blank=True)
    hosts = models.JSONField(_("hosts"), default=list, blank=True)
    # host, path, path_type, service, port of each path of each rule.
    rules = models.JSONField(_("rules"), default=list, blank=True)
    default_backend = models.JSONField(_("default backend"), default=dict, blank=True)
    # hosts, secret of each TLS entry.
    tls = models.JSONField(_("TLS"), default=list, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("Ingress")
        verbose_name_plural = _("Ingresses")

    def get_absolute_url(self):
        return reverse("portal:ingress", args=[self.pk])

    @property
    def default_backend_or_none(self) -> dict | None:
        return self.default_backend or None

    @property
    def hosts_display(self) -> str:
        return ", ".join(self.hosts) or "*"


ACTIONS = {"view": InNamespace(), "change": InNamespace(), "delete": InNamespace()}
authz.register(Service, namespace="namespace", actions=ACTIONS)
authz.register(Ingress, namespace="namespace", actions=ACTIONS)
authz.register(EndpointSlice, namespace="namespace", actions={"view": InNamespace()})
