from django import forms
from django.utils.translation import gettext_lazy as _

from apps.clusters.models import Cluster
from apps.namespaces.forms import NamespaceChoiceField

from .models import ACCESS_MODES, BindingMode, ReclaimPolicy, StorageClass


def parse_parameters(text: str) -> dict[str, str]:
    """``key=value`` lines as a dict (blank lines ignored)."""
    parameters = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(
                _("Line %(n)s: write parameters as name=value.") % {"n": number}
            )
        parameters[key.strip()] = value.strip()
    return parameters


class StorageClassForm(forms.Form):
    cluster = forms.ModelChoiceField(
        label=_("Cluster"),
        queryset=Cluster.objects.filter(
            status__in=[Cluster.Status.RUNNING, Cluster.Status.DEGRADED]
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=253)
    provisioner = forms.CharField(
        label=_("Provisioner"),
        max_length=253,
        help_text=_("The CSI driver that creates the volumes, e.g. ebs.csi.aws.com."),
    )
    parameters = forms.CharField(
        label=_("Parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code"}),
        help_text=_("One name=value per line, passed to the provisioner."),
    )
    reclaim_policy = forms.ChoiceField(
        label=_("Reclaim policy"),
        choices=[c for c in ReclaimPolicy.choices if c[0] != ReclaimPolicy.RECYCLE],
        help_text=_("What happens to a volume when its claim is deleted."),
    )
    volume_binding_mode = forms.ChoiceField(
        label=_("Volume binding mode"), choices=BindingMode.choices
    )
    allow_expansion = forms.BooleanField(label=_("Allow volume expansion"), required=False)
    is_default = forms.BooleanField(
        label=_("Default class of the cluster"),
        required=False,
        help_text=_("Claims that name no class get this one; the previous default is cleared."),
    )

    def clean_parameters(self):
        return parse_parameters(self.cleaned_data["parameters"])


class ClaimForm(forms.Form):
    namespace = NamespaceChoiceField()
    name = forms.CharField(label=_("Name"), max_length=253)
    size = forms.CharField(
        label=_("Size"), initial="1Gi", help_text=_("A quantity such as 512Mi, 1Gi or 100Gi.")
    )
    access_modes = forms.MultipleChoiceField(
        label=_("Access modes"),
        choices=ACCESS_MODES,
        initial=["ReadWriteOnce"],
        widget=forms.CheckboxSelectMultiple,
    )
    storage_class = forms.ChoiceField(label=_("Storage class"), required=False)

    def __init__(self, *args, namespaces, selected=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["namespace"].queryset = namespaces
        classes = StorageClass.objects.filter(
            cluster__in=namespaces.values("cluster") if selected is None else [selected.cluster_id]
        )
        names = sorted(set(classes.values_list("name", flat=True)))
        self.fields["storage_class"].choices = [
            ("", _("The cluster's default")),
            *((name, name) for name in names),
        ]


class ClaimYamlForm(forms.Form):
    namespace = NamespaceChoiceField()
    yaml = forms.CharField(
        label=_("YAML"),
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "code"}),
        strip=False,
    )

    def __init__(self, *args, namespaces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["namespace"].queryset = namespaces


class ExpandForm(forms.Form):
    size = forms.CharField(
        label=_("New size"), help_text=_("More than the claim asks for now, e.g. 20Gi.")
    )
