"""ConfigMaps and Secrets: create, update, edit YAML, delete, and reveal a Secret's values.

Validate → authorize → act in Kubernetes → mirror the answer → audit.

Secret values pass through here on their way to Kubernetes, and back to a user
who reveals them (an audited, separately permitted action). They are never
stored in the database, logged, or put in audit details: those get key names.
"""

import base64
import json
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core import yaml as kyaml
from apps.kube import manifests, objects
from apps.kube.errors import KubeError

from .models import ConfigMap, Secret
from .sync import configmap_values, secret_values

# What the portal shows instead of a Secret's value; never valid base64, so a YAML
# edit that keeps it means "leave this value as it is".
MASK = "********"

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
TLS_CRT, TLS_KEY, DOCKER_KEY = "tls.crt", "tls.key", ".dockerconfigjson"


# --- checks shared by both kinds -------------------------------------------------------


def check_name(name: str) -> list[str]:
    if not name:
        return [_("Give a name.")]
    if len(name) > 253 or not NAME.match(name):
        return [
            _(
                "Use lowercase letters, digits, '-' and '.', starting and ending with a "
                "letter or digit (at most 253 characters)."
            )
        ]
    return []


def check_keys(keys) -> list[str]:
    errors = []
    for key in keys:
        if not key or len(key) > 253 or not KEY.match(key) or key in (".", ".."):
            errors.append(
                _(
                    "%(key)s is not a valid key: use letters, digits, '-', '_' and '.' "
                    "(at most 253 characters)."
                )
                % {"key": key or '""'}
            )
    return errors


def _require_namespace(actor, namespace) -> None:
    """The actor may create objects in this namespace (a 404 for others' namespaces)."""
    authz.require(actor, "work", namespace)
    if namespace.is_terminating:
        raise ValidationError({"namespace": _("The namespace is being deleted.")})


def _error(exc: KubeError, field: str = NON_FIELD_ERRORS) -> ValidationError:
    if exc.status == 409 and exc.reason == "AlreadyExists":
        return ValidationError({"name": _("An object with this name already exists here.")})
    return manifests.as_validation_error(exc, field)


def _b64(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode()


def _audit(actor, action: str, row, **detail):
    ns = row.namespace
    audit.record(
        actor,
        action,
        row,
        project=ns.project if ns is not None else None,
        cluster=row.cluster.name,
        namespace=row.namespace_name,
        detail=detail,
    )


# --- ConfigMaps ------------------------------------------------------------------------


def _mirror_configmap(row: ConfigMap, obj: dict) -> ConfigMap:
    for field, value in configmap_values(obj).items():
        setattr(row, field, value)
    row.save()
    return row


def _configmap_body(namespace, name, data, binary_data, labels) -> dict:
    metadata = {"name": name, "namespace": namespace.name}
    if labels:
        metadata["labels"] = labels
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
    if binary_data:
        body["binaryData"] = {k: _b64(v) for k, v in binary_data.items()}
    return body


def _check_configmap(name, data, binary_data) -> None:
    errors = {}
    if name is not None and (problems := check_name(name)):
        errors["name"] = problems
    both = set(data) & set(binary_data)
    problems = check_keys([*data, *binary_data])
    if both:
        problems.append(_("Keys used twice: %(keys)s.") % {"keys": ", ".join(sorted(both))})
    if problems:
        errors["data"] = problems
    if errors:
        raise ValidationError(errors)


def create_configmap(
    actor, *, namespace, name: str, data: dict, binary_data: dict | None = None, labels=None
) -> ConfigMap:
    """A ConfigMap from text values (``data``) and, for non-text files, ``binary_data``."""
    _require_namespace(actor, namespace)
    data, binary_data = dict(data or {}), dict(binary_data or {})
    _check_configmap(name, data, binary_data)
    kube = namespace.cluster.kube()
    try:
        created = objects.create(kube, _configmap_body(namespace, name, data, binary_data, labels))
    except KubeError as exc:
        raise _error(exc) from exc
    with transaction.atomic():
        row = _mirror_configmap(ConfigMap(cluster=namespace.cluster, namespace=namespace), created)
        _audit(actor, "configmap.create", row, keys=row.keys)
    return row


def update_configmap(
    actor,
    configmap: ConfigMap,
    *,
    data: dict,
    binary_data: dict | None = None,
    labels: dict | None = None,
    resource_version: str = "",
) -> ConfigMap:
    """Replace the ConfigMap's values. ``binary_data`` None keeps its binary keys.

    ``resource_version`` is the version the user edited (the row's by default):
    if someone changed the ConfigMap since, Kubernetes refuses with a conflict.
    """
    authz.require(actor, "change", configmap)
    data = dict(data or {})
    body = json.loads(json.dumps(configmap.manifest or {}))
    if binary_data is None:
        binary = body.get("binaryData") or {}
        binary = {k: v for k, v in binary.items() if k not in data}
    else:
        binary = {k: _b64(v) for k, v in binary_data.items()}
    _check_configmap(None, data, binary)
    body.update(apiVersion="v1", kind="ConfigMap", data=data)
    body.pop("binaryData", None)
    if binary:
        body["binaryData"] = binary
    metadata = body.setdefault("metadata", {})
    metadata.update(name=configmap.name, namespace=configmap.namespace_name)
    metadata["resourceVersion"] = resource_version or configmap.resource_version
    if labels is not None:
        metadata["labels"] = labels
    before = set(configmap.keys)
    try:
        replaced = objects.replace(configmap.cluster.kube(), body)
    except KubeError as exc:
        raise _error(exc) from exc
    with transaction.atomic():
        _mirror_configmap(configmap, replaced)
        _audit(
            actor,
            "configmap.update",
            configmap,
            keys=configmap.keys,
            removed=sorted(before - set(configmap.keys)),
        )
    return configmap


def configmap_yaml(actor, configmap: ConfigMap) -> str:
    """The live ConfigMap as YAML for viewing and editing."""
    authz.require(actor, "view", configmap)
    try:
        live = objects.read(
            configmap.cluster.kube(), "v1", "ConfigMap", configmap.name, configmap.namespace_name
        )
    except KubeError as exc:
        raise _error(exc, "yaml") from exc
    return kyaml.dump(kyaml.for_edit(live))


def replace_configmap_yaml(actor, configmap: ConfigMap, text: str) -> ConfigMap:
    authz.require(actor, "change", configmap)
    replaced = manifests.replace_from_yaml(
        configmap.cluster.kube(),
        text,
        api_version="v1",
        kind="ConfigMap",
        name=configmap.name,
        namespace=configmap.namespace_name,
    )
    with transaction.atomic():
        _mirror_configmap(configmap, replaced)
        _audit(actor, "configmap.update", configmap, keys=configmap.keys, source="yaml")
    return configmap


def create_configmap_from_yaml(actor, namespace, text: str) -> ConfigMap:
    """Create from YAML; the object must be in the namespace chosen (and allowed)."""
    _require_namespace(actor, namespace)
    created = manifests.create_from_yaml(
        namespace.cluster.kube(), text, api_version="v1", kind="ConfigMap", namespace=namespace.name
    )
    with transaction.atomic():
        row = _mirror_configmap(ConfigMap(cluster=namespace.cluster, namespace=namespace), created)
        _audit(actor, "configmap.create", row, keys=row.keys, source="yaml")
    return row


def delete_configmap(actor, configmap: ConfigMap) -> None:
    authz.require(actor, "delete", configmap)
    try:
        objects.delete(
            configmap.cluster.kube(), "v1", "ConfigMap", configmap.name, configmap.namespace_name
        )
    except KubeError as exc:
        if not exc.not_found:
            raise _error(exc) from exc
    with transaction.atomic():
        _audit(actor, "configmap.delete", configmap, keys=configmap.keys)
        configmap.delete()


# --- Secret values by type -------------------------------------------------------------


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


def check_tls(certificate: str | bytes, private_key: str | bytes) -> None:
    """A PEM certificate (chain) and the PEM private key that belongs to it; one message per
    problem, on the field that has it."""
    cert_pem, key_pem = _bytes(certificate).strip(), _bytes(private_key).strip()
    errors, cert, key = {}, None, None
    if not cert_pem:
        errors["certificate"] = _("Give the certificate (PEM).")
    elif b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        errors["certificate"] = _(
            "The certificate is not in PEM format: it should begin with "
            "-----BEGIN CERTIFICATE-----."
        )
    else:
        try:
            cert = x509.load_pem_x509_certificates(cert_pem)[0]
        except ValueError:
            errors["certificate"] = _(
                "The certificate is not a valid PEM certificate: its content cannot be read."
            )
    if not key_pem:
        errors["private_key"] = _("Give the private key (PEM).")
    elif b"PRIVATE KEY-----" not in key_pem:
        errors["private_key"] = _(
            "The private key is not in PEM format: it should begin with "
            "-----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)."
        )
    else:
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except TypeError:
            errors["private_key"] = _("The private key is encrypted: give it without a passphrase.")
        except (ValueError, UnsupportedAlgorithm):
            errors["private_key"] = _(
                "The private key is not a valid PEM private key: its content cannot be read."
            )
    if cert is not None and key is not None:
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            errors["private_key"] = _("The private key does not match the certificate.")
    if errors:
        raise ValidationError(errors)


def tls_data(certificate: str | bytes, private_key: str | bytes) -> dict[str, bytes]:
    check_tls(certificate, private_key)
    return {
        TLS_CRT: _bytes(certificate).strip() + b"\n",
        TLS_KEY: _bytes(private_key).strip() + b"\n",
    }


def dockerconfig_data(server: str, username: str, password: str, email: str = "") -> dict:
    """A .dockerconfigjson with one registry's credentials (``auth`` is user:password, base64)."""
    server, username = (server or "").strip(), (username or "").strip()
    errors = {}
    if not server:
        errors["server"] = _("Give the registry server, e.g. registry.example.com.")
    elif any(c.isspace() for c in server):
        errors["server"] = _("The registry server cannot contain spaces.")
    if not username:
        errors["username"] = _("Give the user name.")
    if not password:
        errors["password"] = _("Give the password.")
    if errors:
        raise ValidationError(errors)
    entry = {"username": username, "password": password, "auth": _b64(f"{username}:{password}")}
    if email:
        entry["email"] = email.strip()
    return {DOCKER_KEY: json.dumps({"auths": {server: entry}})}


def check_secret_data(type_: str, data: dict) -> None:
    """What each type requires of its keys; values are checked, never echoed."""
    problems = check_keys(data)
    if problems:
        raise ValidationError({"data": problems})
    if type_ == Secret.Type.TLS:
        missing = [k for k in (TLS_CRT, TLS_KEY) if k not in data]
        if missing:
            raise ValidationError({"data": _("A TLS Secret needs the keys tls.crt and tls.key.")})
        check_tls(data[TLS_CRT], data[TLS_KEY])
    elif type_ == Secret.Type.DOCKERCONFIGJSON:
        try:
            config = json.loads(_bytes(data.get(DOCKER_KEY)))
        except ValueError:
            config = None
        if not isinstance(config, dict) or not isinstance(config.get("auths"), dict):
            raise ValidationError(
                {"data": _('Registry credentials need a .dockerconfigjson with "auths".')}
            )


# --- Secrets ---------------------------------------------------------------------------


def _mirror_secret(row: Secret, obj: dict) -> Secret:
    for field, value in secret_values(obj).items():
        setattr(row, field, value)
    row.save()
    return row


def _read_secret(secret: Secret, field: str = NON_FIELD_ERRORS) -> dict:
    try:
        return objects.read(
            secret.cluster.kube(), "v1", "Secret", secret.name, secret.namespace_name
        )
    except KubeError as exc:
        raise _error(exc, field) from exc


def create_secret(
    actor, *, namespace, name: str, type: str = Secret.Type.OPAQUE, data: dict, labels=None
) -> Secret:
    """A Secret of ``type`` with ``data`` (key → text or bytes), checked for its type."""
    _require_namespace(actor, namespace)
    data = dict(data or {})
    if problems := check_name(name):
        raise ValidationError({"name": problems})
    if type not in Secret.Type.values:
        raise ValidationError({"type": _("Choose one of the types offered.")})
    check_secret_data(type, data)
    metadata = {"name": name, "namespace": namespace.name}
    if labels:
        metadata["labels"] = labels
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": type,
        "data": {k: _b64(v) for k, v in data.items()},
    }
    try:
        created = objects.create(namespace.cluster.kube(), body)
    except KubeError as exc:
        raise _error(exc) from exc
    with transaction.atomic():
        row = _mirror_secret(Secret(cluster=namespace.cluster, namespace=namespace), created)
        _audit(actor, "secret.create", row, type=row.type, keys=row.keys)
    return row


def update_secret(
    actor,
    secret: Secret,
    *,
    data: dict | None = None,
    remove=(),
    replace_all: bool = False,
    labels: dict | None = None,
    resource_version: str = "",
) -> Secret:
    """Set the values in ``data`` and drop the keys in ``remove``; others stay as they are
    (the user never has to retype a value they cannot see). ``replace_all`` makes ``data``
    the whole content (a TLS pair, registry credentials)."""
    authz.require(actor, "change", secret)
    data, remove = dict(data or {}), set(remove)
    live = _read_secret(secret)
    expected = resource_version or secret.resource_version
    if expected and live["metadata"].get("resourceVersion") != expected:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _(
                    "It was changed by someone else since you loaded it. Reload and apply "
                    "your change again."
                )
            }
        )
    values = {} if replace_all else dict(live.get("data") or {})
    for key in remove:
        values.pop(key, None)
    values.update({k: _b64(v) for k, v in data.items()})
    merged = {k: base64.b64decode(v) for k, v in values.items()}
    check_secret_data(secret.type, merged)
    body = json.loads(json.dumps(live))
    body.pop("stringData", None)
    body["data"] = values
    if labels is not None:
        body["metadata"]["labels"] = labels
    body["metadata"]["resourceVersion"] = expected or live["metadata"].get("resourceVersion")
    try:
        replaced = objects.replace(secret.cluster.kube(), body)
    except KubeError as exc:
        raise _error(exc) from exc
    with transaction.atomic():
        _mirror_secret(secret, replaced)
        _audit(
            actor,
            "secret.update",
            secret,
            type=secret.type,
            keys=secret.keys,
            changed=sorted(data),
            removed=sorted(remove),
        )
    return secret


def _decode(value: str) -> str:
    raw = base64.b64decode(value)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return value  # not text: the base64 itself


def reveal_secret(actor, secret: Secret, keys=None) -> dict[str, str]:
    """The Secret's values, read live from Kubernetes (an audited action, key names only)."""
    authz.require(actor, "reveal", secret)
    live = _read_secret(secret)
    data = live.get("data") or {}
    wanted = set(keys) if keys else set(data)
    values = {k: _decode(v) for k, v in sorted(data.items()) if k in wanted}
    _audit(actor, "secret.reveal", secret, keys=sorted(values))
    return values


def secret_yaml(actor, secret: Secret, *, reveal: bool = False) -> str:
    """The live Secret as YAML; its values masked unless revealed (audited)."""
    authz.require(actor, "view", secret)
    live = _read_secret(secret, "yaml")
    obj = kyaml.for_edit(live)
    obj.pop("stringData", None)
    data = obj.get("data") or {}
    if reveal:
        authz.require(actor, "reveal", secret)
        _audit(actor, "secret.reveal", secret, keys=sorted(data), source="yaml")
    else:
        obj["data"] = {key: MASK for key in data}
    if not obj.get("data"):
        obj.pop("data", None)
    return kyaml.dump(obj)


def _unmask(obj: dict, live: dict | None) -> None:
    """Masked values left in an edited Secret get their live value back."""
    data = obj.get("data") or {}
    masked = [k for k, v in data.items() if v == MASK]
    if not masked:
        return
    current = (live or {}).get("data") or {}
    unknown = [k for k in masked if k not in current]
    if unknown:
        raise ValidationError(
            {
                "yaml": _("%(keys)s: a masked value stands for a value the Secret does not have.")
                % {"keys": ", ".join(unknown)}
            }
        )
    for key in masked:
        data[key] = current[key]


def replace_secret_yaml(actor, secret: Secret, text: str) -> Secret:
    """Apply an edited Secret; values still masked (``********``) keep their live value."""
    authz.require(actor, "change", secret)
    try:
        obj = kyaml.check(
            kyaml.load(text),
            api_version="v1",
            kind="Secret",
            namespace=secret.namespace_name,
            name=secret.name,
        )
    except ValidationError as exc:
        raise ValidationError({"yaml": exc.messages}) from None
    if not obj["metadata"].get("resourceVersion"):
        raise ValidationError(
            {"yaml": _("Keep metadata.resourceVersion: it shows whether someone else changed it.")}
        )
    if not isinstance(obj.get("data") or {}, dict):
        raise ValidationError({"yaml": _("data must be a mapping.")})
    _check_yaml_tls(obj)
    _unmask(obj, _read_secret(secret, "yaml"))
    try:
        replaced = objects.replace(secret.cluster.kube(), obj)
    except KubeError as exc:
        raise manifests.as_validation_error(exc) from exc
    with transaction.atomic():
        _mirror_secret(secret, replaced)
        _audit(actor, "secret.update", secret, type=secret.type, keys=secret.keys, source="yaml")
    return secret


def _check_yaml_tls(obj: dict) -> None:
    """A TLS Secret written as YAML gets the same certificate checks as the form."""
    if obj.get("type") != "kubernetes.io/tls":
        return
    data, plain = obj.get("data") or {}, obj.get("stringData") or {}

    def value(key):
        if key in plain:
            return plain[key]
        try:
            return base64.b64decode(data.get(key) or "", validate=True)
        except ValueError:
            raise ValidationError(
                {"yaml": _("data.%(key)s is not base64.") % {"key": key}}
            ) from None

    if MASK in (data.get(TLS_CRT), data.get(TLS_KEY)):
        return  # unchanged values, kept from the live Secret
    try:
        check_tls(value(TLS_CRT), value(TLS_KEY))
    except ValidationError as exc:
        raise ValidationError({"yaml": exc.messages}) from None


def create_secret_from_yaml(actor, namespace, text: str) -> Secret:
    _require_namespace(actor, namespace)
    try:
        obj = kyaml.check(
            kyaml.load(text), api_version="v1", kind="Secret", namespace=namespace.name
        )
    except ValidationError as exc:
        raise ValidationError({"yaml": exc.messages}) from None
    if MASK in (obj.get("data") or {}).values():
        raise ValidationError({"yaml": _("Give the values: a new Secret has none to keep.")})
    _check_yaml_tls(obj)
    try:
        created = objects.create(namespace.cluster.kube(), obj)
    except KubeError as exc:
        raise manifests.as_validation_error(exc) from exc
    with transaction.atomic():
        row = _mirror_secret(Secret(cluster=namespace.cluster, namespace=namespace), created)
        _audit(actor, "secret.create", row, type=row.type, keys=row.keys, source="yaml")
    return row


def delete_secret(actor, secret: Secret) -> None:
    authz.require(actor, "delete", secret)
    try:
        objects.delete(secret.cluster.kube(), "v1", "Secret", secret.name, secret.namespace_name)
    except KubeError as exc:
        if not exc.not_found:
            raise _error(exc) from exc
    with transaction.atomic():
        _audit(actor, "secret.delete", secret, type=secret.type, keys=secret.keys)
        secret.delete()
