"""Automations: triggers (an outbox of things that happened), sends (intents recorded before
Meta is called), per-contact automation state, and rule throttles (docs/automations.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.ids import new_id
from app.models.base import Base


class AutomationTrigger(Base):
    """Something rules may react to, written in the transaction that caused it.

    `key` is unique per triggering event (`message.received:<wamid>`,
    `flow.submitted:<submission id>`, `window.expiring:<wa_id>:<expires_at>`), so Meta
    re-delivering a notification cannot create a second trigger. `status`: `pending` until a
    worker evaluated the rules (`done`) or found it obsolete (`skipped`, e.g. a newer message
    reset the window before a `window.expiring` became due).
    """

    __tablename__ = "automation_triggers"
    __table_args__ = (Index(None, "status", "due_at"), Index(None, "wa_id", "event", "due_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    wa_id: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime] = mapped_column(default=now)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    processed_at: Mapped[datetime | None]


class MessageSend(Base):
    """One message Flowgate means to send (a rule's reply or a scheduled API message).

    The row exists, with its unique `idempotency_key`, before Meta is called. `status`:
    `pending` → `sending` (committed right before the POST) → `sent` | `skipped` | `failed`
    | `cancelled`; a `sending` row whose worker vanished becomes `unconfirmed` and is never
    sent again (docs/automations.md, "Exactly once"). `meta_status` follows Meta's status
    webhooks for `wamid`.
    """

    __tablename__ = "message_sends"
    __table_args__ = (Index(None, "status", "due_at"), Index(None, "wa_id", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    origin: Mapped[str] = mapped_column(String(16))  # rule | api
    rule: Mapped[str | None] = mapped_column(String(100))
    trigger_event: Mapped[str | None] = mapped_column(String(64))
    wa_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # text | flow | template
    flow: Mapped[str | None] = mapped_column(String(128))
    flow_token: Mapped[str | None] = mapped_column(String(512))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fallback: Mapped[dict[str, Any] | None]
    pausable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime] = mapped_column(default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    wamid: Mapped[str | None] = mapped_column(String(128), index=True)
    sent_as: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    meta_status: Mapped[str | None] = mapped_column(String(32))
    meta_status_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


class ContactAutomation(Base):
    """Per contact: the human pause, and where the contact first came from (first touch).

    `first_source` is `link` (a Flowgate wa.me link's ref) or `ad` (a Click-to-WhatsApp
    referral); it is written once and never overwritten. `last_ref` follows the newest ref.
    """

    __tablename__ = "contact_automation"

    wa_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    paused_until: Mapped[datetime | None]
    first_source: Mapped[str | None] = mapped_column(String(16))
    first_ref: Mapped[str | None] = mapped_column(String(128))
    first_at: Mapped[datetime | None]
    last_ref: Mapped[str | None] = mapped_column(String(128))
    last_ref_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class AutomationThrottle(Base):
    """When a rule last sent to a contact: `once_per_seconds` is enforced on this row."""

    __tablename__ = "automation_throttles"

    wa_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_at: Mapped[datetime]
