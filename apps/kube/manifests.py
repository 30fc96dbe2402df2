"""Writing user-supplied manifests: checked by the YAML service, errors made readable."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core import yaml as kyaml

from . import objects
from .client import Kube
from .errors import KubeError


def as_validation_error(exc: KubeError, field: str = "yaml") -> ValidationError:
    """A Kubernetes refusal as form errors: 409 stale version, 422 causes, the rest verbatim."""
    if exc.conflict:
        return ValidationError({field: exc.message})
    if exc.status == 422 and exc.causes:
        return ValidationError(
            {
                field: [
                    f"{name}: {'; '.join(msgs)}" if name else "; ".join(msgs)
                    for name, msgs in exc.field_errors().items()
                ]
            }
        )
    return ValidationError({field: exc.message})


def replace_from_yaml(
    kube: Kube, text: str, *, api_version, kind, name, namespace=None, guard=None
) -> dict:
    """Replace one object with the edited YAML; the answer from Kubernetes as a dict.

    ``guard(obj)`` may refuse what this user may not set (a ValidationError).
    """
    obj = kyaml.check(
        kyaml.load(text), api_version=api_version, kind=kind, namespace=namespace, name=name
    )
    if guard is not None:
        guard(obj)
    if not obj["metadata"].get("resourceVersion"):
        raise ValidationError(
            {"yaml": _("Keep metadata.resourceVersion: it shows whether someone else changed it.")}
        )
    try:
        return objects.replace(kube, obj)
    except KubeError as exc:
        raise as_validation_error(exc) from exc


def create_from_yaml(
    kube: Kube, text: str, *, api_version, kind, namespace=None, guard=None
) -> dict:
    obj = kyaml.check(kyaml.load(text), api_version=api_version, kind=kind, namespace=namespace)
    if guard is not None:
        guard(obj)
    try:
        return objects.create(kube, obj)
    except KubeError as exc:
        raise as_validation_error(exc) from exc
