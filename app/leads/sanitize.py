"""Text clean-up on intake: NUL characters are removed from every string we store.

PostgreSQL cannot store U+0000 in `text` or `jsonb`, and SQLite would store it while
PostgreSQL refuses it, so the same lead would behave differently per database. WhatsApp
never needs a NUL in a form field, so it is dropped from every string (keys included),
recursively, before validation: what is validated is exactly what is stored.
"""

from __future__ import annotations

from typing import Any, overload

NUL = "\x00"


@overload
def strip_nul(value: str) -> str: ...
@overload
def strip_nul(value: None) -> None: ...
@overload
def strip_nul(value: Any) -> Any: ...
def strip_nul(value: Any) -> Any:
    """`value` with NUL removed from every string inside it (dicts, lists, tuples)."""
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strip_nul(v) for v in value]
    return value


def clip(value: str | None, limit: int) -> str | None:
    """A display string cut to `limit` characters (for bounded columns such as names)."""
    if value is None:
        return None
    return value[:limit]
