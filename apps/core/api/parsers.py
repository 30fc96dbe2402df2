"""The API's JSON parser: DRF's, bounded in nesting depth.

A body nested thousands of levels deep exhausts Python's recursion limit in the
decoder (or later, in whatever walks it); it is answered as a 400, like any body
that is not the JSON the endpoint takes.
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core import yaml as kyaml


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(kyaml.too_deep()) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        try:
            kyaml.check_depth(data)
        except ValidationError as exc:
            raise ParseError(exc.messages[0]) from None
        return data


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")
