import pytest

from apps.namespaces import services as ns_services
from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.configs.conftest import lab, shop  # noqa: F401
from tests.namespaces.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401
from tests.realcluster import TARGETS, delete_namespace, forget, target_cluster, unique_namespace


@pytest.fixture(params=TARGETS)
def any_shop(request, org, run_tasks):  # noqa: F811
    """web-shop's namespace (a unique name), opened to its member, on kubesim or on the real
    cluster in KCS_TEST_KUBECONFIG (tests/realcluster); deleted afterwards."""
    on = target_cluster(request.param, run_tasks, org.admin)
    ns = ns_services.create_namespace(
        org.admin, cluster=on, project=org.web, name=unique_namespace("shop"), quota={}
    )
    ns_services.set_members(org.projadmin, ns, [org.member])
    yield ns
    delete_namespace(on, ns.name)
    forget(request.param, on)
