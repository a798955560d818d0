"""reliability: replies of tasks finished before 0004's marks count as published

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without this the reconciler would append the reply of every task finished before the upgrade again.
    op.execute(
        "UPDATE task SET reply_published_at = finished_at WHERE finished_at IS NOT NULL AND reply_published_at IS NULL"
    )


def downgrade() -> None:
    pass
