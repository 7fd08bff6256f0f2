"""Flow health: per-minute endpoint figures per process, and each flow's last status.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "flow_health_minutes",
        sa.Column("flow", sa.String(length=128), nullable=False),
        sa.Column("minute", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("process", sa.String(length=96), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("unavailable", sa.Integer(), nullable=False),
        sa.Column("handler_errors", sa.Integer(), nullable=False),
        sa.Column("latency_buckets", JSON, nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow", "minute", "process", name=op.f("pk_flow_health_minutes")),
    )
    with op.batch_alter_table("flow_health_minutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_health_minutes_minute"), ["minute"], unique=False)
    op.create_table(
        "flow_health_states",
        sa.Column("flow", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("flow", name=op.f("pk_flow_health_states")),
    )


def downgrade() -> None:
    op.drop_table("flow_health_states")
    with op.batch_alter_table("flow_health_minutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_health_minutes_minute"))
    op.drop_table("flow_health_minutes")
