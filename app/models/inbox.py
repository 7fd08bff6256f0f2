"""What Meta tells us: raw notifications, message statuses, flow alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.ids import new_id
from app.models.base import Base
from app.models.enums import InboxStatus


class InboundNotification(Base):
    """A raw POST from Meta, stored before it is processed so nothing is lost.

    `status`: `pending` (stored, not processed yet), `processed`, or `failed` (kept for
    `flowgate inbox reprocess` with the `error`). `body` is the exact raw bytes whose
    signature was checked.
    """

    __tablename__ = "inbound_notifications"
    __table_args__ = (Index(None, "status", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING.value)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=now)
    processed_at: Mapped[datetime | None]


class MessageStatus(Base):
    """A delivery status of a message we sent (sent, delivered, read, failed)."""

    __tablename__ = "message_statuses"
    __table_args__ = (Index(None, "message_id", "status", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(128))
    recipient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notification_id: Mapped[str | None] = mapped_column(String(36))


class FlowAlert(Base):
    """A `flows` field webhook: endpoint error rate, latency, availability, status change."""

    __tablename__ = "flow_alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    meta_flow_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]
    notification_id: Mapped[str | None] = mapped_column(String(36))
