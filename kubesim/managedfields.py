"""Field ownership (managedFields) and server-side apply (package-private).

A port of what Kubernetes' structured-merge-diff does, on plain JSON objects with the
merge rules of kubesim.mergekeys. A field path is a tuple of elements:
("f", name) a field, ("k", '{"name":"x"}') an item of a keyed list, ("v", '"x"') an
item of a set, ("i", 3) an item of a list without keys. A manager's fields are a set
of such paths; FieldsV1 is its nested-dict encoding (`f:spec`, `k:{"name":"x"}`,
`.` marking a path that is owned itself and also has owned children).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from kubesim.mergekeys import Schema, child_path, schema_for

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
        for index, item in enumerate(value):
            element = item_element(item, rule, spath, index)
            out.add((*path, element))
            if rule.ssa == "map":
                field_set(item, schema, spath + "[]", (*path, element), out)
    elif path:
        out.add(path)
    return out


def _index(items, rule, spath):
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
                for element, item in _index(present, rule, spath).items():
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
            before, after = _index(old, rule, spath), _index(new, rule, spath)
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


def _tracked(path, subresource: str, schema: Schema) -> bool:
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


def _filtered(paths, subresource, schema) -> set:
    return {p for p in paths if _tracked(p, subresource, schema)}


# --- managers -------------------------------------------------------------------


def now() -> str:
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


def dump_managers(managers: dict) -> list:
    entries = []
    for key, state in managers.items():
        if not state["set"]:
            continue
        manager, operation, _version, subresource = key
        entry = {
            "manager": manager,
            "operation": operation,
            "apiVersion": state["entry"].get("apiVersion", ""),
            "time": state["entry"].get("time") or now(),
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


def _set_mine(managers, key, paths, api_version):
    previous = managers.get(key)
    entry = {"apiVersion": api_version, "time": now()}
    if previous and previous["set"] == paths and previous["entry"].get("apiVersion") == api_version:
        entry["time"] = previous["entry"].get("time") or entry["time"]
    managers[key] = {"entry": entry, "set": paths}


def _without_managed_fields(obj) -> dict:
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


def record_update(old, new, manager, operation="Update", subresource=""):
    """Record in new.metadata.managedFields that `manager` made the change old -> new."""
    metadata = new.setdefault("metadata", {})
    managers = _incoming_managers(old, new)
    if managers is None:
        metadata.pop("managedFields", None)
        return
    api_version = new.get("apiVersion", "")
    schema = schema_for(api_version, new.get("kind", ""))
    before = _without_managed_fields(old) if old else {}
    added, modified, removed = compare(before, _without_managed_fields(new), schema)
    added, modified, removed = (
        _filtered(s, subresource, schema) for s in (added, modified, removed)
    )
    key = manager_key(manager, operation, api_version, subresource)
    changed = added | modified
    for other, state in managers.items():
        if other != key:
            state["set"] = state["set"] - changed - removed
    mine = managers.get(key, {"set": set()})["set"]
    _set_mine(managers, key, (mine - removed) | changed, api_version)
    entries = dump_managers(managers)
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)


# --- server-side apply ----------------------------------------------------------


def drop_nulls(value):
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def apply_merge(live, config, schema: Schema, spath=""):
    """Merge an applied configuration into the live object (config wins)."""
    if (
        isinstance(live, dict)
        and isinstance(config, dict)
        and not (spath and schema.atomic_map(spath))
    ):
        out = dict(live)
        for name, value in config.items():
            sub = child_path(spath, name)
            out[name] = apply_merge(live[name], value, schema, sub) if name in live else value
        return out
    if isinstance(live, list) and isinstance(config, list):
        rule = schema.list_rule(spath)
        if rule.ssa != "atomic":
            return _merge_list(live, config, rule, schema, spath)
    return config


def _merge_list(live, config, rule, schema, spath):
    # structured-merge-diff's ordering: live order, with the applied items that are
    # shared moved into the applied order and new applied items placed among them.
    config_elements = []
    seen = {}
    for index, item in enumerate(config):
        element = item_element(item, rule, spath, index)
        if element in seen:
            raise PatchError(
                f".{spath}: duplicate entries for key {path_string((element,))}", code=422
            )
        seen[element] = item
        config_elements.append(element)
    live_elements = [item_element(item, rule, spath, i) for i, item in enumerate(live)]
    live_items = {}
    for element, item in zip(live_elements, live, strict=True):
        live_items.setdefault(element, item)
    shared = [e for e in config_elements if e in live_items]
    sub = spath + "[]"

    def merged(element):
        if element in live_items and rule.ssa == "map":
            return apply_merge(live_items[element], seen[element], schema, sub)
        return seen[element]

    out, done = [], set()
    li = ri = 0
    next_shared = shared.pop(0) if shared else None
    while li < len(live_elements) or ri < len(config_elements):
        if li < len(live_elements) and ri < len(config_elements):
            element = live_elements[li]
            if element == config_elements[ri]:
                out.append(merged(element))
                done.add(element)
                li += 1
                ri += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if element in seen and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(live_elements):
            element = live_elements[li]
            if element not in seen:
                out.append(live[li])
                li += 1
                continue
            if element in done:
                li += 1
                continue
        if ri < len(config_elements):
            element = config_elements[ri]
            done.add(element)
            out.append(merged(element))
            ri += 1
            if next_shared is not None and next_shared == element:
                next_shared = shared.pop(0) if shared else None
    return out


def remove_paths(value, paths, schema: Schema, spath=""):
    """A copy of value without the given paths (each removes its whole subtree)."""
    if not paths:
        return value
    heads = {}
    for path in paths:
        if path:
            heads.setdefault(path[0], set()).add(path[1:])
    if isinstance(value, dict):
        out = {}
        for name, child in value.items():
            rest = heads.get(("f", name))
            if rest is None:
                out[name] = child
            elif () not in rest:
                out[name] = remove_paths(child, rest, schema, child_path(spath, name))
        return out
    if isinstance(value, list):
        rule = schema.list_rule(spath)
        out = []
        for index, item in enumerate(value):
            element = item_element(item, rule, spath, index) if rule.ssa != "atomic" else None
            rest = heads.get(element) if element else None
            if rest is None:
                out.append(item)
            elif () not in rest:
                out.append(remove_paths(item, rest, schema, spath + "[]"))
        return out
    return value


def _get(value, path, schema: Schema, spath=""):
    for element in path:
        if isinstance(value, dict) and element[0] == "f":
            if element[1] not in value:
                return MISSING
            value, spath = value[element[1]], child_path(spath, element[1])
        elif isinstance(value, list):
            rule = schema.list_rule(spath)
            if rule.ssa == "atomic":
                return MISSING
            value = _index(value, rule, spath).get(element, MISSING)
            spath += "[]"
            if value is MISSING:
                return MISSING
        else:
            return MISSING
    return value


def prune(merged, last: set, managed: set, schema: Schema):
    """Remove what the applier applied last time, no longer applies, and nobody owns.

    Objects the removal leaves empty go too, unless someone still owns something
    inside them (Kubernetes removes such struct fields of the last applied set).
    """
    gone = {p for p in last if p not in managed}
    if not gone:
        return merged
    result = remove_paths(merged, gone, schema)
    owned_prefixes = {p[:i] for p in managed for i in range(len(p) + 1)}
    parents = sorted(
        {p[:i] for p in gone for i in range(2, len(p)) if p[i - 1][0] == "f"},
        key=len,
        reverse=True,
    )
    for parent in parents:
        if parent in owned_prefixes:
            continue
        value = _get(result, parent, schema)
        if isinstance(value, dict | list) and not value:
            result = remove_paths(result, {parent}, schema)
    return result


def manager_label(key: tuple, entry: dict) -> str:
    """How a conflict names a manager (printManager in Kubernetes)."""
    manager, operation, _version, subresource = key
    label = json.dumps(manager)
    if subresource:
        label += f" with subresource {json.dumps(subresource)}"
    if operation == "Update":
        label += f" using {entry.get('apiVersion', '')}"
    return label


def apply(live, applied, manager, force, api_version, kind, subresource=""):
    """Server-side apply; returns (object, conflicts) with conflicts [(path, label)]."""
    schema = schema_for(api_version, kind)
    config = drop_nulls(copy.deepcopy(applied))
    if ((config.get("metadata") or {}).get("managedFields")) is not None:
        raise PatchError("metadata.managedFields must be nil", code=400)
    if schema.builtin and subresource != "scale":
        if subresource == "status":
            config = {k: v for k, v in config.items() if k in ("apiVersion", "kind", "status")}
        else:
            config.pop("status", None)
    base = _without_managed_fields(copy.deepcopy(live)) if live else {}
    managers = load_managers(((live or {}).get("metadata") or {}).get("managedFields"))
    key = manager_key(manager, "Apply", api_version, subresource)
    last = managers.get(key, {"set": set()})["set"]
    mine = _filtered(field_set(config, schema), subresource, schema)
    _set_mine(managers, key, mine, api_version)
    managed = set().union(*(state["set"] for state in managers.values()))
    result = prune(apply_merge(base, config, schema), last, managed, schema)
    added, modified, removed = compare(base, result, schema)
    changed = _filtered(added | modified, subresource, schema)
    removed = _filtered(removed, subresource, schema)
    conflicts = []
    for other, state in managers.items():
        if other == key:
            continue
        clash = state["set"] & changed
        if clash and not force:
            label = manager_label(other, state["entry"])
            conflicts += [(p, other, label) for p in clash]
        state["set"] = state["set"] - clash - removed
    if conflicts:
        return None, conflicts
    result.setdefault("metadata", {})["managedFields"] = dump_managers(managers)
    return result, []
