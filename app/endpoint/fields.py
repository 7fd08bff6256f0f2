"""Validate one screen's fields against the flow's submission JSON Schema (schemas/<flow>.json).

A screen sends only some of the submission's fields, so it is checked against the schema cut
down to the properties it sends: each sent property against its own subschema, and the
schema's `required` properties only among those the screen's action declares (`expected`).
The complete submission is validated again, in full, when it is stored (intake).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from app.leads.sanitize import clean_text

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def storable(value: Any) -> Any:
    """`value` as both databases can store it, cleaned before validation so that what is
    validated is what is stored: NUL removed and lone surrogates replaced
    (`clean_text`, docs/contract.md), and NaN/Infinity (which Python's JSON parser accepts) kept as
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


@lru_cache(maxsize=512)
def _validator(schema_json: str, sent: frozenset[str], expected: frozenset[str]) -> Any:
    schema = json.loads(schema_json)
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [r for r in schema.get("required") or [] if r in expected and r in props]
    sub = {
        "type": "object",
        "properties": {k: v for k, v in props.items() if k in sent},
        "required": required,
    }
    for key in ("$defs", "definitions"):
        if key in schema:
            sub[key] = schema[key]
    return Draft202012Validator(sub, format_checker=FORMAT_CHECKER)


def screen_errors(
    schema: dict[str, Any] | None,
    data: dict[str, Any],
    expected: Iterable[str] = (),
    *,
    schema_json: str | None = None,
) -> dict[str, str]:
    """`{field: message}` for every sent (or expected but missing) field that fails."""
    if not schema:
        return {}
    text = schema_json or json.dumps(schema, sort_keys=True)
    validator = _validator(text, frozenset(data), frozenset(expected))
    errors: dict[str, str] = {}
    for error in validator.iter_errors(data):
        if error.validator == "required":
            missing = [r for r in error.validator_value if r not in data]
            for name in missing:
                errors.setdefault(name, "is required")
            continue
        name = str(error.absolute_path[0]) if error.absolute_path else "data"
        errors.setdefault(name, error.message[:200])
    return errors


def describe(errors: dict[str, str]) -> str:
    """A short message for the user's snackbar naming the fields to fix."""
    names = ", ".join(sorted(errors)[:5])
    return f"Please check: {names}."
