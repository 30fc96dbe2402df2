"""kubesim.runtime.logs: deterministic container logs and the pods/log options."""

import re
from datetime import UTC, datetime, timedelta

from kubesim.runtime.logs import last_lines, log_lines, select

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nginx_pod(restarts=0, uid="uid-web"):
    return {
        "metadata": {"name": "web-7d9f-abcde", "namespace": "shop", "uid": uid},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27.3"}]},
        "status": {
            "containerStatuses": [
                {
                    "name": "nginx",
                    "restartCount": restarts,
                    "state": {"running": {"startedAt": "2025-03-01T12:00:00Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "Error",
                            "finishedAt": "2025-03-01T11:59:00Z",
                        }
                    },
                }
            ]
        },
    }


def app_pod():
    return {
        "metadata": {"name": "api-0", "namespace": "shop", "uid": "uid-api"},
        "spec": {
            "containers": [
                {"name": "api", "image": "ghcr.io/acme/api:2.1", "ports": [{"containerPort": 9000}]}
            ]
        },
        "status": {},
    }


def job_pod(exit_code=0):
    return {
        "metadata": {
            "name": "pi-x7k2p",
            "namespace": "batch",
            "uid": "uid-pi",
            "ownerReferences": [{"kind": "Job", "name": "pi", "controller": True}],
        },
        "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34"}]},
        "status": {
            "containerStatuses": [
                {
                    "name": "pi",
                    "restartCount": 0,
                    "state": {
                        "terminated": {"exitCode": exit_code, "finishedAt": "2025-03-01T12:00:45Z"}
                    },
                }
            ]
        },
    }


def test_same_query_same_lines_and_later_queries_extend_earlier_ones():
    pod = nginx_pod()
    first = log_lines(pod, "nginx", START, START + timedelta(minutes=5))
    assert first == log_lines(nginx_pod(), "nginx", START, START + timedelta(minutes=5))
    longer = log_lines(pod, "nginx", START, START + timedelta(minutes=8))
    assert longer[: len(first)] == first
    assert [t for t, _ in longer] == sorted(t for t, _ in longer)
    # Another pod, or another restart of this one, logs differently.
    assert log_lines(nginx_pod(uid="other"), "nginx", START, START + timedelta(minutes=5)) != first
    assert log_lines(nginx_pod(restarts=1), "nginx", START, START + timedelta(minutes=5)) != first


def test_rate_is_about_one_line_every_few_seconds():
    lines = log_lines(app_pod(), "api", START, START + timedelta(hours=1))
    assert 600 < len(lines) < 1400


def test_nginx_banner_then_access_log():
    lines = [
        text for _, text in log_lines(nginx_pod(), "nginx", START, START + timedelta(minutes=1))
    ]
    assert lines[0] == (
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, "
        "will attempt to perform configuration"
    )
    assert "2025/03/01 12:00:00 [notice] 1#1: nginx/1.27.3" in lines
    access = re.compile(
        r"^[\d.]+ - - \[01/Mar/2025:12:0\d:\d\d \+0000\] "
        r'"[A-Z]+ \S+ HTTP/1.1" \d{3} \d+ "-" ".+" "-"$'
    )
    assert all(access.match(line) for line in lines[17:])
    assert len(lines) > 20


def test_app_lines_have_levels_and_a_startup_banner():
    lines = [text for _, text in log_lines(app_pod(), "api", START, START + timedelta(minutes=30))]
    assert lines[0] == "2025-03-01T12:00:00.001Z INFO  starting api (image ghcr.io/acme/api:2.1)"
    assert "listening on 0.0.0.0:9000" in lines[2]
    levels = {line.split()[1] for line in lines}
    assert levels == {"INFO", "WARN", "ERROR"}
    assert any("http: GET /healthz status=200" in line for line in lines)


def test_job_ends_with_completion_line_at_finish_time():
    lines = log_lines(job_pod(), "pi", START, START + timedelta(hours=1))
    assert lines[-1] == (
        datetime(2025, 3, 1, 12, 0, 45, tzinfo=UTC),
        "2025-03-01T12:00:45.000Z INFO  Job finished successfully",
    )
    assert all(t <= lines[-1][0] for t, _ in lines)
    failed = log_lines(job_pod(exit_code=2), "pi", START, START + timedelta(hours=1))
    assert failed[-1][1].endswith("ERROR Error: task failed with exit code 2")


def test_previous_instance_ends_with_its_crash():
    pod = nginx_pod(restarts=1)
    previous = log_lines(
        pod, "nginx", START - timedelta(minutes=3), START + timedelta(hours=1), previous=True
    )
    assert previous[-1][0] == datetime(2025, 3, 1, 11, 59, tzinfo=UTC)
    current = log_lines(nginx_pod(restarts=1), "nginx", START, START + timedelta(minutes=3))
    assert previous != current


def test_tail_since_and_timestamps():
    now = START + timedelta(minutes=10)
    lines = log_lines(app_pod(), "api", START, now)
    body = select(lines, tail_lines=3)
    assert body == "".join(f"{text}\n" for _, text in lines[-3:])
    recent = select(lines, since_seconds=30, now=now)
    assert recent.splitlines() == [text for t, text in lines if t >= now - timedelta(seconds=30)]
    stamped = select(lines, tail_lines=2, timestamps=True).splitlines()
    assert re.match(r"^2025-03-01T12:\d\d:\d\d\.\d{9}Z 2025-03-01T12:", stamped[0])
    assert stamped == select(lines, tail_lines=2, timestamps=True).splitlines()
    # The kubelet applies tailLines before sinceSeconds.
    assert select(lines, tail_lines=1000, since_seconds=30, now=now) == recent
    assert select(lines, tail_lines=0) == ""
    assert len(select(lines, limit_bytes=100).encode()) <= 100
    assert last_lines(app_pod(), "api", START, now, 5) == lines[-5:]
    assert log_lines(app_pod(), "api", START, now, since=now - timedelta(seconds=30)) == [
        line for line in lines if line[0] >= now - timedelta(seconds=30)
    ]
