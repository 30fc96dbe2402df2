"""kubesim.runtime.cron: CronJob schedules as robfig/cron (Kubernetes' library) runs them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kubesim.runtime import cron

NY = ZoneInfo("America/New_York")


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("*/15 * * * *", at(2025, 1, 31, 10, 7, 30), at(2025, 1, 31, 10, 15)),
        ("0 * * * *", at(2025, 1, 31, 10, 0), at(2025, 1, 31, 11, 0)),
        # Month ends: the 31st skips short months, Feb 29 waits for a leap year.
        ("0 12 31 * *", at(2025, 1, 31, 13, 0), at(2025, 3, 31, 12, 0)),
        ("0 0 29 2 *", at(2025, 1, 31), at(2028, 2, 29)),
        ("59 23 28-31 * *", at(2025, 2, 27), at(2025, 2, 28, 23, 59)),
        ("0 0 1 * *", at(2025, 12, 31, 23, 59), at(2026, 1, 1)),
        ("@monthly", at(2025, 1, 31), at(2025, 2, 1)),
        ("@weekly", at(2025, 1, 31), at(2025, 2, 2)),
        ("@yearly", at(2025, 1, 31), at(2026, 1, 1)),
        ("@hourly", at(2025, 1, 31, 10, 30), at(2025, 1, 31, 11)),
        ("0 9 * * MON-FRI", at(2025, 2, 1), at(2025, 2, 3, 9)),
        ("0 0 * JAN,jul SUN", at(2025, 2, 1), at(2025, 7, 6)),
        # Both day fields restricted: either may match (Friday Feb 7 before the 15th).
        ("0 0 1,15 * 5", at(2025, 2, 1), at(2025, 2, 7)),
        ("5/20 * * * *", at(2025, 2, 1, 0, 26), at(2025, 2, 1, 0, 45)),
        ("@every 90s", at(2025, 2, 1, 0, 0, 0, 500000), at(2025, 2, 1, 0, 1, 30)),
    ],
)
def test_next_after(schedule, after, expected):
    assert cron.next_after(schedule, after) == expected


def test_impossible_schedule_has_no_next_run():
    assert cron.next_after("0 0 30 2 *", at(2025, 1, 1)) is None


def test_time_zone_field_and_prefix():
    assert cron.next_after("0 9 * * *", at(2025, 1, 1), "Asia/Tokyo") == at(2025, 1, 2, 0)
    assert cron.next_after("CRON_TZ=Asia/Tokyo 0 9 * * *", at(2025, 1, 1)) == at(2025, 1, 2, 0)
    # Result keeps the caller's zone; naive means UTC.
    local = cron.next_after("0 9 * * *", datetime(2025, 1, 1, tzinfo=NY), "America/New_York")
    assert local == datetime(2025, 1, 1, 9, tzinfo=NY)
    assert cron.next_after("0 * * * *", datetime(2025, 1, 1, 0, 30)) == datetime(2025, 1, 1, 1)


def test_spring_forward_skips_the_missing_time():
    runs, t = [], at(2024, 3, 9, 12)
    for _ in range(2):
        t = cron.next_after("30 2 * * *", t, "America/New_York")
        runs.append(t.astimezone(NY).isoformat())
    # 2024-03-10 02:30 does not exist in New York.
    assert runs == ["2024-03-11T02:30:00-04:00", "2024-03-12T02:30:00-04:00"]


def test_fall_back_runs_the_repeated_time_twice():
    runs, t = [], at(2024, 11, 2, 12)
    for _ in range(3):
        t = cron.next_after("30 1 * * *", t, "America/New_York")
        runs.append(t.astimezone(NY).isoformat())
    assert runs == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-03T01:30:00-05:00",
        "2024-11-04T01:30:00-05:00",
    ]


def test_missed_times_and_most_recent():
    start = at(2025, 1, 31, 10)
    assert cron.missed_times("0 * * * *", start, start + timedelta(hours=3, minutes=5)) == [
        at(2025, 1, 31, 11),
        at(2025, 1, 31, 12),
        at(2025, 1, 31, 13),
    ]
    assert len(cron.missed_times("* * * * *", start, start + timedelta(days=1))) == 100
    assert cron.most_recent("0 * * * *", start, start + timedelta(minutes=30)) == (None, 0)
    latest, count = cron.most_recent("0 * * * *", start, start + timedelta(days=10, minutes=5))
    assert (latest, count) == (at(2025, 2, 10, 10), 240)
    assert count > cron.TOO_MANY_MISSED
    latest, _ = cron.most_recent("30 6-16/4 * * 1-5", start, at(2025, 2, 9, 12))
    assert latest == at(2025, 2, 7, 14, 30)


@pytest.mark.parametrize(
    ("schedule", "detail"),
    [
        ("x", "expected exactly 5 fields, found 1: [x]"),
        ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
        (
            "* * * foo *",
            'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax',
        ),
        ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
        ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ],
)
def test_invalid_schedules_read_like_the_api_server(schedule, detail):
    with pytest.raises(ValueError) as raised:
        cron.parse(schedule)
    assert str(raised.value) == detail
    assert cron.validate(schedule) == [
        {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: "{schedule}": {detail}',
            "field": "spec.schedule",
        }
    ]


def test_validation_of_time_zones():
    assert cron.validate("0 * * * *", "Europe/Berlin") == []
    assert cron.validate("") == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.schedule"}
    ]
    [cause] = cron.validate("0 * * * *", "Mars/Olympus")
    assert cause["message"] == 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'
    assert cause["field"] == "spec.timeZone"
    [cause] = cron.validate("CRON_TZ=UTC 0 * * * *")
    assert cause["message"].endswith(
        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    )
    [cause] = cron.validate("TZ=UTC 0 * * * *", "UTC", allow_tz_in_schedule=True)
    assert cause["message"].endswith("cannot use both timeZone field and TZ or CRON_TZ in schedule")
