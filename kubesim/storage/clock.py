"""The simulated clock of one virtual cluster.

Simulated time runs at `factor` simulated seconds per real second (1 by default, 0
freezes it) and can be pushed forward at once with `advance`, so tests watch a pod go
through a five-minute CrashLoopBackOff without waiting. It never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_FACTOR = 1.0  # of every new cluster's clock; set by `python -m kubesim --time-factor`


def parse_time(value: str | datetime | None) -> datetime | None:
    """An RFC 3339 timestamp as the API writes it (or a datetime) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_time(at: datetime) -> str:
    """The API's second-precision form, e.g. 2025-01-01T12:00:00Z."""
    return at.astimezone(UTC).strftime(TIMESTAMP)


class Clock:
    def __init__(
        self,
        start: datetime | None = None,
        factor: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._sim = start or datetime.now(UTC)  # simulated time at the anchor
        self._real = monotonic()  # real monotonic time at the anchor
        self._factor = float(DEFAULT_FACTOR if factor is None else factor)

    # -- reading -----------------------------------------------------------------------------

    def now(self) -> datetime:
        with self._lock:
            return self._sim + timedelta(seconds=(self._monotonic() - self._real) * self._factor)

    def timestamp(self, later: float = 0) -> str:
        """Now (or `later` seconds from now) in the API's timestamp form."""
        return format_time(self.now() + timedelta(seconds=later))

    def seconds_since(self, when: str | datetime | None) -> float:
        """Simulated seconds from `when` (timestamp or datetime) until now; 0 for None."""
        at = parse_time(when)
        if at is None:
            return 0.0
        return (self.now() - at).total_seconds()

    @property
    def factor(self) -> float:
        return self._factor

    # -- moving ------------------------------------------------------------------------------

    def set_factor(self, factor: float) -> None:
        """Change the speed from now on (the time reached so far is kept)."""
        if factor < 0:
            raise ValueError("the time factor must be >= 0")
        with self._lock:
            self._rebase()
            self._factor = float(factor)

    def advance(self, seconds: float) -> datetime:
        """Jump forward; returns the new simulated time."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        with self._lock:
            self._rebase()
            self._sim += timedelta(seconds=seconds)
            return self._sim

    def advance_to(self, when: datetime) -> None:
        """Jump forward to `when` (nothing happens if it is already past)."""
        with self._lock:
            self._rebase()
            if when > self._sim:
                self._sim = when

    def _rebase(self) -> None:
        real = self._monotonic()
        self._sim += timedelta(seconds=(real - self._real) * self._factor)
        self._real = real

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds until the simulated time reaches `when` (inf when frozen)."""
        delta = (when - self.now()).total_seconds()
        if delta <= 0:
            return 0.0
        return delta / self._factor if self._factor > 0 else float("inf")
