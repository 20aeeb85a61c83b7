"""event_frames: the events behind an upload of values derived from another system's export;
uploads.source names that source ("" for a monthly table)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "event_frames",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("frame", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("upload_id"),
    )
    op.create_index("ix_event_frames_source_period", "event_frames", ["source", "period"])


def downgrade() -> None:
    op.drop_index("ix_event_frames_source_period", table_name="event_frames")
    op.drop_table("event_frames")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("source")
