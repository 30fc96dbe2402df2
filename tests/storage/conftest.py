import pytest

from apps.namespaces import services as ns_services
from tests.namespaces.conftest import (  # noqa: F401
    _fast_password_hashing,
    _sandbox,
    api,
    cluster,
    kubesim,
    org,
    portal,
    run_tasks,
)

QUOTA = {"requests.storage": "10Gi", "persistentvolumeclaims": "5"}


@pytest.fixture
def shop(org, cluster):  # noqa: F811
    """web-shop's namespace "shop" in the cluster, opened to the member."""
    namespace = ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.web, name="shop", quota=QUOTA
    )
    ns_services.set_members(org.projadmin, namespace, [org.member])
    return namespace


@pytest.fixture
def lab(org, cluster):  # noqa: F811
    """data-lab's namespace "lab" in the same cluster (the outsider's project)."""
    return ns_services.create_namespace(
        org.admin, cluster=cluster, project=org.data, name="lab", quota={}
    )
