"""Every storage list page and endpoint runs the same number of queries for 3 rows and 300."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clusters.models import Cluster
from apps.namespaces import services as ns_services
from apps.namespaces.models import Namespace
from apps.storage.models import PersistentVolume, PersistentVolumeClaim, StorageClass

LISTS = [
    "/storage/classes/",
    "/storage/volumes/",
    "/storage/claims/",
    "/api/v1/storageclasses/",
    "/api/v1/persistentvolumes/",
    "/api/v1/persistentvolumeclaims/",
]


@pytest.fixture
def namespace(org):
    cluster = Cluster.objects.create(
        name="budget", provider="sandbox", project=org.admin_project, status="running"
    )
    namespace = Namespace.objects.create(cluster=cluster, name="shop", project=org.web)
    ns_services.set_members(org.admin, namespace, [org.member])
    return namespace


def _grow(namespace, n):
    cluster = namespace.cluster
    start = StorageClass.objects.count()
    StorageClass.objects.bulk_create(
        StorageClass(cluster=cluster, name=f"sc-{start + i}", provisioner="x.io/disk")
        for i in range(n)
    )
    PersistentVolume.objects.bulk_create(
        PersistentVolume(
            cluster=cluster,
            name=f"pv-{start + i}",
            capacity="1Gi",
            access_modes=["ReadWriteOnce"],
            phase="Bound",
            claim_namespace="shop",
            claim_name=f"pvc-{start + i}",
        )
        for i in range(n)
    )
    PersistentVolumeClaim.objects.bulk_create(
        PersistentVolumeClaim(
            cluster=cluster,
            namespace=namespace,
            namespace_name="shop",
            name=f"pvc-{start + i}",
            requested="1Gi",
            access_modes=["ReadWriteOnce"],
            phase="Bound",
            volume_name=f"pv-{start + i}",
        )
        for i in range(n)
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response


INFRASTRUCTURE_PAGES = {"/storage/classes/", "/storage/volumes/"}  # members get a 403 page


@pytest.mark.parametrize(
    ("username", "url"),
    [
        (username, url)
        for username in ["admin", "deptadmin", "member"]
        for url in LISTS
        if not (username == "member" and url in INFRASTRUCTURE_PAGES)
    ],
)
def test_storage_lists_run_constant_queries(org, portal, api, namespace, username, url, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 1000}
    is_api = url.startswith("/api/")
    client = api(username) if is_api else portal(username)
    target = url + ("?limit=1000" if is_api else "")
    _grow(namespace, 3)
    small, _response = _count(client, target)
    _grow(namespace, 300)
    large, response = _count(client, target)
    page = len(response.json()["results"]) if is_api else None
    rows = page if is_api else response.content.decode().count('<td><a href="/storage/')
    infra = not url.endswith("claims/")
    if username == "member" and infra:
        assert rows == 0  # members see no classes or volumes (here: through the API)
    else:
        assert rows >= (303 if is_api else 50), (url, rows)
    assert small == large, f"{url}: {small} queries for few rows, {large} for many"
