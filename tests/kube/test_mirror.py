"""Mirroring: rows follow Kubernetes' answers, never going back to an older state."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.clusters.models import Cluster
from apps.configs.models import ConfigMap
from apps.configs.sync import CONFIGMAPS, SECRETS
from apps.namespaces.models import Namespace
from apps.tenancy.services import ensure_admin_project


@pytest.fixture
def cluster(db):
    cluster = Cluster.objects.create(
        name="m", provider="kubeconfig", project=ensure_admin_project()
    )
    Namespace.objects.create(cluster=cluster, name="shop")
    return cluster


def cm(name, rv, uid="u-1", namespace="shop", **data):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": str(rv),
            "managedFields": [{"manager": "kubectl"}],
        },
        "data": data,
    }


def test_an_older_event_never_overwrites_a_newer_row(cluster):
    CONFIGMAPS.apply(cluster, [cm("c", 10, mode="new")])
    CONFIGMAPS.apply(cluster, [cm("c", 9, mode="old")])  # a late event of an earlier change
    row = ConfigMap.objects.get(cluster=cluster, name="c")
    assert row.data == {"mode": "new"} and row.resource_version == "10"
    assert "managedFields" not in row.manifest["metadata"]
    assert row.namespace.name == "shop"


def test_a_stale_delete_leaves_the_object_that_replaced_it(cluster):
    CONFIGMAPS.apply(cluster, [cm("c", 20, uid="second")])
    CONFIGMAPS.apply(cluster, deletes=[cm("c", 15, uid="first")])  # the earlier object's delete
    assert ConfigMap.objects.get(cluster=cluster, name="c").uid == "second"
    CONFIGMAPS.apply(cluster, deletes=[cm("c", 21, uid="second")])
    assert not ConfigMap.objects.filter(cluster=cluster, name="c").exists()


def test_reconcile_keeps_rows_written_after_the_list_began(cluster):
    started = timezone.now() - timedelta(seconds=1)
    CONFIGMAPS.apply(cluster, [cm("gone", 5), cm("kept", 6), cm("new", 31)])
    # A list taken at version 30 has "kept" only: "gone" was deleted before it, and "new"
    # (version 31) was created by the portal after the list was taken.
    result = CONFIGMAPS.reconcile(cluster, [cm("kept", 6)], "30", started)
    names = set(ConfigMap.objects.filter(cluster=cluster).values_list("name", flat=True))
    assert names == {"kept", "new"}
    assert (result.created, result.updated, result.deleted) == (0, 0, 1)


def test_a_resync_of_unchanged_rows_writes_nothing(cluster):
    listed = [cm(f"c{i}", i) for i in range(50)]
    CONFIGMAPS.reconcile(cluster, listed, "100", timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        result = CONFIGMAPS.reconcile(cluster, listed, "100", timezone.now())
    assert not result
    assert len(ctx.captured_queries) == 1  # the rows' versions, read once


def test_batches_cost_the_same_queries_whatever_their_size(cluster):
    def queries(count, first):
        with CaptureQueriesContext(connection) as ctx:
            CONFIGMAPS.apply(cluster, [cm(f"x{first + i}", 1000 + i) for i in range(count)])
        return len(ctx.captured_queries)

    assert queries(5, 0) == queries(400, 100)
    # Updating them too: the same few statements.
    with CaptureQueriesContext(connection) as small:
        CONFIGMAPS.apply(cluster, [cm(f"x{i}", 5000 + i) for i in range(5)])
    with CaptureQueriesContext(connection) as large:
        CONFIGMAPS.apply(cluster, [cm(f"x{100 + i}", 5000 + i) for i in range(400)])
    assert len(small.captured_queries) == len(large.captured_queries)


def test_secret_values_never_reach_the_row(cluster):
    SECRETS.apply(
        cluster,
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "s",
                    "namespace": "shop",
                    "resourceVersion": "1",
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": '{"data":"c2VjcmV0"}',
                        "team": "web",
                    },
                },
                "data": {"password": "c2VjcmV0"},
                "stringData": {"token": "plain"},
            }
        ],
    )
    from apps.configs.models import Secret

    row = Secret.objects.get(cluster=cluster, name="s")
    assert row.keys == ["password", "token"]
    assert row.annotations == {"team": "web"}
    assert "c2VjcmV0" not in str(row.manifest) and "plain" not in str(row.manifest)
