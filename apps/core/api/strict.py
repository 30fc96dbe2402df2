"""The API's strings are strings.

DRF's CharField reads any number or boolean as its text, so ``{"description": 0}`` was
stored as "0" although the schema says string: a client's mistake (a field swapped, a
template not quoted) passed unnoticed. A JSON value of another type is refused here with
CharField's own "Not a valid string." (form and query data are always text).
"""

from rest_framework import fields

_read = fields.CharField.to_internal_value


def _to_internal_value(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _read(self, data)


def install() -> None:
    fields.CharField.to_internal_value = _to_internal_value
