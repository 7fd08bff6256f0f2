"""Template filters: times people can read, and how long a window has left.

Times are rendered in UTC inside `<time datetime=...>`, with the UTC value in the title;
static/dashboard.js rewrites the text into the viewer's own time zone, so without
JavaScript a page still shows correct (UTC) times.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from app import clock


def when(moment: datetime | None, empty: str = "—") -> Markup:
    """`<time>` in UTC; the script shows it in local time and keeps UTC on hover."""
    if moment is None:
        return escape(empty)
    utc = moment.astimezone(UTC)
    iso = clock.isoformat(utc)
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    full = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, full, text)


def duration(delta: timedelta | None) -> str:
    """`3 h 05 min`, `12 min`, `under a minute`; negative or None gives `—`."""
    if delta is None or delta.total_seconds() <= 0:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def time_left(expires: datetime | None) -> str:
    return duration(expires - clock.now() if expires is not None else None)


def pretty(value: Any) -> str:
    """A field value as text: strings as they are, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def install(app: Flask) -> None:
    app.add_template_filter(when, "when")
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(pretty, "pretty")
    app.add_template_global(clock.isoformat, "isoformat")
