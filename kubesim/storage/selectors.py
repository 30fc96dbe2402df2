"""Label and field selectors, parsed once and matched many times.

A parsed selector is a list of requirements; an object matches when all of them hold.
Parse errors raise `errors.bad_request` with messages in the apiserver's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kubesim.storage import errors

# operators
EQ, NEQ, IN, NOTIN, EXISTS, NOT_EXISTS, GT, LT = "=", "!=", "in", "notin", "exists", "!", "gt", "lt"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        op = self.op
        if op == EQ:
            return labels.get(self.key) == self.values[0]
        if op == NEQ:
            return labels.get(self.key) != self.values[0]
        if op == IN:
            return self.key in labels and labels[self.key] in self.values
        if op == NOTIN:
            return labels.get(self.key) not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == NOT_EXISTS:
            return self.key not in labels
        value = labels.get(self.key)
        try:
            number = int(value) if value is not None else None
        except ValueError:
            return False
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if op == GT else number < bound


class LabelSelector:
    def __init__(self, requirements: list[Requirement]):
        self.requirements = requirements

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def matches(self, labels: dict[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def equality_pairs(self) -> dict[str, str]:
        """The key=value requirements, usable for an index lookup."""
        return {r.key: r.values[0] for r in self.requirements if r.op == EQ}


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(f"^{_KEY}$")
_VALUE_RE = re.compile(f"^{_VALUE}$")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _check_key(key: str, raw: str) -> str:
    if not key or not _KEY_RE.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise errors.bad_request(
            f'unable to parse requirement: invalid label key "{key}" in "{raw}"'
        )
    return key


def _check_value(value: str, raw: str) -> str:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise errors.bad_request(
            f'unable to parse requirement: values[0][{raw}]: Invalid value: "{value}": '
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character"
        )
    return value


_SET_RE = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")


def _parse_requirement(raw: str) -> Requirement:
    if raw.startswith("!"):
        return Requirement(_check_key(raw[1:].strip(), raw), NOT_EXISTS)
    m = _SET_RE.match(raw)
    if m:
        values = tuple(
            _check_value(v.strip(), raw) for v in m.group("values").split(",") if v.strip()
        )
        if not values:
            raise errors.bad_request(
                f"unable to parse requirement: for 'in', 'notin' operators, values set "
                f"can't be empty: {raw}"
            )
        return Requirement(_check_key(m.group("key"), raw), m.group("op"), values)
    for token, op in (("!=", NEQ), ("==", EQ), ("=", EQ), (">", GT), ("<", LT)):
        if token in raw:
            key, _, value = raw.partition(token)
            key, value = key.strip(), value.strip()
            if op in (GT, LT) and not value.lstrip("-").isdigit():
                raise errors.bad_request(f"unable to parse requirement: {raw}")
            return Requirement(_check_key(key, raw), op, (_check_value(value, raw),))
    return Requirement(_check_key(raw, raw), EXISTS)


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return LabelSelector([])
    return LabelSelector([_parse_requirement(p) for p in _split_top_level(text) if p])


def selector_from_object(selector: dict | None) -> LabelSelector:
    """A metav1.LabelSelector ({matchLabels, matchExpressions}) as a parsed selector."""
    reqs: list[Requirement] = []
    if not selector:
        return LabelSelector(reqs)
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        reqs.append(Requirement(key, EQ, (str(value),)))
    ops = {"In": IN, "NotIn": NOTIN, "Exists": EXISTS, "DoesNotExist": NOT_EXISTS}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator"), EXISTS)
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return LabelSelector(reqs)


def selector_to_string(selector: dict | None) -> str:
    """The string form the Scale subresource reports in status.selector."""
    parts = []
    for r in selector_from_object(selector).requirements:
        if r.op == EQ:
            parts.append(f"{r.key}={r.values[0]}")
        elif r.op in (IN, NOTIN):
            parts.append(f"{r.key} {r.op} ({','.join(sorted(r.values))})")
        elif r.op == EXISTS:
            parts.append(r.key)
        elif r.op == NOT_EXISTS:
            parts.append(f"!{r.key}")
    return ",".join(parts)


# -- field selectors ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negate: bool


class FieldSelector:
    def __init__(self, requirements: list[FieldRequirement]):
        self.requirements = requirements

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def matches(self, obj: dict) -> bool:
        for req in self.requirements:
            actual = field_value(obj, req.field)
            if (actual == req.value) == req.negate:
                return False
        return True

    def exact(self, field: str) -> str | None:
        for req in self.requirements:
            if req.field == field and not req.negate:
                return req.value
        return None


def field_value(obj: dict, path: str) -> str:
    """A field's value as the apiserver's field-label conversion renders it ("" if unset)."""
    node: object = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def parse_field_selector(text: str | None, allowed: Callable[[str], bool]) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector([])
    reqs = []
    for raw in _split_top_level(text):
        if not raw:
            continue
        for operator in ("!=", "==", "="):
            if operator in raw:
                field, _, value = raw.partition(operator)
                negate = operator == "!="
                break
        else:
            raise errors.bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        field = field.strip()
        if not allowed(field):
            raise errors.bad_request(f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, value.strip(), negate))
    return FieldSelector(reqs)
