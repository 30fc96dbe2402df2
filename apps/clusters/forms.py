from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.kube.client import InvalidKubeconfig, parse_kubeconfig

from . import providers, services
from .models import Cluster

CONTROL_PLANES = [(1, _("1 (single control plane)")), (3, _("3 (high availability)"))]
ARCHES = [(arch, arch) for arch in services.ARCHITECTURES]


def kubeconfig_contexts(text: str) -> list[str]:
    """The context names of a kubeconfig, or none when it cannot be read (yet)."""
    try:
        return providers.kubeconfig.contexts(parse_kubeconfig(text)) if text.strip() else []
    except InvalidKubeconfig:
        return []


def read_upload(upload) -> str | None:
    try:
        return upload.read().decode()
    except UnicodeDecodeError:
        return None


class ClusterForm(forms.Form):
    """Step two of the wizard: the fields that the chosen provider needs."""

    name = forms.CharField(
        label=_("Name"),
        max_length=63,
        help_text=_("Lower-case letters, digits and '-'; unique among live clusters."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.ChoiceField(label=_("Kubernetes version"))
    control_plane_nodes = forms.TypedChoiceField(
        label=_("Control-plane nodes"),
        choices=CONTROL_PLANES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
    )
    workers = forms.IntegerField(
        label=_("Workers"), min_value=0, max_value=services.MAX_WORKERS, initial=2
    )
    zones = forms.CharField(
        label=_("Availability zones"),
        required=False,
        help_text=_("Comma-separated, e.g. zone-a, zone-b; nodes are spread across them."),
    )
    arch = forms.ChoiceField(label=_("CPU architecture"), choices=ARCHES, initial="amd64")
    kubeconfig = forms.CharField(
        label=_("Kubeconfig"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=_("Paste it here, or upload the file below."),
    )
    kubeconfig_file = forms.FileField(label=_("Kubeconfig file"), required=False)
    context = forms.CharField(
        label=_("Context"),
        required=False,
        widget=forms.Select,
        help_text=_("Which of the kubeconfig's contexts to use."),
    )

    SHAPE = ("version", "control_plane_nodes", "workers", "zones", "arch")
    IMPORT = ("kubeconfig", "kubeconfig_file", "context")

    def __init__(self, *args, provider: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = providers.get(provider)
        unused = self.SHAPE if provider == "kubeconfig" else self.IMPORT
        for name in unused:
            del self.fields[name]
        if "version" in self.fields:
            self.fields["version"].choices = [(v, v) for v in self.provider.versions]
        if "context" in self.fields:
            self.set_contexts(self.data.get("kubeconfig", "") if self.is_bound else "")
            # The context choice follows what is pasted or uploaded (HTMX re-renders it).
            refresh = {
                "hx-post": reverse("portal:cluster_kubeconfig_contexts"),
                "hx-target": "#context-field",
                "hx-swap": "outerHTML",
            }
            self.fields["kubeconfig"].widget.attrs.update(
                refresh, **{"hx-trigger": "input changed delay:500ms"}
            )
            self.fields["kubeconfig_file"].widget.attrs.update(
                refresh, **{"hx-trigger": "change", "hx-encoding": "multipart/form-data"}
            )

    def set_contexts(self, text: str) -> None:
        choices = [("", _("The kubeconfig's current context"))]
        self.fields["context"].widget.choices = choices + [
            (name, name) for name in kubeconfig_contexts(text)
        ]

    def clean_zones(self):
        return [zone.strip() for zone in self.cleaned_data["zones"].split(",") if zone.strip()]

    def clean(self):
        data = super().clean()
        if self.provider.name != "kubeconfig":
            return data
        upload = data.get("kubeconfig_file")
        if upload:
            data["kubeconfig"] = read_upload(upload)
            if data["kubeconfig"] is None:
                self.add_error("kubeconfig_file", _("The file is not a text kubeconfig."))
                return data
            # Show the uploaded text in the field, so that nothing has to be uploaded again.
            self.data = self.data.copy()
            self.data["kubeconfig"] = data["kubeconfig"]
            self.set_contexts(data["kubeconfig"])
        if not data.get("kubeconfig", "").strip():
            self.add_error("kubeconfig", _("Paste a kubeconfig or upload its file."))
        return data

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("kubeconfig_file", None)
        return {**data, "provider": self.provider.name}


class ClusterEditForm(forms.ModelForm):
    prometheus_url = forms.URLField(
        label=_("Prometheus URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "Charts come from this Prometheus (it scrapes the kubelets' cadvisor and "
            "resource metrics); empty: from the portal's own sampler."
        ),
    )
    # not a model field of the form: the stored secret is never put back into the page
    prometheus_secret = forms.CharField(
        label=_("Prometheus password or token"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "With a user: the basic-auth password; without: a bearer token. Leave empty to "
            "keep the stored one."
        ),
    )
    clear_prometheus_secret = forms.BooleanField(
        label=_("Remove the stored password or token"), required=False
    )

    class Meta:
        model = Cluster
        fields = ["display_name", "description", "prometheus_url", "prometheus_username"]

    def changes(self) -> dict:
        """What to hand to the service: the secret only when it is set or cleared."""
        data = dict(self.cleaned_data)
        secret = data.pop("prometheus_secret", "")
        if data.pop("clear_prometheus_secret", False):
            data["prometheus_secret"] = ""
        elif secret:
            data["prometheus_secret"] = secret
        return data


class ScaleOutForm(forms.Form):
    workers = forms.IntegerField(
        label=_("Workers to add"), min_value=1, max_value=services.MAX_WORKERS, initial=1
    )
    zone = forms.ChoiceField(label=_("Zone"), required=False)
    new_zone = forms.CharField(
        label=_("New zone"),
        max_length=100,
        required=False,
        help_text=_("To add the workers in a zone the cluster does not use yet."),
    )
    arch = forms.ChoiceField(label=_("CPU architecture"), choices=ARCHES, initial="amd64")

    def __init__(self, *args, cluster, **kwargs):
        super().__init__(*args, **kwargs)
        # No zone: the provider spreads the workers over the cluster's zones, as at creation.
        anywhere = _("Spread over the cluster's zones") if cluster.zones else _("No zone")
        self.fields["zone"].choices = [("", anywhere)] + [(z, z) for z in cluster.zones]
        if cluster.architectures:
            self.fields["arch"].initial = cluster.architectures[0]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        zone = data["new_zone"].strip() or data["zone"]
        return {"workers": data["workers"], "zone": zone, "arch": data["arch"]}


class DrainForm(forms.Form):
    """The options of a drain, as kubectl drain's --force and --delete-emptydir-data."""

    force = forms.BooleanField(
        label=_("Force"),
        required=False,
        help_text=_("Also evict pods no controller manages: nothing recreates them."),
    )
    delete_emptydir_data = forms.BooleanField(
        label=_("Delete emptyDir data"),
        required=False,
        help_text=_("Also evict pods with emptyDir volumes: the data in them is lost."),
    )


# --- node labels and taints: editable rows --------------------------------------------


class LabelRow(forms.Form):
    key = forms.CharField(label=_("Key"), max_length=317, required=False)
    value = forms.CharField(label=_("Value"), max_length=63, required=False)


TAINT_EFFECTS = [("", "—")] + [(effect, effect) for effect in services.TAINT_EFFECTS]


class TaintRow(forms.Form):
    key = forms.CharField(label=_("Key"), max_length=317, required=False)
    value = forms.CharField(label=_("Value"), max_length=63, required=False)
    effect = forms.ChoiceField(label=_("Effect"), choices=TAINT_EFFECTS, required=False)


class RowsFormSet(forms.BaseFormSet):
    """Rows with an empty key are left out; a key may appear once (per effect)."""

    unique = ("key",)

    def rows(self) -> list[dict]:
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data.get("key") and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for row in self.rows():
            identity = tuple(row.get(field) for field in self.unique)
            if identity in seen:
                raise forms.ValidationError(_("%(key)s appears twice.") % {"key": row["key"]})
            seen.add(identity)


class TaintRowsFormSet(RowsFormSet):
    unique = ("key", "effect")


class RowsForm(forms.Form):
    """A form whose content is a formset of rows (key/value pairs, taints)."""

    formset_class = None
    prefix_name = ""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = self.formset_class(
            self.data if self.is_bound else None, initial=rows, prefix=self.prefix_name
        )

    def is_valid(self):
        rows_valid = self.rows.is_valid()
        return super().is_valid() and rows_valid


class LabelsForm(RowsForm):
    formset_class = forms.formset_factory(LabelRow, formset=RowsFormSet, extra=2, can_delete=True)
    prefix_name = "labels"

    def labels(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.rows.rows()}


class TaintsForm(RowsForm):
    formset_class = forms.formset_factory(
        TaintRow, formset=TaintRowsFormSet, extra=1, can_delete=True
    )
    prefix_name = "taints"

    def taints(self) -> list[dict]:
        return self.rows.rows()
