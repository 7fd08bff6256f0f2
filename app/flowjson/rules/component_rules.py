"""Rules specific to one component: captions, pattern, min/max pairs, dates (§3.1)."""

from __future__ import annotations

import re
from typing import Any

from app.flowjson import sources
from app.flowjson.context import Component, Context
from app.flowjson.findings import join
from app.flowjson.values import is_dynamic

_MIN_MAX = (
    ("min-selected-items", "max-selected-items"),
    ("min-chars", "max-chars"),
    ("min-uploaded-photos", "max-uploaded-photos"),
    ("min-uploaded-documents", "max-uploaded-documents"),
    ("min-days", "max-days"),
)
_RANGES = {
    "max-file-size-kb": (1, 25600),
    "min-uploaded-photos": (0, 30),
    "max-uploaded-photos": (1, 30),
    "min-uploaded-documents": (0, 30),
    "max-uploaded-documents": (1, 30),
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MS_DATE = re.compile(r"^\d{1,15}$")
_DAYS = frozenset({"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"})
_FORM_LOCAL = ("init-value", "error-message")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and not is_dynamic(value):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        for comp in screen.components:
            kind = comp.type
            if kind == "Footer":
                _footer_captions(ctx, comp)
            elif kind == "TextInput":
                _text_input_pattern(ctx, comp)
            elif kind in ("DatePicker", "CalendarPicker"):
                _dates(ctx, comp)
            _min_max(ctx, comp)
            if comp.form is not None:
                for key in _FORM_LOCAL:
                    if key in comp.node:
                        ctx.error(
                            "INVALID_PROPERTY_KEY",
                            join(comp.pointer, key),
                            f"'{key}' is only available when the component is outside a Form; "
                            f"use the Form's '{key}s' instead.",
                        )


def _footer_captions(ctx: Context, comp: Component) -> None:
    node = comp.node
    left, right, center = (
        "left-caption" in node,
        "right-caption" in node,
        "center-caption" in node,
    )
    if center and (left or right):
        ctx.error(
            "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED",
            join(comp.pointer, "center-caption"),
            "Footer takes either center-caption alone or left-caption with right-caption.",
        )
    elif right and not left:
        ctx.error(
            "INVALID_DEPENDENCIES",
            join(comp.pointer, "right-caption"),
            "Footer should have property left-caption when property right-caption is present.",
        )
    elif left and not right:
        ctx.error(
            "INVALID_DEPENDENCIES",
            join(comp.pointer, "left-caption"),
            "Footer should have property right-caption when property left-caption is present.",
        )


def _text_input_pattern(ctx: Context, comp: Component) -> None:
    node = comp.node
    if "pattern" not in node or not ctx.since((6, 2)):
        return
    pointer = join(comp.pointer, "pattern")
    input_type = node.get("input-type", "text")
    if input_type not in ("text", "number", "password", "passcode") and not is_dynamic(input_type):
        ctx.error(
            "INVALID_DEPENDENCIES",
            pointer,
            f"'pattern' only works with input-type text, number, password or passcode, not "
            f"{input_type!r}.",
        )
    if "helper-text" not in node:
        ctx.error(
            "INVALID_DEPENDENCIES",
            pointer,
            "'pattern' requires 'helper-text' that tells the user the expected format.",
        )
    pattern = node["pattern"]
    if isinstance(pattern, str) and not is_dynamic(pattern):
        try:
            re.compile(pattern)
        except re.error as exc:
            # WhatsApp evaluates the regex on the device; Python's dialect differs, so only warn.
            ctx.warn("INVALID_PROPERTY_VALUE", pointer, f"'pattern' does not compile: {exc}.")


def _min_max(ctx: Context, comp: Component) -> None:
    node = comp.node
    for low_key, high_key in _MIN_MAX:
        low, high = _number(node.get(low_key)), _number(node.get(high_key))
        if low is not None and high is not None and low > high:
            ctx.error(
                "MIN_VALUE_GREATER_THAN_MAX",
                join(comp.pointer, low_key),
                f"'{low_key}' ({low:g}) is greater than '{high_key}' ({high:g}).",
            )
    if comp.type in ("PhotoPicker", "DocumentPicker"):
        for key, (lowest, highest) in _RANGES.items():
            value = _number(node.get(key))
            if value is None:
                continue
            if value < lowest:
                ctx.error(
                    "MINIMUM_VALUE_REQUIRED",
                    join(comp.pointer, key),
                    f"'{key}' must be at least {lowest}.",
                )
            elif value > highest:
                ctx.error(
                    "MAXIMUM_VALUE_REQUIRED",
                    join(comp.pointer, key),
                    f"'{key}' must be at most {highest}.",
                )


def _dates(ctx: Context, comp: Component) -> None:
    node = comp.node
    iso = comp.type == "CalendarPicker" or ctx.since((5, 0))
    pattern = _ISO_DATE if iso else _MS_DATE
    expected = "'YYYY-MM-DD'" if iso else "a millisecond timestamp string"
    for key in ("min-date", "max-date", "unavailable-dates", "init-value"):
        if key not in node:
            continue
        value = node[key]
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            if not isinstance(item, str) or is_dynamic(item):
                continue
            if not pattern.match(item):
                pointer = (
                    join(comp.pointer, key, i)
                    if isinstance(value, list)
                    else join(comp.pointer, key)
                )
                if comp.type == "CalendarPicker":
                    ctx.error(
                        "INVALID_PROPERTY_VALUE_FORMAT",
                        pointer,
                        f"CalendarPicker dates must be {expected}.",
                    )
                else:  # Meta's pages disagree on DatePicker formats around 5.0: warn only
                    ctx.warn(
                        "INVALID_PROPERTY_VALUE_FORMAT",
                        pointer,
                        f"DatePicker dates in Flow JSON {'5.0+' if iso else 'before 5.0'} should "
                        f"be {expected}; Meta's pages disagree on the format around 5.0 "
                        "(milliseconds or 'YYYY-MM-DD').",
                        source=sources.M_COMP,
                    )
    if comp.type == "CalendarPicker":
        days = node.get("include-days")
        if isinstance(days, list):
            for i, day in enumerate(days):
                if day not in _DAYS:
                    ctx.error(
                        "INVALID_ENUM_VALUE",
                        join(comp.pointer, "include-days", i),
                        "Value should be one of: [Mon, Tue, Wed, Thu, Fri, Sat, Sun].",
                    )
        if node.get("mode", "single") == "single":
            for key in ("title", "description", "min-days", "max-days"):
                if key in node:
                    ctx.warn(
                        "INVALID_DEPENDENCIES",
                        join(comp.pointer, key),
                        f"'{key}' only applies to CalendarPicker mode 'range'.",
                    )
            if isinstance(node.get("label"), dict):
                ctx.error(
                    "INVALID_PROPERTY_TYPE",
                    join(comp.pointer, "label"),
                    "In single mode the CalendarPicker label must be a string.",
                )
