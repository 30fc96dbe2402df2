"""Creating something named like another tenant's object does not confirm that it exists
(hole 4): the answer for a name taken by an object the user cannot see is the same as
for one taken by an object they can."""

import html
import re

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client as k8s

from apps.namespaces import services
from apps.namespaces.models import Namespace
from apps.tenancy import services as tenancy
from apps.tenancy.models import Department, Project

NOT_AVAILABLE = "This name is not available"
LEAKS = ("already", "exists", "unique", "data-lab", "lab")


def _quota(quota):
    return {f"quota_{key.replace('.', '_')}": value for key, value in quota.items()}


def _says_nothing_more(text: str) -> None:
    assert NOT_AVAILABLE in text
    words = set(re.findall(r"[\w-]+", text.lower()))
    assert not words & set(LEAKS), text


@pytest.fixture
def taken(org, cluster):
    """data-lab's namespace "lab"; a namespace "raw" in Kubernetes the portal has not seen;
    and web-shop's own namespace "shop"."""
    services.create_namespace(org.admin, cluster=cluster, project=org.data, name="lab", quota={})
    services.create_namespace(org.admin, cluster=cluster, project=org.web, name="shop", quota={})
    k8s.CoreV1Api(cluster.kube().api_client).create_namespace({"metadata": {"name": "raw"}})


@pytest.mark.parametrize("name", ["lab", "raw", "shop"])
def test_a_namespace_name_taken_anywhere_gets_one_answer(org, portal, api, cluster, taken, name):
    with pytest.raises(ValidationError) as error:
        services.create_namespace(
            org.projadmin, cluster=cluster, project=org.web, name=name, quota={}
        )
    _says_nothing_more(" ".join(error.value.messages))
    answer = api("projadmin").post(
        "/api/v1/namespaces/",
        {"cluster": cluster.pk, "project": org.web.pk, "name": name},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == ["name"]
    _says_nothing_more(str(answer.json()))
    page = portal("projadmin").post(
        "/namespaces/add/", {"cluster": cluster.pk, "project": org.web.pk, "name": name}
    )
    assert page.status_code == 200
    errors = html.unescape(page.content.decode()).split('class="error">', 1)[1].split("<", 1)[0]
    _says_nothing_more(errors)
    assert Namespace.objects.filter(name=name).count() <= 1


def test_a_project_name_of_another_department_gets_the_same_answer(org, portal, api):
    other = tenancy.create_department(org.admin, name="finance")
    tenancy.create_project(org.admin, other, name="ledger")
    for name in ("ledger", "web-shop"):  # another department's; the user's own
        with pytest.raises(ValidationError) as error:
            tenancy.create_project(org.deptadmin, org.engineering, name=name)
        _says_nothing_more(" ".join(error.value.messages).replace("web-shop", ""))
        answer = api("deptadmin").post(
            "/api/v1/projects/", {"department": org.engineering.pk, "name": name}, format="json"
        )
        assert answer.status_code == 400, answer.content
        assert list(answer.json()) == ["name"]
        _says_nothing_more(str(answer.json()).replace("web-shop", ""))
        page = portal("deptadmin").post(
            "/projects/add/", {"department": org.engineering.pk, "name": name}
        )
        assert page.status_code == 200
        _says_nothing_more(
            html.unescape(page.content.decode()).split('class="error">', 1)[1].split("<", 1)[0]
        )
    assert Project.objects.filter(name="ledger").count() == 1
    assert Department.objects.filter(name="finance").exists()
