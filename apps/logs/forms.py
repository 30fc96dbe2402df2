from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services

FIELD_HELP = _("Exact name, or a prefix ending with *.")


class LogSearchForm(forms.Form):
    """The log centre's query, as a GET form; ``query`` is the store's LogQuery once valid."""

    q = forms.CharField(
        label=_("Keywords"),
        required=False,
        strip=False,
        help_text=_('AND (implied), OR, NOT or -word, "a phrase", (grouping).'),
    )
    cluster = forms.ChoiceField(label=_("Cluster"), required=False)
    namespace = forms.CharField(label=_("Namespace"), required=False, help_text=FIELD_HELP)
    workload = forms.CharField(label=_("Workload"), required=False, help_text=FIELD_HELP)
    pod = forms.CharField(label=_("Pod"), required=False, help_text=FIELD_HELP)
    container = forms.CharField(label=_("Container"), required=False, help_text=FIELD_HELP)
    range = forms.ChoiceField(
        label=_("Time range"),
        required=False,
        initial="1h",
        choices=[
            ("15m", _("Last 15 minutes")),
            ("1h", _("Last hour")),
            ("6h", _("Last 6 hours")),
            ("24h", _("Last 24 hours")),
            ("7d", _("Last 7 days")),
            ("custom", _("From … to …")),
        ],
    )
    start = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=_("To"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        names = services.readable_clusters(user).values_list("name", flat=True)
        self.fields["cluster"].choices = [("", _("All clusters"))] + [(n, n) for n in names]
        self.query = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        custom = data.get("range") == "custom"
        try:
            self.query = services.build_query(
                self.user,
                cluster=data.get("cluster") or "",
                namespace=data.get("namespace") or "",
                workload=data.get("workload") or "",
                pod=data.get("pod") or "",
                container=data.get("container") or "",
                q=data.get("q") or "",
                range=(data.get("range") or "1h") if not custom else "",
                start=data.get("start") if custom else None,
                end=data.get("end") if custom else None,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(label=_("Keep logs for (days)"), min_value=1, max_value=365)
