"""Meta's id of each pushed flow, in the database so that several app servers share it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.models.base import Base


class MetaFlow(Base):
    """`flowgate flows push NAME` stores Meta's flow id here; sending a Flow by name reads it.

    Keyed by (WhatsApp Business Account, flow name): the same file pushed to another account
    is another Flow on Meta. `json_sha256` is the Flow JSON last uploaded (docs/flows.md).
    """

    __tablename__ = "meta_flows"

    waba_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    meta_flow_id: Mapped[str] = mapped_column(String(64), unique=True)
    meta_name: Mapped[str] = mapped_column(String(200))
    endpoint_uri: Mapped[str | None] = mapped_column(Text)
    json_sha256: Mapped[str | None] = mapped_column(String(64))
    validation_errors: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(String(32))
    pushed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
