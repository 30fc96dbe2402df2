"""Portal forms: a Service (type, selector, ports, affinity, load balancer settings) and an
Ingress (class, rules, default backend, TLS). Rows are formsets ("Add row" / "Remove", see
``views.RowsFormMixin``); the service functions check everything again."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.configs.forms import PlacedForm, namespace_field
from apps.workloads.models import Workload

from . import lb
from .models import Service
from .services import fingerprint

PROTOCOLS = [("TCP", "TCP"), ("UDP", "UDP"), ("SCTP", "SCTP")]
PATH_TYPES = [
    ("Prefix", _("Prefix")),
    ("Exact", _("Exact")),
    ("ImplementationSpecific", _("Implementation specific")),
]


def parse_labels(text: str) -> dict:
    """``key=value`` lines (or comma-separated) as a dict; a ValidationError if malformed."""
    labels = {}
    for part in (text or "").replace(",", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(
                _("Write one label per line as key=value (%(part)s is not).") % {"part": part}
            )
        labels[key.strip()] = value.strip()
    return labels


def labels_text(labels: dict) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


class PortRow(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=15)
    protocol = forms.ChoiceField(label=_("Protocol"), choices=PROTOCOLS, initial="TCP")
    port = forms.IntegerField(label=_("Port"), required=False, min_value=1, max_value=65535)
    target_port = forms.CharField(
        label=_("Target port"),
        required=False,
        max_length=15,
        help_text=_("A number, or a container port's name."),
    )
    node_port = forms.IntegerField(
        label=_("Node port"), required=False, min_value=30000, max_value=32767
    )


class RuleRow(forms.Form):
    host = forms.CharField(label=_("Host"), required=False, max_length=253)
    path = forms.CharField(label=_("Path"), required=False, max_length=1024, initial="/")
    path_type = forms.ChoiceField(label=_("Path type"), choices=PATH_TYPES, initial="Prefix")
    service = forms.CharField(label=_("Service"), required=False, max_length=63)
    port = forms.CharField(label=_("Port"), required=False, max_length=15)


class TlsRow(forms.Form):
    hosts = forms.CharField(
        label=_("Hosts"), required=False, help_text=_("Comma-separated, e.g. shop.example.com.")
    )
    secret = forms.CharField(
        label=_("TLS Secret"),
        required=False,
        max_length=253,
        help_text=_("A TLS Secret of the namespace; leave empty if there is no certificate yet."),
    )


def _formset(row, extra):
    return forms.formset_factory(row, extra=extra, can_delete=True)


class RowsMixin:
    """Formsets of rows (``self.rowsets``: name -> formset) validated with the form."""

    rowsets_spec: dict = {}

    def _make_rowsets(self, rows: dict):
        """One blank row where there are none to start with; "Add row" gives more."""
        self.rowsets = {}
        for name, row_class in self.rowsets_spec.items():
            formset = _formset(row_class, 0 if rows.get(name) else 1)
            self.rowsets[name] = formset(
                self.data if self.is_bound else None,
                # Bound rows are what was posted: an initial row left as it was is kept.
                initial=None if self.is_bound else (list(rows.get(name) or []) or None),
                prefix=name,
            )

    def is_valid(self):
        rows_valid = all([formset.is_valid() for formset in self.rowsets.values()])
        return super().is_valid() and rows_valid

    def rows(self, name: str, required: tuple) -> list[dict]:
        kept = []
        for form in self.rowsets[name].forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            if any(data.get(field) not in (None, "") for field in required):
                kept.append({k: v for k, v in data.items() if k != "DELETE"})
        return kept


def _lb_fields():
    fields = {}
    for key, choices in lb.CHOICES.items():
        fields[lb.field_name(key)] = forms.ChoiceField(
            required=False,
            choices=[("", _("Default (%(value)s)") % {"value": lb.DEFAULTS[key]}), *choices],
        )
    for key, (low, high) in lb.NUMBERS.items():
        fields[lb.field_name(key)] = forms.IntegerField(
            required=False,
            min_value=low,
            max_value=high,
            help_text=_("Default %(value)s.") % {"value": lb.DEFAULTS[key]},
        )
    fields[lb.field_name("health-check-path")] = forms.CharField(
        required=False, max_length=1024, help_text=_("HTTP and HTTPS checks; default /.")
    )
    fields[lb.field_name("certificate-secret")] = forms.CharField(
        required=False, max_length=253, help_text=_("For an HTTPS listener: a TLS Secret here.")
    )
    fields[lb.field_name("backend-weights")] = forms.CharField(
        required=False,
        max_length=1024,
        help_text=_(
            "Weighted round robin only: MATCH:WEIGHT, comma-separated. MATCH is a pod label "
            "key=value or a pod name, WEIGHT 0-100; other backends weigh 1. E.g. "
            "track=stable:9, track=canary:1."
        ),
    )
    return fields


LB_LABELS = {
    "listener-protocol": _("Listener protocol"),
    "algorithm": _("Scheduling algorithm"),
    "backend-weights": _("Backend weights"),
    "session-persistence": _("Session persistence"),
    "session-timeout": _("Persistence timeout (seconds)"),
    "health-check-protocol": _("Health check protocol"),
    "health-check-path": _("Health check path"),
    "health-check-interval": _("Health check interval (seconds)"),
    "health-check-timeout": _("Health check timeout (seconds)"),
    "healthy-threshold": _("Healthy threshold"),
    "unhealthy-threshold": _("Unhealthy threshold"),
    "certificate-secret": _("Certificate (TLS Secret)"),
}


class ServiceForm(RowsMixin, PlacedForm):
    rowsets_spec = {"ports": PortRow}

    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=63)
    type = forms.ChoiceField(label=_("Type"), choices=Service.Type.choices)
    workload = forms.ModelChoiceField(
        label=_("Pods of workload"),
        queryset=Workload.objects.none(),
        required=False,
        help_text=_("Its pods' labels become the selector (or type the labels below)."),
    )
    selector = forms.CharField(
        label=_("Selector"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "code"}),
        help_text=_("Labels of the pods it sends to, one key=value per line."),
    )
    headless = forms.BooleanField(
        label=_("Headless (no cluster IP: DNS names each pod)"), required=False
    )
    external_name = forms.CharField(
        label=_("External name"),
        required=False,
        max_length=253,
        help_text=_("ExternalName: the DNS name it stands for."),
    )
    session_affinity = forms.ChoiceField(
        label=_("Session affinity"),
        choices=[("None", _("None")), ("ClientIP", _("ClientIP (same client, same pod)"))],
        initial="None",
    )
    affinity_timeout = forms.IntegerField(
        label=_("Affinity timeout (seconds)"), required=False, min_value=1, max_value=86400
    )
    external_traffic_policy = forms.ChoiceField(
        label=_("External traffic policy"),
        required=False,
        choices=[
            ("", _("Default (Cluster)")),
            ("Cluster", _("Cluster (any node forwards)")),
            ("Local", _("Local (keeps the client's address)")),
        ],
    )
    resource_version = forms.CharField(required=False, widget=forms.HiddenInput)
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    editing = False

    def __init__(self, *args, user=None, rows=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for key, field in _lb_fields().items():
            field.label = LB_LABELS[key.removeprefix("lb_").replace("_", "-")]
            self.fields[key] = field
        self.fields["workload"].queryset = (
            Workload.objects.restrict(user, "view")
            .filter(
                kind__in=[
                    Workload.Kind.DEPLOYMENT,
                    Workload.Kind.STATEFULSET,
                    Workload.Kind.DAEMONSET,
                ]
            )
            .select_related("cluster")
            .order_by("cluster_id", "namespace_name", "name")
        )
        self.fields["workload"].label_from_instance = lambda w: (
            f"{w.cluster} / {w.namespace_name} / {w.name}"
        )
        if self.editing:
            for name in ("namespace", "name", "workload", "headless"):
                self.fields.pop(name, None)
        self._make_rowsets(rows or {})

    def lb_fields(self):
        return [self[lb.field_name(key)] for key in LB_LABELS]

    def plain_fields(self):
        return [f for f in self.visible_fields() if not f.name.startswith("lb_")]

    def clean_selector(self):
        return parse_labels(self.cleaned_data.get("selector"))

    def spec(self) -> dict:
        data = self.cleaned_data
        selector = data.get("selector") or {}
        workload = data.get("workload")
        if workload is not None and not selector:
            selector = dict(workload.selector)
        ports = [{**row, "name": row.get("name") or ""} for row in self.rows("ports", ("port",))]
        spec = {
            "type": data["type"],
            "selector": selector,
            "ports": ports,
            "headless": data.get("headless", False),
            "external_name": data.get("external_name", ""),
            "session_affinity": data.get("session_affinity") or "None",
            "affinity_timeout": data.get("affinity_timeout"),
            "external_traffic_policy": data.get("external_traffic_policy") or "",
        }
        if data["type"] == Service.Type.LOAD_BALANCER:
            spec["load_balancer"] = {
                key: data.get(lb.field_name(key))
                for key in lb.KEYS
                if data.get(lb.field_name(key)) not in (None, "")
            }
        return spec


class ServiceEditForm(ServiceForm):
    editing = True


def service_initial(service: Service) -> tuple[dict, dict]:
    """(initial fields, rows) of the edit form, from the Service as mirrored."""
    spec = (service.manifest or {}).get("spec") or {}
    initial = {
        "type": service.type,
        "selector": labels_text(service.selector),
        "external_name": spec.get("externalName", ""),
        "session_affinity": service.session_affinity or "None",
        "affinity_timeout": ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds"
        ),
        "external_traffic_policy": spec.get("externalTrafficPolicy", ""),
        "resource_version": service.resource_version,
        "seen": fingerprint(service.manifest or {}),
    }
    for key, value in lb.settings_of(service.annotations).items():
        initial[lb.field_name(key)] = value
    rows = {
        "ports": [
            {
                "name": p.get("name") or "",
                "protocol": p.get("protocol") or "TCP",
                "port": p.get("port"),
                "target_port": p.get("target_port"),
                "node_port": p.get("node_port"),
            }
            for p in service.ports
        ]
    }
    return initial, rows


class IngressForm(RowsMixin, PlacedForm):
    rowsets_spec = {"rules": RuleRow, "tls": TlsRow}

    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=253)
    ingress_class = forms.CharField(
        label=_("Ingress class"),
        required=False,
        max_length=253,
        initial="nginx",
        help_text=_("Which ingress controller serves it; empty for the cluster's default."),
    )
    default_service = forms.CharField(
        label=_("Default backend: Service"), required=False, max_length=63
    )
    default_port = forms.CharField(label=_("Default backend: port"), required=False)
    allow_conflicts = forms.BooleanField(
        label=_("Apply despite conflicts"),
        required=False,
        help_text=_("Another Ingress of the cluster routes the same host and path."),
    )
    resource_version = forms.CharField(required=False, widget=forms.HiddenInput)
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    editing = False

    def __init__(self, *args, user=None, rows=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if self.editing:
            for name in ("namespace", "name"):
                self.fields.pop(name, None)
        self._make_rowsets(rows or {})

    def spec(self) -> dict:
        data = self.cleaned_data
        default = {}
        if data.get("default_service") or data.get("default_port"):
            default = {"service": data.get("default_service"), "port": data.get("default_port")}
        tls = [
            {
                "hosts": [h.strip() for h in (row.get("hosts") or "").split(",") if h.strip()],
                "secret": row.get("secret") or "",
            }
            for row in self.rows("tls", ("hosts", "secret"))
        ]
        return {
            "ingress_class": data.get("ingress_class") or "",
            "rules": self.rows("rules", ("host", "service", "port")),
            "default_backend": default,
            "tls": tls,
        }


class IngressEditForm(IngressForm):
    editing = True


def ingress_initial(ingress) -> tuple[dict, dict]:
    initial = {
        "ingress_class": ingress.ingress_class,
        "default_service": ingress.default_backend.get("service", ""),
        "default_port": ingress.default_backend.get("port", ""),
        "resource_version": ingress.resource_version,
        "seen": fingerprint(ingress.manifest or {}),
    }
    rows = {
        "rules": [
            {k: r.get(k, "") for k in ("host", "path", "path_type", "service", "port")}
            for r in ingress.rules
        ],
        "tls": [{"hosts": ", ".join(t["hosts"]), "secret": t["secret"]} for t in ingress.tls],
    }
    return initial, rows


class CheckForm(forms.Form):
    host = forms.CharField(label=_("Host"), required=False, max_length=253)
    path = forms.CharField(label=_("Path"), required=False, max_length=1024, initial="/")


class IngressYamlCreateForm(PlacedForm):
    namespace = namespace_field()
    yaml = forms.CharField(
        label=_("YAML"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
    )
    allow_conflicts = IngressForm.base_fields["allow_conflicts"]
