"""The types of a manifest, checked against Kubernetes' own schema before it is sent.

A value of the wrong type (``data: {port: 8080}`` in a ConfigMap, ``accessModes:
ReadWriteOnce`` instead of a list) is refused by the API server with a decoding
error that names no field, and made the portal fail before. Here it becomes one
message per field, for every built-in kind, using the JSON schemas of Kubernetes'
OpenAPI definitions (``kubernetes-validate``). Only types are checked: what a value
must be (required fields, formats, ranges) is the API server's to say, in its words.
"""

import functools
import json

import jsonschema
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

VERSION = "1.32"
MAX_ERRORS = 10

TYPE_NAMES = {
    "string": gettext_noop("text"),
    "integer": gettext_noop("a whole number"),
    "number": gettext_noop("a number"),
    "boolean": gettext_noop("true or false"),
    "array": gettext_noop("a list"),
    "object": gettext_noop("a mapping"),
}


@functools.cache
def _validator(api_version: str, kind: str):
    group = api_version.split("/")[0].split(".")[0] + "-" if "/" in api_version else ""
    version = api_version.rsplit("/", 1)[-1]
    base = f"kubernetes-json-schema/v{_schema_version()}-local"
    try:
        schema = kv.schema_contents(f"{base}/{kind.lower()}-{group}{version}.json", VERSION)
    except FileNotFoundError:
        return None  # a custom resource: its schema is the cluster's
    definitions = kv.schema_contents(f"{base}/_definitions.json", VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@functools.cache
def _schema_version() -> str:
    return [v for v in kv.all_versions() if kv.major_minor(v) <= VERSION][-1]


def _path(error) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip(".") or _("(the object)")


def _expected(types) -> str:
    if isinstance(types, str):
        types = [types]
    names = [_(TYPE_NAMES.get(t, t)) for t in types if t != "null"]
    return _(" or ").join(names)


def check(obj: dict) -> None:
    """Raise a ValidationError naming each field whose value has the wrong type."""
    validator = _validator(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if validator is None:
        return
    problems = []
    for error in validator.iter_errors(obj):
        types = _wanted_types(error)
        if types:
            problems.append(
                _("%(field)s must be %(expected)s, not %(value)s.")
                % {
                    "field": _path(error),
                    "expected": _expected(types),
                    "value": json.dumps(error.instance, ensure_ascii=False)[:60],
                }
            )
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise ValidationError(sorted(set(problems)))


def _wanted_types(error) -> list[str]:
    """The types a value should have had, when that is all that is wrong with it.

    A field that may be of several types (a Quantity is text or a number) reports an
    ``anyOf`` whose every branch is a type error.
    """
    if error.validator == "type":
        value = error.validator_value
        return [value] if isinstance(value, str) else list(value)
    if error.context and all(child.validator == "type" for child in error.context):
        return [t for child in error.context for t in _wanted_types(child)]
    return []
