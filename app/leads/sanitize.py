"""Text and JSON clean-up on intake: what we store must be storable on both databases.

- NUL (U+0000) is removed from every string we store, keys included, recursively: PostgreSQL
  cannot store it in `text` or `jsonb` and SQLite would, so the same lead would behave
  differently per database. WhatsApp never needs a NUL in a form field.
- A lone UTF-16 surrogate (a `\\ud800` escape without its pair, valid JSON but not valid
  Unicode text) cannot be encoded as UTF-8 by either driver; it becomes U+FFFD.
- Numbers JSON can spell but not store (`1e400`, `NaN`, `-Infinity`) are kept as their source
  text (a string), so the lead is kept and every later JSON output stays standard JSON; the
  flow's schema then judges the value like any other.
Cleaning happens before validation: what is validated is exactly what is stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, overload

NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT_DIGITS = 4000  # Python refuses to convert longer digit strings to int


@overload
def clean_text(value: str) -> str: ...
@overload
def clean_text(value: None) -> None: ...
@overload
def clean_text(value: Any) -> Any: ...
def clean_text(value: Any) -> Any:
    """`value` with every string inside it (dicts, lists, tuples) made storable."""
    if isinstance(value, str):
        if NUL in value:
            value = value.replace(NUL, "")
        if not value.isascii() and _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
        return value
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_text(v) for v in value]
    return value


# The name other areas know (docs/contract.md speaks of NUL removal); it does all of the above.
strip_nul = clean_text


def _float(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


def _int(text: str) -> int | str:
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


def load_json(data: str | bytes) -> Any:
    """`json.loads`, with non-finite and oversized numbers kept as their source text."""
    return json.loads(data, parse_float=_float, parse_int=_int, parse_constant=str)


def clip(value: str | None, limit: int) -> str | None:
    """A display string cut to `limit` characters (for bounded columns such as names)."""
    if value is None:
        return None
    return value[:limit]
