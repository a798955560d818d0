"""curated answers: question → answer pairs from FAQ documents or staff (issue #16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 21:00:00

Written beside 0007 and 0008 on other branches; re-pointed at 0008 when they were merged, so the
history stays one line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "curated_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=1000), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("curated_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_curated_answers_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_curated_answers_source"), ["source"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("curated_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_curated_answers_source"))
        batch_op.drop_index(batch_op.f("ix_curated_answers_tenant_id"))
    op.drop_table("curated_answers")
