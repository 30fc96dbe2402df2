"""The ingest endpoint fluent-bit's http output posts to: its token, limits and 429."""

import gzip
import json
import time

import pytest
from django.test import Client
from django.utils import timezone

from apps.clusters.models import Cluster
from apps.logs import services
from apps.logs.models import LogShipper
from apps.logs.query import LogQuery
from apps.logs.store import get_store

URL = "/logs/ingest/"


@pytest.fixture
def shipper(org):
    cluster = Cluster.objects.create(name="c1", provider="sandbox", project=org.admin_project)
    shipper = LogShipper.objects.create(cluster=cluster)
    token = shipper.issue()
    shipper.save()
    return shipper, token


def record(message, namespace="shop", pod="web-7d4f9-abcde", at=None, **labels):
    return {
        "date": at if at is not None else time.time(),
        "log": message + "\n",
        "stream": "stdout",
        "kubernetes": {
            "pod_name": pod,
            "namespace_name": namespace,
            "container_name": "web",
            "host": "worker-1",
            "labels": labels or {"pod-template-hash": "7d4f9"},
        },
    }


def post(body, token=None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().post(URL, body, content_type="application/json", **headers)


def stored():
    query = LogQuery(
        start=timezone.now() - timezone.timedelta(hours=1),
        end=timezone.now() + timezone.timedelta(minutes=1),
    )
    return get_store().search(query)


def test_lines_in_fluent_bits_json_format_are_stored(shipper):
    _shipper, token = shipper
    answer = post(json.dumps([record("hello 世界"), record("second")]), token)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {"accepted": 2, "rejected": 0}
    lines = stored()
    assert {line.message for line in lines} == {"hello 世界", "second"}
    assert {(line.namespace, line.workload, line.container, line.node) for line in lines} == {
        ("shop", "web", "web", "worker-1")
    }
    _shipper.refresh_from_db()
    assert _shipper.lines_received == 2


def test_json_lines_and_gzip_are_accepted(shipper):
    _shipper, token = shipper
    body = gzip.compress("".join(json.dumps(record(f"line {i}")) + "\n" for i in range(3)).encode())
    answer = post(body, token, HTTP_CONTENT_ENCODING="gzip")
    assert answer.status_code == 201, answer.content
    assert answer.json()["accepted"] == 3


def test_records_without_kubernetes_metadata_are_rejected_not_stored(shipper):
    _shipper, token = shipper
    answer = post(json.dumps([record("ok"), {"date": time.time(), "log": "no metadata"}]), token)
    assert answer.json() == {"accepted": 1, "rejected": 1}


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer kcslog_wrong", 401), ("Basic abc", 401)],
)
def test_without_a_valid_token_nothing_is_stored(shipper, authorization, status):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    answer = post(json.dumps([record("sneaky")]), **headers)
    assert answer.status_code == status
    assert stored() == []


def test_a_revoked_token_is_refused(shipper, org):
    _shipper, token = shipper
    services.revoke_token(org.admin, _shipper.cluster)
    answer = post(json.dumps([record("after revoking")]), token)
    assert answer.status_code == 401
    assert "revoked" in answer.json()["error"]
    assert stored() == []


def test_a_new_token_ends_the_old_one(shipper):
    _shipper, old = shipper
    new = _shipper.issue()
    _shipper.save()
    assert post(json.dumps([record("old")]), old).status_code == 401
    assert post(json.dumps([record("new")]), new).status_code == 201


def test_a_body_over_the_limit_is_413(shipper, settings):
    _shipper, token = shipper
    settings.LOGS_INGEST_MAX_BYTES = 1000
    answer = post(json.dumps([record("x" * 2000)]), token)
    assert answer.status_code == 413
    # A small gzip body that inflates past the limit is refused too.
    bomb = gzip.compress(json.dumps([record("y" * 50_000)]).encode())
    assert len(bomb) < 1000
    assert post(bomb, token, HTTP_CONTENT_ENCODING="gzip").status_code == 413
    assert stored() == []


def test_too_many_lines_a_second_is_429_with_retry_after(shipper, settings):
    _shipper, token = shipper
    settings.LOGS_INGEST_LINES_PER_SECOND = 5
    answers = [post(json.dumps([record(f"l{i}-{j}") for j in range(3)]), token) for i in range(3)]
    statuses = [a.status_code for a in answers]
    assert 429 in statuses, statuses
    refused = answers[statuses.index(429)]
    assert refused["Retry-After"] == "1"
    assert len(stored()) < 9


def test_when_every_ingest_slot_is_busy_the_answer_is_429(shipper, settings):
    _shipper, token = shipper
    settings.LOGS_INGEST_CONCURRENCY = 1
    slots = services._ingest_slots()
    assert slots.acquire(blocking=False)
    try:
        answer = post(json.dumps([record("busy")]), token)
    finally:
        slots.release()
    assert answer.status_code == 429


def test_bad_json_is_a_400(shipper):
    _shipper, token = shipper
    assert post("{not json", token).status_code == 400


def test_only_post(shipper):
    assert Client().get(URL).status_code == 405


@pytest.mark.parametrize(
    ("pod", "labels", "workload"),
    [
        ("web-7d4f9-abcde", {"pod-template-hash": "7d4f9"}, "web"),
        ("db-0", {"statefulset.kubernetes.io/pod-name": "db-0"}, "db"),
        ("backup-28890-x1y2z", {"batch.kubernetes.io/job-name": "backup-28890"}, "backup-28890"),
        ("fluent-bit-q2w3e", {"controller-revision-hash": "6c7d"}, "fluent-bit"),
        ("standalone", {}, ""),
    ],
)
def test_the_workload_is_found_from_the_pods_labels(pod, labels, workload):
    assert services.workload_of(pod, labels) == workload


def test_a_body_larger_than_djangos_own_upload_limit_is_taken(shipper, settings):
    _shipper, token = shipper
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = post(json.dumps([record("z" * 500) for _ in range(5)]), token)
    assert answer.status_code == 201, answer.content
    assert answer.json()["accepted"] == 5
