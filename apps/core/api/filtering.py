"""The API's filters say no to what they cannot read.

django-filter reads an empty value as "no filter" and a yes-or-no filter reads anything
but true/false (``?schedulable=null``) as "any": right for the portal's forms, which
send every field, empty or not, but an API client that sends ``?until=`` or a typo
meant something and got the whole list. Here a typed filter (a date, a yes-or-no, a
choice, an object id) given an empty or unreadable value is a 400 naming the
parameter. Free-text filters (search, names, labels) still take an empty value.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation

BLANK = _("This field may not be blank.")
NOT_A_BOOLEAN = _("Must be a valid boolean.")
INVALID = _("Enter a valid value.")


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        filterset.is_valid()  # fills the form's errors and cleaned data
        _refuse_unread(filterset.form)
        if filterset.errors:
            raise translate_validation(filterset.errors)
        return filterset.qs


def _refuse_unread(form) -> None:
    """Add an error for each typed parameter given but read as nothing."""
    for name, field in list(form.fields.items()):
        key = form.add_prefix(name)
        if isinstance(field, forms.CharField) or name in form.errors or key not in form.data:
            continue  # free text takes any value; a refused value has its own message
        if form.data.get(key) == "":
            form.add_error(name, forms.ValidationError(BLANK, code="blank"))
        elif form.cleaned_data.get(name) in (None, "", []):
            message = NOT_A_BOOLEAN if isinstance(field, forms.NullBooleanField) else INVALID
            form.add_error(name, forms.ValidationError(message, code="invalid"))
