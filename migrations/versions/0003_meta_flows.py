"""Meta's flow ids (`flowgate flows push`), shared by every app server.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('meta_flows',
    sa.Column('waba_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('meta_flow_id', sa.String(length=64), nullable=False),
    sa.Column('meta_name', sa.String(length=200), nullable=False),
    sa.Column('endpoint_uri', sa.Text(), nullable=True),
    sa.Column('json_sha256', sa.String(length=64), nullable=True),
    sa.Column('validation_errors', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('pushed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('waba_id', 'name', name=op.f('pk_meta_flows')),
    sa.UniqueConstraint('meta_flow_id', name=op.f('uq_meta_flows_meta_flow_id'))
    )


def downgrade() -> None:
    op.drop_table('meta_flows')
