"""One screen's fields, cleaned and judged by the flow's submission validator.

A screen sends only some of the submission's fields, so it is judged on those alone: each
sent field by its own rules, and `required` only among the fields the screen's submit action
declares (`expected`). The complete submission is judged again, in full, when it is stored
(app/leads/intake.py), by the same validator object.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from app.flowjson.registry import FlowDefinition
from app.leads.sanitize import clean_text


def storable(value: Any) -> Any:
    """`value` as both databases can store it, cleaned before validation so that what is
    validated is what is stored: NUL removed and lone surrogates replaced
    (`clean_text`, docs/leads.md), and NaN/Infinity (which Python's JSON parser accepts) kept as
    their text.
    """
    value = clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def screen_errors(
    definition: FlowDefinition, data: dict[str, Any], expected: Iterable[str]
) -> dict[str, str]:
    """`{field: message}` for every sent (or expected but missing) field that fails, judged by
    the flow's one submission validator (the same that judges the stored lead)."""
    errors: dict[str, str] = {}
    for item in definition.validator.check(data, only={*data, *expected}):
        errors.setdefault(str(item["field"] or "data").split(".")[0], item["message"])
    return errors


def describe(errors: dict[str, str]) -> str:
    """A short message for the user's snackbar naming the fields to fix."""
    names = ", ".join(sorted(errors)[:5])
    return f"Please check: {names}."
