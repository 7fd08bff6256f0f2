"""The 24-hour customer service window of a contact (docs/protocol.md §10).

Rules (docs/contract.md "Contract details"):
- the window is open while `at < last_inbound_at + 24 h` (strict: at exactly 24 h it is closed);
- every inbound user message counts, an nfm_reply included; our own outbound messages never do;
- `expires_at` is `last_inbound_at + 24 h` whether open or not;
- a contact never seen (or never heard from) is closed with reason `no_inbound_message`;
- a 131047 status (Meta refused a message: window closed) at or after the newest inbound
  message closes it with `re_engagement_error`, until a newer inbound message arrives. At the
  same second we cannot tell which came first and say closed: telling a business it may send
  freely when it may not is the worse mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.clock import isoformat
from app.models import Contact

WINDOW = timedelta(hours=24)

NO_INBOUND = "no_inbound_message"
EXPIRED = "expired"
RE_ENGAGEMENT = "re_engagement_error"


@dataclass(frozen=True)
class WindowState:
    """Whether free-form messages may be sent to a contact at one moment, and why not."""

    open: bool
    last_inbound_at: datetime | None
    expires_at: datetime | None
    closed_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """`{"open", "expires_at"}`: the shape the flow.submitted event carries."""
        return {"open": self.open, "expires_at": isoformat(self.expires_at)}


def window_state(contact: Contact | None, at: datetime) -> WindowState:
    """The window of `contact` at moment `at` (aware UTC)."""
    last = contact.last_inbound_at if contact is not None else None
    if last is None:
        return WindowState(False, None, None, NO_INBOUND)
    expires = last + WINDOW
    refused = contact.re_engagement_error_at if contact is not None else None
    if refused is not None and refused >= last:
        return WindowState(False, last, expires, RE_ENGAGEMENT)
    if at < expires:
        return WindowState(True, last, expires, None)
    return WindowState(False, last, expires, EXPIRED)
