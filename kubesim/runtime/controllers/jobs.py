"""Job and CronJob controllers, after kube-controller-manager v1.32.

Job: keeps `min(parallelism, completions - succeeded)` pods active (NonIndexed pods are
`<job>-xxxxx`, Indexed ones `<job>-<index>-xxxxx` with the completion-index annotation,
label and hostname), recreates failed pods after the exponential back-off (10 s doubling,
capped at 6 min), fails the Job with BackoffLimitExceeded once more than backoffLimit
pods failed or DeadlineExceeded after activeDeadlineSeconds (FailureTarget first, then
Failed once no pod is active), completes it (SuccessCriteriaMet, then Complete with
completionTime), honours suspend (Suspended condition) and ttlSecondsAfterFinished.
Status: active, ready, terminating, succeeded, failed, startTime, completionTime,
completedIndexes, uncountedTerminatedPods, as 1.32 reports them.

CronJob: on the simulated clock, the most recent schedule time in (lastScheduleTime or
creation, now] (bounded by startingDeadlineSeconds) starts a Job named
`<cronjob>-<minutes since the epoch>`, with timeZone, suspend, concurrencyPolicy
Allow/Forbid/Replace, status.active/lastScheduleTime/lastSuccessfulTime and the
successful/failed history limits, and the real events (SuccessfulCreate, SawCompletedJob,
SuccessfulDelete, JobAlreadyActive, MissSchedule, UnexpectedJob...).

Simplified: pods carry no `batch.kubernetes.io/job-tracking` finalizer; succeeded and
failed are counted from the pods that exist (never decreasing), so a finished pod
deleted by hand before the Job finishes is still counted once. No podFailurePolicy,
successPolicy or backoffLimitPerIndex.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from kubesim.runtime import cron
from kubesim.runtime.controllers.base import Controller
from kubesim.runtime.controllers.common import (
    affected,
    condition,
    fmt_time,
    ignore_gone,
    is_ready,
    owned,
    owner_ref,
    parse_time,
    pod_from_template,
    record,
    requeue,
    set_condition,
    write_status,
)
from kubesim.storage import errors

MANAGER = "kube-controller-manager"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
BACKOFF_BASE, BACKOFF_MAX = 10, 360


def finished(job: dict) -> str | None:
    """'Complete' or 'Failed' once the Job has that terminal condition."""
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond is not None and cond.get("status") == "True":
            return kind
    return None


def _phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase", "")


def _finished_at(pod: dict) -> datetime | None:
    latest = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or ():
        t = parse_time(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if t is not None and (latest is None or t > latest):
            latest = t
    return latest


def _index(pod: dict) -> int | None:
    try:
        return int((pod["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION))
    except (TypeError, ValueError):
        return None


def format_indexes(indexes: set[int]) -> str:
    """ "0-2,4" as status.completedIndexes writes them."""
    out, run = [], []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


class JobController(Controller):
    name = "job"
    component = "job-controller"
    watches = ("Job", "Pod")

    def reconcile(self, ctx) -> None:
        for job in affected(ctx, "batch/v1", "Job", "Pod"):
            try:
                JobSync(ctx, job).run()
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise


class JobSync:
    def __init__(self, ctx, job: dict):
        self.ctx, self.cluster, self.now = ctx, ctx.cluster, ctx.clock.now()
        self.job = job
        self.spec = job.get("spec") or {}

    def run(self) -> None:
        job = self.job
        if job["metadata"].get("deletionTimestamp"):
            return
        status = copy.deepcopy(job.get("status") or {})
        done = finished(job)
        if done:
            self.expire(status)
            return
        pods = owned(self.cluster, "v1", "Pod", job)
        active = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")]
        running = [p for p in active if not p["metadata"].get("deletionTimestamp")]
        succeeded = [p for p in pods if _phase(p) == "Succeeded"]
        failed = [p for p in pods if _phase(p) == "Failed"]
        n_succeeded = max(len(succeeded), int(status.get("succeeded") or 0))
        n_failed = max(len(failed), int(status.get("failed") or 0))
        indexed = self.spec.get("completionMode") == "Indexed"
        completions = self.spec.get("completions")
        conditions = list(status.get("conditions") or [])
        suspended = bool(self.spec.get("suspend"))

        was_suspended = (condition({"status": status}, "Suspended") or {}).get("status") == "True"
        if suspended:
            conditions = set_condition(
                conditions, "Suspended", "True", "JobSuspended", "Job suspended", self.now
            )
            if not was_suspended:
                record(self.ctx, job, "Normal", "Suspended", "Job suspended")
            self.delete_pods(running)
            running = []
        else:
            if was_suspended:
                conditions = set_condition(
                    conditions, "Suspended", "False", "JobResumed", "Job resumed", self.now
                )
                record(self.ctx, job, "Normal", "Resumed", "Job resumed")
                status["startTime"] = fmt_time(self.now)
            status.setdefault("startTime", fmt_time(self.now))

        completed_indexes: set[int] = set()
        if indexed:
            completed_indexes = {i for i in map(_index, succeeded) if i is not None}
            n_succeeded = max(len(completed_indexes), int(status.get("succeeded") or 0))

        failure = self.failure(status, n_failed)
        target = condition({"status": status}, "FailureTarget") or condition(
            {"status": status}, "SuccessCriteriaMet"
        )
        if failure is None and target is None and not suspended:
            if completions is not None:
                complete = n_succeeded >= int(completions)
            else:
                complete = n_succeeded > 0 and not running
            if complete:
                message = "Reached expected number of succeeded pods"
                conditions = set_condition(
                    conditions,
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    message,
                    self.now,
                )
                self.delete_pods(running)
                running = []
            else:
                running = self.manage(running, n_succeeded, n_failed, failed, completed_indexes)
        elif failure is not None and target is None:
            reason, message = failure
            conditions = set_condition(
                conditions, "FailureTarget", "True", reason, message, self.now
            )
            record(self.ctx, job, "Warning", reason, message)
            self.delete_pods(running)
            running = []

        # terminal conditions once no pod is left running
        status["conditions"] = conditions
        interim = condition({"status": status}, "FailureTarget") or condition(
            {"status": status}, "SuccessCriteriaMet"
        )
        if interim is not None:
            still = [
                p
                for p in owned(self.cluster, "v1", "Pod", job)
                if _phase(p) not in ("Succeeded", "Failed")
            ]
            if not still:
                if interim["type"] == "SuccessCriteriaMet":
                    conditions = set_condition(
                        conditions,
                        "Complete",
                        "True",
                        interim["reason"],
                        interim["message"],
                        self.now,
                    )
                    status["completionTime"] = fmt_time(self.now)
                    record(self.ctx, job, "Normal", "Completed", "Job completed")
                else:
                    conditions = set_condition(
                        conditions,
                        "Failed",
                        "True",
                        interim["reason"],
                        interim["message"],
                        self.now,
                    )
        # Job conditions carry lastProbeTime too
        conditions = [
            c if "lastProbeTime" in c else {"lastProbeTime": c["lastTransitionTime"], **c}
            for c in conditions
        ]
        status["conditions"] = conditions
        if not status["conditions"]:
            del status["conditions"]

        counts = {
            "active": len(running),
            "succeeded": n_succeeded,
            "failed": n_failed,
        }
        for key, value in counts.items():
            if value:
                status[key] = value
            else:
                status.pop(key, None)
        status["ready"] = sum(1 for p in running if is_ready(p))
        status["terminating"] = sum(1 for p in active if p["metadata"].get("deletionTimestamp"))
        status["uncountedTerminatedPods"] = {}
        if indexed and completed_indexes:
            status["completedIndexes"] = format_indexes(completed_indexes)
        write_status(self.cluster, job, status)

    # -- failures ----------------------------------------------------------------------

    def failure(self, status: dict, n_failed: int) -> tuple[str, str] | None:
        limit = int(self.spec.get("backoffLimit", 6))
        if n_failed > limit:
            return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        deadline = self.spec.get("activeDeadlineSeconds")
        started = parse_time(status.get("startTime"))
        if deadline is not None and started is not None and not self.spec.get("suspend"):
            left = int(deadline) - (self.now - started).total_seconds()
            if left <= 0:
                return "DeadlineExceeded", "Job was active longer than specified deadline"
            requeue(self.ctx, left)
        return None

    # -- pods --------------------------------------------------------------------------

    def manage(
        self,
        running: list[dict],
        n_succeeded: int,
        n_failed: int,
        failed: list[dict],
        completed_indexes: set[int],
    ) -> list[dict]:
        completions = self.spec.get("completions")
        parallelism = int(self.spec.get("parallelism", 1) or 0)
        if completions is None:
            want = parallelism if n_succeeded == 0 else 0
        else:
            want = max(min(int(completions) - n_succeeded, parallelism), 0)
        if len(running) > want:
            extra = sorted(running, key=lambda p: (is_ready(p), p["metadata"]["name"]))
            self.delete_pods(extra[: len(running) - want])
            return extra[len(running) - want :]
        missing = want - len(running)
        if missing <= 0:
            return running
        wait = self.backoff_left(n_failed, failed)
        if wait > 0:
            requeue(self.ctx, wait)
            return running
        indexes: list[int | None] = [None] * missing
        if self.spec.get("completionMode") == "Indexed":
            taken = completed_indexes | {i for i in map(_index, running) if i is not None}
            free = [i for i in range(int(completions or 0)) if i not in taken]
            indexes = free[:missing]
        for index in indexes:
            pod = self.create_pod(index)
            if pod is None:
                break
            running.append(pod)
        return running

    def backoff_left(self, n_failed: int, failed: list[dict]) -> float:
        if not n_failed or not failed:
            return 0
        last = max((t for t in map(_finished_at, failed) if t is not None), default=None)
        if last is None:
            return 0
        delay = min(BACKOFF_BASE * 2 ** (n_failed - 1), BACKOFF_MAX)
        return delay - (self.now - last).total_seconds()

    def create_pod(self, index: int | None) -> dict | None:
        job = self.job
        template = self.spec.get("template") or {}
        name = job["metadata"]["name"]
        if index is None:
            pod = pod_from_template(template, job)
        else:
            pod = pod_from_template(
                template,
                job,
                generate_name=f"{name}-{index}-",
                labels={INDEX_ANNOTATION: str(index)},
                annotations={INDEX_ANNOTATION: str(index)},
            )
            pod["spec"].setdefault("hostname", f"{name}-{index}")
        try:
            created = self.cluster.create(pod, MANAGER)
        except errors.ApiError as exc:
            if exc.code in (404, 409):
                return None
            message = exc.status.get("message", str(exc))
            record(self.ctx, job, "Warning", "FailedCreate", f"Error creating: {message}")
            return None
        record(
            self.ctx,
            job,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
        )
        return created

    def delete_pods(self, pods: list[dict]) -> None:
        for pod in pods:
            name = pod["metadata"]["name"]
            if ignore_gone(self.cluster.delete, "v1", "Pod", name, pod["metadata"]["namespace"]):
                record(self.ctx, self.job, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    # -- ttl ---------------------------------------------------------------------------

    def expire(self, status: dict) -> None:
        """The TTL-after-finished controller."""
        ttl = self.spec.get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        done = finished(self.job)
        cond = condition(self.job, done) or {}
        at = parse_time(status.get("completionTime") or cond.get("lastTransitionTime"))
        if at is None:
            return
        left = int(ttl) - (self.now - at).total_seconds()
        if left > 0:
            requeue(self.ctx, left)
            return
        meta = self.job["metadata"]
        ignore_gone(
            self.cluster.delete,
            "batch/v1",
            "Job",
            meta["name"],
            meta["namespace"],
            propagation="Background",
        )


# -- CronJob -------------------------------------------------------------------------------


class CronJobController(Controller):
    name = "cronjob"
    component = "cronjob-controller"
    watches = ("CronJob", "Job")

    def reconcile(self, ctx) -> None:
        for cj in affected(ctx, "batch/v1", "CronJob", "Job"):
            try:
                CronSync(ctx, cj).run()
            except errors.ApiError as exc:
                if exc.code not in (404, 409):
                    raise


def job_ref(job: dict) -> dict:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta["name"],
        "namespace": meta["namespace"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def scheduled_job_name(cj: dict, at: datetime) -> str:
    return f"{cj['metadata']['name']}-{int(at.timestamp()) // 60}"


class CronSync:
    def __init__(self, ctx, cj: dict):
        self.ctx, self.cluster = ctx, ctx.cluster
        self.now = ctx.clock.now().astimezone(UTC)
        self.cj = cj
        self.spec = cj.get("spec") or {}

    def run(self) -> None:
        cj = self.cj
        if cj["metadata"].get("deletionTimestamp"):
            return
        status = copy.deepcopy(cj.get("status") or {})
        jobs = owned(self.cluster, "batch/v1", "Job", cj)
        self.track(status, jobs)
        self.cleanup(jobs)
        jobs = owned(self.cluster, "batch/v1", "Job", cj)
        if self.spec.get("suspend"):
            self.save(status)
            return
        schedule, tz = self.spec.get("schedule", ""), self.spec.get("timeZone")
        try:
            cron.next_after(schedule, self.now, tz)
        except ValueError as exc:
            record(
                self.ctx,
                cj,
                "Warning",
                "InvalidSchedule",
                f"invalid schedule: {schedule} : {exc}",
            )
            self.save(status)
            return
        earliest = parse_time(status.get("lastScheduleTime")) or parse_time(
            cj["metadata"].get("creationTimestamp")
        )
        deadline = self.spec.get("startingDeadlineSeconds")
        if deadline is not None:
            window = self.now - timedelta(seconds=int(deadline))
            earliest = max(earliest, window) if earliest else window
        earliest = earliest or self.now
        scheduled, missed = cron.most_recent(schedule, earliest, self.now, tz)
        if missed > cron.TOO_MANY_MISSED:
            record(self.ctx, cj, "Warning", "TooManyMissedTimes", cron.TOO_MANY_MISSED_MESSAGE)
        if scheduled is None:
            self.save(status)
            self.requeue_next(schedule, tz)
            return
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < self.now:
            record(
                self.ctx,
                cj,
                "Warning",
                "MissSchedule",
                f"Missed scheduled time to start a job: {scheduled.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            )
            self.save(status)
            self.requeue_next(schedule, tz)
            return
        name = scheduled_job_name(cj, scheduled)
        if any(j["metadata"]["name"] == name for j in jobs):
            self.save(status)
            self.requeue_next(schedule, tz)
            return
        policy = self.spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and status.get("active"):
            record(
                self.ctx,
                cj,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
            )
            self.save(status)
            self.requeue_next(schedule, tz)
            return
        if policy == "Replace":
            for ref in list(status.get("active") or []):
                gone = ignore_gone(
                    self.cluster.delete,
                    "batch/v1",
                    "Job",
                    ref["name"],
                    ref.get("namespace") or cj["metadata"]["namespace"],
                    propagation="Background",
                )
                if gone is not None:
                    record(self.ctx, cj, "Normal", "SuccessfulDelete", f"Deleted job {ref['name']}")
                status["active"] = [r for r in status.get("active") or [] if r is not ref]
        job = self.create_job(name, scheduled, tz)
        if job is not None:
            status.setdefault("active", []).append(job_ref(job))
            status["lastScheduleTime"] = fmt_time(scheduled)
        self.save(status)
        self.requeue_next(schedule, tz)

    def track(self, status: dict, jobs: list[dict]) -> None:
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        active = []
        for ref in status.get("active") or []:
            job = by_uid.get(ref.get("uid"))
            if job is None:
                # deleted by someone else (or Replace): no longer active
                continue
            if finished(job) is None:
                active.append(ref)
        known = {r["uid"] for r in active}
        for job in jobs:
            uid = job["metadata"]["uid"]
            done = finished(job)
            if done is None and uid not in known:
                active.append(job_ref(job))
            was_active = any(r.get("uid") == uid for r in status.get("active") or [])
            if done and was_active:
                record(
                    self.ctx,
                    self.cj,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {job['metadata']['name']}, condition: {done}",
                )
            if done == "Complete":
                completed = parse_time((job.get("status") or {}).get("completionTime"))
                last = parse_time(status.get("lastSuccessfulTime"))
                if completed is not None and (last is None or completed > last):
                    status["lastSuccessfulTime"] = fmt_time(completed)
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def cleanup(self, jobs: list[dict]) -> None:
        for kind, field in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = self.spec.get(field)
            if limit is None:
                continue
            done = [j for j in jobs if finished(j) == kind]
            if len(done) <= int(limit):
                continue
            done.sort(
                key=lambda j: (
                    (j.get("status") or {}).get("startTime") or "",
                    j["metadata"]["name"],
                )
            )
            for job in done[: len(done) - int(limit)]:
                meta = job["metadata"]
                gone = ignore_gone(
                    self.cluster.delete,
                    "batch/v1",
                    "Job",
                    meta["name"],
                    meta["namespace"],
                    propagation="Background",
                )
                if gone is not None:
                    record(
                        self.ctx,
                        self.cj,
                        "Normal",
                        "SuccessfulDelete",
                        f"Deleted job {meta['name']}",
                    )

    def create_job(self, name: str, scheduled: datetime, tz: str | None) -> dict | None:
        template = self.spec.get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        stamp = scheduled
        if tz:
            try:
                stamp = scheduled.astimezone(cron.load_zone(tz))
            except ValueError:
                stamp = scheduled
        annotations = {**(tmeta.get("annotations") or {}), SCHEDULED_ANNOTATION: stamp.isoformat()}
        if stamp.utcoffset() == timedelta(0):
            annotations[SCHEDULED_ANNOTATION] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": self.cj["metadata"]["namespace"],
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": annotations,
                "ownerReferences": [owner_ref(self.cj)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if not job["metadata"]["labels"]:
            del job["metadata"]["labels"]
        try:
            created = self.cluster.create(job, MANAGER)
        except errors.ApiError as exc:
            if exc.code == 409:
                record(
                    self.ctx,
                    self.cj,
                    "Warning",
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {name}",
                )
                return None
            record(self.ctx, self.cj, "Warning", "FailedCreate", f"Error creating job: {exc}")
            return None
        record(self.ctx, self.cj, "Normal", "SuccessfulCreate", f"Created job {name}")
        return created

    def requeue_next(self, schedule: str, tz: str | None) -> None:
        nxt = cron.next_after(schedule, self.now, tz)
        if nxt is not None:
            requeue(self.ctx, max((nxt - self.now).total_seconds(), 0) + 0.001)

    def save(self, status: dict) -> None:
        stored = write_status(self.cluster, self.cj, status)
        if stored is not None:
            self.cj = stored


CONTROLLERS = [JobController, CronJobController]
