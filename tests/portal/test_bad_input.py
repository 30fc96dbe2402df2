"""Inputs that were a 500 (hole 3): each is a clear 400 now, with no traceback logged."""

import logging

import pytest
from django.core.exceptions import ValidationError

from apps.core import yaml as kyaml
from apps.kube import quantity
from apps.tenancy.models import Membership


@pytest.fixture
def no_errors_logged(caplog):
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert all(not r.exc_info for r in caplog.records)


def test_a_membership_without_a_role_is_a_member(org, api, no_errors_logged):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("newcomer", password="x")
    answer = api("projadmin").post(
        "/api/v1/memberships/", {"project": org.web.pk, "user": "newcomer"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["role"] == "member"
    assert Membership.objects.get(project=org.web, user__username="newcomer").role == "member"


def test_json_nested_deeply_is_a_400(org, api, no_errors_logged):
    body = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/projects/", "/api/v1/memberships/", "/api/v1/configmaps/yaml/"):
        answer = api("admin").generic("POST", path, body, content_type="application/json")
        assert answer.status_code == 400, (path, answer.content[:200])
        assert "nest too deeply" in answer.json()["detail"]
    # Deeper than the limit but well within Python's recursion: refused all the same.
    body = '{"name": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}"
    answer = api("admin").generic(
        "POST", "/api/v1/departments/", body, content_type="application/json"
    )
    assert answer.status_code == 400 and "nest too deeply" in answer.json()["detail"]


def test_yaml_nested_deeply_is_refused(no_errors_logged):
    for text in (
        "a: " + "[" * 5000 + "]" * 5000,
        "a:\n" + "".join(f"{' ' * i}- \n" for i in range(700)),
    ):
        with pytest.raises(ValidationError, match="nest too deeply"):
            kyaml.load(text)
    nested = "kind: ConfigMap\nmetadata: " + "{a: " * 50 + "1" + "}" * 50 + "\n"
    assert kyaml.load(nested)["kind"] == "ConfigMap"  # 50 levels are fine


@pytest.mark.parametrize("text", ["1e100", "1e1000000", "99999999999999999999999Ei"])
def test_huge_quantities_parse_or_are_refused_clearly(text):
    try:
        value = quantity.parse(text)
    except ValueError as exc:
        assert text in str(exc)
    else:
        assert value > quantity.LARGEST


def test_a_claim_of_1e100_is_refused_with_the_largest():
    from apps.storage import services

    with pytest.raises(ValidationError, match="at most"):
        services._parse_size("1e100")


def test_a_quota_of_1e100_is_refused_with_the_largest(org):
    from apps.namespaces import services

    with pytest.raises(ValidationError, match="9223372036854775807"):
        services.clean_quota({"requests.storage": "1e100"})
    with pytest.raises(ValidationError):
        services.clean_quota({"pods": "1e1000000"})
