"""Opaque cursors for keyset pagination.

A cursor is the sort key of the last row a page returned, as URL-safe base64 JSON. Clients
treat it as opaque; a tampered or foreign cursor is a 400 naming `cursor`, never a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from app.errors import InvalidRequest


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The key inside `cursor`; it must be an object holding the `required` names."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, dict) or any(name not in key for name in required):
        raise InvalidRequest("invalid cursor", details={"cursor": ["Not a valid cursor."]})
    return key
