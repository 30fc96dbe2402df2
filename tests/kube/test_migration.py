"""Moving the mirrored kinds onto the shared model keeps every row (issue 9)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("tenancy", "0002_builtin_admin_project"),
    ("core", "0003_operation_lock"),
    ("clusters", "0001_initial"),
    ("namespaces", "0002_quota_and_grants"),
    ("configs", "0001_initial"),
    ("storage", "0001_initial"),
    ("workloads", None),
]


@pytest.fixture
def old_schema(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    landed = [node for node in BEFORE if node[1] is not None]
    yield executor.loader.project_state(landed).apps
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_rows_of_the_landed_schema_survive_the_move(old_schema):
    old = old_schema
    # An earlier transactional test may have flushed the built-in project away.
    department, _ = old.get_model("tenancy", "Department").objects.get_or_create(name="kept")
    project, _ = old.get_model("tenancy", "Project").objects.get_or_create(
        name="kept", defaults={"department": department}
    )
    cluster = old.get_model("clusters", "Cluster").objects.create(
        name="kept", provider="sandbox", project=project, status="running"
    )
    old.get_model("clusters", "Node").objects.create(
        cluster=cluster, name="worker-1", labels={"zone": "a"}, resource_version="7", ready=True
    )
    namespace = old.get_model("namespaces", "Namespace").objects.create(
        cluster=cluster, name="shop", project=project, quota_hard={"pods": "10"}
    )
    old.get_model("configs", "ConfigMap").objects.create(
        cluster=cluster,
        namespace=namespace,
        namespace_name="shop",
        name="settings",
        keys=["a"],
        data={"a": "1"},
        resource_version="9",
    )
    old.get_model("storage", "StorageClass").objects.create(
        cluster=cluster, name="standard", provisioner="x/y", is_default=True
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from apps.clusters.models import Node
    from apps.configs.models import ConfigMap
    from apps.namespaces.models import Namespace
    from apps.storage.models import StorageClass

    node = Node.objects.get(name="worker-1")
    assert (node.labels, node.resource_version, node.ready) == ({"zone": "a"}, "7", True)
    assert node.synced is None  # the next list refreshes it, whatever its resourceVersion
    assert Namespace.objects.get(name="shop").quota_hard == {"pods": "10"}
    configmap = ConfigMap.objects.get(name="settings")
    assert (configmap.data, configmap.namespace.name, configmap.uid) == ({"a": "1"}, "shop", "")
    assert StorageClass.objects.get(name="standard").is_default
