from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Service functions raise Django's ValidationError; answer it as a 400 (a 503 with
    Retry-After when Kubernetes did not answer)."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        from apps.kube.services import Unavailable

        if isinstance(exc, Unavailable):
            response = Response(detail, status=503)
            response["Retry-After"] = str(exc.retry_after or 5)
            return response
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)
