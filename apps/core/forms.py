from django import forms
from django.utils.translation import gettext_lazy as _


class ConfirmDeleteForm(forms.Form):
    """Confirms a deletion; destructive ones ask the user to type the object's name."""

    confirm_name = forms.CharField(label=_("Type the name to confirm"), required=False)

    def __init__(self, *args, expected: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        if expected is None:
            del self.fields["confirm_name"]
        else:
            self.fields["confirm_name"].required = True
            self.fields["confirm_name"].help_text = _("Type %(name)s to confirm.") % {
                "name": expected
            }

    def clean_confirm_name(self):
        value = self.cleaned_data["confirm_name"]
        if self.expected is not None and value != self.expected:
            raise forms.ValidationError(_("The name does not match."))
        return value


class YamlForm(forms.Form):
    yaml = forms.CharField(
        label=_("YAML"),
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
        strip=False,
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for."))
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for a token that does not expire."),
    )
