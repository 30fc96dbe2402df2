"""Jobs and CronJobs on the simulated clock."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.kubesim.workload_support import World


@pytest.fixture
def world(kubesim_server, sim):
    return World(kubesim_server, sim)


def job(name="pi", duration="10s", exit_code=0, **spec) -> dict:
    annotations = {"kubesim.io/duration": duration}
    if exit_code:
        annotations["kubesim.io/exit-code"] = str(exit_code)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                },
            },
            **spec,
        },
    }


def cronjob(name="tick", schedule="*/5 * * * *", duration="10s", **spec) -> dict:
    template = job(duration=duration)["spec"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": template}, **spec},
    }


def conditions(obj) -> dict:
    return {c.type: c for c in (obj.status.conditions or [])}


def test_job_completes_with_parallelism(world, kubectl, kubesim_cluster, tmp_path, sim):
    batch_active: list[int] = []

    def count(_event) -> None:
        pods = sim.list("v1", "Pod", "default", label_selector="job-name=pi")
        batch_active.append(
            sum(1 for p in pods if p["status"].get("phase") not in ("Succeeded", "Failed"))
        )

    unsubscribe = world.call(sim.on_change, count)
    kubectl("create", "-f", "-", stdin=yaml.safe_dump(job(completions=3, parallelism=2)))

    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubesim_cluster["kubeconfig"]))
    waiter = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(config),
            "wait",
            "--for=condition=complete",
            "job/pi",
            "--timeout=60s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    try:
        world.advance(60)
        out, err = waiter.communicate(timeout=60)
    finally:
        waiter.kill()
        world.call(unsubscribe)
    assert waiter.returncode == 0, err
    assert "job.batch/pi condition met" in out
    assert max(batch_active) == 2

    obj = sim.get("batch/v1", "Job", "pi", "default")
    status = obj["status"]
    assert status["succeeded"] == 3 and "active" not in status and "failed" not in status
    assert status["startTime"] <= status["completionTime"]
    types = [c["type"] for c in status["conditions"]]
    assert types == ["SuccessCriteriaMet", "Complete"]
    complete = status["conditions"][1]
    assert complete["reason"] == "CompletionsReached"
    pods = sim.list("v1", "Pod", "default", label_selector="job-name=pi")
    assert len(pods) == 3 and all(p["metadata"]["name"].startswith("pi-") for p in pods)
    assert all(p["status"]["phase"] == "Succeeded" for p in pods)

    out = kubectl("get", "job", "pi").stdout.splitlines()
    assert out[1].split()[1] == "Complete" and out[1].split()[2] == "3/3"


def test_job_fails_after_backoff_limit(world, kubectl, sim):
    kubectl("create", "-f", "-", stdin=yaml.safe_dump(job(exit_code=1, backoffLimit=2)))
    world.until(lambda: "Failed" in _types(sim, "pi"), limit=600, step=5)
    status = sim.get("batch/v1", "Job", "pi", "default")["status"]
    assert status["failed"] == 3
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert "FailureTarget" in _types(sim, "pi")
    events = {(e["reason"], e["type"]) for e in sim.list("v1", "Event", "default")}
    assert ("BackoffLimitExceeded", "Warning") in events
    out = kubectl("get", "job", "pi").stdout.splitlines()[1].split()
    assert out[1] == "Failed"


def test_job_deadline_exceeded(world, kubectl, sim):
    kubectl(
        "create", "-f", "-", stdin=yaml.safe_dump(job(duration="300s", activeDeadlineSeconds=30))
    )
    world.advance(20)
    assert sim.get("batch/v1", "Job", "pi", "default")["status"]["active"] == 1
    world.advance(15)
    status = sim.get("batch/v1", "Job", "pi", "default")["status"]
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "DeadlineExceeded"
    assert "active" not in status
    assert not [
        p for p in sim.list("v1", "Pod", "default") if p["status"].get("phase") == "Running"
    ]


def _types(sim, name) -> list[str]:
    status = sim.get("batch/v1", "Job", name, "default").get("status") or {}
    return [c["type"] for c in status.get("conditions") or []]


def test_cronjob_fires_on_schedule_and_keeps_history(world, kubectl, sim):
    kubectl(
        "create",
        "-f",
        "-",
        stdin=yaml.safe_dump(cronjob(successfulJobsHistoryLimit=2)),
    )
    world.advance(32 * 60, step=30)
    world.until(
        lambda: not sim.get("batch/v1", "CronJob", "tick", "default")["status"].get("active")
    )
    jobs = sim.list("batch/v1", "Job", "default")
    assert len(jobs) == 2  # six or seven runs, the two newest kept
    for j in jobs:
        minutes = int(j["metadata"]["name"].rsplit("-", 1)[1])
        assert minutes % 5 == 0
        scheduled = j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        assert scheduled.endswith(":00Z")
        assert j["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    status = sim.get("batch/v1", "CronJob", "tick", "default")["status"]
    last = status["lastScheduleTime"]
    assert last[14:16] in {f"{m:02d}" for m in range(0, 60, 5)} and last.endswith(":00Z")
    assert status["lastSuccessfulTime"] >= last
    names = sorted(j["metadata"]["name"] for j in jobs)
    assert int(names[1].rsplit("-", 1)[1]) - int(names[0].rsplit("-", 1)[1]) == 5

    events = [
        e for e in sim.list("v1", "Event", "default") if e["involvedObject"]["kind"] == "CronJob"
    ]
    reasons = {e["reason"] for e in events}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons

    out = kubectl("get", "cronjob", "tick").stdout.splitlines()[1].split()
    assert out[1:6] == ["*/5", "*", "*", "*", "*"]


def test_cronjob_forbid_suspend_and_replace(world, kubectl, sim):
    kubectl(
        "create",
        "-f",
        "-",
        stdin=yaml.safe_dump(cronjob(duration="600s", concurrencyPolicy="Forbid")),
    )
    world.advance(16 * 60, step=30)
    jobs = sim.list("batch/v1", "Job", "default")
    assert len(jobs) == 2  # the first ran ten minutes; the one due meanwhile was skipped
    status = sim.get("batch/v1", "CronJob", "tick", "default")["status"]
    assert len(status["active"]) == 1
    reasons = {e["reason"] for e in sim.list("v1", "Event", "default")}
    assert "JobAlreadyActive" in reasons

    kubectl("patch", "cronjob", "tick", "-p", '{"spec":{"suspend":true}}')
    world.advance(30 * 60, step=60)
    assert len(sim.list("batch/v1", "Job", "default")) == 2

    kubectl(
        "patch",
        "cronjob",
        "tick",
        "-p",
        '{"spec":{"suspend":false,"concurrencyPolicy":"Replace","startingDeadlineSeconds":60}}',
    )
    world.advance(6 * 60, step=30)
    status = sim.get("batch/v1", "CronJob", "tick", "default")["status"]
    assert len(status["active"]) == 1
    active = status["active"][0]["name"]
    names = {j["metadata"]["name"] for j in sim.list("batch/v1", "Job", "default")}
    assert active in names
