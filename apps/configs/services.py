"""ConfigMaps and Secrets: create, update, edit YAML, delete, and reveal a Secret's values.

Both kinds are declared once on the shared write path (``apps.kube.services``); what
is here is what is special about them: their keys, the values of each Secret type,
and keeping Secret values out of the database, logs and audit trail.

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
from django.utils.translation import gettext as _

from apps.core import audit, authz
from apps.core import yaml as kyaml
from apps.core.audit import audited
from apps.kube.services import YAML, ObjectService

from .models import ConfigMap, Secret
from .sync import CONFIGMAPS, SECRETS, without_values

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


def _b64(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode()


# --- ConfigMaps ------------------------------------------------------------------------


configmaps = ObjectService(CONFIGMAPS, noun="configmap", detail=lambda row: {"keys": row.keys})


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


@audited("configmap.create", ConfigMap)
def create_configmap(
    actor, *, namespace, name: str, data: dict, binary_data: dict | None = None, labels=None
) -> ConfigMap:
    """A ConfigMap from text values (``data``) and, for non-text files, ``binary_data``."""
    configmaps.authorize_create(actor, namespace)
    data, binary_data = dict(data or {}), dict(binary_data or {})
    _check_configmap(name, data, binary_data)
    body = _configmap_body(namespace, name, data, binary_data, labels)
    return configmaps.create(actor, namespace, body)


def _refuse_system(configmap: ConfigMap) -> None:
    if configmap.is_system:
        raise ValidationError(
            _(
                "%(name)s is kept by Kubernetes in every namespace (the cluster's CA bundle); "
                "Kubernetes restores it when it is changed or deleted."
            )
            % {"name": configmap.name}
        )


@audited("configmap.update")
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
    configmaps.authorize(actor, "change", configmap)
    _refuse_system(configmap)
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
    return configmaps.replace(actor, configmap, body, removed=sorted(before - {*data, *binary}))


def configmap_yaml(actor, configmap: ConfigMap) -> str:
    """The live ConfigMap as YAML for viewing and editing."""
    return configmaps.yaml(actor, configmap)


@audited("configmap.update")
def replace_configmap_yaml(actor, configmap: ConfigMap, text: str) -> ConfigMap:
    configmaps.authorize(actor, "change", configmap)
    _refuse_system(configmap)
    return configmaps.replace_from_yaml(actor, configmap, text)


def create_configmap_from_yaml(actor, namespace, text: str) -> ConfigMap:
    """Create from YAML; the object must be in the namespace chosen (and allowed)."""
    return configmaps.create_from_yaml(actor, namespace, text)


@audited("configmap.delete")
def delete_configmap(actor, configmap: ConfigMap) -> None:
    configmaps.authorize(actor, "delete", configmap)
    _refuse_system(configmap)
    configmaps.delete(actor, configmap)


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
        except (ValueError, RecursionError):
            config = None
        if not isinstance(config, dict) or not isinstance(config.get("auths"), dict):
            raise ValidationError(
                {"data": _('Registry credentials need a .dockerconfigjson with "auths".')}
            )


# --- Secrets ---------------------------------------------------------------------------


def _guard_secret(actor, obj: dict, target) -> None:
    """Tenants write only the types the portal offers.

    A ``kubernetes.io/service-account-token`` Secret, say, would be filled with a token
    by the cluster's token controller, which the tenant could then reveal.
    """
    type_ = obj.get("type") or Secret.Type.OPAQUE
    if isinstance(target, Secret) and type_ == target.type:
        return  # an edit keeps the type the Secret has
    if type_ not in Secret.Type.values and not authz.is_cloud_admin(actor):
        raise ValidationError(
            {
                YAML: _("Secrets of type %(type)s cannot be created here; use one of: %(types)s.")
                % {"type": type_, "types": ", ".join(Secret.Type.values)}
            }
        )


def _masked(live: dict) -> dict:
    obj = kyaml.for_edit(without_values(live))
    data = live.get("data") or {}
    if data:
        obj["data"] = {key: MASK for key in data}
    return obj


secrets = ObjectService(
    SECRETS,
    noun="secret",
    detail=lambda row: {"type": row.type, "keys": row.keys},
    guard=_guard_secret,
    dump=_masked,
)


def _read_secret(secret: Secret, field: str = NON_FIELD_ERRORS) -> dict:
    live = secrets.read(secret)
    if live is None:
        raise ValidationError({field: _("Kubernetes is unavailable; try again in a moment.")})
    return live


@audited("secret.create", Secret)
def create_secret(
    actor, *, namespace, name: str, type: str = Secret.Type.OPAQUE, data: dict, labels=None
) -> Secret:
    """A Secret of ``type`` with ``data`` (key → text or bytes), checked for its type."""
    secrets.authorize_create(actor, namespace)
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
    return secrets.create(actor, namespace, body)


def may_create_secret(actor, namespace) -> bool:
    """Whether ``actor`` may create Secrets in ``namespace`` (a form offers the button)."""
    return not namespace.is_terminating and authz.can(actor, "work", namespace)


def free_secret_name(namespace, base: str = "regcred") -> str:
    """``base``, or ``base-2``, ``base-3``... : the first name no Secret in ``namespace`` has
    (as far as the inventory knows; one query)."""
    taken = set(
        Secret.objects.filter(
            cluster_id=namespace.cluster_id,
            namespace_name=namespace.name,
            name__startswith=base,
        ).values_list("name", flat=True)
    )
    number = 1
    while (name := base if number == 1 else f"{base}-{number}") in taken:
        number += 1
    return name


@audited("secret.create", Secret)
def create_registry_secret(
    actor, namespace, *, name: str, server: str, username: str, password: str, email: str = ""
) -> Secret:
    """Registry credentials for one registry: a ``kubernetes.io/dockerconfigjson`` Secret
    whose ``.dockerconfigjson`` has ``auths[server]`` (username, password, auth).

    The same create as any Secret (``create_secret``); the password goes to Kubernetes
    only, and the audit trail gets the type and key names, as for every Secret.
    """
    secrets.authorize_create(actor, namespace)
    errors = {}
    if problems := check_name(name):
        errors["name"] = problems
    try:
        data = dockerconfig_data(server, username, password, email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return create_secret(
        actor, namespace=namespace, name=name, type=Secret.Type.DOCKERCONFIGJSON, data=data
    )


@audited("secret.update")
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
    secrets.authorize(actor, "change", secret)
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
    return secrets.replace(actor, secret, body, changed=sorted(data), removed=sorted(remove))


def _decode(value: str) -> str:
    raw = base64.b64decode(value)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return value  # not text: the base64 itself


@audited("secret.reveal")
def reveal_secret(actor, secret: Secret, keys=None) -> dict[str, str]:
    """The Secret's values, read live from Kubernetes (an audited action, key names only)."""
    authz.require(actor, "reveal", secret)
    live = _read_secret(secret)
    data = live.get("data") or {}
    wanted = set(keys) if keys else set(data)
    values = {k: _decode(v) for k, v in sorted(data.items()) if k in wanted}
    audit.record(actor, "secret.reveal", secret, detail={"keys": sorted(values)})
    return values


def secret_yaml(actor, secret: Secret, *, reveal: bool = False) -> str:
    """The live Secret as YAML; its values masked unless revealed (audited)."""
    if not reveal:
        return secrets.yaml(actor, secret)
    return _revealed_yaml(actor, secret)


@audited("secret.reveal")
def _revealed_yaml(actor, secret: Secret) -> str:
    authz.require(actor, "reveal", secret)
    obj = kyaml.for_edit(_read_secret(secret, YAML))
    obj.pop("stringData", None)
    keys = sorted(obj.get("data") or {})
    audit.record(actor, "secret.reveal", secret, detail={"keys": keys, "source": YAML})
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
                YAML: _("%(keys)s: a masked value stands for a value the Secret does not have.")
                % {"keys": ", ".join(unknown)}
            }
        )
    for key in masked:
        data[key] = current[key]


@audited("secret.update")
def replace_secret_yaml(actor, secret: Secret, text: str) -> Secret:
    """Apply an edited Secret; values still masked (``********``) keep their live value."""
    secrets.authorize(actor, "change", secret)
    obj = secrets.load(text, namespace=secret.namespace_name, name=secret.name)
    if not obj["metadata"].get("resourceVersion"):
        raise ValidationError(
            {YAML: _("Keep metadata.resourceVersion: it shows whether someone else changed it.")}
        )
    _check_yaml_tls(obj)
    _unmask(obj, _read_secret(secret, YAML))
    return secrets.replace(actor, secret, obj, field=YAML, source=YAML)


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
            raise ValidationError({YAML: _("data.%(key)s is not base64.") % {"key": key}}) from None

    if MASK in (data.get(TLS_CRT), data.get(TLS_KEY)):
        return  # unchanged values, kept from the live Secret
    try:
        check_tls(value(TLS_CRT), value(TLS_KEY))
    except ValidationError as exc:
        raise ValidationError({YAML: exc.messages}) from None


@audited("secret.create", Secret)
def create_secret_from_yaml(actor, namespace, text: str) -> Secret:
    secrets.authorize_create(actor, namespace)
    obj = secrets.load(text, namespace=namespace.name)
    if MASK in (obj.get("data") or {}).values():
        raise ValidationError({YAML: _("Give the values: a new Secret has none to keep.")})
    _check_yaml_tls(obj)
    return secrets.create(actor, namespace, obj, source=YAML, field=YAML)


def delete_secret(actor, secret: Secret) -> None:
    secrets.delete(actor, secret)
