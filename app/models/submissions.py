"""Submissions: the leads. One row per completed flow, valid or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.ids import new_id
from app.models.base import Base


class Submission(Base):
    """A completed flow's fields, from the endpoint or from an nfm_reply webhook.

    `dedup_key` makes the two paths one lead: `token:<flow>:<flow_token>` when the flow token
    is known, else `message:<wamid>`. An invalid submission is kept with its `errors`; it is
    still a lead. `submitted_at` is when the user submitted (the message timestamp for
    webhooks), `received_at` when we stored it. A reply that matched no flow is kept with
    `flow` NULL and status `unrouted` (docs/leads.md), never dropped.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index(None, "flow", "submitted_at"),
        Index(None, "submitted_at", "id"),
        Index(None, "wa_id", "submitted_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    flow: Mapped[str | None] = mapped_column(String(128))  # NULL: unrouted
    wa_id: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(256))
    flow_token: Mapped[str | None] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16))  # endpoint | webhook
    status: Mapped[str] = mapped_column(String(16))  # SubmissionStatus: valid|invalid|unrouted
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    dedup_key: Mapped[str] = mapped_column(String(700), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    received_at: Mapped[datetime] = mapped_column(default=now)
