"""One clock: every timestamp a cluster writes comes from the simulated clock its
controllers run on, so advancing simulated time moves them together."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import kubernetes
import pytest

from kubesim.storage.clock import format_time, parse_time
from tests.kubesim.test_controllers_jobs import cronjob
from tests.kubesim.workload_support import World

HOUR = 3600


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def sim_now(world) -> str:
    return format_time(world.cluster.clock.now())


def test_object_timestamps_come_from_the_simulated_clock(world, core, kubectl):
    world.advance(HOUR, step=HOUR)
    now = sim_now(world)
    assert parse_time(now) - parse_time(world.cluster.created) >= timedelta(seconds=HOUR)

    cm = core.create_namespaced_config_map("default", {"metadata": {"name": "c"}, "data": {}})
    assert format_time(cm.metadata.creation_timestamp) == now
    assert [format_time(m.time) for m in cm.metadata.managed_fields] == [now]

    core.create_namespace({"metadata": {"name": "gone"}})
    ns = core.delete_namespace("gone")
    # the namespace is terminating (or already gone): either way, no wall-clock stamp
    if hasattr(ns, "metadata") and ns.metadata and ns.metadata.deletion_timestamp:
        assert format_time(ns.metadata.deletion_timestamp) == now

    pod = {
        "metadata": {"name": "p"},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "nginx"}]},
    }
    core.create_namespaced_pod("default", pod)
    deleting = core.delete_namespaced_pod("p", "default")
    assert deleting.metadata.deletion_timestamp - deleting.metadata.creation_timestamp == (
        timedelta(seconds=30)
    )
    assert format_time(deleting.metadata.creation_timestamp) == now

    # ages in `kubectl get` count on the same clock
    world.advance(120, step=120)
    row = kubectl("get", "configmap", "c", "--no-headers").stdout.split()
    assert row == ["c", "0", "2m"]


def test_cronjob_created_after_time_passed_waits_for_its_next_slot(world, api):
    batch = kubernetes.client.BatchV1Api(api)
    world.advance(HOUR, step=HOUR)
    created = batch.create_namespaced_cron_job("default", cronjob(schedule="*/30 * * * *"))
    assert format_time(created.metadata.creation_timestamp) == sim_now(world)

    world.advance(1)
    assert batch.list_namespaced_job("default").items == []  # no slot passed since creation

    now = world.cluster.clock.now()
    slot = now.replace(minute=30 if now.minute < 30 else 0, second=0, microsecond=0)
    if now.minute >= 30:
        slot += timedelta(hours=1)
    world.advance((slot - now).total_seconds() + 1, step=60)
    [job] = batch.list_namespaced_job("default").items
    scheduled = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert parse_time(scheduled) == slot
    assert job.status.start_time >= slot
    status = batch.read_namespaced_cron_job("tick", "default").status
    assert status.last_schedule_time == slot


def test_the_date_header_is_the_clusters_clock(world, core):
    world.advance(HOUR, step=HOUR)
    answer = core.list_namespace(_preload_content=False)
    assert answer.status == 200
    date = parsedate_to_datetime(answer.headers["Date"])
    assert date == world.cluster.clock.now().replace(microsecond=0)
