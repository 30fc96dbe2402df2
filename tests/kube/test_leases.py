"""Informer replicas elect one leader per cluster with a Lease (coordination.k8s.io/v1).

The rules are tested first on the electors alone, with a clock the test moves, against
a kubesim cluster standing for the Kubernetes the portal runs in. Then two real
``manage.py informer`` processes share the test's database: the leader is killed
(SIGKILL: no release) and the other takes the Lease over once it expires, and at no
moment does kubesim serve more than one replica's watches of the managed cluster.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import kubernetes
import pytest
import yaml
from django.conf import settings
from django.db import connection

from apps.kube import guards, leases
from apps.kube.mirror import registry
from kubesim.testing import unique_cluster_name
from tests.kube.conftest import WAIT, eventually

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "kcs-portal"


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def home(kubesim):
    """The Kubernetes the portal runs in: a cluster with the portal's namespace."""
    answer = kubesim.create_cluster(unique_cluster_name("home"))
    api_client = kubernetes.config.new_client_from_config_dict(answer["kubeconfig"])
    kubernetes.client.CoreV1Api(api_client).create_namespace({"metadata": {"name": NAMESPACE}})
    yield answer, api_client
    api_client.close()
    kubesim.admin("DELETE", f"/clusters/{answer['name']}")


def _elector(api_client, identity, clock, **options) -> leases.Elector:
    return leases.Elector(
        api_client, NAMESPACE, identity, timing=leases.Timing(15, 10, 2), clock=clock, **options
    )


def _holder(api_client, cluster_id: int) -> str | None:
    lease = kubernetes.client.CoordinationV1Api(api_client).read_namespaced_lease(
        f"kcs-informer-{cluster_id}", NAMESPACE
    )
    return lease.spec.holder_identity


def test_one_candidate_leads_each_cluster_and_a_silent_leader_is_replaced(home):
    _, api_client = home
    clock = Clock()
    a, b = _elector(api_client, "a", clock), _elector(api_client, "b", clock)
    for elector in (a, b):
        elector.want({1})
    a.run_once()
    b.run_once()
    assert a.held() == {1} and b.held() == set()
    assert _holder(api_client, 1) == "a"

    # a renews while b waits; b never leads while a's renewals keep coming.
    for _ in range(20):
        clock.advance(2)
        a.run_once()
        b.run_once()
        assert a.held() == {1} and b.held() == set()

    # a stops renewing (its process died). b has seen the same record since: after the
    # Lease's 15 s by b's own clock it takes over, and by then a has stopped acting as
    # leader (its renew deadline of 10 s passed), so there is no moment with two.
    for _ in range(7):  # 14 s: not yet
        clock.advance(2)
        b.run_once()
        assert not (a.held() & b.held())
    assert b.held() == set()
    clock.advance(2)  # 16 s
    b.run_once()
    assert a.held() == set()
    assert b.held() == {1}
    assert _holder(api_client, 1) == "b"
    lease = kubernetes.client.CoordinationV1Api(api_client).read_namespaced_lease(
        "kcs-informer-1", NAMESPACE
    )
    assert lease.spec.lease_transitions == 1
    assert lease.spec.lease_duration_seconds == 15

    # a comes back: the Lease is b's and alive, so a stays a follower.
    a.run_once()
    assert a.held() == set() and b.held() == {1}


def test_replicas_share_the_clusters_and_the_survivor_takes_a_dead_ones_share(home):
    _, api_client = home
    clock = Clock()
    a, b, c = (_elector(api_client, name, clock) for name in "abc")
    clusters = {1, 2, 3, 4, 5}
    for elector in (a, b, c):
        elector.want(clusters)

    def rounds(*electors, times=3):
        for _ in range(times):
            clock.advance(2)
            for elector in electors:
                elector.run_once()
                held = [e.held() for e in (a, b, c)]
                assert sum(len(h) for h in held) == len(set().union(*held))  # never two

    a.run_once()
    assert a.held() == clusters  # alone: all of them
    rounds(a, b)  # b joins: a hands the highest ids over at once
    assert a.held() == {1, 2, 3} and b.held() == {4, 5}
    rounds(a, b, c)  # c joins: two each at most
    assert sorted(len(e.held()) for e in (a, b, c)) == [1, 2, 2]
    assert a.held() | b.held() | c.held() == clusters
    holders = {_holder(api_client, pk).partition("_")[0] for pk in clusters}
    assert holders == {"a", "b", "c"}

    # c dies (no release): once its presence and its Leases expire, a and b share all.
    rounds(a, b, times=9)
    assert a.held() | b.held() == clusters
    assert sorted(len(e.held()) for e in (a, b)) == [2, 3]
    # b stops cleanly: its presence goes at once, and a takes everything.
    b.stop()
    rounds(a, times=1)
    assert a.held() == clusters


def test_a_leader_that_cannot_renew_stops_before_anyone_may_take_over(home, kubesim):
    answer, api_client = home
    clock = Clock()
    a = _elector(api_client, "a", clock)
    a.want({7})
    a.run_once()
    assert a.held() == {7}
    changes = []
    a.on_change = lambda: changes.append(a.held())
    kubesim.admin("PUT", f"/clusters/{answer['name']}/faults", {"refuse": True})
    try:
        clock.advance(9)
        a.run_once()  # fails; still within the renew deadline
        assert a.held() == {7}
        clock.advance(2)
        a.run_once()  # 11 s since the last renewal: gives up, and says so
        assert a.held() == set()
        assert changes == [set()]
    finally:
        kubesim.admin("PUT", f"/clusters/{answer['name']}/faults", {})


def test_a_released_lease_is_taken_at_once_and_unwanted_ones_are_released(home):
    _, api_client = home
    clock = Clock()
    a, b = _elector(api_client, "a", clock), _elector(api_client, "b", clock)
    a.want({1, 2})
    b.want({1, 2})
    a.run_once()
    b.run_once()
    a.want({1})  # cluster 2 is no longer watched by a: released ...
    a.run_once()
    b.run_once()  # ... and b takes it without waiting for it to expire
    assert a.held() == {1} and b.held() == {2}
    a.stop()  # a clean stop releases the rest
    b.run_once()
    assert b.held() == {1, 2}
    assert _holder(api_client, 1) == "b"


def test_candidates_racing_for_a_new_lease_elect_exactly_one(home):
    _, api_client = home
    electors = [_elector(api_client, f"r{i}", time.monotonic) for i in range(6)]
    for elector in electors:
        elector.want({3})
    barrier = threading.Barrier(len(electors))

    def compete(elector):
        barrier.wait()
        elector.run_once()

    threads = [threading.Thread(target=compete, args=(e,)) for e in electors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    leaders = [e.identity for e in electors if e.held()]
    assert len(leaders) == 1
    assert _holder(api_client, 3) == leaders[0]


# --- two informer processes ------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    where = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{quote(db['USER'], safe='')}{password}@{where}/{db['NAME']}"


def _informer(name: str, kubeconfig: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "INFORMER_LEADER_ELECTION": "1",
        "INFORMER_LEASE_KUBECONFIG": str(kubeconfig),
        "INFORMER_LEASE_NAMESPACE": NAMESPACE,
        "INFORMER_LEASE_SECONDS": "6",  # renewed every 0.8 s; given up after 4 s
        "POD_NAME": name,
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "informer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def test_two_informers_hand_the_lease_over_when_the_leader_is_killed(
    cluster, home, kubesim, tmp_path
):
    answer, api_client = home
    kubeconfig = tmp_path / "home.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(answer["kubeconfig"]))
    sim = kubesim.cluster(cluster.name)
    # one watch per mirrored (and guarded) kind, from the replica that leads
    kinds = len(registry) + len(guards.registry)

    peak = {"watches": 0}
    sampling = threading.Event()

    def sample():  # kubesim's count of open watches on the managed cluster, all along
        while not sampling.is_set():
            peak["watches"] = max(peak["watches"], len(sim.watch_expirers))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    processes = {
        name: _informer(name, kubeconfig, tmp_path / f"{name}.log") for name in ("one", "two")
    }
    try:

        def leader():
            """the Lease of the managed cluster has a live holder watching it"""
            holder = _holder_or_none(api_client, cluster.pk)
            watches = len(sim.watch_expirers)
            peak["watches"] = max(peak["watches"], watches)
            if holder and watches == kinds:
                return holder.partition("_")[0]
            return None

        first = eventually(leader, WAIT)
        assert peak["watches"] <= kinds  # the other replica watches nothing

        processes[first].send_signal(signal.SIGKILL)  # no goodbye: the Lease must expire
        processes[first].wait(WAIT)
        survivor = "two" if first == "one" else "one"

        def taken_over():
            """the survivor holds the Lease and watches every kind"""
            return leader() == survivor

        eventually(taken_over, WAIT)
        lease = kubernetes.client.CoordinationV1Api(api_client).read_namespaced_lease(
            f"kcs-informer-{cluster.pk}", NAMESPACE
        )
        assert lease.spec.lease_transitions == 1
        assert peak["watches"] <= kinds  # never both at once

        # The survivor keeps the portal live: a ConfigMap made with the API shows up.
        core = kubernetes.client.CoreV1Api(
            kubernetes.config.new_client_from_config_dict(
                kubesim.admin("GET", f"/clusters/{cluster.name}")[1]["kubeconfig"]
            )
        )
        core.create_namespaced_config_map(
            "default", {"metadata": {"name": "after-handover"}, "data": {"a": "1"}}
        )
        from apps.configs.models import ConfigMap

        eventually(lambda: ConfigMap.objects.filter(name="after-handover").exists(), WAIT)

        # A clean stop (SIGTERM, as a rollout sends) releases the Lease at once.
        processes[survivor].send_signal(signal.SIGTERM)
        assert processes[survivor].wait(WAIT) == 0
        assert _holder_or_none(api_client, cluster.pk) is None
        eventually(lambda: not sim.watch_expirers, WAIT)  # its watches ended
    except AssertionError as failure:
        logs = "\n".join(
            f"--- {name}:\n" + (tmp_path / f"{name}.log").read_text()[-3000:] for name in processes
        )
        raise AssertionError(f"{failure}\n{logs}") from failure
    finally:
        sampling.set()
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(WAIT)
        sampler.join(WAIT)
    assert peak["watches"] <= kinds, (
        (tmp_path / "one.log").read_text()[-3000:],
        (tmp_path / "two.log").read_text()[-3000:],
    )


def _holder_or_none(api_client, cluster_id: int) -> str | None:
    try:
        return _holder(api_client, cluster_id)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
