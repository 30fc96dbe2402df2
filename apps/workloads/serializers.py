"""The wizard's structured body for the API, made from the portal's forms (one definition
of the fields): a form field becomes the serializer field of the same name and kind."""

from django import forms as django_forms
from rest_framework import serializers

from apps.core.api.base import RestrictedRelatedField

from . import forms

# Choice sets used by several fields, named once in the schema (ENUM_NAME_OVERRIDES).
PROBE_TYPES = [value for value, _label in forms.PROBE_TYPES]
HOOK_TYPES = [value for value, _label in forms.HOOK_TYPES]
ACCESS_MODES = [value for value, _label in forms.ClaimRow.base_fields["access_mode"].choices]


def _field(form_field):
    common = {"required": False, "help_text": str(form_field.help_text or "") or None}
    if isinstance(form_field, forms.PairsField):
        return serializers.DictField(child=serializers.CharField(allow_blank=True), **common)
    if isinstance(form_field, forms.LinesField | forms.ValuesField):
        return serializers.ListField(child=serializers.CharField(), **common)
    if isinstance(form_field, django_forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(form_field, django_forms.IntegerField):
        return serializers.IntegerField(
            allow_null=True,
            min_value=form_field.min_value,
            max_value=form_field.max_value,
            **common,
        )
    if isinstance(form_field, django_forms.ChoiceField):
        return serializers.ChoiceField(
            choices=[value for value, _label in form_field.choices], allow_blank=True, **common
        )
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **common)


def _serializer(name: str, form_class, skip=()):
    fields = {key: _field(field) for key, field in form_class().fields.items() if key not in skip}
    return type(name, (serializers.Serializer,), fields)


ROW_SERIALIZERS = {
    list_name: _serializer(f"Wizard{row_form.__name__}", row_form)
    for list_name, (row_form, _extra, _title) in forms.ROWS.items()
}


class WizardSerializer(
    _serializer(
        "WizardFields",
        forms.WizardForm,
        skip=("namespace", "resource_version", "previewed", "registry_secrets"),
    )
):
    """A workload as the create wizard describes it; rows naming a container say which
    (empty: the first)."""

    kind = serializers.ChoiceField(choices=list(forms.KIND_SLUGS.values()))
    name = serializers.CharField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for list_name, row in ROW_SERIALIZERS.items():
            self.fields[list_name] = row(many=True, required=list_name == "containers")


class WizardCreateSerializer(WizardSerializer):
    namespace = RestrictedRelatedField(
        "namespaces.Namespace", action="work", help_text="The namespace to create it in."
    )


class WizardEditSerializer(WizardSerializer):
    kind = serializers.CharField(required=False, help_text="The workload's own; cannot change.")
    name = serializers.CharField(required=False, help_text="The workload's own; cannot change.")
    resource_version = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The version the data was read at (GET); a newer one is refused with 400.",
    )


class PreviewSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    yaml = serializers.CharField()
    manifest = serializers.DictField()
    diff = serializers.CharField(help_text="For an edit: the unified diff against what runs.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The dry run's and the quota's refusals, by the body's field paths "
        "(containers.0.limits_cpu).",
    )
    quota = serializers.ListField(child=serializers.DictField())


def preview_data(preview) -> dict:
    return {
        "ok": preview.ok,
        "yaml": preview.yaml,
        "manifest": preview.manifest,
        "diff": preview.diff,
        "errors": preview.errors,
        "quota": preview.quota,
    }
