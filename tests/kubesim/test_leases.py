"""coordination.k8s.io/v1 Leases: what leader election (client-go's, the portal's) relies on."""

from __future__ import annotations

import datetime

import kubernetes
import pytest
from kubernetes.client.rest import ApiException


@pytest.fixture
def coordination(api):
    return kubernetes.client.CoordinationV1Api(api)


def _lease(name: str, holder: str, **spec) -> kubernetes.client.V1Lease:
    now = datetime.datetime.now(datetime.UTC)
    return kubernetes.client.V1Lease(
        metadata=kubernetes.client.V1ObjectMeta(name=name),
        spec=kubernetes.client.V1LeaseSpec(
            holder_identity=holder,
            lease_duration_seconds=spec.pop("duration", 15),
            acquire_time=now,
            renew_time=now,
            lease_transitions=spec.pop("transitions", 0),
        ),
    )


def test_a_lease_is_created_read_and_taken_over_with_optimistic_concurrency(coordination):
    created = coordination.create_namespaced_lease("default", _lease("portal", "a"))
    assert created.spec.holder_identity == "a"
    assert created.spec.renew_time is not None

    with pytest.raises(ApiException) as exists:
        coordination.create_namespaced_lease("default", _lease("portal", "b"))
    assert exists.value.status == 409  # two candidates racing to create: one wins

    first = coordination.read_namespaced_lease("portal", "default")
    second = coordination.read_namespaced_lease("portal", "default")
    first.spec.holder_identity, first.spec.lease_transitions = "b", 1
    taken = coordination.replace_namespaced_lease("portal", "default", first)
    assert taken.spec.holder_identity == "b" and taken.spec.lease_transitions == 1

    second.spec.holder_identity = "c"  # read before b took it: refused
    with pytest.raises(ApiException) as stale:
        coordination.replace_namespaced_lease("portal", "default", second)
    assert stale.value.status == 409

    listed = coordination.list_namespaced_lease("default").items
    assert [lease.metadata.name for lease in listed] == ["portal"]


def test_lease_spec_is_validated(coordination):
    with pytest.raises(ApiException) as invalid:
        coordination.create_namespaced_lease("default", _lease("bad", "a", duration=0))
    assert invalid.value.status == 422
    assert "spec.leaseDurationSeconds" in invalid.value.body


def test_kubectl_lists_leases_with_their_holder(kubectl, coordination):
    coordination.create_namespaced_lease("default", _lease("portal", "web-1"))
    rows = kubectl("get", "leases").stdout.splitlines()
    assert rows[0].split() == ["NAME", "HOLDER", "AGE"]
    assert rows[1].split()[:2] == ["portal", "web-1"]
