import pytest

from apps.clusters import services as cluster_services
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401


@pytest.fixture
def cluster(org, run_tasks, request):  # noqa: F811
    """A running sandbox cluster (its kubesim twin is deleted afterwards)."""
    name = f"ns-{abs(hash(request.node.nodeid)) % 10**8}"
    created, _operation = run_tasks(
        cluster_services.create_cluster, org.admin, name=name, workers=2
    )
    created.refresh_from_db()
    assert created.status == "running"
    yield created
    cluster_services.providers.get("sandbox").delete(created, lambda *line, **params: None)
