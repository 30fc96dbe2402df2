"""The embedded store: raw rows folded into coarse ones, each kept for its retention, and
the range picking the resolution that still has the data."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.clusters.models import Cluster
from apps.monitoring import sampler
from apps.monitoring.models import Sample
from apps.monitoring.query import Scope, range_query

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stored(org, settings):
    settings.MONITORING_RAW_STEP = 60
    settings.MONITORING_COARSE_STEP = 600
    settings.MONITORING_RAW_RETENTION_HOURS = 24
    settings.MONITORING_COARSE_RETENTION_DAYS = 7
    cluster = Cluster.objects.create(name="metrics", provider="sandbox", project=org.admin_project)
    # 30 h of one pod, a raw row a minute: CPU 0.1 then 0.3 cores, 1000 bytes/s received
    rows = []
    for minute in range(30 * 60):
        at = NOW - timedelta(minutes=30 * 60 - minute)
        rows.append(
            Sample(
                cluster=cluster,
                kind=Sample.Kind.POD,
                namespace="shop",
                name="web-1",
                step=60,
                at=at,
                cpu=0.1 if minute % 2 else 0.3,
                memory=100,
                rx=minute * 60_000,
                tx=0,
            )
        )
    Sample.objects.bulk_create(rows)
    return cluster


def test_downsampling_folds_complete_buckets_and_retention_drops_old_rows(stored):
    written = sampler.downsample(now=NOW)
    assert written == 30 * 6  # one coarse row per 10 minutes of the 30 h
    coarse = Sample.objects.filter(step=600).order_by("at")
    assert {round(row.cpu, 6) for row in coarse} == {0.2}  # the mean of the bucket
    # raw rows older than a day are gone, the coarse ones stay (7 days)
    oldest_raw = Sample.objects.filter(step=60).order_by("at").first().at
    assert oldest_raw >= NOW - timedelta(hours=24)
    assert coarse.first().at == NOW - timedelta(hours=30)
    # a second run adds nothing: only complete, new buckets are folded
    assert sampler.downsample(now=NOW) == 0
    # eight days on, the coarse rows are past their retention too
    sampler.prune(now=NOW + timedelta(days=8))
    assert not Sample.objects.exists()


def test_ranges_read_raw_rows_for_a_day_and_coarse_rows_beyond(stored, monkeypatch):
    sampler.downsample(now=NOW)
    from apps.monitoring import query

    monkeypatch.setattr(query, "datetime", _Frozen)
    scope = Scope.of_pods("shop", ["web-1"])
    hour = range_query(stored, "cpu", scope, NOW - timedelta(hours=1), NOW, 60)
    assert len(hour) == 60 and {round(v, 6) for _t, v in hour} == {0.1, 0.3}
    week = range_query(stored, "cpu", scope, NOW - timedelta(days=7), NOW, 3600)
    assert len(week) == 30 and {round(v, 6) for _t, v in week} == {0.2}
    received = range_query(stored, "rx", scope, NOW - timedelta(hours=1), NOW, 300)
    assert {round(v) for _t, v in received} == {1000}  # bytes/s from the counter
    assert range_query(stored, "cpu", Scope.of_pods("shop", []), NOW, NOW, 60) == []


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW
