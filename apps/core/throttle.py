"""Sign-in throttling per address, on top of django-axes' per username+address lockout.

Axes locks a username tried from one address after ``LOGIN_FAILURE_LIMIT`` failures; an
address spraying many usernames would never meet that limit. This backend also refuses
every sign-in from an address whose failures, summed over all usernames within the
cool-off, reached ``LOGIN_ADDRESS_FAILURE_LIMIT`` (higher: many people may share an
address). The refusal is the same lockout page as axes' own.
"""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def address_failures(address: str) -> int:
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class ThrottledAxesBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
            if address and address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                request.axes_locked_out = True  # the axes middleware answers with the lockout page
                request.kcs_address_locked = True
                raise AxesBackendPermissionDenied("too many failed sign-ins from this address")
        return super().authenticate(request, username=username, password=password, **kwargs)
