"""The one YAML service: every "view/edit YAML" and every import goes through here.

Loading is safe (no Python objects), bounded in size, and guarded against
alias expansion ("billion laughs"). Objects are checked against what the
user may touch: the expected apiVersion, kind, name and namespace, so that
editing YAML can never reach another project's namespace. Exports drop what
the server manages.
"""

import json

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 512 * 1024
MAX_ALIASES = 50
# Expanded size allowed relative to the text: aliases may repeat a little, not explode.
MAX_EXPANSION = 4
# How deeply values may nest; Kubernetes objects (CRD schemas included) stay far below it,
# and deeper input would exhaust Python's recursion limit somewhere on its way.
MAX_DEPTH = 100

# Fields Kubernetes sets itself; an export leaves them out, an edit sends none of them
# back except resourceVersion (which makes a stale edit fail instead of overwriting).
SERVER_FIELDS = ("managedFields", "uid", "selfLink", "creationTimestamp", "generation")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class _Loader(yaml.SafeLoader):
    """A SafeLoader that counts aliases, so a document cannot multiply itself."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.alias_count = getattr(self, "alias_count", 0) + 1
            if self.alias_count > MAX_ALIASES:
                raise ValidationError(
                    _("The YAML uses too many aliases (at most %(n)s).") % {"n": MAX_ALIASES}
                )
        self.depth = getattr(self, "depth", 0) + 1
        if self.depth > MAX_DEPTH:
            raise ValidationError(too_deep())
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def too_deep() -> str:
    return _("The values nest too deeply (at most %(n)s levels).") % {"n": MAX_DEPTH}


def check_depth(value, limit: int = MAX_DEPTH) -> None:
    """Refuse ``value`` (parsed JSON or YAML) nesting more than ``limit`` levels."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise ValidationError(too_deep())
        stack.extend((child, depth + 1) for child in children)


def _size(value, budget: int) -> int:
    """The JSON size of ``value``, giving up as soon as it passes ``budget``."""
    stack, total = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += 2
            for key, child in item.items():
                total += len(str(key)) + 4
                stack.append(child)
        elif isinstance(item, list):
            total += 2
            stack.extend(item)
        else:
            total += len(str(item)) + 1
        if total > budget:
            raise ValidationError(
                _("The YAML expands to far more than its size; aliases are limited.")
            )
    return total


def load_all(text: str, *, max_bytes: int = MAX_BYTES) -> list[dict]:
    """Every document of ``text`` as a dict; ValidationError that says where it is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text.encode()) > max_bytes:
        raise ValidationError(
            _("The YAML is too large (at most %(kb)s KiB).") % {"kb": max_bytes // 1024}
        )
    try:
        documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            _(" at line %(line)s, column %(column)s")
            % {"line": mark.line + 1, "column": mark.column + 1}
            if mark
            else ""
        )
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(
            _("The YAML is not valid%(where)s: %(problem)s.") % {"where": where, "problem": problem}
        ) from None
    for document in documents:
        if not isinstance(document, dict):
            raise ValidationError(_("Each YAML document must be a Kubernetes object (a mapping)."))
        _size(document, max(max_bytes, len(text)) * MAX_EXPANSION)
    return documents


def load(text: str, **options) -> dict:
    documents = load_all(text, **options)
    if len(documents) != 1:
        raise ValidationError(_("Give exactly one object (found %(n)s).") % {"n": len(documents)})
    return documents[0]


def check(
    obj: dict, *, api_version: str, kind: str, namespace: str | None = None, name: str | None = None
) -> dict:
    """Enforce what this object must be; a missing namespace is filled in.

    ``namespace`` None means cluster-scoped. ``name`` set means an edit of
    that object, whose name cannot change.
    """
    errors = []
    if obj.get("apiVersion") != api_version:
        errors.append(_("apiVersion must be %(v)s.") % {"v": api_version})
    if obj.get("kind") != kind:
        errors.append(_("kind must be %(k)s.") % {"k": kind})
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ValidationError(_("metadata must be a mapping."))
    if namespace is None:
        if metadata.get("namespace"):
            errors.append(_("A %(k)s has no namespace.") % {"k": kind})
    else:
        metadata.setdefault("namespace", namespace)
        if metadata["namespace"] != namespace:
            errors.append(
                _("This object must stay in namespace %(ns)s; you cannot move it to %(other)s.")
                % {"ns": namespace, "other": metadata["namespace"]}
            )
    if name is not None and metadata.get("name") != name:
        errors.append(_("The name cannot change (it is %(name)s).") % {"name": name})
    if not metadata.get("name") and not metadata.get("generateName"):
        errors.append(_("metadata.name is required."))
    if errors:
        raise ValidationError(errors)
    return obj


def for_export(obj: dict) -> dict:
    """The object without what the server manages: re-creatable elsewhere."""
    obj = json.loads(json.dumps(obj))
    obj.pop("status", None)
    metadata = obj.get("metadata", {})
    for field in (*SERVER_FIELDS, "resourceVersion"):
        metadata.pop(field, None)
    annotations = metadata.get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        metadata.pop("annotations", None)
    return obj


def for_edit(obj: dict) -> dict:
    """The object to show in an editor: like an export, but keeping resourceVersion."""
    version = obj.get("metadata", {}).get("resourceVersion")
    edited = for_export(obj)
    if version:
        edited["metadata"]["resourceVersion"] = version
    return edited


def dump(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, default_flow_style=False)


def dump_all(objs: list[dict]) -> str:
    """Many objects as one multi-document YAML (``---`` between them)."""
    return yaml.safe_dump_all(
        objs, sort_keys=False, allow_unicode=True, default_flow_style=False, explicit_start=True
    )
