"""The messages we send through the Cloud API (what Meta tells us is in app/models/inbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.models.base import Base


class OutboundMessage(Base):
    """A message we sent through the Cloud API.

    Its wamid lets an nfm_reply without a flow token be traced to its flow through the
    reply's `context.id`. Outbound messages never extend a contact's window.
    """

    __tablename__ = "outbound_messages"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # the wamid
    wa_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # flow | template | text
    flow: Mapped[str | None] = mapped_column(String(128))
    flow_token: Mapped[str | None] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime] = mapped_column(default=now)
