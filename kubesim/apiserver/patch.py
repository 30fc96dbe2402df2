"""Patch and apply semantics of the kubesim apiserver, as Kubernetes has them.

- merge_patch: RFC 7386 JSON merge patch (application/merge-patch+json).
- json_patch: RFC 6902 JSON patch (application/json-patch+json), with the error
  messages of the json-patch library the apiserver uses.
- strategic_merge_patch: Kubernetes' strategic merge patch
  (application/strategic-merge-patch+json), built-in kinds only (supports_strategic).
- server_side_apply: application/apply-patch+yaml, with field managers and conflicts.
- record_update: the managedFields bookkeeping of every other write.

All functions take and return plain JSON objects and never mutate their inputs
(record_update excepted: it fills in new["metadata"]["managedFields"]).
"""

from __future__ import annotations

import copy

from kubesim.apiserver import apply as applying
from kubesim.apiserver import managedfields
from kubesim.apiserver.managedfields import PatchError, canonical, path_order, path_string, same
from kubesim.apiserver.mergekeys import child_path, schema_for, supports_strategic

__all__ = [
    "UNSUPPORTED_STRATEGIC_MESSAGE",
    "ApplyConflict",
    "PatchError",
    "fields_set",
    "json_patch",
    "merge_patch",
    "record_update",
    "server_side_apply",
    "strategic_merge_patch",
    "supports_strategic",
]

# The 415 message Kubernetes gives a strategic merge patch of a custom resource.
UNSUPPORTED_STRATEGIC_MESSAGE = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


# --- JSON merge patch -----------------------------------------------------------


def merge_patch(obj: dict, patch: dict) -> dict:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    target = copy.deepcopy(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


# --- JSON patch -----------------------------------------------------------------


def _pointer(path, what="path"):
    if not isinstance(path, str):
        raise PatchError(f"operation missing {what} field: missing value")
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path!r}')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _list_index(container: list, part: str, path: str, adding: bool = False) -> int:
    invalid = PatchError(f"Unable to access invalid index: {part}: invalid index referenced")
    if adding and part == "-":
        return len(container)
    try:
        index = int(part)
    except ValueError:
        raise invalid from None
    if index < 0:
        index += len(container)
    limit = len(container) + (1 if adding else 0)
    if not 0 <= index < limit or (part.startswith("0") and part != "0"):
        raise invalid
    return index


def _parent(doc, tokens):
    """The container holding the last token, or None when the path does not exist."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            try:
                index = int(token)
            except ValueError:
                return None
            if not 0 <= index < len(node):
                return None
            node = node[index]
        else:
            return None
    return node if isinstance(node, dict | list) else None


def _get(doc, tokens):
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    key = tokens[-1]
    if isinstance(parent, dict):
        return parent.get(key, managedfields.MISSING)
    if isinstance(parent, list):
        try:
            index = int(key)
        except ValueError:
            return managedfields.MISSING
        if 0 <= index < len(parent):
            return parent[index]
    return managedfields.MISSING


def _add(root, tokens, value, path):
    if not tokens:
        root[0] = value
        return
    parent = _parent(root[0], tokens)
    if parent is None:
        raise PatchError(
            f'add operation does not apply: doc is missing path: "{path}": missing value'
        )
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    else:
        parent.insert(_list_index(parent, tokens[-1], path, adding=True), value)


def _remove(root, tokens, path):
    if not tokens:
        raise PatchError(f'remove operation does not apply: doc is missing path: "{path}"')
    parent = _parent(root[0], tokens)
    if parent is None:
        raise PatchError(
            f'remove operation does not apply: doc is missing path: "{path}": missing value'
        )
    key = tokens[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(
                f"error in remove for path: '{path}': "
                f"Unable to remove nonexistent key: {key}: missing value"
            )
        return parent.pop(key)
    try:
        index = _list_index(parent, key, path)
    except PatchError as error:
        raise PatchError(f"error in remove for path: '{path}': {error.message}") from None
    return parent.pop(index)


def json_patch(obj: dict, ops: list) -> dict:
    """RFC 6902 JSON patch; any failing operation fails the whole patch."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    root = [copy.deepcopy(obj)]
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError(
                "json: cannot unmarshal into Go value of type jsonpatch.Operation", 400
            )
        kind = op.get("op")
        path = op.get("path")
        tokens = _pointer(path)
        if kind == "add":
            _add(root, tokens, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            _remove(root, tokens, path)
        elif kind == "replace":
            if tokens:
                parent = _parent(root[0], tokens)
                if parent is None:
                    raise PatchError(
                        f"replace operation does not apply: doc is missing path: {path}: "
                        "missing value"
                    )
                if _get(root[0], tokens) is managedfields.MISSING:
                    raise PatchError(
                        f"replace operation does not apply: doc is missing key: {path}: "
                        "missing value"
                    )
                _remove(root, tokens, path)
            _add(root, tokens, copy.deepcopy(op.get("value")), path)
        elif kind in ("move", "copy"):
            source = op.get("from")
            from_tokens = _pointer(source, "from")
            value = _get(root[0], from_tokens)
            if value is managedfields.MISSING:
                raise PatchError(
                    f"{kind} operation does not apply: doc is missing from path: {source}: "
                    "missing value"
                )
            if kind == "move":
                if tokens[: len(from_tokens)] == from_tokens and tokens != from_tokens:
                    raise PatchError(
                        f"move operation does not apply: {path} is a child of {source}"
                    )
                if from_tokens:
                    _remove(root, from_tokens, source)
            _add(root, tokens, copy.deepcopy(value), path)
        elif kind == "test":
            value = _get(root[0], tokens)
            expected = op.get("value")
            if value is managedfields.MISSING:
                value = None
            if not same(value, expected):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return root[0]


# --- strategic merge patch ------------------------------------------------------

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_SET_ORDER = "$setElementOrder/"


def _go(value) -> str:
    """Go's %v of a decoded JSON value, for error messages that quote the patch."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def strategic_merge_patch(obj: dict, patch: dict, api_version: str, kind: str) -> dict:
    """Kubernetes' strategic merge patch for a built-in kind."""
    if not isinstance(patch, dict):
        raise PatchError("invalid JSON document", 400)
    schema = schema_for(api_version, kind)
    return _smp_map(copy.deepcopy(obj), copy.deepcopy(patch), schema, "")


def _smp_map(original, patch, schema, spath):
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == "replace":
            patch.pop(_DIRECTIVE)
            return _smp_map({}, patch, schema, spath)
        if directive == "delete":
            return {}
        # Kubernetes accepts `$patch: merge` only in lists, and not even there.
        raise PatchError(f"Unknown patch type: {directive} in map: {_go(patch)}", 500)
    if not isinstance(original, dict):
        original = {}
    if _RETAIN_KEYS in patch:
        retain = patch.pop(_RETAIN_KEYS)
        if not isinstance(retain, list):
            raise PatchError("invalid patch format of retainKeys", 400)
        for key, value in patch.items():
            if value is None or key.startswith((_DELETE_FROM, _SET_ORDER)):
                continue
            if key not in retain:
                raise PatchError("invalid patch format of retainKeys", 400)
        original = {k: v for k, v in original.items() if k in retain}
    for key in [k for k in patch if k.startswith(_SET_ORDER)]:
        _set_element_order(original, patch, key, schema, spath)
    for key, value in patch.items():
        deleting = key.startswith(_DELETE_FROM)
        if deleting:
            key = key[len(_DELETE_FROM) :]
            if not isinstance(value, list):
                raise PatchError("invalid patch format of primitive list", 400)
        elif key.startswith("$"):
            continue
        sub = child_path(spath, key)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original:
            if not deleting:
                original[key] = _clean(value, schema, sub)
            continue
        current = original[key]
        if isinstance(current, dict) and isinstance(value, dict):
            original[key] = _smp_map(current, value, schema, sub)
        elif isinstance(current, list) and isinstance(value, list):
            original[key] = _smp_list(current, value, schema, sub, deleting)
        elif not deleting:
            original[key] = _clean(value, schema, sub)
    return original


def _clean(value, schema, spath):
    """A patch value added where nothing was: directives and nulls removed."""
    if isinstance(value, dict):
        return _smp_map({}, value, schema, spath)
    if isinstance(value, list):
        return _smp_list([], value, schema, spath, False)
    return value


def _element_kind(original, patch):
    kinds = {type(v) for v in (*original, *patch)}
    if list in kinds:
        raise PatchError("lists of lists are not supported", 422)
    if len(kinds) > 1 and dict in kinds:
        raise PatchError(f"list element types are not identical: {_go([original, patch])}", 500)
    return dict if dict in kinds else None


def _smp_list(original, patch, schema, spath, deleting):
    rule = schema.list_rule(spath)
    if deleting:
        drop = {canonical(v) for v in patch}
        return [v for v in original if canonical(v) not in drop]
    if rule.smp != "merge":
        return [_clean(v, schema, spath + "[]") if isinstance(v, dict) else v for v in patch]
    if not original and not patch:
        return original
    if _element_kind(original, patch) is not dict:
        merged = _dedupe([*original, *patch])
        return _order(merged, patch, original, None)
    key = rule.smp_key
    replace = False
    plain = []
    for item in patch:
        directive = item.get(_DIRECTIVE)
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise PatchError(
                    f"map: {_go(item)} does not contain declared merge key: {key}", 500
                )
            original = [o for o in original if not same(o.get(key), item[key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch", 500)
        else:
            raise PatchError(f"Unknown patch type: {directive} in map: {_go(item)}", 500)
    if replace:
        original, plain = [_clean(item, schema, spath + "[]") for item in plain], []
    merged = list(original)
    for item in plain:
        if key not in item:
            raise PatchError(f"map: {_go(item)} does not contain declared merge key: {key}", 500)
        for index, existing in enumerate(merged):
            if same(existing.get(key, managedfields.MISSING), item[key]):
                merged[index] = _smp_map(existing, item, schema, spath + "[]")
                break
        else:
            merged.append(_clean(item, schema, spath + "[]"))
    return _order(merged, plain, original, key)


def _dedupe(values):
    seen, out = set(), []
    for value in values:
        mark = canonical(value)
        if mark not in seen:
            seen.add(mark)
            out.append(value)
    return out


def _position(items, item, key):
    for index, candidate in enumerate(items):
        if key is None:
            if same(candidate, item):
                return index
        elif isinstance(candidate, dict) and same(
            candidate.get(key, managedfields.MISSING), item.get(key)
        ):
            return index
    return -1


def _order(merged, order, server_order, key):
    """Kubernetes' element order: the patch's items in patch (or $setElementOrder)
    order, interleaved with the server-only items in live order."""
    in_patch = [m for m in merged if _position(order, m, key) >= 0]
    server_only = [m for m in merged if _position(order, m, key) < 0]
    in_patch.sort(key=lambda m: _position(order, m, key))
    server_only.sort(
        key=lambda m: (_position(server_order, m, key) < 0, _position(server_order, m, key))
    )
    out, i, j = [], 0, 0
    while i < len(server_only) or j < len(in_patch):
        if i >= len(server_only):
            out.append(in_patch[j])
            j += 1
        elif j >= len(in_patch):
            out.append(server_only[i])
            i += 1
        else:
            left = _position(server_order, server_only[i], key)
            right = _position(server_order, in_patch[j], key)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(in_patch[j])
                j += 1
    return out


def _set_element_order(original, patch, directive_key, schema, spath):
    order = patch.pop(directive_key)
    name = directive_key[len(_SET_ORDER) :]
    if not isinstance(order, list) or not name:
        raise PatchError("invalid patch format of setElementOrder list", 400)
    sub = child_path(spath, name)
    rule = schema.list_rule(sub)
    key = rule.smp_key if rule.smp == "merge" else None
    current = original.get(name)
    if not isinstance(current, list):
        current = None
    if name in patch and isinstance(patch[name], list):
        incoming = patch.pop(name)
        merged = _smp_list(current or [], incoming, schema, sub, False)
    elif current is not None:
        merged = current
    else:
        return
    if key is not None and any(not isinstance(item, dict) or key not in item for item in order):
        raise PatchError("invalid patch format of setElementOrder list", 400)
    if key is None and any(isinstance(item, dict) for item in merged):
        key = rule.smp_key
    original[name] = _order(merged, order, current or [], key)


# --- managed fields and server-side apply ---------------------------------------


class ApplyConflict(Exception):
    """Server-side apply changed fields other managers own (HTTP 409 Conflict).

    `conflicts` lists (field path, manager name); `causes` are the Status details
    causes Kubernetes sends (type FieldManagerConflict).
    """

    def __init__(self, conflicts: list[tuple[str, str]], message: str, causes: list[dict]):
        super().__init__(message)
        self.conflicts = conflicts
        self.message = message
        self.causes = causes


def _conflict(found) -> ApplyConflict:
    found = sorted(found, key=lambda c: (c[2], path_order(c[0])))
    labels = {}
    for path, _key, label in found:
        labels.setdefault(label, []).append(path_string(path))
    if len(found) == 1:
        path, _key, label = found[0]
        message = f"Apply failed with 1 conflict: conflict with {label}: {path_string(path)}"
    else:
        lines = []
        for label in sorted(labels):
            lines.append(f"conflicts with {label}:")
            lines += [f"- {p}" for p in labels[label]]
        message = f"Apply failed with {len(found)} conflicts: " + "\n".join(lines)
    conflicts = [(path_string(path), key[0]) for path, key, _label in found]
    causes = [
        {
            "type": "FieldManagerConflict",
            "message": f"conflict with {label}",
            "field": path_string(path),
        }
        for path, _key, label in found
    ]
    return ApplyConflict(conflicts, message, causes)


def server_side_apply(
    live: dict | None,
    applied: dict,
    manager: str,
    force: bool,
    api_version: str,
    kind: str,
    subresource: str = "",
    now: str | None = None,
) -> dict:
    """Merge an applied configuration into live as `manager`; raise ApplyConflict when
    it changes a field another manager owns, unless force takes it over. `now` is the
    time written into managedFields (the cluster's simulated clock)."""
    if not isinstance(applied, dict):
        raise PatchError("invalid object: the applied configuration is not an object", 400)
    result, conflicts = applying.apply(
        live, applied, manager, force, api_version, kind, subresource, now
    )
    if conflicts:
        raise _conflict(conflicts)
    return result


def record_update(
    old: dict | None,
    new: dict,
    manager: str,
    operation: str = "Update",
    subresource: str = "",
    now: str | None = None,
) -> None:
    """Make `manager` the owner of what changed from old to new (in place, in new), at
    time `now` (the cluster's simulated clock).

    An "Apply" write is left alone: server_side_apply already set its managedFields,
    and recording again would make the applier own the fields defaulting added (which
    its next apply would then prune).
    """
    if operation == "Apply":
        return
    managedfields.record_update(old, new, manager, operation, subresource, now)


def fields_set(obj: dict) -> dict:
    """The FieldsV1 of every field set in obj (what an applier of obj would own)."""
    schema = schema_for(obj.get("apiVersion", ""), obj.get("kind", ""))
    content = managedfields.without_managed_fields(obj)
    paths = managedfields.field_set(content, schema)
    return managedfields.to_fields_v1(
        {p for p in paths if managedfields.tracked(p, "scale", schema)}
    )
