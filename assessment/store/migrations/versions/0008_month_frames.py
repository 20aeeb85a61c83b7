"""month_frames: each month of current values kept as one Arrow IPC stream

Revision ID: 0008
Revises: 0007

A cache: starts empty and is filled as months are imported or read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "month_frames",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("frame", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )


def downgrade() -> None:
    op.drop_table("month_frames")
