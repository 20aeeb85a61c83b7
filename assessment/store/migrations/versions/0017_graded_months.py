"""graded_months: months graded as the map shows them, kept for one state of the store, so a
server that starts reads them instead of grading every unit again

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "graded_months",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("units", sa.LargeBinary(), nullable=True),
        sa.Column("parents", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("period"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # the streams are compressed already (zstd): PostgreSQL's own attempt would only cost
        for column in ("units", "parents"):
            op.execute(f"ALTER TABLE graded_months ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("graded_months")
