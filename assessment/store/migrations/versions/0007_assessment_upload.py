"""assessments.upload_id: the newest upload the graded data included

Revision ID: 0007
Revises: 0006

With it, a user whose scope is read alone can tell that a published month is still current (no
upload for it or a month before it since) without reading the whole store. Older assessments
keep None and are checked against the whole store's data, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("upload_id")
