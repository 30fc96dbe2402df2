from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from apps.clusters.models import Cluster
from apps.core.authz import Role
from apps.tenancy.models import Project

from .models import Namespace
from .services import COUNT_KEYS, QUOTA_KEYS


class NamespaceChoiceField(forms.ModelChoiceField):
    """A namespace to create something in, named with its cluster ("demo / shop").

    Callers set the queryset to the namespaces the user may work in.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Namespace"))
        super().__init__(queryset=Namespace.objects.none(), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.cluster} / {obj.name}"


def quota_field_name(key: str) -> str:
    """A form field name for a Kubernetes quota key ("requests.cpu" -> "quota_requests_cpu")."""
    return "quota_" + key.replace(".", "_")


class QuotaFieldsMixin:
    """One optional text field per quota key; ``quota()`` gives them back in Kubernetes' keys."""

    def add_quota_fields(self, hard: dict | None = None):
        for key, label in QUOTA_KEYS.items():
            self.fields[quota_field_name(key)] = forms.CharField(
                label=label,
                required=False,
                initial=(hard or {}).get(key, ""),
                help_text=_("A count, e.g. 10")
                if key in COUNT_KEYS
                else (
                    _("Cores, e.g. 2 or 500m")
                    if key.endswith("cpu")
                    else _("Bytes, e.g. 4Gi or 512Mi")
                ),
                widget=forms.TextInput(attrs={"data-quota-key": key}),
            )

    def quota_fields(self):
        return [self[quota_field_name(key)] for key in QUOTA_KEYS]

    def quota(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            key: data[quota_field_name(key)].strip()
            for key in QUOTA_KEYS
            if data.get(quota_field_name(key), "").strip()
        }


class NamespaceForm(QuotaFieldsMixin, forms.Form):
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.none())
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    name = forms.CharField(
        label=_("Name"),
        max_length=63,
        help_text=_("Lower-case letters, digits and hyphens; unique in the cluster."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only clusters the user may see, and projects where they may manage namespaces.
        self.fields["cluster"].queryset = (
            Cluster.objects.restrict(user, "view")
            .filter(status__in=[Cluster.Status.RUNNING, Cluster.Status.DEGRADED])
            .order_by("name")
        )
        self.fields["project"].queryset = Project.objects.restrict(
            user, "manage_namespaces"
        ).order_by("name")
        self.add_quota_fields()

    def main_fields(self):
        return [self["cluster"], self["project"], self["name"]]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "cluster": data["cluster"],
            "project": data["project"],
            "name": data["name"].strip(),
            "quota": self.quota(),
        }


class QuotaForm(QuotaFieldsMixin, forms.Form):
    def __init__(self, *args, namespace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_quota_fields(namespace.quota_hard if namespace is not None else None)


class MembersForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        label=_("Members who may work in this namespace"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The project's admins always may."),
    )

    def __init__(self, *args, namespace=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only members of the namespace's own project; its admins always may work in it.
        self.fields["users"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__project=namespace.project_id, memberships__role=Role.MEMBER
            )
            .order_by("username")
        )


class AssignForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.restrict(
            user, "manage_namespaces"
        ).order_by("name")
