"""Business hours as a rule condition: `"when": {"hours": {...}}` (docs/automations.md).

`{"timezone": "America/Sao_Paulo", "days": ["mon", ..., "fri"], "start": "09:00",
"end": "18:00", "match": "inside" | "outside"}`: the rule runs only when the moment it is
evaluated falls inside (or outside) those hours in that time zone (IANA names, read with
`zoneinfo`). `end` before `start` spans midnight (e.g. 22:00-06:00).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = DAYS[:5]
KEYS = {"timezone", "days", "start", "end", "match"}
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def problems(raw: Any) -> list[tuple[str, str]]:
    """(key, message) for everything wrong with an `hours` object; [] when usable."""
    if not isinstance(raw, dict):
        return [("", "`hours` must be an object with timezone, start and end.")]
    out = [(key, f"Unknown key {key!r} in `hours`.") for key in sorted(set(raw) - KEYS)]
    zone = raw.get("timezone")
    if not isinstance(zone, str) or not zone:
        out.append(("timezone", "`timezone` is required (an IANA name, e.g. Europe/Lisbon)."))
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            out.append(("timezone", f"Unknown time zone {zone!r}."))
    for key in ("start", "end"):
        if not isinstance(raw.get(key), str) or not _CLOCK.match(raw[key]):
            out.append((key, f"`{key}` must be a time HH:MM (24 h)."))
    days = raw.get("days", list(WEEKDAYS))
    if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
        out.append(("days", f"`days` must be a non-empty list of {', '.join(DAYS)}."))
    if raw.get("match", "inside") not in ("inside", "outside"):
        out.append(("match", "`match` must be inside or outside."))
    return out


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def inside(hours: dict[str, Any], moment: datetime) -> bool:
    """Is `moment` (aware) inside the business hours?"""
    local = moment.astimezone(ZoneInfo(hours["timezone"]))
    days = hours.get("days") or list(WEEKDAYS)
    start, end, now = _clock(hours["start"]), _clock(hours["end"]), local.time()
    if start <= end:
        return DAYS[local.weekday()] in days and start <= now < end
    if now >= start:  # spans midnight: the evening belongs to today
        return DAYS[local.weekday()] in days
    return now < end and DAYS[(local.weekday() - 1) % 7] in days


def holds(hours: dict[str, Any], moment: datetime) -> bool:
    """The `hours` condition at `moment`."""
    return inside(hours, moment) == (hours.get("match", "inside") == "inside")
