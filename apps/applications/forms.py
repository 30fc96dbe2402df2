"""Portal forms: a new application, an import (YAML pasted or uploaded), workloads to
associate or detach, and how a delete goes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.configs.forms import PlacedForm, namespace_field
from apps.workloads.models import Workload

from .plan import MAX_BYTES

yaml_widget = forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"})


class ApplicationForm(PlacedForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=63)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.CharField(label=_("Version"), required=False, max_length=100)


class ImportForm(PlacedForm):
    namespace = namespace_field()
    application = forms.CharField(
        label=_("Application"),
        required=False,
        max_length=63,
        help_text=_("Its name; leave empty when the YAML holds an Application object."),
    )
    yaml = forms.CharField(label=_("YAML"), strip=False, required=False, widget=yaml_widget)
    file = forms.FileField(label=_("Or a file"), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than 2 MiB."))
            try:
                data["yaml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        if not (data.get("yaml") or "").strip():
            raise forms.ValidationError(_("Paste the YAML or choose a file."))
        return data


class AddForm(forms.Form):
    yaml = forms.CharField(
        label=_("YAML"),
        strip=False,
        widget=yaml_widget,
        help_text=_("One or more objects: a workload, its Service, its ConfigMap, ..."),
    )


class WorkloadsForm(forms.Form):
    """Workloads of the application's namespace, to bring in or take out."""

    workloads = forms.ModelMultipleChoiceField(
        label=_("Workloads"), queryset=Workload.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workloads"].queryset = (
            choices if choices is not None else Workload.objects.none()
        )
        self.fields["workloads"].label_from_instance = lambda w: f"{w.get_kind_display()} {w.name}"


class GroupForm(PlacedForm):
    """A new application of the workloads chosen in the workload list."""

    namespace = namespace_field()
    name = forms.CharField(label=_("Application name"), max_length=63)
    workloads = forms.ModelMultipleChoiceField(
        label=_("Workloads"), queryset=Workload.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["workloads"].queryset = (
            Workload.objects.restrict(user, "change")
            .filter(application_name="", owner_kind="")
            .order_by("namespace_name", "kind", "name")
        )
        self.fields["workloads"].label_from_instance = lambda w: (
            f"{w.namespace_name}: {w.get_kind_display()} {w.name}"
        )

    def clean(self):
        data = super().clean()
        namespace, chosen = data.get("namespace"), data.get("workloads") or []
        if namespace is not None and any(
            (w.cluster_id, w.namespace_name) != (namespace.cluster_id, namespace.name)
            for w in chosen
        ):
            raise forms.ValidationError(
                _("Choose workloads of the namespace the application goes in.")
            )
        return data


class DeleteForm(forms.Form):
    components = forms.TypedChoiceField(
        label=_("What goes"),
        coerce=lambda value: value == "all",
        choices=[
            ("app", _("Only the application: its workloads and other objects keep running")),
            ("all", _("The application and everything in it (workloads, Services, data claims)")),
        ],
        widget=forms.RadioSelect,
        initial="app",
    )
    confirm = forms.CharField(label=_("Type the application's name to confirm"))

    def __init__(self, *args, name="", **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != self.name:
            raise forms.ValidationError(_("Type %(name)s exactly.") % {"name": self.name})
        return self.cleaned_data["confirm"]
