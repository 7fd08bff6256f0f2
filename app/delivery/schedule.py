"""When to try again: the retry schedule, jitter, throttling and Retry-After.

The schedule lists the delays before attempt 1, 2, 3, ... (docs/contract.md's default starts with 0:
the first attempt is immediate), so it also fixes the number of attempts. Jitter spreads a
burst of retries by +-20 % (Svix's figure). A throttling answer (429, 502, 504) or a timeout
backs off harder: at least twice the scheduled delay and at least `throttle_floor` seconds
(Svix uses 60 s). `Retry-After` (seconds or an HTTP date) can only push the next attempt
later, never sooner, and is capped at `max_retry_after` so a receiver cannot park a delivery
for weeks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

JITTER = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    """Everything that decides the next attempt time (seconds)."""

    schedule: Sequence[float]
    throttle_floor: float = 60.0
    max_retry_after: float = 3600.0
    jitter: float = JITTER

    @property
    def max_attempts(self) -> int:
        return max(1, len(self.schedule))

    def next_delay(
        self,
        attempts_done: int,
        *,
        throttled: bool = False,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next attempt after `attempts_done` attempts, or None when the
        schedule is exhausted."""
        if attempts_done >= self.max_attempts:
            return None
        base = float(self.schedule[attempts_done]) if self.schedule else 0.0
        delay = base * (1 + (rng or random).uniform(-self.jitter, self.jitter))
        if throttled:
            delay = max(delay, 2 * base, self.throttle_floor)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds from `now`: delta-seconds or an HTTP date; garbage is None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now) / timedelta(seconds=1))
