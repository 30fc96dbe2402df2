"""Validation: the 422 `Invalid` answers of the Kubernetes 1.32 API server, word for word.

`validate(obj, old)` runs after defaulting and returns the causes Kubernetes would report, each
`{"reason", "message", "field"}`, in Kubernetes' order. `invalid_status(obj, causes)` wraps them
in the `Status` body the API server sends. Messages follow `field.Error.ErrorBody()`: a value is
printed the way Go's `%q`/`%v`/`%#v` prints it, so selectors and maps appear as Go literals
(`v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, ...}`) exactly as kubectl users
see them.

`decode_error(obj)` is the earlier, 400 `BadRequest` stage: a quantity that does not parse never
reaches validation in Kubernetes. `validate` still reports it as a cause, so a caller that skips
`decode_error` refuses the object too.
`secret_decode_error(secret)` is that stage for a Secret's `data`, which is bytes in Go: a value
that is not base64 gets the decoder's "illegal base64 data at input byte N", Go's offsets.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from kubesim.storage import quantity

# --- Kubernetes' message building blocks (k8s.io/apimachinery/pkg/util/validation) ----------


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """`validation.RegexError`, double spaces before `or` included."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


EMPTY_ERROR = "must be non-empty"
IMMUTABLE = "field is immutable"
NEGATIVE = "must be greater than or equal to 0"
PORT_RANGE = "must be between 1 and 65535, inclusive"

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
WILDCARD_DNS1123_FMT = r"\*\." + DNS1123_SUBDOMAIN_FMT
WILDCARD_DNS1123_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character"
)
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
ENV_VAR_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', "
    "'-', or '.', and must not start with a digit"
)
PERCENT_FMT = "[0-9]+%"
PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{pattern})$")


_DNS1123_LABEL = _full(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = _full(DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = _full(DNS1035_LABEL_FMT)
_WILDCARD_DNS1123 = _full(WILDCARD_DNS1123_FMT)
_QUALIFIED_NAME = _full(QUALIFIED_NAME_FMT)
_LABEL_VALUE = _full(LABEL_VALUE_FMT)
_CONFIG_KEY = _full(CONFIG_KEY_FMT)
_ENV_VAR = _full(ENV_VAR_FMT)
_PERCENT = _full(PERCENT_FMT)


def is_dns1123_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _DNS1123_LABEL.match(value):
        errs.append(regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value) > 253 else []
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _DNS1035_LABEL.match(value):
        errs.append(regex_error(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def is_qualified_name(value: str) -> list[str]:
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) > 2:
        example = regex_error(
            QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"
        )
        return [
            f"a qualified name {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part " + EMPTY_ERROR)
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    if not name:
        errs.append("name part " + EMPTY_ERROR)
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part "
            + regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_label_value(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _LABEL_VALUE.match(value):
        errs.append(regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _chdir_prefix(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"must not be '{value}'"]
    return ["must not start with '..'"] if value.startswith("..") else []


def is_config_key(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value) > 253 else []
    if not _CONFIG_KEY.match(value):
        errs.append(regex_error(CONFIG_KEY_MSG, CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    return errs + _chdir_prefix(value)


def is_env_var_name(value: str) -> list[str]:
    errs = []
    if not _ENV_VAR.match(value):
        errs.append(
            regex_error(ENV_VAR_MSG, ENV_VAR_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1")
        )
    return errs + _chdir_prefix(value)


def is_port_name(value: str) -> list[str]:
    errs = [max_len_error(15)] if len(value) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_port_num(value: Any) -> list[str]:
    return [] if _is_int(value) and 1 <= value <= 65535 else [PORT_RANGE]


# Which name rule each kind's metadata.name follows.
NAME_RULES: dict[tuple[str, str], Callable[[str], list[str]]] = {
    ("", "Namespace"): is_dns1123_label,
    ("", "Service"): is_dns1035_label,
    ("rbac.authorization.k8s.io", "Role"): is_path_segment_name,
    ("rbac.authorization.k8s.io", "ClusterRole"): is_path_segment_name,
    ("rbac.authorization.k8s.io", "RoleBinding"): is_path_segment_name,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): is_path_segment_name,
    # `version.group`, checked against the spec by the APIService validator ("v1." is core)
    ("apiregistration.k8s.io", "APIService"): is_path_segment_name,
}

# --- Go value printing ------------------------------------------------------------------------


class GoValue(str):
    """A value already printed as Go's `%#v` would print it."""


def go_quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def go_map(labels: Any) -> GoValue:
    if labels is None:
        return GoValue("map[string]string(nil)")
    inner = ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(labels.items()))
    return GoValue(f"map[string]string{{{inner}}}")


def go_strings(values: Any) -> GoValue:
    if values is None:
        return GoValue("[]string(nil)")
    return GoValue("[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}")


def go_selector(selector: Any) -> GoValue:
    selector = selector or {}
    labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if expressions is None:
        exprs = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = ", ".join(
            f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key', ''))}, "
            f"Operator:{go_quote(e.get('operator', ''))}, Values:{go_strings(e.get('values'))}}}"
            for e in expressions
        )
        exprs = f"[]v1.LabelSelectorRequirement{{{items}}}"
    return GoValue(f"v1.LabelSelector{{MatchLabels:{go_map(labels)}, MatchExpressions:{exprs}}}")


def go_int_or_string(value: Any) -> GoValue:
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{value or 0}, StrVal:""}}')


def go_quantity(value: Any) -> GoValue:
    q = quantity.parse(value)
    sign, digits, exp = q.value.normalize().as_tuple()
    number = int("".join(map(str, digits)) or 0) * (-1 if sign else 1)
    scale = exp
    if q.format == quantity.BINARY_SI or scale > 0:
        number, scale = int(q.value), 0
    return GoValue(
        f"resource.Quantity{{i:resource.int64Amount{{value:{number}, scale:{scale}}}, "
        f"d:resource.infDecAmount{{Dec:(*inf.Dec)(nil)}}, s:{go_quote(str(q))}, "
        f'Format:"{q.format}"}}'
    )


def render(value: Any) -> str:
    """`field.Error.ErrorBody`'s rendering of a bad value."""
    if isinstance(value, GoValue):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        return go_map(value)
    if isinstance(value, list):
        return go_strings(value)
    return str(value)


# --- the error list ---------------------------------------------------------------------------


class Errors(list):
    """A `field.ErrorList`, holding Status causes."""

    def add(self, reason: str, field: str, message: str) -> None:
        self.append({"reason": reason, "message": message, "field": field})

    def required(self, field: str, detail: str = "") -> None:
        self.add("FieldValueRequired", field, _with_detail("Required value", detail))

    def invalid(self, field: str, value: Any, detail: str = "") -> None:
        body = f"Invalid value: {render(value)}"
        self.add("FieldValueInvalid", field, _with_detail(body, detail))

    def not_supported(self, field: str, value: Any, supported: Iterable[str]) -> None:
        detail = "supported values: " + ", ".join(go_quote(s) for s in supported)
        self.add("FieldValueNotSupported", field, f"Unsupported value: {render(value)}: {detail}")

    def duplicate(self, field: str, value: Any) -> None:
        self.add("FieldValueDuplicate", field, f"Duplicate value: {render(value)}")

    def not_found(self, field: str, value: Any) -> None:
        self.add("FieldValueNotFound", field, f"Not found: {render(value)}")

    def forbidden(self, field: str, detail: str) -> None:
        self.add("FieldValueForbidden", field, _with_detail("Forbidden", detail))

    def too_long(self, field: str, max_bytes: int) -> None:
        self.add("FieldValueTooLong", field, f"Too long: must have at most {max_bytes} bytes")

    def each(self, field: str, value: Any, messages: list[str]) -> None:
        for message in messages:
            self.invalid(field, value, message)


def _with_detail(body: str, detail: str) -> str:
    return f"{body}: {detail}" if detail else body


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[tuple[int, dict]]:
    return [(i, item) for i, item in enumerate(_list(value)) if isinstance(item, dict)]


# --- API groups, kinds and the Status body ----------------------------------------------------


def group_of(api_version: str) -> str:
    """`apps/v1` → `apps`, `v1` → `` (the core group)."""
    return api_version.rpartition("/")[0] if "/" in (api_version or "") else ""


# Resource (plural) names for the kinds kubesim serves; Forbidden messages are phrased with
# these ("pods "web-1" is forbidden").
RESOURCES = {
    "Pod": "pods",
    "Service": "services",
    "Endpoints": "endpoints",
    "EndpointSlice": "endpointslices",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "ServiceAccount": "serviceaccounts",
    "PersistentVolume": "persistentvolumes",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ResourceQuota": "resourcequotas",
    "LimitRange": "limitranges",
    "Event": "events",
    "Namespace": "namespaces",
    "Node": "nodes",
    "ReplicationController": "replicationcontrollers",
    "PodTemplate": "podtemplates",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "ControllerRevision": "controllerrevisions",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "Ingress": "ingresses",
    "IngressClass": "ingressclasses",
    "NetworkPolicy": "networkpolicies",
    "StorageClass": "storageclasses",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "CustomResourceDefinition": "customresourcedefinitions",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "PriorityClass": "priorityclasses",
}


def resource_of(kind: str) -> str:
    """The plural resource name of a kind (a guess in English for kinds not listed)."""
    if kind in RESOURCES:
        return RESOURCES[kind]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith(("s", "x", "ch", "sh")) else "s")


def qualified_resource(obj: dict) -> str:
    """`pods`, `deployments.apps`: how admission errors name the resource."""
    group = group_of(obj.get("apiVersion", ""))
    plural = resource_of(obj.get("kind", ""))
    return f"{plural}.{group}" if group else plural


def error_string(cause: dict) -> str:
    return f"{cause['field']}: {cause['message']}" if cause.get("field") else cause["message"]


def aggregate(messages: list[str]) -> str:
    """`utilerrors.Aggregate.Error()`: one message bare, several deduplicated in brackets."""
    unique = list(dict.fromkeys(messages))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


def invalid_status(obj: dict, causes: list[dict]) -> dict:
    """The 422 `Status` Kubernetes answers for an object that failed validation."""
    kind = obj.get("kind", "")
    group = group_of(obj.get("apiVersion", ""))
    meta = _dict(obj.get("metadata"))
    name = meta.get("name") or meta.get("generateName") or ""
    qualified = f"{kind}.{group}" if group else kind
    message = f"{qualified} {go_quote(name)} is invalid"
    if causes:
        message += ": " + aggregate([error_string(c) for c in causes])
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = causes
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Invalid",
        "details": details,
        "code": 422,
    }


def decode_error(obj: dict) -> str | None:
    """The 400 message for an object whose quantities do not parse, else None."""
    if not _bad_quantities(obj):
        return None
    kind = obj.get("kind", "")
    version = obj.get("apiVersion", "").rpartition("/")[2]
    return f"{kind} in version {go_quote(version)} cannot be handled as a {kind}: " + (
        quantity.FORMAT_ERROR
    )


def secret_decode_error(secret: dict) -> str | None:
    """The 400 message for a Secret whose `data` does not decode, else None.

    `data` is `map[string][]byte` in Go: decoding the request body (base64 in JSON) fails
    before defaulting or validation look at it, in the decoder's words.
    """
    data = secret.get("data")
    problem = None
    if data is not None and not isinstance(data, dict):
        problem = f"json: cannot unmarshal {_json_type(data)} into Go struct field Secret.data "
        problem += "of type map[string][]uint8"
    for value in (data or {}).values() if isinstance(data, dict) else ():
        if value is None:
            continue
        if not isinstance(value, str):
            problem = f"json: cannot unmarshal {_json_type(value)} into Go struct field "
            problem += "Secret.data of type []uint8"
        else:
            problem = _go_base64_error(value.encode())
        if problem:
            break
    if problem:
        return f'Secret in version "v1" cannot be handled as a Secret: {problem}'
    return None


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "value")


_B64 = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _go_base64_error(src: bytes) -> str | None:
    """What Go's base64.StdEncoding.Decode says of `src` (None when it decodes): the
    CorruptInputError "illegal base64 data at input byte N", with Go's offsets (newlines
    skipped, padding required)."""
    si, n = 0, len(src)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return f"illegal base64 data at input byte {si - j}"
            c = src[si]
            si += 1
            if c in _B64:
                j += 1
                continue
            if c in b"\r\n":
                continue
            if c != ord("=") or j < 2:
                return f"illegal base64 data at input byte {si - 1}"
            if j == 2:  # "==" expected: the first "=" is consumed
                while si < n and src[si] in b"\r\n":
                    si += 1
                if si == n:
                    return f"illegal base64 data at input byte {n}"
                if src[si] != ord("="):
                    return f"illegal base64 data at input byte {si - 1}"
                si += 1
            while si < n and src[si] in b"\r\n":
                si += 1
            if si < n:
                return f"illegal base64 data at input byte {si}"  # trailing garbage
            return None
    return None


def _bad_quantities(obj: dict) -> list[tuple[str, Any]]:
    """Unparseable quantities at the places kubesim's kinds hold them: (field, value)."""
    found: list[tuple[str, Any]] = []

    def check(mapping: Any, path: str) -> None:
        for key, value in sorted(_dict(mapping).items()):
            try:
                quantity.parse(value)
            except ValueError:
                found.append((f"{path}[{key}]", value))

    for path, spec in _pod_specs(obj):
        for ckey in ("initContainers", "containers"):
            for i, container in _dicts(spec.get(ckey)):
                resources = _dict(container.get("resources"))
                for part in ("limits", "requests"):
                    check(resources.get(part), f"{path}.{ckey}[{i}].resources.{part}")
    spec = _dict(obj.get("spec"))
    kind = obj.get("kind")
    if kind == "PersistentVolumeClaim":
        for part in ("limits", "requests"):
            check(_dict(spec.get("resources")).get(part), f"spec.resources.{part}")
    elif kind == "PersistentVolume":
        check(spec.get("capacity"), "spec.capacity")
    elif kind == "ResourceQuota":
        check(spec.get("hard"), "spec.hard")
    elif kind == "LimitRange":
        for i, item in _dicts(spec.get("limits")):
            for part in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
                check(item.get(part), f"spec.limits[{i}].{part}")
    return found


def _pod_specs(obj: dict) -> list[tuple[str, dict]]:
    """Every pod spec inside an object, with its field path."""
    kind = obj.get("kind")
    spec = _dict(obj.get("spec"))
    if kind == "Pod":
        return [("spec", spec)]
    if kind == "CronJob":
        template = _dict(_dict(_dict(spec.get("jobTemplate")).get("spec")).get("template"))
        return [("spec.jobTemplate.spec.template.spec", _dict(template.get("spec")))]
    if kind == "PodTemplate":
        return [("template.spec", _dict(_dict(obj.get("template")).get("spec")))]
    if kind in WORKLOAD_KINDS:
        return [("spec.template.spec", _dict(_dict(spec.get("template")).get("spec")))]
    return []


WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")

# --- the entry point --------------------------------------------------------------------------


def validate(obj: dict, old: dict | None) -> list[dict]:
    """Causes for everything Kubernetes would refuse in `obj` (an update when `old` is given)."""
    errs = Errors()
    group = group_of(obj.get("apiVersion", ""))
    kind = obj.get("kind", "")
    validate_object_meta(obj, group, kind, errs)
    validator = VALIDATORS.get((group, kind))
    if validator is not None:
        validator(obj, old, errs)
    for field, value in _bad_quantities(obj):
        if not any(c["field"] == field for c in errs):
            errs.invalid(field, value, quantity.FORMAT_ERROR)
    return list(errs)


def validate_object_meta(obj: dict, group: str, kind: str, errs: Errors) -> None:
    meta = _dict(obj.get("metadata"))
    name = meta.get("name") or ""
    if not name and not meta.get("generateName"):
        errs.required("metadata.name", "name or generateName is required")
    elif name:
        rule = NAME_RULES.get((group, kind), is_dns1123_subdomain)
        errs.each("metadata.name", name, rule(name))
    elif meta.get("generateName"):
        # A generated name gets a suffix, so a trailing '-' in the prefix is fine.
        prefix = meta["generateName"]
        rule = NAME_RULES.get((group, kind), is_dns1123_subdomain)
        masked = prefix[:-1] + "a" if prefix.endswith("-") else prefix
        errs.each("metadata.generateName", prefix, rule(masked))
    if meta.get("namespace"):
        errs.each("metadata.namespace", meta["namespace"], is_dns1123_label(meta["namespace"]))
    validate_labels(meta.get("labels"), "metadata.labels", errs)
    validate_annotations(meta.get("annotations"), "metadata.annotations", errs)


def validate_labels(labels: Any, path: str, errs: Errors) -> None:
    for key, value in sorted(_dict(labels).items()):
        errs.each(path, key, is_qualified_name(key))
        if not isinstance(value, str):
            errs.invalid(path, value, "must be a string")
            continue
        errs.each(path, value, is_label_value(value))


ANNOTATIONS_LIMIT = 256 * 1024


def validate_annotations(annotations: Any, path: str, errs: Errors) -> None:
    annotations = _dict(annotations)
    for key in sorted(annotations):
        errs.each(path, key, is_qualified_name(key.lower()))
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        errs.too_long(path, ANNOTATIONS_LIMIT)


SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(selector: Any, path: str, errs: Errors) -> None:
    selector = _dict(selector)
    for i, expr in _dicts(selector.get("matchExpressions")):
        epath = f"{path}.matchExpressions[{i}]"
        operator = expr.get("operator", "")
        values = _list(expr.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.required(
                    f"{epath}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(
                    f"{epath}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
        else:
            errs.invalid(f"{epath}.operator", operator, "not a valid selector operator")
        errs.each(f"{epath}.key", expr.get("key", ""), is_qualified_name(expr.get("key", "")))
        for value in values:
            errs.each(f"{epath}.values", value, is_label_value(str(value)))
    validate_labels(selector.get("matchLabels"), f"{path}.matchLabels", errs)


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """Label selector semantics: a missing selector matches nothing, `{}` everything."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in _list(selector.get("matchExpressions")):
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _selector_empty(selector: dict) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def _same_selector(a: Any, b: Any) -> bool:
    def norm(s: Any) -> tuple:
        s = _dict(s)
        return (
            sorted(_dict(s.get("matchLabels")).items()),
            json.dumps(s.get("matchExpressions") or [], sort_keys=True),
        )

    return (a is None) == (b is None) and norm(a) == norm(b)


# --- quantities and resources -----------------------------------------------------------------

STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _parsed(value: Any) -> quantity.Quantity | None:
    try:
        return quantity.parse(value)
    except ValueError:
        return None


def _nonnegative(value: Any, path: str, errs: Errors) -> None:
    q = _parsed(value)
    if q is not None and q.value < 0:
        errs.invalid(path, str(q), NEGATIVE)


def validate_resource_requirements(resources: Any, path: str, errs: Errors) -> None:
    resources = _dict(resources)
    limits = _dict(resources.get("limits"))
    requests = _dict(resources.get("requests"))
    for part, values in (("limits", limits), ("requests", requests)):
        for name in sorted(values):
            rpath = f"{path}.{part}[{name}]"
            errs.each(rpath, name, is_qualified_name(name))
            if "/" not in name and not (
                name in STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-")
            ):
                errs.invalid(rpath, name, "must be a standard resource for containers")
            _nonnegative(values[name], rpath, errs)
    for name in sorted(requests):
        request, limit = _parsed(requests[name]), _parsed(limits.get(name))
        if request is None or limit is None or name not in limits:
            continue
        overcommit = not (name.startswith("hugepages-") or "/" in name)
        if not overcommit and request.value != limit.value:
            errs.invalid(
                f"{path}.requests", str(request), f"must be equal to {name} limit of {limit}"
            )
        elif request.value > limit.value:
            errs.invalid(
                f"{path}.requests",
                str(request),
                f"must be less than or equal to {name} limit of {limit}",
            )


# --- pods -------------------------------------------------------------------------------------

VOLUME_SOURCES = (
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
)
# Volume sources and the field naming what they refer to.
VOLUME_REFERENCES = {
    "configMap": "name",
    "secret": "secretName",
    "persistentVolumeClaim": "claimName",
    "hostPath": "path",
    "nfs": "path",
    "csi": "driver",
}
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Exists", "Equal")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def validate_volumes(volumes: Any, path: str, errs: Errors) -> set[str]:
    names: set[str] = set()
    for i, volume in _dicts(volumes):
        vpath = f"{path}[{i}]"
        name = volume.get("name") or ""
        if not name:
            errs.required(f"{vpath}.name")
        else:
            errs.each(f"{vpath}.name", name, is_dns1123_label(name))
            if name in names:
                errs.duplicate(f"{vpath}.name", name)
            names.add(name)
        sources = [s for s in VOLUME_SOURCES if volume.get(s) is not None]
        if not sources:
            errs.required(vpath, "must specify a volume type")
        for extra in sources[1:]:
            errs.forbidden(f"{vpath}.{extra}", "may not specify more than 1 volume type")
        if sources:
            source = sources[0]
            ref = VOLUME_REFERENCES.get(source)
            if ref and not _dict(volume.get(source)).get(ref):
                errs.required(f"{vpath}.{source}.{ref}")
            size_limit = _dict(volume.get("emptyDir")).get("sizeLimit")
            if source == "emptyDir" and size_limit is not None:
                _nonnegative(size_limit, f"{vpath}.emptyDir.sizeLimit", errs)
    return names


def _validate_port_or_name(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, str):
        if not value:
            errs.required(path)
        else:
            errs.each(path, value, is_port_name(value))
    elif _is_int(value):
        errs.each(path, value, is_port_num(value))
    else:
        errs.required(path)


def validate_probe(probe: Any, path: str, errs: Errors, liveness: bool = False) -> None:
    if not isinstance(probe, dict):
        return
    handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
    if not handlers:
        errs.required(path, "must specify a handler type")
    for extra in handlers[1:]:
        errs.forbidden(f"{path}.{extra}", "may not specify more than 1 handler type")
    if handlers:
        _validate_handler(probe, handlers[0], path, errs)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        value = probe.get(key)
        if _is_int(value) and value < 0:
            errs.invalid(f"{path}.{key}", value, NEGATIVE)
    if liveness and probe.get("successThreshold", 1) != 1:
        errs.invalid(f"{path}.successThreshold", probe["successThreshold"], "must be 1")


def _validate_handler(holder: dict, kind: str, path: str, errs: Errors) -> None:
    handler = _dict(holder.get(kind))
    hpath = f"{path}.{kind}"
    if kind == "exec" and not handler.get("command"):
        errs.required(f"{hpath}.command")
    if kind == "httpGet":
        if not handler.get("path"):
            errs.required(f"{hpath}.path")
        _validate_port_or_name(handler.get("port"), f"{hpath}.port", errs)
        scheme = handler.get("scheme", "HTTP")
        if scheme not in ("HTTP", "HTTPS"):
            errs.not_supported(f"{hpath}.scheme", scheme, ("HTTP", "HTTPS"))
    if kind == "tcpSocket":
        _validate_port_or_name(handler.get("port"), f"{hpath}.port", errs)
    if kind == "grpc":
        port = handler.get("port")
        errs.each(f"{hpath}.port", port, is_port_num(port))


def validate_container(
    container: dict, path: str, volumes: set[str], errs: Errors, *, is_pod: bool
) -> None:
    name = container.get("name") or ""
    if not name:
        errs.required(f"{path}.name")
    else:
        errs.each(f"{path}.name", name, is_dns1123_label(name))
    image = container.get("image")
    if not image:
        errs.required(f"{path}.image")
    policy = container.get("terminationMessagePolicy")
    if not policy:
        errs.required(f"{path}.terminationMessagePolicy")
    elif policy not in TERMINATION_MESSAGE_POLICIES:
        errs.not_supported(f"{path}.terminationMessagePolicy", policy, TERMINATION_MESSAGE_POLICIES)
    _validate_container_ports(container.get("ports"), f"{path}.ports", errs)
    _validate_env(container.get("env"), f"{path}.env", errs)
    _validate_volume_mounts(container.get("volumeMounts"), f"{path}.volumeMounts", volumes, errs)
    pull = container.get("imagePullPolicy")
    if not pull:
        errs.required(f"{path}.imagePullPolicy")
    elif pull not in PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", pull, PULL_POLICIES)
    validate_resource_requirements(container.get("resources"), f"{path}.resources", errs)
    if is_pod and isinstance(image, str) and image != image.strip():
        errs.invalid(f"{path}.image", image, "must not have leading or trailing whitespace")


def _validate_container_ports(ports: Any, path: str, errs: Errors) -> None:
    names: set[str] = set()
    for i, port in _dicts(ports):
        ppath = f"{path}[{i}]"
        name = port.get("name") or ""
        if name:
            messages = is_port_name(name)
            if messages:
                errs.each(f"{ppath}.name", name, messages)
            elif name in names:
                errs.duplicate(f"{ppath}.name", name)
            names.add(name)
        container_port = port.get("containerPort")
        if not container_port:
            errs.required(f"{ppath}.containerPort")
        else:
            errs.each(f"{ppath}.containerPort", container_port, is_port_num(container_port))
        if port.get("hostPort"):
            errs.each(f"{ppath}.hostPort", port["hostPort"], is_port_num(port["hostPort"]))
        protocol = port.get("protocol")
        if not protocol:
            errs.required(f"{ppath}.protocol")
        elif protocol not in PROTOCOLS:
            errs.not_supported(f"{ppath}.protocol", protocol, PROTOCOLS)


def _validate_env(env: Any, path: str, errs: Errors) -> None:
    for i, var in _dicts(env):
        name = var.get("name") or ""
        if not name:
            errs.required(f"{path}[{i}].name")
        else:
            errs.each(f"{path}[{i}].name", name, is_env_var_name(name))
        source = var.get("valueFrom")
        if source is not None and var.get("value"):
            errs.invalid(
                f"{path}[{i}].valueFrom",
                "",
                "may not be specified when `value` is not empty",
            )


def _validate_volume_mounts(mounts: Any, path: str, volumes: set[str], errs: Errors) -> None:
    seen: set[str] = set()
    for i, mount in _dicts(mounts):
        mpath = f"{path}[{i}]"
        name = mount.get("name") or ""
        if not name:
            errs.required(f"{mpath}.name")
        elif name not in volumes:
            errs.not_found(f"{mpath}.name", name)
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            errs.required(f"{mpath}.mountPath")
        elif mount_path in seen:
            errs.invalid(f"{mpath}.mountPath", mount_path, "must be unique")
        seen.add(mount_path)


def _validate_tolerations(tolerations: Any, path: str, errs: Errors) -> None:
    for i, toleration in _dicts(tolerations):
        tpath = f"{path}[{i}]"
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if key:
            errs.each(f"{tpath}.key", key, is_qualified_name(key))
        elif operator != "Exists":
            errs.invalid(
                f"{tpath}.operator",
                operator,
                'operator must be Exists when `key` is empty, which means "match all values '
                'and all keys"',
            )
        if toleration.get("tolerationSeconds") is not None and toleration.get("effect") != (
            "NoExecute"
        ):
            errs.invalid(
                f"{tpath}.effect",
                toleration.get("effect") or "",
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            )
        value = toleration.get("value") or ""
        if operator == "Equal":
            errs.each(f"{tpath}.value", value, is_label_value(value))
        elif operator == "Exists":
            if value:
                errs.invalid(
                    f"{tpath}.operator", value, "value must be empty when `operator` is 'Exists'"
                )
        else:
            errs.not_supported(f"{tpath}.operator", operator, TOLERATION_OPERATORS)
        effect = toleration.get("effect")
        if effect and effect not in TAINT_EFFECTS:
            errs.not_supported(f"{tpath}.effect", effect, TAINT_EFFECTS)


def validate_pod_spec(spec: Any, path: str, errs: Errors, *, is_pod: bool) -> None:
    spec = _dict(spec)
    volumes = validate_volumes(spec.get("volumes"), f"{path}.volumes", errs)
    containers = spec.get("containers")
    names: set[str] = set()
    if not _list(containers):
        errs.required(f"{path}.containers")
    for i, container in _dicts(containers):
        cpath = f"{path}.containers[{i}]"
        validate_container(container, cpath, volumes, errs, is_pod=is_pod)
        name = container.get("name") or ""
        if name and name in names:
            errs.duplicate(f"{cpath}.name", name)
        names.add(name)
        validate_probe(container.get("livenessProbe"), f"{cpath}.livenessProbe", errs, True)
        validate_probe(container.get("readinessProbe"), f"{cpath}.readinessProbe", errs)
        validate_probe(container.get("startupProbe"), f"{cpath}.startupProbe", errs, True)
        if container.get("restartPolicy") is not None:
            errs.forbidden(f"{cpath}.restartPolicy", "may not be set for non-init containers")
    for i, container in _dicts(spec.get("initContainers")):
        cpath = f"{path}.initContainers[{i}]"
        validate_container(container, cpath, volumes, errs, is_pod=is_pod)
        name = container.get("name") or ""
        if name and name in names:
            errs.duplicate(f"{cpath}.name", name)
        names.add(name)
    restart = spec.get("restartPolicy")
    if not restart:
        errs.required(f"{path}.restartPolicy")
    elif restart not in RESTART_POLICIES:
        errs.not_supported(f"{path}.restartPolicy", restart, RESTART_POLICIES)
    dns = spec.get("dnsPolicy")
    if not dns:
        errs.required(f"{path}.dnsPolicy")
    elif dns not in DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES)
    validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector", errs)
    account = spec.get("serviceAccountName")
    if account:
        errs.each(f"{path}.serviceAccountName", account, is_dns1123_subdomain(account))
    node = spec.get("nodeName")
    if node:
        errs.each(f"{path}.nodeName", node, is_dns1123_subdomain(node))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not (_is_int(deadline) and 1 <= deadline <= 2147483647):
        errs.invalid(
            f"{path}.activeDeadlineSeconds", deadline, "must be between 1 and 2147483647, inclusive"
        )
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errs.each(f"{path}.{key}", spec[key], is_dns1123_label(spec[key]))
    _validate_tolerations(spec.get("tolerations"), f"{path}.tolerations", errs)
    if spec.get("priorityClassName"):
        name = spec["priorityClassName"]
        errs.each(f"{path}.priorityClassName", name, is_dns1123_subdomain(name))
    grace = spec.get("terminationGracePeriodSeconds")
    if _is_int(grace) and grace < 0 and not is_pod:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", grace, NEGATIVE)


def validate_pod_template(template: Any, path: str, errs: Errors) -> None:
    """`ValidatePodTemplateSpec`: the template's labels, annotations and pod spec."""
    template = _dict(template)
    meta = _dict(template.get("metadata"))
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    validate_pod_spec(template.get("spec"), f"{path}.spec", errs, is_pod=False)


UPDATABLE_POD_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def _go_field(key: str) -> str:
    return key[:1].upper() + key[1:]


def _spec_diff(kind: str, old: dict, new: dict) -> str:
    """A short rendition of the `cmp.Diff` Kubernetes appends: the top-level fields that differ."""
    lines = [f"  {kind}{{"]
    same = 0
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            same += 1
            continue
        if key in old:
            lines.append(f"- \t{_go_field(key)}: {json.dumps(old[key], sort_keys=True)},")
        if key in new:
            lines.append(f"+ \t{_go_field(key)}: {json.dumps(new[key], sort_keys=True)},")
    if same:
        lines.append(f"  \t... // {same} identical fields")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _validate_pod(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    validate_pod_spec(spec, "spec", errs, is_pod=True)
    if old is None:
        return
    old_spec = _dict(old.get("spec"))
    munged = json.loads(json.dumps(spec))
    # Images, the deadline and additional tolerations may change; nothing else may.
    for key in ("containers", "initContainers"):
        for new_c, old_c in zip(_list(munged.get(key)), _list(old_spec.get(key)), strict=False):
            if isinstance(new_c, dict) and isinstance(old_c, dict):
                new_c["image"] = old_c.get("image")
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds"):
        if key in old_spec:
            munged[key] = old_spec[key]
        else:
            munged.pop(key, None)
    old_tolerations = _list(old_spec.get("tolerations"))
    new_tolerations = _list(munged.get("tolerations"))
    if all(t in new_tolerations for t in old_tolerations):
        if old_tolerations:
            munged["tolerations"] = old_tolerations
        else:
            munged.pop("tolerations", None)
    if munged != old_spec:
        errs.forbidden(
            "spec",
            "pod updates may not change fields other than "
            + ",".join(UPDATABLE_POD_FIELDS)
            + "\n"
            + _spec_diff("core.PodSpec", old_spec, munged),
        )


# --- workloads --------------------------------------------------------------------------------

WORKLOAD_NOUNS = {
    "Deployment": "deployment",
    # ReplicaSet validation reuses the Deployment wording in Kubernetes.
    "ReplicaSet": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
}


def _with_claim_volumes(template: dict, claims) -> dict:
    """A StatefulSet's template as its pods will be: each claim template is a volume too
    (kube-apiserver leaves the pod spec to pod creation; mounts of claims are valid)."""
    names = [_dict(_dict(c).get("metadata")).get("name") for c in claims or [] if c]
    if not names or not isinstance(template.get("spec"), dict):
        return template
    spec = dict(template["spec"])
    volumes = list(spec.get("volumes") or [])
    have = {_dict(v).get("name") for v in volumes}
    volumes += [
        {"name": n, "persistentVolumeClaim": {"claimName": n}} for n in names if n not in have
    ]
    spec["volumes"] = volumes
    return {**template, "spec": spec}


def _validate_selector_and_template(
    spec: dict, kind: str, errs: Errors, *, only_always: bool = True
) -> None:
    """Selector present, non-empty, matching the template labels; template valid."""
    selector = spec.get("selector")
    if selector is None:
        errs.required("spec.selector")
    else:
        validate_label_selector(selector, "spec.selector", errs)
        if _selector_empty(_dict(selector)):
            errs.invalid(
                "spec.selector",
                go_selector(selector),
                f"empty selector is invalid for {WORKLOAD_NOUNS[kind]}",
            )
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.required("spec.template")
        return
    labels = _dict(template.get("metadata")).get("labels")
    if (selector is None or not _selector_empty(_dict(selector))) and not selector_matches(
        selector, labels
    ):
        errs.invalid(
            "spec.template.metadata.labels",
            go_map(labels),
            "`selector` does not match template `labels`",
        )
    if kind == "StatefulSet":
        template = _with_claim_volumes(template, spec.get("volumeClaimTemplates"))
    validate_pod_template(template, "spec.template", errs)
    if only_always:
        restart = _dict(template.get("spec")).get("restartPolicy")
        if restart and restart != "Always":
            errs.not_supported("spec.template.spec.restartPolicy", restart, ("Always",))
        if _dict(template.get("spec")).get("activeDeadlineSeconds") is not None:
            errs.invalid(
                "spec.template.spec.activeDeadlineSeconds",
                template["spec"]["activeDeadlineSeconds"],
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            )


def _nonnegative_int(spec: dict, key: str, path: str, errs: Errors) -> None:
    value = spec.get(key)
    if _is_int(value) and value < 0:
        errs.invalid(path, value, NEGATIVE)


def _validate_int_or_percent(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, str):
        if not _PERCENT.match(value):
            errs.invalid(path, value, regex_error(PERCENT_MSG, PERCENT_FMT, "1%", "93%"))
        elif int(value[:-1]) > 100:
            errs.invalid(path, value, "must not be greater than 100%")
    elif _is_int(value) and value < 0:
        errs.invalid(path, value, NEGATIVE)


def _is_zero(value: Any) -> bool:
    return value in (0, "0%", None)


def _validate_rolling(rolling: dict, path: str, errs: Errors) -> None:
    surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
    _validate_int_or_percent(surge, f"{path}.maxSurge", errs)
    _validate_int_or_percent(unavailable, f"{path}.maxUnavailable", errs)
    if _is_zero(surge) and _is_zero(unavailable):
        errs.invalid(
            f"{path}.maxUnavailable",
            go_int_or_string(unavailable),
            "may not be 0 when `maxSurge` is 0",
        )


def _immutable_selector(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is None:
        return
    new_selector = _dict(obj.get("spec")).get("selector")
    old_selector = _dict(old.get("spec")).get("selector")
    if not _same_selector(new_selector, old_selector):
        errs.invalid("spec.selector", go_selector(new_selector), IMMUTABLE)


def _validate_deployment(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    _nonnegative_int(spec, "replicas", "spec.replicas", errs)
    _validate_selector_and_template(spec, obj.get("kind", "Deployment"), errs)
    strategy = _dict(spec.get("strategy"))
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden(
                "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is 'Recreate'",
            )
    elif kind == "RollingUpdate":
        _validate_rolling(_dict(strategy.get("rollingUpdate")), "spec.strategy.rollingUpdate", errs)
    elif kind:
        errs.not_supported("spec.strategy.type", kind, ("Recreate", "RollingUpdate"))
    else:
        errs.required("spec.strategy.type")
    _nonnegative_int(spec, "minReadySeconds", "spec.minReadySeconds", errs)
    _nonnegative_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs)
    deadline = spec.get("progressDeadlineSeconds")
    if _is_int(deadline):
        if deadline < 0:
            errs.invalid("spec.progressDeadlineSeconds", deadline, NEGATIVE)
        elif deadline <= (spec.get("minReadySeconds") or 0):
            errs.invalid(
                "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
            )
    _immutable_selector(obj, old, errs)


def _validate_replica_set(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    _nonnegative_int(spec, "replicas", "spec.replicas", errs)
    _nonnegative_int(spec, "minReadySeconds", "spec.minReadySeconds", errs)
    _validate_selector_and_template(spec, "ReplicaSet", errs)
    _immutable_selector(obj, old, errs)


def _validate_replication_controller(obj: dict, old: dict | None, errs: Errors) -> None:
    """ValidateReplicationControllerSpec: a plain, non-empty selector map that the
    template's labels match, and an Always-restarting template."""
    spec = _dict(obj.get("spec"))
    _nonnegative_int(spec, "replicas", "spec.replicas", errs)
    _nonnegative_int(spec, "minReadySeconds", "spec.minReadySeconds", errs)
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector:
        errs.required("spec.selector")
        selector = None
    else:
        validate_labels(selector, "spec.selector", errs)
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.required("spec.template")
        return
    labels = _dict(template.get("metadata")).get("labels")
    if selector is not None and not selector_matches({"matchLabels": selector}, labels):
        errs.invalid(
            "spec.template.metadata.labels",
            go_map(labels),
            "selector does not match labels in spec.template",
        )
    validate_pod_template(template, "spec.template", errs)
    restart = _dict(template.get("spec")).get("restartPolicy")
    if restart and restart != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", restart, ("Always",))


def _validate_api_service(obj: dict, old: dict | None, errs: Errors) -> None:
    """ValidateAPIService: the name is `version.group`, priorities in range."""
    spec = _dict(obj.get("spec"))
    name = _dict(obj.get("metadata")).get("name", "")
    group, version = spec.get("group") or "", spec.get("version") or ""
    expected = f"{version}.{group}"
    if name != expected:
        errs.invalid("metadata.name", name, f"must be {expected}")
    if not version:
        errs.required("spec.version")
    minimum = spec.get("groupPriorityMinimum")
    if not _is_int(minimum) or not 0 < minimum <= 20000:
        errs.invalid("spec.groupPriorityMinimum", minimum, "must be positive and less than 20000")
    priority = spec.get("versionPriority")
    if not _is_int(priority) or not 0 < priority <= 1000:
        errs.invalid("spec.versionPriority", priority, "must be positive and less than 1000")
    if spec.get("service") is None:
        if spec.get("caBundle"):
            detail = "local APIServices may not have a caBundle"
            errs.invalid("spec.caBundle", GoValue(f"{len(spec['caBundle'])} bytes"), detail)
        if spec.get("insecureSkipTLSVerify"):
            errs.invalid(
                "spec.insecureSkipTLSVerify",
                True,
                "local APIServices may not have insecureSkipTLSVerify",
            )


STATEFULSET_UPDATABLE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)


def _validate_stateful_set(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    policy = spec.get("podManagementPolicy")
    if not policy:
        errs.required("spec.podManagementPolicy")
    elif policy not in ("OrderedReady", "Parallel"):
        errs.invalid(
            "spec.podManagementPolicy",
            policy or "",
            "must be 'OrderedReady' or 'Parallel'",
        )
    strategy = _dict(spec.get("updateStrategy"))
    kind = strategy.get("type")
    if kind == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.invalid(
                "spec.updateStrategy.rollingUpdate",
                GoValue("apps.RollingUpdateStatefulSetStrategy{...}"),
                "only allowed for updateStrategy 'RollingUpdate'",
            )
    elif kind == "RollingUpdate":
        rolling = _dict(strategy.get("rollingUpdate"))
        _nonnegative_int(rolling, "partition", "spec.updateStrategy.rollingUpdate.partition", errs)
    elif not kind:
        errs.required("spec.updateStrategy")
    else:
        errs.invalid(
            "spec.updateStrategy",
            GoValue(f'apps.StatefulSetUpdateStrategy{{Type:"{kind}", RollingUpdate:nil}}'),
            "must be 'RollingUpdate' or 'OnDelete'",
        )
    retention = _dict(spec.get("persistentVolumeClaimRetentionPolicy"))
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key)
        if value not in ("Retain", "Delete"):
            errs.not_supported(
                f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                value or "",
                ("Retain", "Delete"),
            )
    _nonnegative_int(spec, "replicas", "spec.replicas", errs)
    _nonnegative_int(spec, "minReadySeconds", "spec.minReadySeconds", errs)
    _validate_selector_and_template(spec, "StatefulSet", errs)
    for i, claim in _dicts(spec.get("volumeClaimTemplates")):
        name = _dict(claim.get("metadata")).get("name") or ""
        path = f"spec.volumeClaimTemplates[{i}]"
        if not name:
            errs.required(f"{path}.metadata.name", "name or generateName is required")
        else:
            errs.each(f"{path}.metadata.name", name, is_dns1123_subdomain(name))
        validate_pvc_spec(claim.get("spec"), f"{path}.spec", errs)
    if old is not None:
        old_spec = _dict(old.get("spec"))
        mutable = (
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        )
        strip = lambda s: {k: v for k, v in s.items() if k not in mutable}  # noqa: E731
        if strip(spec) != strip(old_spec):
            errs.forbidden("spec", STATEFULSET_UPDATABLE)


def _validate_daemon_set(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    _validate_selector_and_template(spec, "DaemonSet", errs)
    _nonnegative_int(spec, "minReadySeconds", "spec.minReadySeconds", errs)
    _nonnegative_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs)
    strategy = _dict(spec.get("updateStrategy"))
    kind = strategy.get("type")
    if kind == "RollingUpdate":
        rolling = _dict(strategy.get("rollingUpdate"))
        _validate_rolling(rolling, "spec.updateStrategy.rollingUpdate", errs)
    elif kind == "OnDelete":
        pass
    elif kind:
        errs.not_supported("spec.updateStrategy.type", kind, ("OnDelete", "RollingUpdate"))
    else:
        errs.required("spec.updateStrategy.type")
    _immutable_selector(obj, old, errs)


COMPLETION_MODES = ("NonIndexed", "Indexed")


def _validate_job_spec(spec: dict, path: str, errs: Errors, *, generated: bool) -> None:
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"):
        _nonnegative_int(spec, key, f"{path}.{key}", errs)
    if _is_int(spec.get("activeDeadlineSeconds")) and spec["activeDeadlineSeconds"] == 0:
        errs.invalid(f"{path}.activeDeadlineSeconds", 0, "must be greater than 0")
    mode = spec.get("completionMode")
    if mode and mode not in COMPLETION_MODES:
        errs.not_supported(f"{path}.completionMode", mode, COMPLETION_MODES)
    if mode == "Indexed" and spec.get("completions") is None:
        errs.required(f"{path}.completions", "when completion mode is Indexed")
    selector = spec.get("selector")
    template = _dict(spec.get("template"))
    labels = _dict(template.get("metadata")).get("labels")
    if generated:
        if selector is None:
            errs.required(f"{path}.selector")
        else:
            validate_label_selector(selector, f"{path}.selector", errs)
            if not selector_matches(selector, labels):
                errs.invalid(
                    f"{path}.template.metadata.labels",
                    go_map(labels),
                    "`selector` does not match template `labels`",
                )
    validate_pod_template(template, f"{path}.template", errs)
    restart = _dict(template.get("spec")).get("restartPolicy")
    if restart not in ("OnFailure", "Never"):
        errs.not_supported(
            f"{path}.template.spec.restartPolicy", restart or "", ("OnFailure", "Never")
        )


def _validate_job(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    _validate_job_spec(spec, "spec", errs, generated=True)
    if old is None:
        return
    old_spec = _dict(old.get("spec"))
    _immutable_selector(obj, old, errs)
    # Only a suspended Job that never started may have its template changed.
    startable = old_spec.get("suspend") and not _dict(old.get("status")).get("startTime")
    if not startable and spec.get("template") != old_spec.get("template"):
        errs.invalid("spec.template", GoValue("core.PodTemplateSpec{...}"), IMMUTABLE)
    if spec.get("completionMode") != old_spec.get("completionMode"):
        errs.invalid("spec.completionMode", spec.get("completionMode") or "", IMMUTABLE)
    indexed_resize = spec.get("completionMode") == "Indexed" and spec.get(
        "completions"
    ) == spec.get("parallelism")
    if spec.get("completions") != old_spec.get("completions") and not indexed_resize:
        errs.invalid("spec.completions", spec.get("completions"), IMMUTABLE)


CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
_CRON_FIELD = re.compile(r"^[\d*?/,\-A-Za-z]+$")
CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _validate_cron_job(obj: dict, old: dict | None, errs: Errors) -> None:
    meta = _dict(obj.get("metadata"))
    if len(meta.get("name") or "") > 52:
        errs.invalid("metadata.name", meta["name"], "must be no more than 52 characters")
    spec = _dict(obj.get("spec"))
    schedule = spec.get("schedule") or ""
    if not schedule:
        errs.required("spec.schedule")
    elif not _valid_schedule(schedule):
        fields = len(schedule.split())
        detail = f"expected exactly 5 fields, found {fields}: {schedule}" if fields != 5 else ""
        errs.invalid("spec.schedule", schedule, detail or "invalid schedule format")
    policy = spec.get("concurrencyPolicy")
    if policy not in CONCURRENCY_POLICIES:
        errs.not_supported("spec.concurrencyPolicy", policy or "", CONCURRENCY_POLICIES)
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        _nonnegative_int(spec, key, f"spec.{key}", errs)
    job_template = _dict(spec.get("jobTemplate"))
    _validate_job_spec(
        _dict(job_template.get("spec")), "spec.jobTemplate.spec", errs, generated=False
    )


def _valid_schedule(schedule: str) -> bool:
    if schedule.startswith("@"):
        return schedule in CRON_MACROS or schedule.startswith("@every ")
    fields = schedule.split()
    if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
        fields = fields[1:]
    return len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)


def _validate_hpa(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    ref = _dict(spec.get("scaleTargetRef"))
    for key in ("kind", "name"):
        value = ref.get(key) or ""
        if not value:
            errs.required(f"spec.scaleTargetRef.{key}")
        else:
            errs.each(f"spec.scaleTargetRef.{key}", value, is_path_segment_name(value))
    minimum = spec.get("minReplicas")
    if _is_int(minimum) and minimum < 1:
        errs.invalid("spec.minReplicas", minimum, "must be greater than or equal to 1")
    maximum = spec.get("maxReplicas")
    if not _is_int(maximum) or maximum < 1:
        errs.invalid("spec.maxReplicas", maximum or 0, "must be greater than 0")
    elif _is_int(minimum) and maximum < minimum:
        errs.invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`")


# --- services and networking ------------------------------------------------------------------

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
NODE_PORT_RANGE = (30000, 32767)


def _validate_service(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    svc_type = spec.get("type") or ""
    headless = spec.get("clusterIP") == "None"
    if svc_type not in SERVICE_TYPES:
        if not svc_type:
            errs.required("spec.type")
        else:
            errs.not_supported("spec.type", svc_type, SERVICE_TYPES)
    ports = _list(spec.get("ports"))
    if svc_type == "ExternalName":
        name = spec.get("externalName") or ""
        if not name:
            errs.required("spec.externalName")
        else:
            errs.each("spec.externalName", name, is_dns1123_subdomain(name.rstrip(".")))
        if spec.get("clusterIP"):
            errs.forbidden("spec.clusterIP", "may not be set for ExternalName services")
    elif not ports and not headless:
        errs.required("spec.ports")
    names: set[str] = set()
    seen: set[tuple[Any, Any]] = set()
    for i, port in _dicts(ports):
        ppath = f"spec.ports[{i}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            errs.required(f"{ppath}.name")
        elif name:
            errs.each(f"{ppath}.name", name, is_dns1123_label(name))
            if name in names:
                errs.duplicate(f"{ppath}.name", name)
            names.add(name)
        errs.each(f"{ppath}.port", port.get("port"), is_port_num(port.get("port")))
        protocol = port.get("protocol")
        if not protocol:
            errs.required(f"{ppath}.protocol")
        elif protocol not in PROTOCOLS:
            errs.not_supported(f"{ppath}.protocol", protocol, PROTOCOLS)
        _validate_port_or_name(port.get("targetPort"), f"{ppath}.targetPort", errs)
        node_port = port.get("nodePort")
        if node_port:
            if svc_type not in ("NodePort", "LoadBalancer"):
                errs.forbidden(f"{ppath}.nodePort", f"may not be used when `type` is '{svc_type}'")
            elif not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
                errs.invalid(
                    f"{ppath}.nodePort",
                    node_port,
                    "provided port is not in the valid range. The range of valid ports is "
                    f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}",
                )
        key = (port.get("port"), protocol)
        if key in seen:
            errs.duplicate(f"{ppath}", GoValue(_go_service_port(port)))
        seen.add(key)
    validate_labels(spec.get("selector"), "spec.selector", errs)
    affinity = spec.get("sessionAffinity")
    if affinity not in ("ClientIP", "None"):
        errs.not_supported("spec.sessionAffinity", affinity or "", ("ClientIP", "None"))
    for i, ip in enumerate(_list(spec.get("clusterIPs"))):
        if ip != "None" and not _is_ip(ip):
            errs.invalid(
                f"spec.clusterIPs[{i}]",
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            )
    if spec.get("externalTrafficPolicy") and svc_type not in ("NodePort", "LoadBalancer"):
        errs.invalid(
            "spec.externalTrafficPolicy",
            spec["externalTrafficPolicy"],
            "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
        )
    for key in ("externalTrafficPolicy", "internalTrafficPolicy"):
        value = spec.get(key)
        if value and value not in ("Cluster", "Local"):
            errs.not_supported(f"spec.{key}", value, ("Cluster", "Local"))
    if old is not None:
        _validate_service_update(spec, _dict(old.get("spec")), errs)


def _go_service_port(port: dict) -> str:
    target = go_int_or_string(port.get("targetPort"))
    return (
        f"core.ServicePort{{Name:{go_quote(port.get('name') or '')}, "
        f"Protocol:{go_quote(port.get('protocol') or '')}, AppProtocol:(*string)(nil), "
        f"Port:{port.get('port')}, TargetPort:{target}, NodePort:{port.get('nodePort') or 0}}}"
    )


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _validate_service_update(spec: dict, old_spec: dict, errs: Errors) -> None:
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    if spec.get("clusterIP") == "None" and old_spec.get("clusterIP") == "None":
        return
    new_ips, old_ips = _list(spec.get("clusterIPs")), _list(old_spec.get("clusterIPs"))
    for i, ip in enumerate(old_ips[: len(new_ips)]):
        if new_ips[i] != ip:
            errs.invalid(f"spec.clusterIPs[{i}]", go_strings(new_ips), "may not change once set")


INGRESS_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")


def _validate_ingress(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    rules = _list(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        errs.invalid(
            "spec",
            GoValue("[]networking.IngressRule(nil)"),
            "either `defaultBackend` or `rules` must be specified",
        )
    if spec.get("defaultBackend") is not None:
        _validate_ingress_backend(spec["defaultBackend"], "spec.defaultBackend", errs)
    class_name = spec.get("ingressClassName")
    if class_name:
        errs.each("spec.ingressClassName", class_name, is_dns1123_subdomain(class_name))
    for i, rule in _dicts(rules):
        rpath = f"spec.rules[{i}]"
        host = rule.get("host") or ""
        if host:
            if _is_ip(host):
                errs.invalid(f"{rpath}.host", host, "must be a DNS name, not an IP address")
            elif "*" in host:
                if not _WILDCARD_DNS1123.match(host):
                    errs.invalid(
                        f"{rpath}.host",
                        host,
                        regex_error(WILDCARD_DNS1123_MSG, WILDCARD_DNS1123_FMT, "*.example.com"),
                    )
            else:
                errs.each(f"{rpath}.host", host, is_dns1123_subdomain(host))
        http = rule.get("http")
        if http is None:
            continue
        paths = _list(_dict(http).get("paths"))
        if not paths:
            errs.required(f"{rpath}.http.paths")
        for j, item in _dicts(paths):
            _validate_ingress_path(item, f"{rpath}.http.paths[{j}]", errs)
    for i, tls in _dicts(spec.get("tls")):
        for j, host in enumerate(_list(tls.get("hosts"))):
            check = host[2:] if isinstance(host, str) and host.startswith("*.") else host
            errs.each(f"spec.tls[{i}].hosts[{j}]", host, is_dns1123_subdomain(str(check)))


def _validate_ingress_path(item: dict, path: str, errs: Errors) -> None:
    path_type = item.get("pathType")
    value = item.get("path") or ""
    if not path_type:
        errs.required(f"{path}.pathType", "pathType must be specified")
        return
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.invalid(f"{path}.path", value, "must be an absolute path")
        for sequence in ("//", "/./", "/../", "%2f", "%2F"):
            if sequence in value:
                errs.invalid(f"{path}.path", value, f"must not contain '{sequence}'")
        for suffix in ("/..", "/."):
            if value.endswith(suffix):
                errs.invalid(f"{path}.path", value, f"cannot end with '{suffix}'")
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.invalid(f"{path}.path", value, "must be an absolute path")
    else:
        errs.not_supported(f"{path}.pathType", path_type, INGRESS_PATH_TYPES)
    _validate_ingress_backend(item.get("backend"), f"{path}.backend", errs)


def _validate_ingress_backend(backend: Any, path: str, errs: Errors) -> None:
    backend = _dict(backend)
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        errs.invalid(path, "", "cannot set both resource and service backends")
        return
    if resource is not None:
        return
    if service is None:
        errs.invalid(path, "", "resource or service backend is required")
        return
    service = _dict(service)
    name = service.get("name") or ""
    if not name:
        errs.required(f"{path}.service.name")
    else:
        errs.each(f"{path}.service.name", name, is_dns1035_label(name))
    port = _dict(service.get("port"))
    if port.get("name") and port.get("number"):
        errs.invalid(path, "", "cannot set both port name & port number")
    elif port.get("name"):
        errs.each(f"{path}.service.port.name", port["name"], is_port_name(port["name"]))
    elif port.get("number"):
        number = port["number"]
        errs.each(f"{path}.service.port.number", number, is_port_num(number))
    else:
        errs.required(path, "port name or number is required")


# --- namespaces, config and storage -----------------------------------------------------------

CONFIG_SIZE_LIMIT = 1024 * 1024


def _validate_config_keys(obj: dict, errs: Errors) -> int:
    size = 0
    data, binary = _dict(obj.get("data")), _dict(obj.get("binaryData"))
    for key in sorted(data):
        errs.each(f"data[{key}]", key, is_config_key(key))
        if key in binary:
            errs.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        size += len(str(data[key]))
    for key in sorted(binary):
        errs.each(f"binaryData[{key}]", key, is_config_key(key))
        size += len(str(binary[key])) * 3 // 4
    return size


def _immutable_payload(obj: dict, old: dict | None, keys: tuple[str, ...], errs: Errors) -> None:
    if old is None or not old.get("immutable"):
        return
    if not obj.get("immutable"):
        errs.forbidden("immutable", "field is immutable when `immutable` is set")
    for key in keys:
        if (obj.get(key) or {}) != (old.get(key) or {}):
            errs.forbidden(key, "field is immutable when `immutable` is set")


def _validate_config_map(obj: dict, old: dict | None, errs: Errors) -> None:
    if _validate_config_keys(obj, errs) > CONFIG_SIZE_LIMIT:
        errs.too_long("", CONFIG_SIZE_LIMIT)
    _immutable_payload(obj, old, ("data", "binaryData"), errs)


# Secret types and the keys each one requires.
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _validate_secret(obj: dict, old: dict | None, errs: Errors) -> None:
    data = _dict(obj.get("data"))
    size = 0
    for key in sorted(data):
        errs.each(f"data[{key}]", key, is_config_key(key))
        size += len(str(data[key])) * 3 // 4
    data_type = obj.get("type") or "Opaque"
    for key in SECRET_REQUIRED_KEYS.get(data_type, ()):
        if key not in data:
            errs.required(f"data[{key}]")
    if data_type == "kubernetes.io/basic-auth" and not ({"username", "password"} & set(data)):
        errs.required("data[username]")
        errs.required("data[password]")
    if data_type == "kubernetes.io/service-account-token":
        annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    if size > CONFIG_SIZE_LIMIT:
        errs.too_long("data", CONFIG_SIZE_LIMIT)
    if old is not None:
        if (old.get("type") or "Opaque") != data_type:
            errs.invalid("type", data_type, IMMUTABLE)
        _immutable_payload(obj, old, ("data",), errs)


ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")


def validate_pvc_spec(spec: Any, path: str, errs: Errors) -> None:
    spec = _dict(spec)
    modes = _list(spec.get("accessModes"))
    if not modes:
        errs.required(f"{path}.accessModes", "at least 1 access mode is required")
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.not_supported(f"{path}.accessModes", mode, ACCESS_MODES)
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.forbidden(
            f"{path}.accessModes", "may not use ReadWriteOncePod with other access modes"
        )
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    storage_path = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.required(storage_path)
    else:
        storage = _parsed(requests["storage"])
        if storage is not None and storage.value <= 0:
            errs.invalid(storage_path, str(storage), "must be greater than zero")
    mode = spec.get("volumeMode")
    if mode and mode not in VOLUME_MODES:
        errs.not_supported(f"{path}.volumeMode", mode, VOLUME_MODES)
    class_name = spec.get("storageClassName")
    if class_name:
        errs.each(f"{path}.storageClassName", class_name, is_dns1123_subdomain(class_name))
    selector = spec.get("selector")
    if selector is not None:
        validate_label_selector(selector, f"{path}.selector", errs)


def _storage(spec: dict) -> quantity.Quantity | None:
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    return _parsed(requests.get("storage")) if "storage" in requests else None


def pvc_update_errors(obj: dict, old: dict) -> list[dict]:
    """PVC update rules: spec frozen but for the storage request of a bound claim, which may
    not fall to or below `status.capacity` (RecoverVolumeExpansionFailure, on in 1.32).

    Whether the class allows expansion is admission's business (`admission.admit`)."""
    errs = Errors()
    spec, old_spec = _dict(obj.get("spec")), _dict(old.get("spec"))
    new_clone, old_clone = json.loads(json.dumps(spec)), json.loads(json.dumps(old_spec))
    if not old_spec.get("volumeName"):
        old_clone["volumeName"] = new_clone.get("volumeName")
        if old_clone["volumeName"] is None:
            del old_clone["volumeName"]
    bound = _dict(old.get("status")).get("phase") == "Bound"
    if bound and "storage" in _dict(_dict(new_clone.get("resources")).get("requests")):
        old_storage = _dict(_dict(old_spec.get("resources")).get("requests")).get("storage")
        new_clone["resources"]["requests"]["storage"] = old_storage
    if _normalize_quantities(new_clone) != _normalize_quantities(old_clone):
        errs.forbidden(
            "spec",
            "spec is immutable after creation except resources.requests for bound claims\n"
            + _spec_diff("core.PersistentVolumeClaimSpec", old_clone, new_clone),
        )
    new_size, old_size = _storage(spec), _storage(old_spec)
    capacity = _parsed(_dict(_dict(old.get("status")).get("capacity")).get("storage", 0))
    if new_size is not None and old_size is not None and new_size.value < old_size.value:
        status_size = capacity.value if capacity is not None else Decimal(0)
        if new_size.value <= status_size:
            errs.forbidden(
                "spec.resources.requests.storage", "field can not be less than status.capacity"
            )
    return list(errs)


def _normalize_quantities(spec: dict) -> dict:
    resources = _dict(spec.get("resources"))
    for part in ("requests", "limits"):
        for key, value in _dict(resources.get(part)).items():
            q = _parsed(value)
            if q is not None:
                resources[part][key] = str(q.value)
    return spec


def _validate_pvc(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_pvc_spec(obj.get("spec"), "spec", errs)
    if old is not None:
        errs.extend(pvc_update_errors(obj, old))


PV_RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
PV_SOURCES = (
    "hostPath",
    "local",
    "nfs",
    "csi",
    "iscsi",
    "fc",
    "rbd",
    "cephfs",
    "glusterfs",
    "azureFile",
    "azureDisk",
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "cinder",
    "vsphereVolume",
    "flexVolume",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "quobyte",
    "photonPersistentDisk",
    "flocker",
)


def _validate_pv(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    modes = _list(spec.get("accessModes"))
    if not modes:
        errs.required("spec.accessModes")
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.not_supported("spec.accessModes", mode, ACCESS_MODES)
    capacity = _dict(spec.get("capacity"))
    if not capacity:
        errs.required("spec.capacity")
    elif "storage" not in capacity:
        errs.not_supported("spec.capacity", sorted(capacity)[0], ("storage",))
    else:
        storage = _parsed(capacity["storage"])
        if storage is not None and storage.value <= 0:
            errs.invalid("spec.capacity[storage]", str(storage), "must be greater than zero")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in PV_RECLAIM_POLICIES:
        errs.not_supported("spec.persistentVolumeReclaimPolicy", policy, PV_RECLAIM_POLICIES)
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not sources:
        errs.required("spec", "must specify a volume type")
    for extra in sources[1:]:
        errs.forbidden(f"spec.{extra}", "may not specify more than 1 volume type")
    mode = spec.get("volumeMode")
    if mode and mode not in VOLUME_MODES:
        errs.not_supported("spec.volumeMode", mode, VOLUME_MODES)


def _validate_storage_class(obj: dict, old: dict | None, errs: Errors) -> None:
    provisioner = obj.get("provisioner") or ""
    if not provisioner:
        errs.required("provisioner")
    else:
        errs.each("provisioner", provisioner, is_qualified_name(provisioner.lower()))
    policy = obj.get("reclaimPolicy")
    if policy not in ("Delete", "Retain"):
        errs.not_supported("reclaimPolicy", policy or "", ("Delete", "Retain"))
    mode = obj.get("volumeBindingMode")
    if mode not in ("Immediate", "WaitForFirstConsumer"):
        errs.not_supported("volumeBindingMode", mode or "", ("Immediate", "WaitForFirstConsumer"))
    if old is None:
        return
    if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
        errs.forbidden("parameters", "updates to parameters are forbidden.")
    if obj.get("provisioner") != old.get("provisioner"):
        errs.forbidden("provisioner", "updates to provisioner are forbidden.")
    if obj.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
    if obj.get("volumeBindingMode") != old.get("volumeBindingMode"):
        errs.invalid("volumeBindingMode", obj.get("volumeBindingMode") or "", IMMUTABLE)


STANDARD_QUOTA_RESOURCES = (
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
)
QUOTA_SCOPES = (
    "BestEffort",
    "CrossNamespacePodAffinity",
    "NotBestEffort",
    "NotTerminating",
    "PriorityClass",
    "Terminating",
)


def _validate_resource_quota(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    hard = _dict(spec.get("hard"))
    for name in sorted(hard):
        path = f"spec.hard[{name}]"
        errs.each(path, name, is_qualified_name(name))
        standard = name in STANDARD_QUOTA_RESOURCES or name.startswith(
            ("hugepages-", "requests.hugepages-")
        )
        if "/" not in name and not standard:
            errs.invalid(path, name, "must be a standard resource for quota")
        q = _parsed(hard[name])
        if q is not None and q.value < 0:
            errs.invalid(path, go_quantity(hard[name]), NEGATIVE)
    for i, scope in enumerate(_list(spec.get("scopes"))):
        if scope not in QUOTA_SCOPES:
            errs.not_supported(f"spec.scopes[{i}]", scope, QUOTA_SCOPES)


LIMIT_TYPES = ("Container", "Pod", "PersistentVolumeClaim")


def _validate_limit_range(obj: dict, old: dict | None, errs: Errors) -> None:
    for i, item in _dicts(_dict(obj.get("spec")).get("limits")):
        ipath = f"spec.limits[{i}]"
        limit_type = item.get("type") or ""
        if not limit_type:
            errs.required(f"{ipath}.type")
        values = {
            part: {k: _parsed(v) for k, v in _dict(item.get(part)).items()}
            for part in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")
        }
        if limit_type == "Pod":
            for part in ("default", "defaultRequest"):
                if values[part]:
                    errs.forbidden(f"{ipath}.{part}", "may not be specified when `type` is 'Pod'")
        names = sorted({name for part in values.values() for name in part})
        for name in names:
            low, high = values["min"].get(name), values["max"].get(name)
            dflt, dreq = values["default"].get(name), values["defaultRequest"].get(name)
            checks = (
                (low, high, "min", low, "min value {a} is greater than max value {b}"),
                (
                    low,
                    dreq,
                    "defaultRequest",
                    dreq,
                    "min value {a} is greater than default request value {b}",
                ),
                (
                    dreq,
                    high,
                    "defaultRequest",
                    dreq,
                    "default request value {a} is greater than max value {b}",
                ),
                (
                    dreq,
                    dflt,
                    "defaultRequest",
                    dreq,
                    "default request value {a} is greater than default limit value {b}",
                ),
                (low, dflt, "default", low, "min value {a} is greater than default value {b}"),
                (dflt, high, "default", high, "default value {a} is greater than max value {b}"),
            )
            for a, b, part, shown, message in checks:
                if a is not None and b is not None and a.value > b.value:
                    errs.invalid(
                        f"{ipath}.{part}[{name}]",
                        go_quantity(shown),
                        message.format(a=a, b=b),
                    )


def _validate_namespace(obj: dict, old: dict | None, errs: Errors) -> None:
    for i, finalizer in enumerate(_list(_dict(obj.get("spec")).get("finalizers"))):
        if "/" not in finalizer and finalizer != "kubernetes":
            errs.invalid(
                f"spec.finalizers[{i}]",
                finalizer,
                "name is neither a standard finalizer name nor is it fully qualified",
            )


def _validate_lease(obj: dict, old: dict | None, errs: Errors) -> None:
    """coordination/validation.ValidateLeaseSpec."""
    spec = _dict(obj.get("spec"))
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and _is_int(duration) and duration <= 0:
        errs.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    transitions = spec.get("leaseTransitions")
    if transitions is not None and _is_int(transitions) and transitions < 0:
        errs.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")


# --- RBAC and CRDs ----------------------------------------------------------------------------

SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _validate_rules(obj: dict, errs: Errors, namespaced: bool) -> None:
    for i, rule in _dicts(obj.get("rules")):
        path = f"rules[{i}]"
        if not rule.get("verbs"):
            errs.required(f"{path}.verbs", "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            if namespaced:
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "namespaced rules cannot apply to non-resource URLs",
                )
            if rule.get("apiGroups") or rule.get("resources"):
                errs.invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            continue
        if not rule.get("apiGroups"):
            errs.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
        if not rule.get("resources"):
            errs.required(f"{path}.resources", "resource rules must supply at least one resource")


def _validate_role(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_rules(obj, errs, namespaced=obj.get("kind") == "Role")


def _validate_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    namespaced = obj.get("kind") == "RoleBinding"
    ref = _dict(obj.get("roleRef"))
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errs.not_supported(
            "roleRef.apiGroup", ref.get("apiGroup") or "", ("rbac.authorization.k8s.io",)
        )
    allowed_kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind") not in allowed_kinds:
        errs.not_supported("roleRef.kind", ref.get("kind") or "", allowed_kinds)
    if not ref.get("name"):
        errs.required("roleRef.name")
    else:
        errs.each("roleRef.name", ref["name"], is_path_segment_name(ref["name"]))
    for i, subject in _dicts(obj.get("subjects")):
        path = f"subjects[{i}]"
        kind = subject.get("kind")
        if not subject.get("name"):
            errs.required(f"{path}.name")
        if kind not in SUBJECT_KINDS:
            errs.not_supported(f"{path}.kind", kind or "", SUBJECT_KINDS)
        elif kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errs.not_supported(f"{path}.apiGroup", subject["apiGroup"], ("",))
            if not namespaced and not subject.get("namespace"):
                errs.required(f"{path}.namespace")
        elif subject.get("apiGroup") != "rbac.authorization.k8s.io":
            errs.not_supported(
                f"{path}.apiGroup", subject.get("apiGroup") or "", ("rbac.authorization.k8s.io",)
            )
    if old is not None and _dict(old.get("roleRef")) != ref:
        errs.invalid(
            "roleRef",
            GoValue(
                f"rbac.RoleRef{{APIGroup:{go_quote(ref.get('apiGroup') or '')}, "
                f"Kind:{go_quote(ref.get('kind') or '')}, Name:{go_quote(ref.get('name') or '')}}}"
            ),
            "cannot change roleRef",
        )


def _validate_crd(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = _dict(obj.get("spec"))
    names = _dict(spec.get("names"))
    name = _dict(obj.get("metadata")).get("name") or ""
    plural, group = names.get("plural") or "", spec.get("group") or ""
    if name and name != f"{plural}.{group}":
        errs.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
    if not group:
        errs.required("spec.group")
    elif "." not in group:
        errs.invalid("spec.group", group, "should be a domain with at least one dot")
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        errs.not_supported("spec.scope", scope or "", ("Cluster", "Namespaced"))
    if not plural:
        errs.required("spec.names.plural")
    if not names.get("kind"):
        errs.required("spec.names.kind")
    versions = _list(spec.get("versions"))
    if not versions:
        errs.invalid(
            "spec.versions",
            GoValue("[]apiextensions.CustomResourceDefinitionVersion(nil)"),
            "must have exactly one version marked as storage version",
        )
    elif sum(1 for v in versions if isinstance(v, dict) and v.get("storage")) != 1:
        errs.invalid(
            "spec.versions",
            GoValue("[]apiextensions.CustomResourceDefinitionVersion{...}"),
            "must have exactly one version marked as storage version",
        )
    if old is not None and _dict(old.get("spec")).get("scope") != scope:
        errs.invalid("spec.scope", scope or "", IMMUTABLE)


# -- policy/v1, as the apiserver's ValidatePodDisruptionBudget ------------------------

EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")


def _validate_pdb(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")
    for field, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            _pdb_int_or_percent(value, f"spec.{field}", errs)
    if spec.get("selector") is not None:
        validate_label_selector(spec["selector"], "spec.selector", errs)
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in EVICTION_POLICIES:
        errs.not_supported("spec.unhealthyPodEvictionPolicy", policy, EVICTION_POLICIES)


def _pdb_int_or_percent(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        errs.invalid(path, value, "must be an integer or percentage (e.g. '5%')")
        return
    _validate_int_or_percent(value, path, errs)


VALIDATORS: dict[tuple[str, str], Callable[[dict, dict | None, Errors], None]] = {
    ("", "Pod"): _validate_pod,
    ("", "Service"): _validate_service,
    ("", "Namespace"): _validate_namespace,
    ("", "ConfigMap"): _validate_config_map,
    ("", "Secret"): _validate_secret,
    ("", "PersistentVolumeClaim"): _validate_pvc,
    ("", "PersistentVolume"): _validate_pv,
    ("", "ResourceQuota"): _validate_resource_quota,
    ("", "LimitRange"): _validate_limit_range,
    ("apps", "Deployment"): _validate_deployment,
    ("", "ReplicationController"): _validate_replication_controller,
    ("apps", "ReplicaSet"): _validate_replica_set,
    ("apps", "StatefulSet"): _validate_stateful_set,
    ("apps", "DaemonSet"): _validate_daemon_set,
    ("batch", "Job"): _validate_job,
    ("batch", "CronJob"): _validate_cron_job,
    ("autoscaling", "HorizontalPodAutoscaler"): _validate_hpa,
    ("networking.k8s.io", "Ingress"): _validate_ingress,
    ("storage.k8s.io", "StorageClass"): _validate_storage_class,
    ("rbac.authorization.k8s.io", "Role"): _validate_role,
    ("rbac.authorization.k8s.io", "ClusterRole"): _validate_role,
    ("rbac.authorization.k8s.io", "RoleBinding"): _validate_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _validate_binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _validate_crd,
    ("coordination.k8s.io", "Lease"): _validate_lease,
    ("apiregistration.k8s.io", "APIService"): _validate_api_service,
    ("policy", "PodDisruptionBudget"): _validate_pdb,
}
