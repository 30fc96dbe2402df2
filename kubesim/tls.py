"""A private CA and server certificate for the TLS listener.

kubectl only sends a kubeconfig's bearer token over TLS (client-go drops credentials for
plain-HTTP servers), so the cluster APIs are also served over HTTPS and kubeconfigs carry
this CA as `certificate-authority-data`. The material is kept in the state file so
kubeconfigs handed out before a restart keep working.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


@dataclass(frozen=True)
class TlsMaterial:
    ca_pem: str
    cert_pem: str
    key_pem: str

    @property
    def ca_data(self) -> str:
        """The CA in base64, as kubeconfig's certificate-authority-data wants it."""
        return base64.b64encode(self.ca_pem.encode()).decode()

    def to_dict(self) -> dict:
        return {"ca": self.ca_pem, "cert": self.cert_pem, "key": self.key_pem}

    @classmethod
    def from_dict(cls, data: dict) -> TlsMaterial:
        return cls(data["ca"], data["cert"], data["key"])

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
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
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubesim-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
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
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubesim")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(_names(extra_hosts or [])), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return TlsMaterial(
        ca.public_bytes(pem).decode(),
        cert.public_bytes(pem).decode(),
        key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )
