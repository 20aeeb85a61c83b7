"""uploads.period holds every month of a file ("2026-07,2026-08"), not just one

Revision ID: 0010
Revises: 0009

It was seven characters: PostgreSQL refused a file of two months with a database error (SQLite
does not check lengths, so it went unnoticed there).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column(
            "period", existing_type=sa.String(length=7), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column(
            "period", existing_type=sa.Text(), type_=sa.String(length=7), existing_nullable=False
        )
