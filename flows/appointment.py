"""Handlers of flows/appointment.json: dynamic dates and time slots for the booking screen.

The flow works without this module (the JSON's `__example__` values fill the screen); with it
the APPOINTMENT screen opens with only the department enabled, each choice enables the next
dropdown, dates are the next working days from today, and the time slots depend on the day
(short Fridays). The SUMMARY confirm re-checks that the slot is still offered.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from app.flows_api import FlowHandlers, HandlerContext, ScreenError, now

handlers = FlowHandlers()

DEPARTMENTS = [
    {"id": "cardiology", "title": "Cardiology"},
    {"id": "dermatology", "title": "Dermatology"},
    {"id": "general_practice", "title": "General practice"},
]
LOCATIONS = [
    {"id": "city_centre", "title": "City centre clinic"},
    {"id": "riverside", "title": "Riverside clinic"},
]
WORKING_DAYS_AHEAD = 5
DAY_SLOTS = ["09:00", "10:30", "12:00", "14:00", "15:30", "16:30"]
FRIDAY_SLOTS = ["09:00", "10:30", "12:00"]
DERMATOLOGY_SKIPS = {"12:00"}  # no dermatologist over lunch


def offered_dates(today: date | None = None) -> list[dict[str, str]]:
    """The next working days after today, as dropdown options (read-only: shared)."""
    return _working_days_after(today or now().date())


@lru_cache(maxsize=4)
def _working_days_after(today: date) -> list[dict[str, str]]:
    # The same all day, so built once per day rather than on every request.
    day, out = today, []
    while len(out) < WORKING_DAYS_AHEAD:
        day += timedelta(days=1)
        if day.weekday() < 5:
            out.append({"id": day.isoformat(), "title": day.strftime("%a %d %b %Y")})
    return out


def offered_times(department: str, day: str) -> list[dict[str, str]]:
    """Slots of `day` for `department`; none for a day that is not offered."""
    if all(d["id"] != day for d in offered_dates()):
        return []
    slots = FRIDAY_SLOTS if date.fromisoformat(day).weekday() == 4 else DAY_SLOTS
    if department == "dermatology":
        slots = [s for s in slots if s not in DERMATOLOGY_SKIPS]
    return [{"id": s, "title": s} for s in slots]


def _booking_screen(chosen: dict[str, Any]) -> dict[str, Any]:
    department, location, day = (chosen.get(k) for k in ("department", "location", "date"))
    return {
        "department": DEPARTMENTS,
        "location": LOCATIONS,
        "is_location_enabled": bool(department),
        "date": offered_dates(),
        "is_date_enabled": bool(department and location),
        "time": offered_times(str(department), str(day)) if department and day else [],
        "is_time_enabled": bool(department and location and day),
    }


@handlers.on_init
def start(ctx: HandlerContext) -> dict[str, Any]:
    return _booking_screen({})


@handlers.on_data_exchange("APPOINTMENT")
def choose(ctx: HandlerContext) -> dict[str, Any]:
    """A dropdown changed: enable the next one and compute its options."""
    if ctx.data.get("department") not in {d["id"] for d in DEPARTMENTS}:
        raise ScreenError("Please choose a department from the list.")
    if "date" in ctx.data and not offered_times(ctx.data["department"], ctx.data["date"]):
        raise ScreenError("That date is not available any more. Please choose another.")
    return _booking_screen(ctx.data)


@handlers.on_data_exchange("SUMMARY")
def confirm(ctx: HandlerContext) -> None:
    """Final check before the booking is stored: the slot must still be offered."""
    fields = ctx.session_data
    times = {t["id"] for t in offered_times(str(fields.get("department")), str(fields.get("date")))}
    if fields.get("time") not in times:
        raise ScreenError("That time slot is no longer available. Please go back and pick another.")


@handlers.on_back("APPOINTMENT")
def back_to_booking(ctx: HandlerContext) -> dict[str, Any]:
    """Back on the booking screen (refresh_on_back): the dropdowns as the user left them."""
    return _booking_screen(ctx.session_data)
