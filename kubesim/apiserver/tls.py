"""A private CA and server certificate for the TLS listener, and client certificates.

kubectl only sends a kubeconfig's bearer token over TLS (client-go drops credentials for
plain-HTTP servers), so the cluster APIs are also served over HTTPS and kubeconfigs carry
this CA as `certificate-authority-data`. The material is kept in the state file so
kubeconfigs handed out before a restart keep working.

Each cluster also has a client CA that signs its client certificates (`client_certificate`):
as kube-apiserver's x509 authenticator, kubesim takes a certificate the cluster's client
CA signed as the user named by its CN, in the groups named by its O values (authn.py
checks it). Like kube-apiserver (Go's
`tls.RequestClientCert`), the listener asks for a certificate without judging it in the
handshake, so one from another CA is a 401 from authentication rather than a broken
connection. The standard library cannot say "ask, and accept any": `_accept_any_client
_certificate` sets OpenSSL's verify callback on the context itself; where that is not
possible the handshake verifies against the clusters' client CAs instead (a foreign
certificate then fails the handshake).
"""

from __future__ import annotations

import _ssl
import base64
import ctypes
import datetime
import ipaddress
import logging
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger("kubesim.tls")

VALID_DAYS = 3650
CLIENT_VALID_DAYS = 365
PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class TlsMaterial:
    ca_pem: str
    cert_pem: str
    key_pem: str
    ca_key_pem: str = ""  # what signs client certificates (state files before them lack it)

    @property
    def ca_data(self) -> str:
        """The CA in base64, as kubeconfig's certificate-authority-data wants it."""
        return base64.b64encode(self.ca_pem.encode()).decode()

    def to_dict(self) -> dict:
        out = {"ca": self.ca_pem, "cert": self.cert_pem, "key": self.key_pem}
        if self.ca_key_pem:
            out["ca_key"] = self.ca_key_pem
        return out

    @classmethod
    def from_dict(cls, data: dict) -> TlsMaterial:
        return cls(data["ca"], data["cert"], data["key"], data.get("ca_key", ""))

    def server_context(self, client_cas: list[str] = ()) -> ssl.SSLContext:
        """The listener's context; `client_cas` are only consulted where the handshake has
        to judge client certificates itself (see the module's docstring)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # client certificates are asked for, never required: tokens work without one
        context.load_verify_locations(cadata=self.ca_pem)
        for pem in client_cas:
            context.load_verify_locations(cadata=pem)
        context.verify_mode = ssl.CERT_OPTIONAL
        if not _accept_any_client_certificate(context):
            log.warning("client certificates from other CAs fail the TLS handshake (not a 401)")
        # load_cert_chain only reads files; the files are removed right after loading
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert.write_text(self.cert_pem + self.ca_pem)
            key.write_text(self.key_pem)
            context.load_cert_chain(cert, key)
        return context


def _names(extra_hosts: list[str]) -> list[x509.GeneralName]:
    hosts = {"localhost", "127.0.0.1", "::1", socket.gethostname(), *extra_hosts}
    names: list[x509.GeneralName] = []
    for host in sorted(h for h in hosts if h and h not in ("0.0.0.0", "::")):  # noqa: S104
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def generate(extra_hosts: list[str] | None = None) -> TlsMaterial:
    now = datetime.datetime.now(datetime.UTC)
    ca, ca_key = new_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubesim")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(extra_hosts or [])), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TlsMaterial(
        ca.public_bytes(PEM).decode(),
        cert.public_bytes(PEM).decode(),
        _key_pem(key),
        _key_pem(ca_key),
    )


def _key_pem(key) -> str:
    return key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# -- client certificates -------------------------------------------------------------------
# Each cluster has a client CA of its own (kept in its spec, so in the state file): as with
# real clusters, a certificate one cluster signed authenticates nobody on another, though
# every cluster of the process is served behind the same listener and server certificate.

CLIENT_CA = "clientCA"


def ensure_client_ca(cluster) -> str:
    """The PEM of the CA that signs `cluster`'s client certificates (made on first use)."""
    saved = cluster.spec.get(CLIENT_CA)
    if not saved:
        ca, key = new_ca(f"{cluster.name}-client-ca")
        saved = cluster.spec[CLIENT_CA] = {
            "cert": ca.public_bytes(PEM).decode(),
            "key": _key_pem(key),
        }
    return saved["cert"]


def client_ca_pem(cluster) -> str:
    return (cluster.spec.get(CLIENT_CA) or {}).get("cert", "")


def client_certificate(cluster, user: str, groups=()) -> tuple[str, str]:
    """A client certificate (PEM) and its key for `user` in `groups` (CN and O values),
    signed by `cluster`'s client CA."""
    ensure_client_ca(cluster)
    saved = cluster.spec[CLIENT_CA]
    ca = x509.load_pem_x509_certificate(saved["cert"].encode())
    ca_key = serialization.load_pem_private_key(saved["key"].encode(), None)
    return sign_client_certificate(ca, ca_key, user, groups)


def sign_client_certificate(ca, ca_key, user: str, groups=()) -> tuple[str, str]:
    """`user`'s certificate signed by `ca` (any CA: tests make foreign ones), with its key."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups),
            x509.NameAttribute(NameOID.COMMON_NAME, user),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CLIENT_VALID_DAYS))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(PEM).decode(), _key_pem(key)


def new_ca(name: str = "kubesim-ca"):
    """A self-signed CA certificate and its key."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def verified_client(der: bytes | None, ca_pem: str) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) of a client certificate `ca_pem` signed, valid now, for client
    authentication; None for any other (no certificate, another CA, expired)."""
    if not der or not ca_pem:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem.encode()))
    except (ValueError, TypeError, InvalidSignature):
        return None
    now = datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return None
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = None
    if usages is not None and x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    groups = tuple(
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    )
    return str(names[0].value), groups


# -- asking for a client certificate without judging it in the handshake -------------------

_SSL_VERIFY_PEER = 1
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


@_VERIFY_CALLBACK
def _accept(_preverify_ok, _store):
    return 1  # judged after the handshake, by authn (as kube-apiserver's x509 authenticator)


def _accept_any_client_certificate(context: ssl.SSLContext) -> bool:
    """Make `context` (CERT_OPTIONAL) accept any client certificate in the handshake.

    OpenSSL's SSL_CTX_set_verify with a callback that accepts, on the SSL_CTX the
    context wraps (the first field after the object header, checked before use through
    SSL_CTX_get_verify_mode). False, changing nothing, where that cannot be done."""
    try:
        libssl = ctypes.CDLL(_ssl.__file__)  # its symbols resolve to the libssl it links
        get_mode, set_verify = libssl.SSL_CTX_get_verify_mode, libssl.SSL_CTX_set_verify
    except (OSError, AttributeError):
        return False
    get_mode.argtypes, get_mode.restype = [ctypes.c_void_p], ctypes.c_int
    set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
    set_verify.restype = None
    ctx = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not ctx:
        return False
    seen = []
    for mode in (ssl.CERT_REQUIRED, ssl.CERT_OPTIONAL):
        context.verify_mode = mode
        seen.append(get_mode(ctx))
    if seen != [_SSL_VERIFY_PEER | 2, _SSL_VERIFY_PEER]:  # 2: FAIL_IF_NO_PEER_CERT
        return False
    set_verify(ctx, _SSL_VERIFY_PEER, _accept)
    return context.verify_mode == ssl.CERT_OPTIONAL
