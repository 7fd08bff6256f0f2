"""Answers `flowgate simulate` invents for fields the answers file leaves out.

Why: a smoke test should run on any day without editing its answers. Dates offered by an
endpoint change daily (flows/appointment.py offers the next working days), so a hard-coded
date goes stale; and an optional field the user would skip must still reach the server the
way a phone sends it. The rules, applied only to fields not in the answers:

- a choice (Dropdown, RadioButtonsGroup, ChipsSelector, CheckboxGroup) that is required takes
  the first option offered *now* (the screen's current data, after any data_exchange);
- a required DatePicker / CalendarPicker takes tomorrow's date (its `min-date` if later);
- a required text input gets a sample fitting its `input-type` (email, phone, number, ...);
- an optional text input or text area is sent empty (`""`), as a phone sends an untouched
  optional field (UNCONFIRMED in Meta's docs; docs/endpoint.md), other optional fields are
  left out.

Each invented value is reported through `on_fill`, so the output says what was made up.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from app import clock
from app.endpoint.emulator import MISSING, Autofill

CHOICES = {"Dropdown", "RadioButtonsGroup", "ChipsSelector", "CheckboxGroup"}
MULTI = {"ChipsSelector", "CheckboxGroup"}
DATES = {"DatePicker", "CalendarPicker"}
TEXTS = {"TextInput", "TextArea"}
SAMPLES = {
    "email": "first.run@example.com",
    "phone": "+15550000001",
    "number": "1",
    "passcode": "123456",
    "password": "simulated",
}
_DATA_REF = re.compile(r"\$\{data\.([A-Za-z0-9_]+)\}")


def _required(comp: dict[str, Any], data: dict[str, Any]) -> bool:
    value = comp.get("required")
    if isinstance(value, str):
        match = _DATA_REF.fullmatch(value)
        return bool(data.get(match.group(1))) if match else False
    return value is True


def _options(comp: dict[str, Any], data: dict[str, Any]) -> list[str]:
    source = comp.get("data-source")
    if isinstance(source, str):
        match = _DATA_REF.fullmatch(source)
        source = data.get(match.group(1)) if match else None
    if not isinstance(source, list):
        return []
    return [
        o["id"]
        for o in source
        if isinstance(o, dict) and isinstance(o.get("id"), str) and o.get("enabled", True)
    ]


def _date(comp: dict[str, Any]) -> str:
    day = clock.now().date() + timedelta(days=1)
    floor = comp.get("min-date")
    if isinstance(floor, str):
        with contextlib.suppress(ValueError):  # not a date: Meta's validator reports it
            day = max(day, date.fromisoformat(floor))
    return day.isoformat()


def _text(comp: dict[str, Any]) -> str:
    sample = SAMPLES.get(str(comp.get("input-type") or "text"), "Simulated answer")
    low = comp.get("min-chars")
    if isinstance(low, int) and len(sample) < low:
        sample = sample.ljust(low, "x")
    return sample


def make_autofill(on_fill: Callable[[str, str, Any], None] | None = None) -> Autofill:
    """An emulator `autofill` callback applying the module's rules."""

    def fill(screen: str, comp: dict[str, Any], data: dict[str, Any]) -> Any:
        kind, required = comp.get("type"), _required(comp, data)
        value: Any = MISSING
        if kind in CHOICES and required:
            options = _options(comp, data)
            if options:
                value = [options[0]] if kind in MULTI else options[0]
        elif kind in DATES and required:
            value = _date(comp)
        elif kind in TEXTS:
            value = _text(comp) if required else ""
        if value is not MISSING and on_fill is not None:
            on_fill(screen, str(comp.get("name")), value)
        return value

    return fill
