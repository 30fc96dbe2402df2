"""Secrets are encrypted at rest with FIELD_ENCRYPTION_KEY, and keys can be rotated."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from apps.core import fields


@pytest.fixture
def keys(settings):
    def use(*keys):
        settings.FIELD_ENCRYPTION_KEYS = list(keys)
        fields._fernet.cache_clear()

    yield use
    fields._fernet.cache_clear()


def test_value_is_stored_encrypted_and_read_back(keys, db):
    from apps.clusters.models import Cluster
    from apps.tenancy.services import ensure_admin_project

    keys(Fernet.generate_key().decode())
    text = "apiVersion: v1\nkind: Config\ntoken: s3cr3t"
    cluster = Cluster.objects.create(
        name="enc", provider="kubeconfig", project=ensure_admin_project(), kubeconfig=text
    )
    stored = Cluster.objects.filter(pk=cluster.pk).values_list("kubeconfig", flat=True).get()
    assert "s3cr3t" not in stored and stored.startswith("gAAAA")
    read = Cluster.objects.get(pk=cluster.pk)
    assert read.kubeconfig == text
    read.save()  # saved again without being read first, or after: still the same text
    assert Cluster.objects.get(pk=cluster.pk).kubeconfig == text
    unread = Cluster.objects.get(pk=cluster.pk)
    unread.save()
    assert Cluster.objects.get(pk=cluster.pk).kubeconfig == text


def test_rotation_keeps_old_values_readable(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    stored = fields.encrypt("kubeconfig")
    keys(new, old)
    assert fields.decrypt(stored) == "kubeconfig"
    keys(new)
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        fields.decrypt(stored)


def test_a_malformed_key_is_a_configuration_error(keys):
    keys("not-a-key")
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        fields.encrypt("x")
