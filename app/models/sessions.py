"""Flow sessions: what one user has entered so far in one run of an endpoint-powered flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.ids import new_id
from app.models.base import Base


class FlowSession(Base):
    """One flow token's progress through a flow.

    `data` holds the merged fields of every screen submitted so far, so the final submission
    is complete even though each data_exchange carries one screen. `status` is `active`,
    `completed` (a submission was stored) or `error` (the client reported an error).
    """

    __tablename__ = "flow_sessions"
    __table_args__ = (UniqueConstraint("flow", "flow_token"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    flow: Mapped[str] = mapped_column(String(128))
    flow_token: Mapped[str] = mapped_column(String(512))
    wa_id: Mapped[str | None] = mapped_column(String(32), index=True)
    screen: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_error: Mapped[dict[str, Any] | None]
    submission_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
