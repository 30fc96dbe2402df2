"""Import an existing cluster from a kubeconfig (pasted or uploaded)."""

import base64
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.kube import nodes as kube_nodes
from apps.kube.client import InvalidKubeconfig, Kube, new_api_client, parse_kubeconfig
from apps.kube.errors import KubeError, Unreachable

from .base import Capabilities, ClusterSpec, Provider, ProviderError, Provisioned


class ImportFailed(ProviderError):
    """A kubeconfig that cannot be imported; ``kind`` says which problem it is."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def contexts(kubeconfig: dict) -> list[str]:
    return [c["name"] for c in kubeconfig.get("contexts") or [] if c.get("name")]


def endpoint(kubeconfig: dict, context: str = "") -> tuple[str, str]:
    """The (API server URL, CA data) a context of a parsed kubeconfig points at.

    Both come back normalised so that two kubeconfigs for one cluster compare equal:
    the URL without a default port or trailing slash, lower-case scheme and host; the
    CA as the PEM text it encodes, without surrounding blanks. ("", "") when unknown.
    """
    context = context or kubeconfig.get("current-context") or ""
    ctx = next(
        (
            c.get("context") or {}
            for c in kubeconfig.get("contexts") or []
            if isinstance(c, dict) and c.get("name") == context
        ),
        {},
    )
    entry = next(
        (
            c.get("cluster") or {}
            for c in kubeconfig.get("clusters") or []
            if isinstance(c, dict) and c.get("name") == ctx.get("cluster")
        ),
        {},
    )
    return _normal_url(str(entry.get("server") or "")), _normal_ca(
        str(entry.get("certificate-authority-data") or "")
    )


def _normal_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


def _normal_ca(data: str) -> str:
    try:
        return base64.b64decode(data, validate=False).decode().strip()
    except (ValueError, UnicodeDecodeError):
        return data.strip()


def check(text: str, context: str = "") -> tuple[dict, str, str]:
    """Validate a kubeconfig by reaching the cluster: returns (kubeconfig, context, server).

    Raises ImportFailed with kind "malformed", "context", "expired", "unreachable",
    "tls" or "unauthorized", each with a message that says what to fix.
    """
    try:
        data = parse_kubeconfig(text)
    except InvalidKubeconfig as exc:
        raise ImportFailed(
            "malformed", _("The kubeconfig cannot be read: %(error)s.") % {"error": exc}
        ) from exc
    names = contexts(data)
    if not context:
        context = data.get("current-context") or (names[0] if len(names) == 1 else "")
    if context not in names:
        raise ImportFailed(
            "context",
            _("Choose a context; the kubeconfig has: %(names)s.") % {"names": ", ".join(names)},
        )
    ctx = next(c.get("context") or {} for c in data["contexts"] if c.get("name") == context)
    server = next(
        (
            (c.get("cluster") or {}).get("server", "")
            for c in data["clusters"]
            if c.get("name") == ctx.get("cluster")
        ),
        "",
    )
    user = next(
        (u.get("user") or {} for u in data.get("users") or [] if u.get("name") == ctx.get("user")),
        {},
    )
    expired = _expiry(user)
    if expired is not None and expired <= datetime.now(UTC):
        raise ImportFailed(
            "expired",
            _("The kubeconfig's credentials expired on %(when)s; get a new kubeconfig.")
            % {"when": expired.strftime("%Y-%m-%d %H:%M UTC")},
        )
    try:
        kube = Kube(new_api_client(data, context), retries=1)
        kube.version()
        kube_nodes.list_(kube)
    except Unreachable as exc:
        kind = "tls" if "certificate" in exc.message else "unreachable"
        raise ImportFailed(kind, f"{server}: {exc.message}") from exc
    except KubeError as exc:
        if exc.status in (401, 403):
            raise ImportFailed(
                "unauthorized",
                _(
                    "The cluster at %(server)s refused these credentials (%(status)s): "
                    "they are wrong, revoked, or may not list nodes."
                )
                % {"server": server, "status": exc.status},
            ) from exc
        raise ImportFailed("unreachable", f"{server}: {exc.message}") from exc
    return data, context, server


def _expiry(user: dict) -> datetime | None:
    """When the user's client certificate or bearer token (JWT) expires, if it says."""
    cert = user.get("client-certificate-data")
    if cert:
        try:
            return x509.load_pem_x509_certificate(base64.b64decode(cert)).not_valid_after_utc
        except ValueError:
            return None
    token = user.get("token", "")
    if token.count(".") == 2:
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if isinstance(claims, dict) and isinstance(claims.get("exp"), int | float):
            return datetime.fromtimestamp(claims["exp"], UTC)
    return None


class KubeconfigProvider(Provider):
    name = "kubeconfig"
    label = gettext_lazy("Import with a kubeconfig")
    # The portal does not own an imported cluster: "delete" only forgets it.
    capabilities = Capabilities(create=True, scale_out=False, remove_node=False, delete=True)

    def create(self, spec: ClusterSpec, log) -> Provisioned:
        _data, context, server = check(spec.kubeconfig, spec.context)
        log(
            gettext_lazy("reached %(server)s with context %(context)s"),
            server=server,
            context=context,
        )
        return Provisioned(kubeconfig=spec.kubeconfig, context=context, api_server=server)

    def delete(self, cluster, log) -> None:
        log(gettext_lazy("imported cluster forgotten; the cluster itself is left as it is"))
