"""Contacts: the WhatsApp users we hear from, and what decides their 24-hour window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.models.base import Base


class Contact(Base):
    """One WhatsApp user, keyed by wa_id.

    `last_inbound_at` is the newest inbound user message time and never moves backwards
    (notifications arrive out of order). `re_engagement_error_at` records a 131047 status
    (Meta refused a message because the window was closed); it closes the window until a
    newer inbound message arrives.
    """

    __tablename__ = "contacts"

    wa_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_name: Mapped[str | None] = mapped_column(String(256))
    last_inbound_at: Mapped[datetime | None]
    last_inbound_message_id: Mapped[str | None] = mapped_column(String(128))
    re_engagement_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
