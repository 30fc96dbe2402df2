"""Server-side apply (package-private; kubesim.apiserver.patch.server_side_apply is the API).

A port of structured-merge-diff's Updater.Apply: merge the applied configuration into
the live object (keyed lists item by item, atomic lists and maps whole), prune what
the applier stopped applying unless someone else owns it, then compare live and
result: a changed field another manager owns is a conflict, unless forced.
"""

from __future__ import annotations

import copy
import json

from kubesim.apiserver.managedfields import (
    MISSING,
    PatchError,
    compare,
    dump_managers,
    field_set,
    filtered,
    index_items,
    item_element,
    load_managers,
    manager_key,
    path_string,
    set_owner,
    wall_clock,
    without_managed_fields,
)
from kubesim.apiserver.mergekeys import Schema, child_path, schema_for


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
            value = index_items(value, rule, spath).get(element, MISSING)
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


def apply(live, applied, manager, force, api_version, kind, subresource="", now=None):
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
    base = without_managed_fields(copy.deepcopy(live)) if live else {}
    managers = load_managers(((live or {}).get("metadata") or {}).get("managedFields"))
    key = manager_key(manager, "Apply", api_version, subresource)
    last = managers.get(key, {"set": set()})["set"]
    mine = filtered(field_set(config, schema), subresource, schema)
    set_owner(managers, key, mine, api_version, now)
    managed = set().union(*(state["set"] for state in managers.values()))
    result = prune(apply_merge(base, config, schema), last, managed, schema)
    added, modified, removed = compare(base, result, schema)
    changed = filtered(added | modified, subresource, schema)
    removed = filtered(removed, subresource, schema)
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
    if changed or removed:  # the apply changed the object: its entry is stamped now
        managers[key]["entry"]["time"] = now or wall_clock()
    result.setdefault("metadata", {})["managedFields"] = dump_managers(managers, now)
    return result, []
