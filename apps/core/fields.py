"""Model fields for secrets: encrypted at rest with the FIELD_ENCRYPTION_KEY keys."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in settings.FIELD_ENCRYPTION_KEYS])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys."
        ) from exc


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY does not hold "
            "the key it was encrypted with."
        ) from exc


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code sees the plain value.

    Not searchable or orderable by content, on purpose. To rotate, put a new key
    in front of FIELD_ENCRYPTION_KEY: new values use it, old ones still decrypt.
    """

    descriptor_class = None  # set below: decrypts on first use

    def from_db_value(self, value, expression, connection):
        # Decrypted when first read (see _Decrypting): a list of objects with their
        # cluster does not pay for every kubeconfig it never uses.
        return value if value in (None, "") else Ciphertext(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, "") or isinstance(value, Ciphertext):
            return value
        return encrypt(value)

    def value_to_string(self, obj):
        return self.value_from_object(obj)


class Ciphertext(str):
    """A stored value not decrypted yet."""


class _Decrypting(models.query_utils.DeferredAttribute):
    """The field's attribute: the plain value, decrypted on first read.

    A data descriptor (it has ``__set__``), so that reads come here rather than
    straight from the instance's ``__dict__``.
    """

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = decrypt(value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


EncryptedTextField.descriptor_class = _Decrypting
