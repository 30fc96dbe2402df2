"""Every list page and list endpoint runs the same number of SQL queries for 3 rows and 300."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core import services as core_services
from apps.core.models import AuditEvent, Operation
from apps.tenancy.models import Department, DepartmentAdmin, Membership, Project
from apps.tenancy.services import sync_grants

LISTS = [
    "/departments/",
    "/projects/",
    "/members/",
    "/operations/",
    "/audit/",
    "/tokens/",
    "/",
    "/api/v1/departments/",
    "/api/v1/projects/",
    "/api/v1/memberships/",
    "/api/v1/department-admins/",
    "/api/v1/operations/",
    "/api/v1/audit-events/",
    "/api/v1/tokens/",
]


def _grow(org, n):
    """Add n rows of every listed kind, visible to the department admin."""
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"user-{n}-{i}") for i in range(n))
    departments = Department.objects.bulk_create(Department(name=f"dept-{n}-{i}") for i in range(n))
    DepartmentAdmin.objects.bulk_create(
        DepartmentAdmin(department=d, user=org.deptadmin) for d in departments
    )
    projects = Project.objects.bulk_create(
        Project(name=f"proj-{n}-{i}", department=org.engineering) for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(project=p, user=u, role="member") for p, u in zip(projects, users, strict=True)
    )
    Operation.objects.bulk_create(
        Operation(kind="diagnostics", project=p, actor=org.admin, target_name=p.name)
        for p in projects
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(action="test", project=p, actor=org.admin, actor_name="admin") for p in projects
    )
    for i in range(n):
        core_services.create_token(org.deptadmin, name=f"token-{i}")
    sync_grants()


def _count(client, url, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("username", ["admin", "deptadmin"])
@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_rows(org, portal, api, username, url, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 1000}
    client = api(username) if url.startswith("/api/") else portal(username)
    _grow(org, 3)
    small = _count(client, url + ("?limit=1000" if url.startswith("/api/") else ""))
    _grow(org, 300)
    large = _count(client, url + ("?limit=1000" if url.startswith("/api/") else ""))
    # The rows are really there for this user (the deptadmin sees all of them).
    assert Project.objects.restrict(org.users[username]).count() >= 300
    assert small == large, f"{url}: {small} queries for few rows, {large} for many"
