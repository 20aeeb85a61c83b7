"""graded_months.stabilities: the stabilities the warm-up computed for the map's first pages,
kept with their month, so that a server that starts shows the red and orange list with them
instead of grading the whole store first

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("graded_months", sa.Column("stabilities", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # a zstd stream already
        op.execute("ALTER TABLE graded_months ALTER COLUMN stabilities SET STORAGE EXTERNAL")


def downgrade() -> None:
    with op.batch_alter_table("graded_months") as batch:
        batch.drop_column("stabilities")
