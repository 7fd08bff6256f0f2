"""Opaque cursors for keyset pagination, and the page cut every list shares.

A cursor is the sort key of the last row a page returned, as URL-safe base64 JSON. Clients
treat it as opaque; a tampered or foreign cursor is a 400 naming `cursor`, never a 500.
Lists read `limit + 1` rows so that `trim` knows whether another page follows without a
second query.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.clock import isoformat
from app.errors import InvalidRequest

T = TypeVar("T")


def _invalid() -> InvalidRequest:
    return InvalidRequest("invalid cursor", details={"cursor": ["Not a valid cursor."]})


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The key inside `cursor`; it must be an object holding the `required` names."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, RecursionError):  # RecursionError: deeply nested JSON
        key = None
    if not isinstance(key, dict) or any(name not in key for name in required):
        raise _invalid()
    return key


def encode_time_cursor(at: datetime, row_id: str) -> str:
    """The cursor after a row ordered by `(timestamp, id)`."""
    return encode_cursor({"t": isoformat(at), "id": row_id})


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    """The aware UTC `(timestamp, id)` inside a time cursor; anything else is a 400 naming
    `cursor` (a NUL in the id too: PostgreSQL cannot compare it, and it would be a 500)."""
    key = decode_cursor(cursor, ("t", "id"))
    row_id = key["id"]
    # Our ids are ASCII (UUIDs): anything else (a lone surrogate, a NUL) cannot match a row.
    if not isinstance(row_id, str) or not row_id.isascii() or "\x00" in row_id:
        raise _invalid()
    try:
        at = datetime.fromisoformat(str(key["t"]))
        # In UTC and within datetime's range (0001-01-01T00:00+14:00 is not), as stored.
        at = at.astimezone(UTC) if at.tzinfo is not None else None
    except (ValueError, OverflowError):
        raise _invalid() from None
    if at is None:
        raise _invalid()
    return at, row_id


def trim(rows: Sequence[T], limit: int) -> tuple[list[T], T | None]:
    """The first `limit` rows, and the last of them when more rows follow (else None)."""
    if len(rows) <= limit:
        return list(rows), None
    page = list(rows[:limit])
    return page, page[-1] if page else None
