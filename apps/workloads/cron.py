"""A CronJob schedule's next runs, for the wizard's preview (croniter does the stepping;
Kubernetes' own validation is the server-side dry run's)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.utils.translation import gettext as _

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def next_runs(schedule: str, time_zone: str = "", *, count: int = 5, after=None):
    """(runs, problem): the next ``count`` times the schedule fires, in its zone, or why
    it cannot be read."""
    text = (schedule or "").strip()
    for prefix in ("CRON_TZ=", "TZ="):
        if text.startswith(prefix):
            zone_name, _sep, text = text[len(prefix) :].partition(" ")
            time_zone = time_zone or zone_name
            text = text.strip()
    if not text:
        return [], _("Give a schedule, e.g. */15 * * * * (every 15 minutes).")
    text = DESCRIPTORS.get(text.lower(), text)
    if len(text.split()) != 5:
        return [], _("A schedule has five fields: minute, hour, day of month, month, day of week.")
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return [], _("Unknown time zone %(zone)s.") % {"zone": time_zone}
    start = (after or datetime.now(UTC)).astimezone(zone)
    try:
        steps = croniter(text, start)
        return [steps.get_next(datetime) for _i in range(count)], ""
    except (ValueError, KeyError) as exc:
        return [], _("The schedule cannot be read: %(error)s") % {"error": exc}
