"""Portal forms: the key/value editor (rows of key, value or uploaded file), Secret forms
per type, and creation from YAML."""

import base64

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.namespaces.forms import NamespaceChoiceField
from apps.namespaces.models import Namespace

from .models import Secret

MAX_FILE = 1024 * 1024  # Kubernetes refuses objects over ~1 MiB anyway


def namespace_field():
    return NamespaceChoiceField(help_text=_("The namespaces you may work in."))


class PlacedForm(forms.Form):
    """A form that creates an object: which namespace, what name."""

    placed = True

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "namespace" in self.fields:
            self.fields["namespace"].queryset = (
                Namespace.objects.restrict(user, "work")
                .exclude(phase="Terminating")
                .select_related("cluster")
                .order_by("cluster__name", "name")
            )


# --- the key/value editor -------------------------------------------------------------


class KeyValueRow(forms.Form):
    key = forms.CharField(label=_("Key"), required=False, max_length=253)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
    )
    file = forms.FileField(label=_("Or a file"), required=False)

    def clean_value(self):
        # Browsers send a textarea's line breaks as CRLF; configuration files want LF.
        return self.cleaned_data["value"].replace("\r\n", "\n")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_FILE:
            raise forms.ValidationError(_("The file is larger than 1 MiB."))
        return upload


class KeyValueFormSet(forms.BaseFormSet):
    """Rows of key/value; a file replaces the typed value and names the key if none is given."""

    keep_blank = False  # a Secret's row with a key and no value keeps the current value

    def entries(self):
        """(key, value or bytes or None) for each row kept, in order."""
        result = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            upload = data.get("file")
            key = (data.get("key") or "").strip() or (upload.name if upload else "")
            if upload:
                upload.seek(0)
                value = upload.read()
            elif data.get("value"):
                value = data["value"]
            else:
                value = None
            if key or value:
                result.append((key, value))
        return result

    def clean(self):
        if any(self.errors):
            return
        seen, problems = set(), []
        for key, value in self.entries():
            if not key:
                problems.append(_("Give each value a key."))
            elif key in seen:
                problems.append(_("The key %(key)s is used twice.") % {"key": key})
            elif value is None and not self.keep_blank:
                problems.append(_("Give %(key)s a value.") % {"key": key})
            seen.add(key)
        if problems:
            raise forms.ValidationError(problems)


class KeyValueForm(PlacedForm):
    """A form whose values are a formset of key/value rows (``self.rows``)."""

    rows_prefix = "data"
    keep_blank = False

    def __init__(self, *args, rows=(), extra=1, **kwargs):
        super().__init__(*args, **kwargs)
        formset_class = forms.formset_factory(
            KeyValueRow, formset=KeyValueFormSet, extra=extra, can_delete=True
        )
        formset_class.keep_blank = self.keep_blank
        self.rows = formset_class(
            self.data if self.is_bound else None,
            self.files if self.is_bound else None,
            initial=list(rows) or None,
            prefix=self.rows_prefix,
        )

    def is_valid(self):
        rows_valid = self.rows.is_valid()
        return super().is_valid() and rows_valid

    def split(self):
        """Text values and binary ones (uploads that are not UTF-8 text)."""
        text, binary = {}, {}
        for key, value in self.rows.entries():
            if isinstance(value, bytes):
                try:
                    text[key] = value.decode()
                except UnicodeDecodeError:
                    binary[key] = value
            elif value is not None:
                text[key] = value
        return text, binary

    def posted_rows(self):
        """The rows as typed, to show again with one more (no-JS "Add row")."""
        total = self.data.get(f"{self.rows_prefix}-TOTAL_FORMS", "0")
        rows = []
        for i in range(int(total) if str(total).isdigit() else 0):
            key = self.data.get(f"{self.rows_prefix}-{i}-key", "")
            value = self.data.get(f"{self.rows_prefix}-{i}-value", "")
            if key or value:
                rows.append({"key": key, "value": value})
        return rows


class ConfigMapForm(KeyValueForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=253)


class ConfigMapEditForm(KeyValueForm):
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)
    remove_binary = forms.MultipleChoiceField(
        label=_("Remove binary keys"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, binary_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        if binary_keys:
            self.fields["remove_binary"].choices = [(k, k) for k in binary_keys]
        else:
            del self.fields["remove_binary"]


def decoded_binary(configmap, removed=()) -> dict[str, bytes]:
    binary = (configmap.manifest or {}).get("binaryData") or {}
    return {k: base64.b64decode(v) for k, v in binary.items() if k not in removed}


# --- Secrets ------------------------------------------------------------------------


class OpaqueSecretForm(KeyValueForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=253)

    def values(self) -> dict:
        return {key: value for key, value in self.rows.entries() if value is not None}


class OpaqueSecretEditForm(OpaqueSecretForm):
    """Existing keys are listed without their values: leave a value empty to keep it."""

    keep_blank = True
    namespace = None
    name = None
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def removed(self, existing) -> list[str]:
        kept = {key for key, _value in self.rows.entries()}
        return sorted(set(existing) - kept)


class RegistrySecretForm(PlacedForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=253)
    server = forms.CharField(
        label=_("Registry server"), help_text=_("For example registry.example.com.")
    )
    username = forms.CharField(label=_("User name"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    email = forms.EmailField(label=_("Email"), required=False)

    def credentials(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("server", "username", "password", "email")}


class RegistrySecretEditForm(RegistrySecretForm):
    namespace = None
    name = None
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)


def _pem_field(label, help_text):
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
    )


class TlsSecretForm(PlacedForm):
    namespace = namespace_field()
    name = forms.CharField(label=_("Name"), max_length=253)
    certificate = _pem_field(_("Certificate"), _("PEM, the server certificate first."))
    certificate_file = forms.FileField(label=_("Or a certificate file"), required=False)
    private_key = _pem_field(_("Private key"), _("PEM, without a passphrase."))
    private_key_file = forms.FileField(label=_("Or a key file"), required=False)

    def pair(self) -> dict:
        data = self.cleaned_data
        pair = {}
        for field in ("certificate", "private_key"):
            upload = data.get(f"{field}_file")
            if upload:
                upload.seek(0)
            pair[field] = upload.read() if upload else data.get(field) or ""
        return pair


class TlsSecretEditForm(TlsSecretForm):
    namespace = None
    name = None
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)


CREATE_FORMS = {
    "opaque": (Secret.Type.OPAQUE, OpaqueSecretForm),
    "registry": (Secret.Type.DOCKERCONFIGJSON, RegistrySecretForm),
    "tls": (Secret.Type.TLS, TlsSecretForm),
}
EDIT_FORMS = {
    Secret.Type.OPAQUE: OpaqueSecretEditForm,
    Secret.Type.DOCKERCONFIGJSON: RegistrySecretEditForm,
    Secret.Type.TLS: TlsSecretEditForm,
}


class YamlCreateForm(PlacedForm):
    namespace = namespace_field()
    yaml = forms.CharField(
        label=_("YAML"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
    )
