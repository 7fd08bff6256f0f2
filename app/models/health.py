"""The flow health check's tables: per-minute endpoint figures and each flow's last status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.models.base import Base


class FlowHealthMinute(Base):
    """One process's endpoint figures for one flow in one minute (docs/operations.md).

    Each app process writes only its own rows (`process`), setting absolute values, so
    processes never contend and a repeated write changes nothing. Readers sum the rows of a
    window. `latency_buckets` holds counts per bucket of app/ops/rollup.py's bounds. Rows
    older than the retention are pruned.
    """

    __tablename__ = "flow_health_minutes"
    __table_args__ = (Index(None, "minute"),)

    flow: Mapped[str] = mapped_column(String(128), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(String(96), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    unavailable: Mapped[int] = mapped_column(Integer, default=0)
    handler_errors: Mapped[int] = mapped_column(Integer, default=0)
    latency_buckets: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class FlowHealthState(Base):
    """A flow's last judged status, so a change is noticed (and announced) once."""

    __tablename__ = "flow_health_states"

    flow: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(default=now)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
