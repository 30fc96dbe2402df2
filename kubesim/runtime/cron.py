"""CronJob schedules, parsed and stepped like the cron library Kubernetes uses.

The CronJob controller and API validation use robfig/cron v3's `ParseStandard`: five
fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges,
steps and JAN-DEC / SUN-SAT names, the descriptors `@yearly @annually @monthly @weekly
@daily @midnight @hourly` and `@every <duration>`, and an optional `TZ=`/`CRON_TZ=`
prefix. Error texts are the library's, which the API server puts after
`spec.schedule: Invalid value: "<schedule>": `.

`next_after` walks fields in real (absolute) time like the library, so daylight-saving
behaves as on a real cluster: a time skipped by spring-forward does not run that day, a
time repeated by fall-back runs twice. Without a zone a schedule runs in UTC (the
controller manager's zone in practice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}

# (name, low, high, names) for the five standard fields, in order.
FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("dom", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("dow", 0, 6, DAYS),
)
BOUNDS = {name: (low, high) for name, low, high, _ in FIELDS}

# Descriptor -> the single value each field is pinned to (None: every value).
DESCRIPTORS = {
    "@yearly": {"minute": 0, "hour": 0, "dom": 1, "month": 1},
    "@annually": {"minute": 0, "hour": 0, "dom": 1, "month": 1},
    "@monthly": {"minute": 0, "hour": 0, "dom": 1},
    "@weekly": {"minute": 0, "hour": 0, "dow": 0},
    "@daily": {"minute": 0, "hour": 0},
    "@midnight": {"minute": 0, "hour": 0},
    "@hourly": {"minute": 0},
}

# The library gives up when nothing matches within five years (e.g. "0 0 30 2 *").
YEAR_LIMIT = 5
TOO_MANY_MISSED = 100
TOO_MANY_MISSED_MESSAGE = (
    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
)

# Go's time.ParseDuration units, in nanoseconds.
DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
TZ_CHARS = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


@dataclass(frozen=True)
class Field:
    """The allowed values of one field; `star` when it was written as * or ?."""

    values: frozenset[int]
    star: bool = False


@dataclass(frozen=True)
class Schedule:
    fields: dict[str, Field] | None
    zone: tzinfo | None  # None: the zone of the time asked about (UTC in kubesim)
    every: timedelta | None = None  # @every

    def next(self, after: datetime) -> datetime | None:
        return _next(self, after)


# ---------------------------------------------------------------- parsing


def load_zone(name: str) -> tzinfo:
    """time.LoadLocation: "" and "UTC" are UTC; unknown names raise like Go."""
    if name in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name}") from exc


def parse(spec: str) -> Schedule:
    """cron.ParseStandard; raises ValueError with the library's message."""
    if not spec:
        raise ValueError("empty spec string")
    zone = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        name = spec[spec.index("=") + 1 : space if space >= 0 else len(spec)]
        try:
            zone = load_zone(name)
        except ValueError as exc:
            raise ValueError(f"provided bad location {name}: {exc}") from None
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        return _descriptor(spec, zone)
    parts = spec.split()
    if len(parts) != len(FIELDS):
        raise ValueError(
            f"expected exactly {len(FIELDS)} fields, found {len(parts)}: [{' '.join(parts)}]"
        )
    fields = {
        name: _field(text, low, high, names)
        for text, (name, low, high, names) in zip(parts, FIELDS, strict=True)
    }
    return Schedule(fields, zone)


def _descriptor(spec: str, zone) -> Schedule:
    pinned = DESCRIPTORS.get(spec)
    if pinned is not None:
        fields = {}
        for name, low, high, _ in FIELDS:
            value = pinned.get(name)
            fields[name] = (
                Field(frozenset([value])) if value is not None else _every_value(low, high)
            )
        return Schedule(fields, zone)
    if spec.startswith("@every "):
        try:
            nanos = parse_duration(spec[len("@every ") :])
        except ValueError as exc:
            raise ValueError(f"failed to parse duration {spec}: {exc}") from None
        # Shorter than a second runs every second; fractions of a second are dropped.
        seconds = max(1, nanos // 1_000_000_000)
        return Schedule(None, zone, timedelta(seconds=seconds))
    raise ValueError(f"unrecognized descriptor: {spec}")


def _every_value(low: int, high: int) -> Field:
    return Field(frozenset(range(low, high + 1)), star=True)


def _field(text: str, low: int, high: int, names: dict | None) -> Field:
    values: set[int] = set()
    star = False
    for expr in filter(None, text.split(",")):
        part, part_star = _range(expr, low, high, names)
        values |= part
        star = star or part_star
    return Field(frozenset(values), star)


def _range(expr: str, low: int, high: int, names: dict | None) -> tuple[set[int], bool]:
    """getRange: `*`, `N`, `N-M`, each with an optional `/step`."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    star = False
    if low_high[0] in ("*", "?"):
        start, end, star = low, high, True
    else:
        start = _int_or_name(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], names)
        else:
            raise ValueError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_high) == 1:  # "N/step" means "N-max/step"
            end = high
        if step > 1:
            star = False
    else:
        raise ValueError(f"too many slashes: {expr}")
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _int_or_name(text: str, names: dict | None) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    return _int(text)


def _int(text: str) -> int:
    # strconv.Atoi: optional sign and ASCII digits only.
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {text}")
    return number


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds (error texts without the `time: ` prefix)."""
    quoted = f'"{text}"'
    if text in ("0", "+0", "-0"):
        return 0
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if not body:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0
    for match in re.finditer(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)", body):
        number, unit = match.groups()
        if not number and not unit:
            continue
        if number in ("", "."):
            raise ValueError(f"time: invalid duration {quoted}")
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration {quoted}')
        total += int(float(number) * DURATION_UNITS[unit])
    return sign * total


# ---------------------------------------------------------------- validation


def validate(
    schedule: str, time_zone: str | None = None, allow_tz_in_schedule: bool = False
) -> list[dict]:
    """The CronJob spec's schedule/timeZone checks, as Status causes.

    allow_tz_in_schedule is only true on update of an object whose old schedule already
    had a TZ prefix, as in the API server.
    """
    causes = []

    def invalid(path: str, value: str, detail: str) -> None:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {_go_quote(value)}: {detail}",
                "field": path,
            }
        )

    if not schedule:
        causes.append(
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.schedule"}
        )
    else:
        try:
            parse(schedule)
        except ValueError as exc:
            invalid("spec.schedule", schedule, str(exc))
        if "TZ" in schedule and allow_tz_in_schedule and time_zone is not None:
            invalid(
                "spec.schedule",
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            )
        elif "TZ" in schedule and not allow_tz_in_schedule:
            invalid(
                "spec.schedule",
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            )
    if time_zone is not None:
        detail = _time_zone_problem(time_zone)
        if detail:
            invalid("spec.timeZone", time_zone, detail)
    return causes


def _time_zone_problem(name: str) -> str | None:
    if not name:
        return "timeZone must be nil or non-empty string"
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not TZ_CHARS.match(part):
            return f"unknown time zone {name}"
    if name.lower() == "local":
        return (
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
    try:
        load_zone(name)
    except ValueError as exc:
        return str(exc)
    return None


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- stepping


def next_after(schedule: str, after: datetime, tz: str | None = None) -> datetime | None:
    """The first run strictly after `after` (whole seconds), or None within five years.

    tz is the CronJob's spec.timeZone; a TZ/CRON_TZ prefix in the schedule wins over it,
    as in the controller. The result is in `after`'s zone (naive in, naive UTC out).
    """
    return _compile(schedule, tz).next(after)


def _compile(schedule: str, tz: str | None) -> Schedule:
    if tz is not None and "TZ" not in schedule:
        schedule = f"TZ={tz} {schedule}"
    return parse(schedule)


def missed_times(
    schedule: str,
    last: datetime,
    now: datetime,
    limit: int = TOO_MANY_MISSED,
    tz: str | None = None,
) -> list[datetime]:
    """Run times in (last, now], oldest first, at most `limit` of them."""
    compiled = _compile(schedule, tz)
    out = []
    t = compiled.next(last)
    while t is not None and t <= now and len(out) < limit:
        out.append(t)
        t = compiled.next(t)
    return out


def most_recent(
    schedule: str, earliest: datetime, now: datetime, tz: str | None = None
) -> tuple[datetime | None, int]:
    """The controller's mostRecentScheduleTime: (latest run in (earliest, now], how many).

    The count is the controller's estimate from the gap between the first two runs;
    above 100 it warns TOO_MANY_MISSED_MESSAGE and starts only the most recent run.
    """
    compiled = _compile(schedule, tz)
    t1 = compiled.next(earliest)
    if t1 is None or now < t1:
        return None, 0
    t2 = compiled.next(t1)
    if t2 is None or now < t2:
        return t1, 1
    gap = round((t2 - t1).total_seconds())
    if gap < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // gap + 1
    # Jump close to now, then let the schedule find the exact latest time. Irregular
    # schedules ("30 6-16/4 * * 1-5") can overshoot; step further back until a run is found.
    back = 2
    while True:
        start = max(earliest, t1 + timedelta(seconds=(missed - back) * gap))
        t, latest = compiled.next(start), None
        while t is not None and t <= now:
            latest, t = t, compiled.next(t)
        if latest is not None or start == earliest:
            return latest, missed
        back *= 2


def _next(s: Schedule, after: datetime) -> datetime | None:
    naive = after.tzinfo is None
    origin = UTC if naive else after.tzinfo
    zone = s.zone or origin
    utc = (after.replace(tzinfo=UTC) if naive else after).astimezone(UTC)
    if s.every is not None:
        found = utc.replace(microsecond=0) + s.every
    else:
        found = _step(s.fields, utc, zone)
        if found is None:
            return None
    found = found.astimezone(origin)
    return found.replace(tzinfo=None) if naive else found


def _step(f: dict[str, Field], utc: datetime, zone: tzinfo) -> datetime | None:
    """robfig/cron SpecSchedule.Next, with absolute-time arithmetic on `utc`."""

    def local(u: datetime) -> datetime:
        return u.astimezone(zone)

    def wall(y, mo, d, h=0, mi=0) -> datetime:
        # time.Date: normalise month overflow; a wall time in a DST gap moves forward.
        y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
        return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)

    def day_matches(t: datetime) -> bool:
        dom = t.day in f["dom"].values
        dow = (t.isoweekday() % 7) in f["dow"].values
        if f["dom"].star or f["dow"].star:
            return dom and dow
        return dom or dow

    # Start at the next whole second; standard schedules only fire at second 0.
    u = utc.replace(microsecond=0) + timedelta(seconds=1)
    year_limit = local(u).year + YEAR_LIMIT
    added = False
    while True:  # each `continue` is the library's `goto WRAP`
        t = local(u)
        if t.year > year_limit:
            return None
        if t.month not in f["month"].values:
            if not added:
                added = True
                u = wall(t.year, t.month, 1)
                t = local(u)
            u = wall(t.year, t.month + 1, t.day, t.hour, t.minute)
            continue
        if not day_matches(t):
            if not added:
                added = True
                u = wall(t.year, t.month, t.day)
            t = local(u)
            nxt = t.date() + timedelta(days=1)
            u = wall(nxt.year, nxt.month, nxt.day, t.hour, t.minute)
            t = local(u)
            # Midnight may not exist on a DST day: pull back to the day's first hour.
            if t.hour != 0:
                shift = 24 - t.hour if t.hour > 12 else -t.hour
                u += timedelta(hours=shift)
            continue
        if t.hour not in f["hour"].values:
            if not added:
                added = True
                u = wall(t.year, t.month, t.day, t.hour)
            u += timedelta(hours=1)
            continue
        if t.minute not in f["minute"].values:
            if not added:
                added = True
                u = u.replace(second=0)
            u += timedelta(minutes=1)
            continue
        if t.second != 0:
            if not added:
                added = True
            u = u.replace(second=0) + timedelta(minutes=1)
            continue
        return u
