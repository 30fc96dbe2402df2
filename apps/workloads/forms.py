"""The workloads' forms: the create/edit wizard's — the workload's own fields, and
formsets of rows for containers, ports, environment, volumes, mounts, affinity rules,
tolerations and claims — and the options of a log read.

``WizardForm.wizard_data()`` is the structured data ``wizard.py`` takes (the API takes the
same); errors it returns keyed "containers.0.limits_cpu" land on the formset row's field.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.configs.forms import PlacedForm, RegistrySecretForm, namespace_field
from apps.storage.models import ACCESS_MODES

from . import containers, manifest

KIND_SLUGS = {kind.lower(): kind for kind in manifest.KINDS}
# Kubernetes' selector and toleration operators, shown as Kubernetes names them.
OPERATORS = {
    "In": pgettext_lazy("Kubernetes operator", "In"),
    "NotIn": pgettext_lazy("Kubernetes operator", "NotIn"),
    "Exists": pgettext_lazy("Kubernetes operator", "Exists"),
    "DoesNotExist": pgettext_lazy("Kubernetes operator", "DoesNotExist"),
    "Equal": pgettext_lazy("Kubernetes operator", "Equal"),
}


def _lines(text: str) -> list[str]:
    """One item a line (a command's arguments): blank lines dropped, spaces kept inside."""
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


class LinesField(forms.CharField):
    """A list of strings typed one a line."""

    widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return _lines(super().to_python(value))


class PairsField(LinesField):
    """A mapping typed ``key=value`` one a line (labels, annotations, a node selector)."""

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{k}={v}" for k, v in value.items())
        return value

    def to_python(self, value):
        pairs = {}
        for line in super().to_python(value):
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(
                    _("Write key=value, one a line (not %(line)s).") % {"line": line}
                )
            pairs[key.strip()] = item.strip()
        return pairs


class ValuesField(forms.CharField):
    """Values separated by commas."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return [v.strip() for v in (super().to_python(value) or "").split(",") if v.strip()]


def _number(label, **kwargs):
    return forms.IntegerField(label=label, required=False, min_value=0, **kwargs)


def _choice(label, choices, **kwargs):
    return forms.ChoiceField(label=label, choices=choices, required=False, **kwargs)


PROBE_TYPES = [("", _("none")), ("http", _("HTTP GET")), ("tcp", _("TCP")), ("exec", _("command"))]
HOOK_TYPES = [("", _("none")), ("exec", _("command")), ("http", _("HTTP GET"))]
PROBE_LABELS = {
    "liveness": _("Liveness probe"),
    "readiness": _("Readiness probe"),
    "startup": _("Startup probe"),
}
HOOK_LABELS = {"post_start": _("After start"), "pre_stop": _("Before stop")}


class ContainerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=63, required=False)
    image = forms.CharField(label=_("Image"), required=False, help_text=_("e.g. nginx:1.27"))
    pull_policy = _choice(
        _("Pull policy"),
        [
            ("", _("default")),
            ("IfNotPresent", _("if not present")),
            ("Always", _("always")),
            ("Never", _("never")),
        ],
    )
    command = LinesField(
        label=_("Command"), help_text=_("One argument a line; empty: the image's.")
    )
    args = LinesField(label=_("Arguments"), help_text=_("One a line."))
    working_dir = forms.CharField(label=_("Working directory"), required=False)
    requests_cpu = forms.CharField(label=_("CPU request"), required=False, help_text="500m")
    requests_memory = forms.CharField(label=_("Memory request"), required=False, help_text="256Mi")
    limits_cpu = forms.CharField(label=_("CPU limit"), required=False, help_text="1")
    limits_memory = forms.CharField(label=_("Memory limit"), required=False, help_text="512Mi")
    key_fields = ("name", "image")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for probe, label in PROBE_LABELS.items():
            self.fields[f"{probe}_type"] = _choice(label, PROBE_TYPES)
            self.fields[f"{probe}_path"] = forms.CharField(label=_("Path"), required=False)
            self.fields[f"{probe}_port"] = forms.CharField(
                label=_("Port"), required=False, help_text=_("A number or a port's name.")
            )
            self.fields[f"{probe}_command"] = LinesField(label=_("Command"))
            self.fields[f"{probe}_initial_delay"] = _number(_("Initial delay (s)"))
            self.fields[f"{probe}_period"] = _number(_("Period (s)"))
            self.fields[f"{probe}_timeout"] = _number(_("Timeout (s)"))
            self.fields[f"{probe}_success_threshold"] = _number(_("Success threshold"))
            self.fields[f"{probe}_failure_threshold"] = _number(_("Failure threshold"))
        for hook, label in HOOK_LABELS.items():
            self.fields[f"{hook}_type"] = _choice(label, HOOK_TYPES)
            self.fields[f"{hook}_command"] = LinesField(label=_("Command"))
            self.fields[f"{hook}_path"] = forms.CharField(label=_("Path"), required=False)
            self.fields[f"{hook}_port"] = forms.CharField(label=_("Port"), required=False)

    def probe_fields(self, probe):
        return [
            self[f"{probe}_{k}"]
            for k in ("type", "path", "port", "command", *manifest.PROBE_NUMBERS)
        ]

    def probes(self):
        return [(PROBE_LABELS[p], self.probe_fields(p)) for p in manifest.PROBES]

    def hooks(self):
        return [
            (label, [self[f"{hook}_{k}"] for k in ("type", "command", "path", "port")])
            for hook, label in HOOK_LABELS.items()
        ]

    def basic_fields(self):
        return [self[k] for k in ("name", "image", "pull_policy", "working_dir", "command", "args")]

    def resource_fields(self):
        return [self[k] for k in ("requests_cpu", "requests_memory", "limits_cpu", "limits_memory")]


def _container_field():
    return forms.CharField(
        label=_("Container"), required=False, help_text=_("Empty: the first container.")
    )


class PortRow(forms.Form):
    container = _container_field()
    name = forms.CharField(label=_("Name"), required=False, max_length=15)
    port = forms.IntegerField(label=_("Port"), required=False, min_value=1, max_value=65535)
    protocol = forms.ChoiceField(
        label=_("Protocol"),
        choices=[("TCP", "TCP"), ("UDP", "UDP"), ("SCTP", "SCTP")],
        required=False,
    )
    key_fields = ("port",)


class EnvRow(forms.Form):
    container = _container_field()
    name = forms.CharField(label=_("Variable"), required=False)
    source = forms.ChoiceField(
        label=_("From"),
        choices=[
            ("value", _("value")),
            ("configmap", _("ConfigMap key")),
            ("secret", _("Secret key")),
        ],
        required=False,
    )
    value = forms.CharField(label=_("Value"), required=False, strip=False)
    ref = forms.CharField(label=_("ConfigMap or Secret"), required=False)
    key = forms.CharField(label=_("Key"), required=False)
    key_fields = ("name",)


class EnvFromRow(forms.Form):
    container = _container_field()
    source = forms.ChoiceField(
        label=_("From"),
        choices=[("configmap", _("ConfigMap")), ("secret", _("Secret"))],
        required=False,
    )
    ref = forms.CharField(label=_("Name"), required=False)
    prefix = forms.CharField(label=_("Prefix"), required=False)
    key_fields = ("ref",)


class VolumeRow(forms.Form):
    name = forms.CharField(label=_("Volume"), required=False)
    type = forms.ChoiceField(
        label=_("Type"),
        choices=[
            ("pvc", _("volume claim")),
            ("configmap", _("ConfigMap")),
            ("secret", _("Secret")),
            ("emptydir", _("empty directory")),
        ],
        required=False,
    )
    ref = forms.CharField(label=_("Claim, ConfigMap or Secret"), required=False)
    medium = forms.ChoiceField(
        label=_("Medium"), choices=[("", _("disk")), ("Memory", _("memory"))], required=False
    )
    size_limit = forms.CharField(label=_("Size limit"), required=False)
    read_only = forms.BooleanField(label=_("Read-only"), required=False)
    key_fields = ("name",)


class MountRow(forms.Form):
    container = _container_field()
    volume = forms.CharField(label=_("Volume"), required=False)
    path = forms.CharField(label=_("Mount path"), required=False)
    sub_path = forms.CharField(label=_("Sub-path"), required=False)
    read_only = forms.BooleanField(label=_("Read-only"), required=False)
    key_fields = ("volume",)


class AffinityRow(forms.Form):
    type = forms.ChoiceField(
        label=_("Rule"),
        choices=[
            ("node", _("on nodes labelled")),
            ("pod", _("near pods labelled")),
            ("anti", _("away from pods labelled")),
        ],
        required=False,
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    key = forms.CharField(label=_("Label"), required=False)
    operator = forms.ChoiceField(
        label=_("Operator"),
        choices=[(o, OPERATORS[o]) for o in ("In", "NotIn", "Exists", "DoesNotExist")],
        required=False,
    )
    values = ValuesField(label=_("Values"), help_text=_("Comma-separated."))
    topology = forms.ChoiceField(
        label=_("Topology"),
        choices=[("hostname", _("node")), ("zone", _("zone"))],
        required=False,
    )
    weight = forms.IntegerField(label=_("Weight"), required=False, min_value=1, max_value=100)
    key_fields = ("key",)


class TolerationRow(forms.Form):
    key = forms.CharField(label=_("Taint key"), required=False)
    operator = forms.ChoiceField(
        label=_("Operator"),
        choices=[(o, OPERATORS[o]) for o in ("Equal", "Exists")],
        required=False,
    )
    value = forms.CharField(label=_("Value"), required=False)
    effect = forms.ChoiceField(
        label=_("Effect"),
        choices=[
            ("", _("any")),
            ("NoSchedule", "NoSchedule"),
            ("PreferNoSchedule", "PreferNoSchedule"),
            ("NoExecute", "NoExecute"),
        ],
        required=False,
    )
    seconds = forms.IntegerField(label=_("For (s)"), required=False, min_value=0)
    key_fields = ("key",)


class ClaimRow(forms.Form):
    name = forms.CharField(label=_("Claim"), required=False)
    size = forms.CharField(label=_("Size"), required=False, help_text="1Gi")
    storage_class = forms.CharField(label=_("Storage class"), required=False)
    access_mode = forms.ChoiceField(
        label=_("Access"),
        choices=ACCESS_MODES,
        required=False,
    )
    key_fields = ("name",)


# list name -> (row form, extra blank rows, title)
ROWS = {
    "containers": (ContainerForm, 0, _("Containers")),
    "ports": (PortRow, 1, _("Ports")),
    "env": (EnvRow, 1, _("Environment variables")),
    "env_from": (EnvFromRow, 1, _("All keys of a ConfigMap or Secret")),
    "volumes": (VolumeRow, 1, _("Volumes")),
    "mounts": (MountRow, 1, _("Mounts")),
    "claims": (ClaimRow, 1, _("Volume claim templates")),
    "affinity": (AffinityRow, 1, _("Affinity rules")),
    "tolerations": (TolerationRow, 1, _("Tolerations")),
}

STRATEGIES = {
    "Deployment": [("RollingUpdate", _("rolling update")), ("Recreate", _("recreate"))],
    "StatefulSet": [("RollingUpdate", _("rolling update")), ("OnDelete", _("on delete"))],
    "DaemonSet": [("RollingUpdate", _("rolling update")), ("OnDelete", _("on delete"))],
}
# The workload's own fields each kind has (the rest are removed).
KIND_FIELDS = {
    "replicas": ("Deployment", "StatefulSet"),
    "strategy": ("Deployment", "StatefulSet", "DaemonSet"),
    "max_surge": ("Deployment", "DaemonSet"),
    "max_unavailable": ("Deployment", "StatefulSet", "DaemonSet"),
    "partition": ("StatefulSet",),
    "min_ready_seconds": ("Deployment", "StatefulSet", "DaemonSet"),
    "revision_history_limit": ("Deployment", "StatefulSet", "DaemonSet"),
    "progress_deadline_seconds": ("Deployment", "StatefulSet", "DaemonSet"),
    "service_name": ("StatefulSet",),
    "completions": ("Job", "CronJob"),
    "parallelism": ("Job", "CronJob"),
    "backoff_limit": ("Job", "CronJob"),
    "active_deadline_seconds": ("Job", "CronJob"),
    "restart_policy": ("Job", "CronJob"),
    "schedule": ("CronJob",),
    "time_zone": ("CronJob",),
    "concurrency_policy": ("CronJob",),
    "suspend": ("CronJob",),
    "successful_history": ("CronJob",),
    "failed_history": ("CronJob",),
    "starting_deadline_seconds": ("CronJob",),
}
SECTIONS = {
    "general": (
        "namespace",
        "name",
        "replicas",
        "labels",
        "annotations",
        "registry_secrets",
        "image_pull_secrets",
    ),
    "upgrade": (
        "strategy",
        "max_surge",
        "max_unavailable",
        "partition",
        "min_ready_seconds",
        "revision_history_limit",
        "progress_deadline_seconds",
    ),
    "statefulset": ("service_name",),
    "job": (
        "completions",
        "parallelism",
        "backoff_limit",
        "active_deadline_seconds",
        "restart_policy",
    ),
    "cronjob": (
        "schedule",
        "time_zone",
        "concurrency_policy",
        "suspend",
        "successful_history",
        "failed_history",
        "starting_deadline_seconds",
    ),
    "scheduling": ("preset", "topology", "node_selector"),
}


class WizardForm(PlacedForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=63)
    replicas = forms.IntegerField(
        label=_("Replicas"), min_value=0, max_value=1000, initial=1, required=False
    )
    labels = PairsField(label=_("Labels"), help_text=_("key=value, one a line."))
    annotations = PairsField(label=_("Annotations"), help_text=_("key=value, one a line."))
    # The picker: the registry Secrets (kubernetes.io/dockerconfigjson) the user may see,
    # each in the namespaces that have it; what it picks joins image_pull_secrets.
    registry_secrets = forms.MultipleChoiceField(
        label=_("Registry Secrets"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Registry credentials the pods pull their images with (imagePullSecrets)."),
    )
    image_pull_secrets = ValuesField(
        label=_("Other registry Secrets"),
        help_text=_("Names of Secrets not listed above, comma-separated."),
    )
    strategy = _choice(_("Upgrade strategy"), STRATEGIES["Deployment"])
    max_surge = forms.CharField(
        label=_("Max surge"), required=False, help_text=_("A number or a percentage (25%).")
    )
    max_unavailable = forms.CharField(
        label=_("Max unavailable"), required=False, help_text=_("A number or a percentage (25%).")
    )
    partition = _number(
        _("Partition"), help_text=_("Pods with an ordinal below it keep the old version.")
    )
    min_ready_seconds = _number(_("Min ready seconds"))
    revision_history_limit = _number(_("Revisions kept"))
    progress_deadline_seconds = _number(
        _("Progress deadline (s)"),
        help_text=_("A rollout that makes no progress for this long fails; empty: 600."),
    )
    service_name = forms.CharField(
        label=_("Service name"),
        required=False,
        help_text=_("The headless Service naming the pods; empty: the workload's name."),
    )
    completions = _number(_("Completions"))
    parallelism = _number(_("Parallelism"))
    backoff_limit = _number(_("Back-off limit"), help_text=_("Retries before the job fails."))
    active_deadline_seconds = _number(_("Deadline (s)"))
    restart_policy = _choice(
        _("Restart policy"), [("Never", _("never")), ("OnFailure", _("on failure"))]
    )
    schedule = forms.CharField(
        label=_("Schedule"),
        required=False,
        help_text=_("Cron: minute hour day-of-month month day-of-week."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"), required=False, help_text=_("e.g. Asia/Shanghai; empty: UTC.")
    )
    concurrency_policy = _choice(
        _("Concurrency"),
        [
            ("Allow", _("allow overlapping runs")),
            ("Forbid", _("skip a run while one runs")),
            ("Replace", _("replace the running one")),
        ],
    )
    suspend = forms.BooleanField(label=_("Suspended"), required=False)
    successful_history = _number(_("Successful jobs kept"))
    failed_history = _number(_("Failed jobs kept"))
    starting_deadline_seconds = _number(_("Starting deadline (s)"))
    preset = _choice(
        _("Placement"),
        [
            ("", _("anywhere")),
            ("spread", _("spread: pods away from each other")),
            ("pack", _("pack: pods together")),
            ("custom", _("custom rules")),
        ],
    )
    topology = _choice(_("Spread or pack over"), [("hostname", _("nodes")), ("zone", _("zones"))])
    node_selector = PairsField(
        label=_("Node selector"),
        help_text=_("Only nodes with these labels (key=value, one a line)."),
    )
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args,
        kind="Deployment",
        editing=False,
        rows=None,
        node_labels=(),
        pull_namespace=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.editing = editing
        self._registry_choices(kwargs.get("user"), pull_namespace)
        self.node_labels = list(node_labels)
        for name, kinds in KIND_FIELDS.items():
            if kind not in kinds:
                del self.fields[name]
        if "strategy" in self.fields:
            self.fields["strategy"].choices = STRATEGIES[kind]
        if editing:
            del self.fields["namespace"]
            self.fields["name"].disabled = True
            self.fields["name"].required = False  # it stays the workload's own
        rows = rows or {}
        self.rows = {}
        for list_name, (row_form, extra, title) in ROWS.items():
            if list_name == "claims" and kind != "StatefulSet":
                continue
            initial = rows.get(list_name) or ([{}] if list_name == "containers" else [])
            formset = forms.formset_factory(row_form, extra=extra, can_delete=True)
            self.rows[list_name] = formset(
                self.data if self.is_bound else None,
                initial=initial if not self.is_bound else None,
                prefix=list_name,
            )
            self.rows[list_name].title = title

    def _registry_choices(self, user, namespace) -> None:
        """The registry Secrets the user may see (of ``namespace`` when editing), one
        choice per name saying where it is; names already used stay choosable."""
        from apps.configs.models import Secret

        self.registry_places: dict[str, set[str]] = {}  # name -> its namespaces' ids
        where: dict[str, list[str]] = {}  # name -> "cluster/namespace", for its label
        if user is not None:
            secrets = Secret.objects.restrict(user, "view").filter(
                type=Secret.Type.DOCKERCONFIGJSON
            )
            if namespace is not None:
                secrets = secrets.filter(
                    cluster_id=namespace.cluster_id, namespace_name=namespace.name
                )
            rows = secrets.order_by("name", "namespace_name").values_list(
                "name", "namespace_id", "namespace_name", "cluster__name"
            )
            for name, ns_id, ns_name, cluster in rows[:500]:
                self.registry_places.setdefault(name, set()).add(str(ns_id or ""))
                where.setdefault(name, []).append(f"{cluster}/{ns_name}")
        choices = [(name, f"{name} ({', '.join(places)})") for name, places in where.items()]
        # (on an edit, the workload's own pull Secrets are ticked, listed or not)
        used = self.initial.get("image_pull_secrets") or []
        listed = {name for name, _label in choices}
        self.initial["registry_secrets"] = [n for n in used if n in listed]
        self.initial["image_pull_secrets"] = [n for n in used if n not in listed]
        self.fields["registry_secrets"].choices = choices

    def clean(self):
        data = super().clean()
        picked = data.get("registry_secrets") or []
        namespace = data.get("namespace")
        if namespace is not None:
            elsewhere = [
                n for n in picked if str(namespace.pk) not in self.registry_places.get(n, set())
            ]
            if elsewhere:
                self.add_error(
                    "registry_secrets",
                    _("Not in the namespace %(namespace)s: %(names)s. Create it there first.")
                    % {"namespace": namespace.name, "names": ", ".join(elsewhere)},
                )
        typed = data.get("image_pull_secrets") or []
        data["image_pull_secrets"] = list(dict.fromkeys([*picked, *typed]))
        return data

    @property
    def section(self):
        """The bound fields of each section the kind has ({"general": [...], ...})."""
        return {
            name: [self[f] for f in fields if f in self.fields] for name, fields in SECTIONS.items()
        }

    def is_valid(self):
        rows_valid = all(formset.is_valid() for formset in self.rows.values())
        return super().is_valid() and rows_valid

    def wizard_data(self) -> dict:
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("namespace", "resource_version", "previewed", "registry_secrets")
        }
        data["kind"] = self.kind
        for list_name, formset in self.rows.items():
            data[list_name] = [
                {k: v for k, v in row.cleaned_data.items() if k != "DELETE"}
                for row in formset.forms
                if _kept(row)
            ]
        return data

    def add_wizard_errors(self, errors: dict, *, only_new=False) -> None:
        """Errors keyed by the data's paths, on the fields (and rows) they name; with
        ``only_new``, only on fields without an error yet."""
        for path, messages in errors.items():
            list_name, _dot, rest = path.partition(".")
            index, _dot, field_name = rest.partition(".")
            target = None
            if list_name in self.rows and index.isdigit():
                row = self._row(list_name, int(index))
                if row is not None and field_name in row.fields:
                    target = (row, field_name)
            elif path in self.fields:
                target = (self, path)
            if target is None:
                if not only_new:
                    self.add_error(None, messages)
            elif not (only_new and target[1] in target[0].errors):
                target[0].add_error(target[1], messages)

    def _row(self, list_name: str, index: int):
        """The formset row the data's ``index``-th kept row came from (blank rows skipped)."""
        kept = [row for row in self.rows[list_name].forms if _kept(row)]
        return kept[index] if index < len(kept) else None

    def has_error_anywhere(self) -> bool:
        return bool(self.errors) or any(
            formset.non_form_errors() or any(row.errors for row in formset.forms)
            for formset in self.rows.values()
        )


class RegistrySecretDialogForm(RegistrySecretForm):
    """The wizard's "New registry Secret" dialog: the Secret goes in the workload's
    namespace, so there is no namespace to choose. Its ids are its own, apart from the
    wizard's fields on the same page."""

    namespace = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_registry_secret_%s")
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _(
            "Lowercase letters, digits, '-' and '.'; the workload refers to it by this name."
        )
        self.fields["password"].help_text = _(
            "Kept in Kubernetes only, never in the portal's database; revealing it later is "
            "an audited action."
        )

    def clean_name(self):
        from apps.configs.services import check_name

        name = self.cleaned_data["name"]
        if problems := check_name(name):
            raise ValidationError(problems)  # with the other fields' errors, all at once
        return name


def _kept(row) -> bool:
    """A row that says something (blank rows and removed ones are left out)."""
    values = getattr(row, "cleaned_data", None) or {}
    if not values or values.get("DELETE"):
        return False
    return any(values.get(k) for k in row.key_fields)


def initial_for(data: dict) -> tuple[dict, dict]:
    """The form's initial values and its rows' from the wizard's data (an edit)."""
    rows = {name: data.get(name) or [] for name in ROWS}
    initial = {k: v for k, v in data.items() if k not in ROWS}
    return initial, rows


# --- logs ----------------------------------------------------------------------------


class LogOptionsForm(forms.Form):
    """The options of a log read, from a page's or the API's query string."""

    pod = forms.CharField(label=_("Pod"), required=False, max_length=253)
    container = forms.CharField(label=_("Container"), required=False, max_length=253)
    tail_lines = forms.IntegerField(
        label=_("Last lines"), required=False, min_value=0, max_value=containers.MAX_TAIL
    )
    since_seconds = forms.IntegerField(
        label=_("Since (seconds ago)"), required=False, min_value=1, max_value=366 * 86400
    )
    since_time = forms.DateTimeField(label=_("Since"), required=False)
    after = forms.RegexField(
        regex=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
        required=False,
        help_text=_("Only lines after this timestamp (the last one seen)."),
    )
    previous = forms.BooleanField(label=_("Previous container"), required=False)
    follow = forms.BooleanField(label=_("Follow"), required=False)
    filter = forms.CharField(label=_("Filter"), required=False, max_length=containers.MAX_PATTERN)
    regex = forms.BooleanField(label=_("Regular expression"), required=False)

    def __init__(self, data=None, *, default_tail: int | None = 1000, **kwargs):
        super().__init__(data, **kwargs)
        self.default_tail = default_tail

    def clean(self):
        data = super().clean()
        try:
            containers.matcher(data.get("filter") or "", bool(data.get("regex")))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["filter"][0]) from None
        return data

    def query(self) -> containers.LogQuery:
        data = self.cleaned_data
        tail = data.get("tail_lines")
        if tail is None and not (data.get("since_seconds") or data.get("since_time")):
            tail = self.default_tail
        return containers.LogQuery(
            container=data.get("container") or "",
            tail_lines=tail,
            since_seconds=data.get("since_seconds"),
            since_time=data.get("since_time"),
            after=data.get("after") or "",
            previous=bool(data.get("previous")),
            follow=bool(data.get("follow")),
            filter=data.get("filter") or "",
            regex=bool(data.get("regex")),
            pod=data.get("pod") or "",
        )
