"""Fixtures for the API's own tests: the demo organisation, kubesim and a running cluster."""

from tests.clusters.conftest import _sandbox, kubesim, run_tasks  # noqa: F401
from tests.kube.conftest import cluster  # noqa: F401
from tests.portal.conftest import _fast_password_hashing, api, org, portal  # noqa: F401
