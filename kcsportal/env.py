"""Reading settings from the environment (12-factor), with development defaults."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, "") or default


def words(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in text(name, default).split(",") if item.strip()]


def _parsed(name: str, default, parse, kind: str):
    value = text(name)
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}.") from None


def integer(name: str, default: int) -> int:
    return _parsed(name, default, int, "an integer")


def number(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def secret(name: str, *, dev_file: Path, allow_generate: bool, make) -> str:
    """A secret from the environment; in development, one generated once into var/.

    Production (DEBUG off) must set the variable: a key that silently appears on
    disk would differ between replicas and break sessions and encrypted fields.
    """
    value = text(name)
    if value:
        return value
    if not allow_generate:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    if dev_file.exists():
        return dev_file.read_text().strip()
    dev_file.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # Created 0600 so other local users cannot read the development key.
    fd = os.open(dev_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def random_key() -> str:
    return secrets.token_urlsafe(50)
