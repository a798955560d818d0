"""answers: task.needs_person, set when the answer was the honest fallback (issue #16)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 21:00:00

Which way answered (catalog, curated, generated, extractive, fallback) travels in the task's
timings JSON (`answer_path`); whether a person must reply is a column of its own so that the
admin API can list and filter on it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("needs_person", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_task_needs_person", ["needs_person"])


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_index("ix_task_needs_person")
        batch.drop_column("needs_person")
