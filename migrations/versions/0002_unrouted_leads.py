"""Unrouted leads: a reply that matches no flow is stored with `flow` NULL (docs/leads.md).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("flow", existing_type=sa.String(length=128), nullable=True)


def downgrade() -> None:
    # Unrouted leads have no flow; they are named `unrouted` so the column can be NOT NULL.
    op.execute("UPDATE submissions SET flow = 'unrouted' WHERE flow IS NULL")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("flow", existing_type=sa.String(length=128), nullable=False)
