"""The Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`), without protoc.

A body is the 4-byte magic `k8s\\x00` followed by a `runtime.Unknown` envelope: the object's
`typeMeta` (apiVersion, kind) and `raw`, the typed message itself (the message has no
apiVersion/kind fields of its own). kubectl's generator commands (`kubectl create
deployment|configmap|secret|...`, `run`, `expose`) send built-in kinds this way.

The wire schema — each message's fields with JSON name, number, type and label — is the one
in `kubesim/apiserver/data/k8s-1.32-protobuf-fields.json` (see kubesim/README.md for its
source). The codec converts between that wire form and the JSON form kubesim stores:

- scalars are varints (`int32`/`int64`/`bool`) or length-delimited (`string`, `bytes`; bytes
  are base64 in JSON, as Secret `data`); maps are repeated key (1) / value (2) entries;
- well-known types have the JSON form of their Go type: `meta.v1.Time` (seconds, nanos) is an
  RFC 3339 string, `MicroTime` one with microseconds, `Quantity` a string, `IntOrString` an
  int or a string, `Duration` a Go duration string ("1h0m0s"), `RawExtension` and `FieldsV1`
  embedded JSON.

Go's encoder writes every non-pointer field, zero or not, so a decoded message has `name: ""`,
`generation: 0`, `hostNetwork: false`... where the JSON form omits them (`omitempty`). Decoding
drops those zero scalars, except for fields that are pointers in the Go types, where a zero
was set on purpose (`replicas: 0`, `automountServiceAccountToken: false`): POINTER_FIELDS.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
SCHEMA_PATH = Path(__file__).with_name("data") / "k8s-1.32-protobuf-fields.json"

META = "k8s.io.apimachinery.pkg.apis.meta.v1"
UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
TIME = f"{META}.Time"
MICRO_TIME = f"{META}.MicroTime"
DURATION = f"{META}.Duration"
FIELDS_V1 = f"{META}.FieldsV1"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
# Go slices given a message of their own in proto (`repeated string items = 1`)
ARRAY_WRAPPERS = {
    "k8s.io.api.authentication.v1.ExtraValue",
    "k8s.io.api.authorization.v1.ExtraValue",
    f"{META}.Verbs",
}
# Go structs embedded with `json:",inline"`: their fields sit in the parent's JSON object
INLINE = {
    ("k8s.io.api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
    ("k8s.io.api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("k8s.io.api.core.v1.Probe", "handler"),
    ("k8s.io.api.core.v1.Volume", "volumeSource"),
    ("k8s.io.api.networking.v1.IngressRule", "ingressRuleValue"),
} | {
    (f"k8s.io.api.core.v1.{kind}", "localObjectReference")
    for kind in (
        "ConfigMapEnvSource",
        "ConfigMapKeySelector",
        "ConfigMapProjection",
        "ConfigMapVolumeSource",
        "SecretEnvSource",
        "SecretKeySelector",
        "SecretProjection",
    )
}

# Fields that are pointers in the Go types, where a zero value on the wire was set (a
# non-pointer field is always written, so its zero means "unset" and is dropped).
POINTER_FIELDS = frozenset(
    {
        # ints
        "replicas",
        "minReplicas",
        "revisionHistoryLimit",
        "progressDeadlineSeconds",
        "parallelism",
        "completions",
        "backoffLimit",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "terminationGracePeriodSeconds",
        "deletionGracePeriodSeconds",
        "gracePeriodSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "defaultMode",
        "mode",
        "expirationSeconds",
        "priority",
        "tolerationSeconds",
        "stabilizationWindowSeconds",
        "averageUtilization",
        "targetCPUUtilizationPercentage",
        "leaseDurationSeconds",
        "leaseTransitions",
        "port",  # EndpointPort in discovery/v1
        # bools
        "suspend",
        "immutable",
        "automountServiceAccountToken",
        "privileged",
        "allowPrivilegeEscalation",
        "readOnlyRootFilesystem",
        "runAsNonRoot",
        "optional",
        "enableServiceLinks",
        "shareProcessNamespace",
        "setHostnameAsFQDN",
        "hostUsers",
        "allocateLoadBalancerNodePorts",
        "controller",
        "blockOwnerDeletion",
        "manualSelector",
        "allowVolumeExpansion",
        "orphanDependents",
        "started",
        "ready",
        "serving",
        "terminating",
        # strings where "" is a choice (a PVC's `storageClassName: ""`: no dynamic class)
        "storageClassName",
    }
)

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_VARINT_TYPES = {"int32", "int64", "uint32", "uint64", "bool", "enum"}


class ProtobufError(ValueError):
    """A body that is not a valid Kubernetes protobuf message."""


# -- the schema --------------------------------------------------------------------------


@cache
def messages() -> dict[str, list[dict]]:
    return json.loads(SCHEMA_PATH.read_text())["messages"]


@cache
def _by_number(message: str) -> dict[int, dict]:
    return {f["number"]: f for f in messages()[message]}


@cache
def _in_order(message: str) -> tuple[dict, ...]:
    return tuple(sorted(messages()[message], key=lambda f: f["number"]))


def message_name(api_version: str, kind: str) -> str | None:
    """The proto message of a built-in kind (`apps/v1`, `Deployment`), None if it has none."""
    group, _, version = api_version.rpartition("/")
    if kind in ("Status", "DeleteOptions", "WatchEvent") or group == "meta.k8s.io":
        name = f"{META}.{kind}"
        return name if name in messages() else None
    if group and "." in group and not group.endswith(".k8s.io"):
        return None  # custom resources are JSON-only, as on a real server
    package = group.split(".")[0] if group else "core"
    name = f"k8s.io.api.{package}.{version}.{kind}"
    if group == "apiregistration.k8s.io":  # served by kube-aggregator, its own proto package
        name = f"k8s.io.kube_aggregator.pkg.apis.apiregistration.{version}.{kind}"
    if name in messages():
        return name
    if not group:  # discovery documents: APIVersions, APIResourceList... are meta/v1
        name = f"{META}.{kind}"
        return name if name in messages() else None
    return None


# -- wire primitives ---------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # negative ints are ten-byte two's complement varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _fields(data: bytes):
    """(number, wire type, value) for each field: an int for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire == _LEN:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise ProtobufError("truncated length-delimited field")
            value, pos = data[pos : pos + size], pos + size
        elif wire == _I64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == _I32:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        if number == 0:
            raise ProtobufError("field number 0")
        yield number, wire, value


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _signed(value: int, kind: str) -> int:
    if kind in ("int32", "int64") and value >= 1 << 63:
        value -= 1 << 64
    if kind == "int32":
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
    return value


# -- well-known types --------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$"
)


def _parse_time(text: str) -> tuple[int, int]:
    match = _RFC3339.match(text)
    if not match:
        raise ProtobufError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
    )
    seconds = int(stamp.timestamp())
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int((fraction or "").ljust(9, "0"))
    return seconds, nanos


def _format_time(seconds: int, nanos: int, micro: bool) -> str:
    stamp = datetime.fromtimestamp(seconds, UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


_DURATION_UNITS = {
    "h": 3600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "µs": 10**3,
    "ns": 1,
}


def _parse_duration(text: str) -> int:
    """A Go duration string ("1h30m", "2.5s") in nanoseconds."""
    sign, rest = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if rest == "0":
        return 0
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)", rest)
    if not parts or "".join(n + u for n, u in parts) != rest:
        raise ProtobufError(f"not a duration: {text!r}")
    return sign * round(sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def _format_duration(nanos: int) -> str:
    """Go's time.Duration.String() for whole seconds and above, as durations in the API are."""
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    if nanos < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3)):
            if nanos >= size:
                return f"{sign}{nanos / size:g}{unit}"
        return f"{sign}{nanos}ns"
    hours, rem = divmod(nanos, 3600 * 10**9)
    minutes, rem = divmod(rem, 60 * 10**9)
    seconds = f"{rem / 10**9:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _decode_special(message: str, data: bytes):
    fields = {number: value for number, _wire, value in _fields(data)}
    if message in (TIME, MICRO_TIME):
        seconds, nanos = _signed(fields.get(1, 0), "int64"), fields.get(2, 0)
        if not seconds and not nanos:
            return None  # Go's zero time: `null` in JSON
        return _format_time(seconds, nanos, message == MICRO_TIME)
    if message == QUANTITY:
        return bytes(fields.get(1, b"")).decode()
    if message == INT_OR_STRING:
        if fields.get(1, 0) == 1:
            return bytes(fields.get(3, b"")).decode()
        return _signed(fields.get(2, 0), "int32")
    if message == DURATION:
        return _format_duration(_signed(fields.get(1, 0), "int64"))
    raw = bytes(fields.get(1, b""))
    if message in (RAW_EXTENSION, FIELDS_V1):
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ProtobufError(f"{message.rsplit('.', 1)[-1]} is not JSON: {exc}") from exc
    # ARRAY_WRAPPERS
    return [bytes(v).decode() for n, _w, v in _fields(data) if n == 1]


def _encode_special(message: str, value) -> bytes:
    if message in (TIME, MICRO_TIME):
        seconds, nanos = _parse_time(value)
        out = _tag(1, _VARINT) + _varint(seconds) if seconds else b""
        return out + (_tag(2, _VARINT) + _varint(nanos) if nanos else b"")
    if message == QUANTITY:
        return _string(1, str(value))
    if message == INT_OR_STRING:
        text = isinstance(value, str)
        return (
            _tag(1, _VARINT)
            + _varint(int(text))
            + _tag(2, _VARINT)
            + _varint(0 if text else int(value))
            + _string(3, value if text else "")
        )
    if message == DURATION:
        return _tag(1, _VARINT) + _varint(_parse_duration(value))
    if message in (RAW_EXTENSION, FIELDS_V1):
        return _bytes(1, json.dumps(value, separators=(",", ":")).encode())
    return b"".join(_string(1, item) for item in value)  # ARRAY_WRAPPERS


SPECIAL = {TIME, MICRO_TIME, QUANTITY, INT_OR_STRING, DURATION, RAW_EXTENSION, FIELDS_V1}
SPECIAL |= ARRAY_WRAPPERS


# -- messages ----------------------------------------------------------------------------


def _scalar(kind: str, wire: int, value):
    if kind in _VARINT_TYPES:
        if wire != _VARINT:
            raise ProtobufError(f"expected a varint for a {kind}")
        return bool(value) if kind == "bool" else _signed(value, kind)
    if wire != _LEN:
        raise ProtobufError(f"expected a length-delimited {kind}")
    if kind == "string":
        try:
            return bytes(value).decode()
        except UnicodeDecodeError as exc:
            raise ProtobufError(f"invalid UTF-8 in a string: {exc}") from exc
    if kind == "bytes":
        return base64.b64encode(value).decode()
    raise ProtobufError(f"unsupported field type {kind}")


def _value(kind: str, wire: int, value):
    if kind in messages():
        if wire != _LEN:
            raise ProtobufError(f"expected an embedded {kind}")
        return decode(kind, bytes(value))
    return _scalar(kind, wire, value)


def _keeps_zero(message: str, name: str) -> bool:
    # a workload's status counts (`status.replicas`) are plain ints, its spec's a pointer
    return name in POINTER_FIELDS and not (name == "replicas" and message.endswith("Status"))


def _zero(value) -> bool:
    return value in ("", 0, False) and not isinstance(value, float)


def decode(message: str, data: bytes) -> dict:
    """A message's bytes in its JSON form (what a real apiserver would store and return)."""
    if message in SPECIAL:
        return _decode_special(message, data)
    by_number = _by_number(message)
    out: dict = {}
    for number, wire, value in _fields(data):
        field = by_number.get(number)
        if field is None:
            continue  # unknown fields are dropped, as Go's decoder drops them
        name, kind, label = field["name"], field["type"], field["label"]
        if label == "map":
            if wire != _LEN:
                raise ProtobufError(f"expected a map entry for {name}")
            entry = dict.fromkeys((1, 2))
            for n, w, v in _fields(bytes(value)):
                entry[n] = (w, v)
            key = _scalar(field["key"], *entry[1]) if entry[1] else ""
            if entry[2] is None:
                item = {} if kind in messages() and kind not in SPECIAL else _empty(kind)
            else:
                item = _value(kind, *entry[2])
            out.setdefault(name, {})[key] = item
        elif label == "repeated":
            items = out.setdefault(name, [])
            if wire == _LEN and kind in _VARINT_TYPES:  # packed
                raw, pos = bytes(value), 0
                while pos < len(raw):
                    item, pos = _read_varint(raw, pos)
                    items.append(_scalar(kind, _VARINT, item))
            else:
                items.append(_value(kind, wire, value))
        elif (message, name) in INLINE:
            out.update(_value(kind, wire, value))
        else:
            item = _value(kind, wire, value)
            if item is None or (_zero(item) and not _keeps_zero(message, name)):
                out.pop(name, None)
                continue
            out[name] = item
    return out


def _empty(kind: str):
    return {"string": "", "bytes": "", "bool": False, QUANTITY: "0"}.get(kind, 0)


def _string(number: int, text: str) -> bytes:
    return _bytes(number, text.encode())


def _bytes(number: int, data: bytes) -> bytes:
    return _tag(number, _LEN) + _varint(len(data)) + data


def _encode_value(number: int, kind: str, value) -> bytes:
    if kind in messages():
        return _bytes(number, encode(kind, value))
    if kind == "bool":
        return _tag(number, _VARINT) + _varint(1 if value else 0)
    if kind in _VARINT_TYPES:
        return _tag(number, _VARINT) + _varint(int(value))
    if kind == "string":
        return _string(number, value if isinstance(value, str) else json.dumps(value))
    if kind == "bytes":
        try:
            return _bytes(number, base64.b64decode(value or "", validate=True))
        except ValueError as exc:
            raise ProtobufError(f"not base64: {exc}") from exc
    raise ProtobufError(f"unsupported field type {kind}")


def encode(message: str, obj) -> bytes:
    """A JSON-form object as the message's bytes; fields the schema lacks are left out."""
    if message in SPECIAL:
        return _encode_special(message, obj)
    out = bytearray()
    for field in _in_order(message):
        if not isinstance(obj, dict):
            break
        value = obj if (message, field["name"]) in INLINE else obj.get(field["name"])
        if value is None:
            continue
        number, kind, label = field["number"], field["type"], field["label"]
        if label == "map":
            for key in sorted(value):
                item = value[key]
                entry = _encode_value(1, field["key"], key)
                if item is not None:
                    entry += _encode_value(2, kind, item)
                out += _bytes(number, entry)
        elif label == "repeated":
            for item in value:
                out += _encode_value(number, kind, item)
        else:
            out += _encode_value(number, kind, value)
    return bytes(out)


# -- the envelope ------------------------------------------------------------------------


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw message) of a `k8s\\x00` + runtime.Unknown body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided data does not appear to be a protobuf message")
    try:
        envelope = {number: value for number, _wire, value in _fields(body[len(MAGIC) :])}
        type_meta = {n: bytes(v).decode() for n, _w, v in _fields(bytes(envelope.get(1, b"")))}
        return type_meta.get(1, ""), type_meta.get(2, ""), bytes(envelope.get(2, b""))
    except (TypeError, UnicodeDecodeError) as exc:
        raise ProtobufError(f"malformed runtime.Unknown envelope: {exc}") from exc


def wrap(api_version: str, kind: str, raw: bytes) -> bytes:
    """The body a real apiserver sends: every envelope field written, as Go writes them."""
    type_meta = _string(1, api_version) + _string(2, kind)
    envelope = _bytes(1, type_meta) + _bytes(2, raw) + _string(3, "") + _string(4, "")
    return MAGIC + envelope


def decode_object(body: bytes) -> dict:
    """A request body in the JSON form, with its apiVersion and kind."""
    api_version, kind, raw = unwrap(body)
    message = message_name(api_version, kind)
    if message is None:
        raise ProtobufError(f"no protobuf message for {api_version}, Kind={kind}")
    obj = {"kind": kind, "apiVersion": api_version}
    try:
        obj.update(decode(message, raw))
    except (TypeError, ValueError, IndexError) as exc:  # a field of the wrong wire type
        if isinstance(exc, ProtobufError):
            raise
        raise ProtobufError(f"malformed {kind}: {exc}") from exc
    return obj


def encode_object(obj: dict) -> bytes | None:
    """A JSON-form object (with apiVersion and kind) as a body; None if it has no message."""
    api_version, kind = obj.get("apiVersion") or "", obj.get("kind") or ""
    message = message_name(api_version, kind) if kind else None
    if message is None:
        return None
    return wrap(api_version, kind, encode(message, obj))
