"""registry_versions.frame: each version's active units as one Arrow IPC stream

Revision ID: 0006
Revises: 0005

Older versions keep None and are read row by row, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registry_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frame", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registry_versions", schema=None) as batch_op:
        batch_op.drop_column("frame")
