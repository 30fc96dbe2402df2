"""The API's strings are strings, and a blank string is a value.

DRF's CharField reads any number or boolean as its text, so ``{"description": 0}`` was
stored as "0" although the schema says string: a client's mistake (a field swapped, a
template not quoted) passed unnoticed. A JSON value of another type is refused here with
CharField's own "Not a valid string." (form and query data are always text).

In form and multipart bodies DRF reads a blank optional field as "not sent" and puts its
default in, so ``arch=`` created an amd64 cluster although the schema says the string is
never empty. A blank value now goes through the field's own checks, as it does in JSON:
refused ("This field may not be blank.") unless the field allows blanks. A field left
out of the form still gets its default.
"""

from rest_framework import fields
from rest_framework.utils import html

_read = fields.CharField.to_internal_value
_get_value = fields.Field.get_value


def _to_internal_value(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _read(self, data)


def _get_blank_as_value(self, dictionary):
    if (
        html.is_html_input(dictionary)
        and hasattr(self, "allow_blank")
        and not self.allow_null
        and dictionary.get(self.field_name) == ""
    ):
        return ""
    return _get_value(self, dictionary)


def install() -> None:
    fields.CharField.to_internal_value = _to_internal_value
    fields.Field.get_value = _get_blank_as_value
