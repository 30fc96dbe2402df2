"""Fixtures for the portal: the demo organisation and signed-in clients per role."""

from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.tenancy.models import Department, Membership, Project

ROLES = ["admin", "deptadmin", "projadmin", "member", "outsider"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hashers are slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    """The demo organisation: Engineering with web-shop and data-lab, one user per role."""
    call_command("seed_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__in=ROLES)}
    return SimpleNamespace(
        users=users,
        engineering=Department.objects.get(name="engineering"),
        default=Department.objects.get(name="default"),
        web=Project.objects.get(name="web-shop"),
        data=Project.objects.get(name="data-lab"),
        admin_project=Project.objects.get(is_admin_project=True),
        member_of_web=Membership.objects.get(project__name="web-shop", user__username="member"),
        **users,
    )


@pytest.fixture
def portal(org):
    """portal(username) -> a Django test client signed in as that user."""

    def make(username):
        client = Client()
        client.force_login(org.users[username])
        return client

    return make


@pytest.fixture
def api(org):
    """api(username) -> a DRF client authenticated as that user."""

    def make(username):
        client = APIClient()
        client.force_authenticate(org.users[username])
        return client

    return make
