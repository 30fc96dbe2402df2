"""Deterministic container logs that look like the real thing.

Lines depend on the image: nginx images write their entrypoint banner and access-log
lines, run-to-completion containers (Jobs, restartPolicy Never/OnFailure) write
progress and a completion line, everything else writes levelled application lines
with request logs. Time is cut into one-minute buckets after the container started,
each seeded by (pod uid, container, restart count, bucket), so a query gives the same
lines every time, a later query extends an earlier one, and reading the end of a
week-old container costs only the buckets it reads. About one line every four
simulated seconds.

`select` applies the pods/log options in the kubelet's order: tailLines first, then
sinceSeconds/sinceTime, then limitBytes; `timestamps` prefixes the kubelet's fixed
nine-digit RFC3339 form.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

BUCKET = 60  # seconds of log generated per seed
MEAN_GAP = 4.0  # seconds between lines, on average
TIMESTAMP = "%Y-%m-%dT%H:%M:%S"

PATHS = (
    ("GET", "/", 200),
    ("GET", "/healthz", 200),
    ("GET", "/api/v1/items", 200),
    ("GET", "/api/v1/items/42", 200),
    ("POST", "/api/v1/orders", 201),
    ("GET", "/static/app.js", 200),
    ("GET", "/favicon.ico", 404),
    ("PUT", "/api/v1/items/7", 204),
    ("GET", "/api/v1/search?q=kube", 200),
    ("DELETE", "/api/v1/sessions/9", 204),
)
AGENTS = (
    "kube-probe/1.32",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    " Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
)
CLIENTS = ("10.244.0.1", "10.244.1.12", "10.244.2.33", "192.168.49.1", "10.244.3.5")
WARNINGS = (
    "slow request: {path} took {ms}ms",
    "retrying connection to database (attempt 2/5)",
    "cache miss ratio above 20%",
    "deprecated config key 'timeout' used, prefer 'requestTimeout'",
)
ERRORS = (
    "request {path} failed: context deadline exceeded",
    "upstream connect error or disconnect/reset before headers",
    "failed to publish event: connection refused",
)
# Level weights out of 100 for application lines.
LEVELS = (("INFO", 85), ("WARN", 10), ("ERROR", 5))
RUN_TO_COMPLETION = ("Never", "OnFailure")


# ---------------------------------------------------------------- what a container is


def _image(container: dict) -> str:
    image = container.get("image", "")
    return image.split("@")[0].rsplit("/", 1)[-1]


def _container(pod: dict, name: str) -> dict:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return {"name": name}


def _status(pod: dict, name: str) -> dict:
    status = pod.get("status") or {}
    for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if s.get("name") == name:
            return s
    return {}


def _kind(pod: dict, container: dict) -> str:
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    if (
        any(o.get("kind") == "Job" for o in owners)
        or (pod.get("spec") or {}).get("restartPolicy") in RUN_TO_COMPLETION
    ):
        return "job"
    return "nginx" if _image(container).split(":")[0] == "nginx" else "app"


def _time(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------- generation


def log_lines(
    pod: dict,
    container: str,
    start: datetime,
    until: datetime,
    previous: bool = False,
    since: datetime | None = None,
) -> list[tuple[datetime, str]]:
    """Lines the container wrote from `start` (its start time) up to `until`.

    previous: the instance before the last restart (seed restartCount - 1, ends at
    lastState.terminated). A terminated instance stops at finishedAt with its final
    line. since: skip whole buckets before this time (an optimisation for sinceSeconds).
    """
    stream = _Stream(pod, container, start, previous)
    end = min(until, stream.finished) if stream.finished else until
    first = 0 if since is None else max(0, int((since - start).total_seconds()) // BUCKET)
    last = int((end - start).total_seconds()) // BUCKET
    lines = []
    for bucket in range(first, last + 1):
        lines.extend(stream.bucket(bucket))
    lines = [(t, text) for t, text in lines if t <= end and (since is None or t >= since)]
    if stream.finished and stream.finished <= until:
        lines.extend(stream.final())
    return lines


def last_lines(
    pod: dict, container: str, start: datetime, until: datetime, count: int, previous: bool = False
) -> list[tuple[datetime, str]]:
    """The last `count` lines up to `until`, reading buckets backwards (tailLines)."""
    stream = _Stream(pod, container, start, previous)
    end = min(until, stream.finished) if stream.finished else until
    tail = stream.final() if stream.finished and stream.finished <= until else []
    bucket = int((end - start).total_seconds()) // BUCKET
    out: list[tuple[datetime, str]] = []
    while bucket >= 0 and len(out) + len(tail) < count:
        out = [line for line in stream.bucket(bucket) if line[0] <= end] + out
        bucket -= 1
    return (out + tail)[-count:] if count > 0 else []


class _Stream:
    def __init__(self, pod: dict, name: str, start: datetime, previous: bool):
        self.pod = pod
        self.container = _container(pod, name)
        self.kind = _kind(pod, self.container)
        self.start = start
        status = _status(pod, name)
        restarts = status.get("restartCount", 0)
        state = (status.get("lastState") if previous else status.get("state")) or {}
        self.terminated = state.get("terminated")
        self.finished = _time((self.terminated or {}).get("finishedAt"))
        uid = (pod.get("metadata") or {}).get("uid", "")
        self.seed = f"{uid}/{name}/{restarts - 1 if previous else restarts}"

    def rng(self, bucket: int) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}/{bucket}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def bucket(self, index: int) -> list[tuple[datetime, str]]:
        rng = self.rng(index)
        base = self.start + timedelta(seconds=index * BUCKET)
        lines = self.banner() if index == 0 else []
        offset = rng.uniform(0, MEAN_GAP) + (2.0 if index == 0 else 0.0)
        make = LINE_MAKERS[self.kind]
        seq = 0
        while offset < BUCKET:
            at = base + timedelta(seconds=offset)
            lines.append((at, make(self, rng, at, index * 1000 + seq)))
            seq += 1
            offset += rng.expovariate(1 / MEAN_GAP) + 0.05
        return lines

    def banner_time(self, i: int) -> datetime:
        return self.start + timedelta(milliseconds=3 * i + 1)

    def banner(self) -> list[tuple[datetime, str]]:
        texts = BANNERS[self.kind](self)
        return [(self.banner_time(i), t) for i, t in enumerate(texts)]

    def final(self) -> list[tuple[datetime, str]]:
        code = (self.terminated or {}).get("exitCode", 0)
        reason = (self.terminated or {}).get("reason", "")
        at = self.finished
        if self.kind == "job":
            text = (
                "Job finished successfully"
                if code == 0
                else f"Error: task failed with exit code {code}"
            )
            return [(at, _app_line(at, "INFO" if code == 0 else "ERROR", text))]
        if self.kind == "nginx":
            stamp = at.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S")
            return [(at, f"{stamp} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down")]
        if code == 0 or reason == "Completed":
            return [(at, _app_line(at, "INFO", "shutting down gracefully"))]
        return [(at, _app_line(at, "ERROR", f"fatal: unrecoverable error, exiting (code {code})"))]


def _app_line(at: datetime, level: str, message: str) -> str:
    stamp = at.astimezone(UTC).strftime(TIMESTAMP) + f".{at.microsecond // 1000:03d}Z"
    return f"{stamp} {level:<5} {message}"


def _port(stream: _Stream) -> int:
    ports = stream.container.get("ports") or []
    return ports[0].get("containerPort", 8080) if ports else 8080


# ---------------------------------------------------------------- per-kind content


def _nginx_banner(stream: _Stream) -> list[str]:
    tag = _image(stream.container).partition(":")[2] or "1.27.3"
    version = tag if tag.count(".") == 2 else "1.27.3"
    stamp = stream.start.astimezone(UTC).strftime("%Y/%m/%d %H:%M:%S")
    entry = "/docker-entrypoint.sh"
    ipv6 = "10-listen-on-ipv6-by-default.sh"
    return [
        f"{entry}: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        f"{entry}: Looking for shell scripts in /docker-entrypoint.d/",
        f"{entry}: Launching /docker-entrypoint.d/{ipv6}",
        f"{ipv6}: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
        f"{ipv6}: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
        f"{entry}: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
        f"{entry}: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
        f"{entry}: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
        f"{entry}: Configuration complete; ready for start up",
        f'{stamp} [notice] 1#1: using the "epoll" event method',
        f"{stamp} [notice] 1#1: nginx/{version}",
        f"{stamp} [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14)",
        f"{stamp} [notice] 1#1: OS: Linux 6.1.0-28-cloud-amd64",
        f"{stamp} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576",
        f"{stamp} [notice] 1#1: start worker processes",
        f"{stamp} [notice] 1#1: start worker process 29",
        f"{stamp} [notice] 1#1: start worker process 30",
    ]


def _nginx_line(stream: _Stream, rng: random.Random, at: datetime, seq: int) -> str:
    method, path, status = rng.choice(PATHS)
    size = {204: 0, 404: 153}.get(status) or rng.randint(150, 48_000)
    agent = rng.choice(AGENTS)
    if agent.startswith("kube-probe"):
        method, path, status, size = "GET", "/", 200, 615
    stamp = at.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'{rng.choice(CLIENTS)} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"-" "{agent}" "-"'
    )


def _app_banner(stream: _Stream) -> list[str]:
    name = stream.container.get("name", "app")
    image = stream.container.get("image", "app")
    messages = (
        f"starting {name} (image {image})",
        "loaded configuration from environment",
        f"listening on 0.0.0.0:{_port(stream)}",
        "ready to serve requests",
    )
    return [_app_line(stream.banner_time(i), "INFO", m) for i, m in enumerate(messages)]


def _app_request(stream: _Stream, rng: random.Random, at: datetime, seq: int) -> str:
    level = rng.choices([lv for lv, _ in LEVELS], weights=[w for _, w in LEVELS])[0]
    method, path, status = rng.choice(PATHS)
    ms = rng.randint(1, 120)
    if level == "WARN":
        message = rng.choice(WARNINGS).format(path=path, ms=ms * 40)
    elif level == "ERROR":
        message = rng.choice(ERRORS).format(path=path)
    else:
        message = (
            f"http: {method} {path} status={status} duration={ms}ms remote={rng.choice(CLIENTS)}"
        )
    return _app_line(at, level, message)


def _job_banner(stream: _Stream) -> list[str]:
    name = (stream.pod.get("metadata") or {}).get("name", "job")
    return [_app_line(stream.banner_time(0), "INFO", f"starting batch task in pod {name}")]


def _job_line(stream: _Stream, rng: random.Random, at: datetime, seq: int) -> str:
    # seq grows with time (bucket * 1000 + line in bucket), so the count only goes up.
    done = seq * 100 + rng.randint(1, 99)
    return _app_line(at, "INFO", f"processed {done} records ({rng.randint(40, 400)} records/s)")


BANNERS = {"nginx": _nginx_banner, "app": _app_banner, "job": _job_banner}
LINE_MAKERS = {"nginx": _nginx_line, "app": _app_request, "job": _job_line}


# ---------------------------------------------------------------- pods/log options


def format_timestamp(at: datetime, text: str = "") -> str:
    """The kubelet's `2006-01-02T15:04:05.000000000Z07:00`, nanoseconds padded to 9."""
    utc = at.astimezone(UTC)
    # Sub-microsecond digits are derived from the line so they are stable but not 000.
    nanos = int(hashlib.sha256(f"{utc.isoformat()}{text}".encode()).hexdigest()[:4], 16) % 1000
    return utc.strftime(TIMESTAMP) + f".{utc.microsecond:06d}{nanos:03d}Z"


def select(
    lines: list[tuple[datetime, str]],
    tail_lines: int | None = None,
    since_seconds: int | None = None,
    now: datetime | None = None,
    timestamps: bool = False,
    since_time: datetime | None = None,
    limit_bytes: int | None = None,
) -> str:
    """The response body of pods/log for these options (lines end with a newline)."""
    if tail_lines is not None:
        lines = lines[-tail_lines:] if tail_lines > 0 else []
    since = since_time
    if since_seconds is not None:
        if now is None:
            raise ValueError("since_seconds needs now")
        since = now - timedelta(seconds=since_seconds)
    if since is not None:
        lines = [(t, text) for t, text in lines if t >= since]
    body = "".join(
        f"{format_timestamp(t, text)} {text}\n" if timestamps else f"{text}\n" for t, text in lines
    )
    if limit_bytes is not None:
        body = body.encode()[:limit_bytes].decode(errors="ignore")
    return body
