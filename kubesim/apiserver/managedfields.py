"""Field ownership (managedFields) of Kubernetes objects (package-private).

A port of what Kubernetes' structured-merge-diff does, on plain JSON objects with the
merge rules of kubesim.apiserver.mergekeys. A field path is a tuple of elements:
("f", name) a field, ("k", '{"name":"x"}') an item of a keyed list, ("v", '"x"') an
item of a set, ("i", 3) an item of a list without keys. A manager's fields are a set
of such paths; FieldsV1 is its nested-dict encoding (`f:spec`, `k:{"name":"x"}`,
`.` marking a path that is owned itself and also has owned children).
Server-side apply itself is in kubesim.apiserver.apply.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kubesim.apiserver.mergekeys import Schema, child_path, schema_for

MISSING = object()

# Objects that are Go maps (or pointers) in the Kubernetes types: a manager that adds
# one owns the map itself too (`.` in FieldsV1). Other objects are structs that a typed
# object always has, which nobody owns (Kubernetes shows no `.` for spec, template...).
MAP_FIELDS = frozenset(
    {
        "labels",
        "annotations",
        "data",
        "binaryData",
        "stringData",
        "nodeSelector",
        "matchLabels",
        "selector",
        "limits",
        "requests",
        "capacity",
        "allocatable",
        "hard",
        "used",
        "parameters",
        "rollingUpdate",
        "securityContext",
        "valueFrom",
        "configMap",
        "secret",
        "emptyDir",
        "persistentVolumeClaim",
        "hostPath",
    }
)

# Fields nobody owns: the apiserver sets them (stripMetaManager in Kubernetes).
_STRIPPED = {
    (("f", "apiVersion"),),
    (("f", "kind"),),
    (("f", "metadata"),),
    *(
        (("f", "metadata"), ("f", name))
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        )
    ),
}


class PatchError(Exception):
    """Invalid patch content; `code` is the HTTP status Kubernetes answers with."""

    def __init__(self, message: str, code: int = 422):
        super().__init__(message)
        self.message = message
        self.code = code


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same(a, b) -> bool:
    """JSON equality: unlike Python's ==, true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return a == b


def item_element(item, rule, spath: str, index: int):
    """The path element naming `item` in a list with `rule` (None: list is atomic)."""
    if rule.ssa == "set":
        return ("v", canonical(item))
    if rule.ssa != "map":
        return None
    if not isinstance(item, dict):
        raise PatchError(f".{spath}: element {index}: expected map, got {canonical(item)}")
    key = {}
    defaults = dict(rule.defaults)
    for name in rule.keys:
        if name in item and item[name] is not None:
            key[name] = item[name]
        elif name in defaults:
            key[name] = defaults[name]
        elif len(rule.keys) == 1:
            raise PatchError(
                f".{spath}: element {index}: associative list with keys has an element "
                f'that omits key field "{name}" (and doesn\'t have default value)'
            )
    return ("k", canonical(key))


def path_string(path) -> str:
    """Kubernetes' text form of a field path: .spec.containers[name="x"].image"""
    out = []
    for kind, value in path:
        if kind == "f":
            out.append("." + value)
        elif kind == "k":
            fields = json.loads(value)
            out.append("[" + ",".join(f"{k}={canonical(v)}" for k, v in fields.items()) + "]")
        elif kind == "v":
            out.append(f"[={value}]")
        else:
            out.append(f"[{value}]")
    return "".join(out)


def _order(element) -> tuple:
    return ("fkvi".index(element[0]), str(element[1]))


def path_order(path) -> tuple:
    return tuple(_order(e) for e in path)


# --- FieldsV1 -------------------------------------------------------------------


def _encode_element(element) -> str:
    kind, value = element
    return f"{kind}:{value}"


def _decode_element(text: str):
    kind, _, value = text.partition(":")
    if kind == "f":
        return ("f", value)
    if kind in ("k", "v"):
        return (kind, canonical(json.loads(value)))
    if kind == "i":
        return ("i", int(value))
    raise ValueError(f"unknown path element {text!r}")


def to_fields_v1(paths) -> dict:
    root: dict = {}
    members: set = set()
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        members.add(path)

    def emit(node: dict, prefix: tuple) -> dict:
        out = {}
        if node and prefix in members:
            out["."] = {}
        for element in sorted(node, key=_order):
            out[_encode_element(element)] = emit(node[element], (*prefix, element))
        return out

    return emit(root, ())


def from_fields_v1(tree, prefix=()) -> set:
    paths = set()
    if not isinstance(tree, dict):
        return paths
    for text, child in tree.items():
        if text == ".":
            paths.add(prefix)
            continue
        try:
            path = (*prefix, _decode_element(text))
        except (ValueError, json.JSONDecodeError):
            continue
        if not child:
            paths.add(path)
        else:
            paths |= from_fields_v1(child, path)
    return paths


# --- field sets and comparison --------------------------------------------------


def field_set(value, schema: Schema, spath: str = "", path: tuple = (), out=None) -> set:
    """Leaves and list items of `value` (structured-merge-diff's ToFieldSet)."""
    out = set() if out is None else out
    if isinstance(value, dict) and not (path and schema.atomic_map(spath)):
        for name, child in value.items():
            field_set(child, schema, child_path(spath, name), (*path, ("f", name)), out)
    elif isinstance(value, list):
        rule = schema.list_rule(spath)
        if rule.ssa == "atomic":
            out.add(path)
            return out
        seen = set()
        for index, item in enumerate(value):
            element = item_element(item, rule, spath, index)
            if element in seen:
                raise PatchError(f".{spath}: duplicate entries for key {path_string((element,))}")
            seen.add(element)
            out.add((*path, element))
            if rule.ssa == "map":
                field_set(item, schema, spath + "[]", (*path, element), out)
    elif path:
        out.add(path)
    return out


def index_items(items, rule, spath):
    indexed = {}
    for index, item in enumerate(items):
        element = item_element(item, rule, spath, index)
        indexed.setdefault(element, item)
    return indexed


def compare(old, new, schema: Schema, spath="", path=(), result=None):
    """(added, modified, removed) paths going from old to new (MISSING: absent)."""
    added, modified, removed = result if result is not None else (set(), set(), set())
    result = (added, modified, removed)
    if old is MISSING and new is MISSING:
        return result
    if old is MISSING or new is MISSING:
        present = new if old is MISSING else old
        struct = isinstance(present, dict) and path and path[-1][0] == "f"
        if not struct or path[-1][1] in MAP_FIELDS:
            (added if old is MISSING else removed).add(path)
        if isinstance(present, dict) and not schema.atomic_map(spath):
            for name, child in present.items():
                pair = (MISSING, child) if old is MISSING else (child, MISSING)
                compare(*pair, schema, child_path(spath, name), (*path, ("f", name)), result)
        elif isinstance(present, list):
            rule = schema.list_rule(spath)
            if rule.ssa != "atomic":
                for element, item in index_items(present, rule, spath).items():
                    pair = (MISSING, item) if old is MISSING else (item, MISSING)
                    sub = spath + "[]" if rule.ssa == "map" else "\0"
                    compare(*pair, schema, sub, (*path, element), result)
        return result
    if isinstance(old, dict) and isinstance(new, dict) and not schema.atomic_map(spath):
        for name in {**old, **new}:
            compare(
                old.get(name, MISSING),
                new.get(name, MISSING),
                schema,
                child_path(spath, name),
                (*path, ("f", name)),
                result,
            )
        return result
    if isinstance(old, list) and isinstance(new, list):
        rule = schema.list_rule(spath)
        if rule.ssa != "atomic":
            before, after = index_items(old, rule, spath), index_items(new, rule, spath)
            sub = spath + "[]" if rule.ssa == "map" else "\0"
            for element in {**before, **after}:
                compare(
                    before.get(element, MISSING),
                    after.get(element, MISSING),
                    schema,
                    sub,
                    (*path, element),
                    result,
                )
            return result
    if not same(old, new):
        modified.add(path)
    return result


def tracked(path, subresource: str, schema: Schema) -> bool:
    """Whether a path can be owned by a manager of this request."""
    if not path or path in _STRIPPED:
        return False
    if path[:2] == (("f", "metadata"), ("f", "managedFields")):
        return False
    # Top-level objects (spec, status) always exist on a typed Kubernetes object.
    if len(path) == 1 and path[0][1] in ("spec", "status", "metadata"):
        return False
    if schema.builtin and subresource != "scale":
        in_status = path[0] == ("f", "status")
        return in_status if subresource == "status" else not in_status
    return True


def filtered(paths, subresource, schema) -> set:
    return {p for p in paths if tracked(p, subresource, schema)}


# --- managers -------------------------------------------------------------------


def wall_clock() -> str:
    """The time of a managedFields entry when the caller gives none (the cluster gives its
    simulated now)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def manager_key(manager: str, operation: str, api_version: str, subresource: str) -> tuple:
    # An applier is one manager whatever version it applies; an updater is one per version.
    return (manager, operation, api_version if operation != "Apply" else "", subresource)


def load_managers(entries) -> dict:
    """managedFields entries -> {key: {"entry": dict, "set": set}}."""
    managers = {}
    for entry in entries or []:
        if not isinstance(entry, dict) or not (entry.get("manager") or entry.get("operation")):
            continue
        key = manager_key(
            entry.get("manager", ""),
            entry.get("operation", "Update"),
            entry.get("apiVersion", ""),
            entry.get("subresource", ""),
        )
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        if key in managers:
            managers[key]["set"] |= paths
        else:
            managers[key] = {"entry": dict(entry), "set": paths}
    return managers


def dump_managers(managers: dict, now: str | None = None) -> list:
    entries = []
    for key, state in managers.items():
        if not state["set"]:
            continue
        manager, operation, _version, subresource = key
        entry = {
            "manager": manager,
            "operation": operation,
            "apiVersion": state["entry"].get("apiVersion", ""),
            "time": state["entry"].get("time") or now or wall_clock(),
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(state["set"]),
        }
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    # Kubernetes' order: operation, time, manager, apiVersion, subresource.
    entries.sort(
        key=lambda e: (
            e["operation"],
            e["time"],
            e["manager"],
            e["apiVersion"],
            e.get("subresource", ""),
        )
    )
    return entries


def set_owner(managers, key, paths, api_version, now: str | None = None, changed=False):
    """`key` owns `paths`. Its entry's time moves only when this write changed a value or
    what it owns (Kubernetes' managedFieldsUpdater): a no-op write keeps the time."""
    previous = managers.get(key)
    entry = {"apiVersion": api_version, "time": now or wall_clock()}
    if (
        not changed
        and previous
        and previous["set"] == paths
        and previous["entry"].get("apiVersion") == api_version
    ):
        entry["time"] = previous["entry"].get("time") or entry["time"]
    managers[key] = {"entry": entry, "set": paths}


def without_managed_fields(obj) -> dict:
    if not isinstance(obj, dict):
        return {}
    out = dict(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k != "managedFields"}
    return out


def _incoming_managers(old, new) -> dict | None:
    """The managers to start from; None means the client reset managedFields."""
    old_entries = ((old or {}).get("metadata") or {}).get("managedFields") or []
    incoming = (new.get("metadata") or {}).get("managedFields")
    if incoming == [{}]:
        return None
    # An empty or absent list never strips ownership (clients unaware of the field).
    if not incoming:
        return load_managers(old_entries)
    return load_managers(incoming)


def record_update(old, new, manager, operation="Update", subresource="", now=None):
    """Record in new.metadata.managedFields that `manager` made the change old -> new."""
    metadata = new.setdefault("metadata", {})
    managers = _incoming_managers(old, new)
    if managers is None:
        metadata.pop("managedFields", None)
        return
    api_version = new.get("apiVersion", "")
    schema = schema_for(api_version, new.get("kind", ""))
    before = without_managed_fields(old) if old else {}
    added, modified, removed = compare(before, without_managed_fields(new), schema)
    added, modified, removed = (
        filtered(s, subresource, schema) for s in (added, modified, removed)
    )
    key = manager_key(manager, operation, api_version, subresource)
    changed = added | modified
    for other, state in managers.items():
        if other != key:
            state["set"] = state["set"] - changed - removed
    mine = managers.get(key, {"set": set()})["set"]
    set_owner(managers, key, (mine - removed) | changed, api_version, now, bool(changed))
    entries = dump_managers(managers, now)
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)
