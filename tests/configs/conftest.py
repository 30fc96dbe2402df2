"""Fixtures for the configuration centre: a cluster with a namespace per project."""

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.namespaces import services as ns_services
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401


@pytest.fixture
def shop(org, cluster):  # noqa: F811
    """web-shop's namespace, opened to its member."""
    ns = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota={}
    )
    ns_services.set_members(org.projadmin, ns, [org.member])
    return ns


@pytest.fixture
def lab(org, cluster):  # noqa: F811
    """data-lab's namespace (the outsider's project)."""
    return ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="lab", quota={}
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def make_pair(common_name="shop.example.com"):
    """A self-signed certificate and its private key, as PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
