"""The one clock Flowgate reads.

Window edges (24 h exactly, a second before and after), token expiry and retry schedules are
all time arithmetic; tests set this clock instead of sleeping. Production never sets it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC (or the time a test has set)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware), or unfreeze it with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock takes timezone-aware datetimes")
    _frozen = moment.astimezone(UTC) if moment is not None else None


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (freezing it at the real time first if needed)."""
    set_now(now() + delta)
    return now()


def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`, the only time format Flowgate prints (docs/contract.md)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
