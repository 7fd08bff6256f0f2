"""Tolerant reading of Meta's JSON: wrong shapes become notes, never exceptions.

Meta's payloads grow new fields and, per docs/protocol.md §9.1, do not always carry the
ones we expect (`from`, `flow_token`). Every accessor here returns None for a value of the
wrong type, and `Report` collects what was skipped so the stored notification explains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.flowjson.registry import FlowRegistry
from app.leads.sanitize import clean_text, load_json

WABA_OBJECT = "whatsapp_business_account"
_MAX_UNIX = 2**33  # year 2242: anything larger is not a Meta timestamp


class MalformedNotification(ValueError):
    """The notification as a whole cannot be read (answered 400, kept as `invalid`)."""


@dataclass(frozen=True)
class ProcessingContext:
    """What processing needs besides the session: the flows and the token key."""

    registry: FlowRegistry
    token_secret: str | None
    notification_id: str | None = None
    notification_key: str = ""  # sha256 of the body: names messages that lack an id


@dataclass
class Report:
    """What one processing run did, and what it skipped and why."""

    notes: list[str] = field(default_factory=list)
    messages: int = 0
    submissions: int = 0
    duplicates: int = 0
    unmatched: int = 0
    statuses: int = 0
    alerts: int = 0
    failures: list[str] = field(default_factory=list)  # items that failed (isolation.py)
    isolate: bool = False  # each item in its own savepoint (several items in one body)
    source: str | None = None  # the notification id, for log lines

    def note(self, where: str, text: str) -> None:
        self.notes.append(f"{where}: {text}")

    def fail(self, where: str, reason: str) -> None:
        """An item that failed and was rolled back alone; the notification is kept `failed`."""
        self.failures.append(where)
        self.note(where, f"failed, kept for reprocessing: {reason}")

    def summary(self, limit: int = 4000) -> str | None:
        """The notes as one bounded text for the notification row (None when clean)."""
        if not self.notes:
            return None
        text = clean_text("; ".join(self.notes))
        return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_notification(body: bytes) -> dict[str, Any]:
    """The notification object, or MalformedNotification saying why it is unreadable."""
    try:
        payload = load_json(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedNotification("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedNotification("body is not a JSON object")
    if not isinstance(payload.get("entry"), list):
        raise MalformedNotification("`entry` is missing or not a list")
    return payload


def obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any, limit: int | None = None) -> str | None:
    """A non-empty string without NUL that fits `limit`, else None."""
    if not isinstance(value, str):
        return None
    value = clean_text(value)
    if not value or (limit is not None and len(value) > limit):
        return None
    return value


def unix_time(value: Any) -> datetime | None:
    """Meta's Unix-seconds timestamp (a digit string or a number) as aware UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and 0 < value < _MAX_UNIX:
        return datetime.fromtimestamp(int(value), UTC)
    return None
