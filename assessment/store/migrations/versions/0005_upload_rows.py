"""upload_rows: each upload's values as one JSON object per unit-month (was one row per cell)

Revision ID: 0005
Revises: 0004

A month of 100k units x 30 indicators was 3 million rows of ``indicator_values`` written one
Python dict at a time; it is 100k rows written columnar. Existing history is carried over
unchanged (every version of every cell), then the old table is dropped.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_rows",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("upload_id", "unit_code", "period"),
    )
    with op.batch_alter_table("upload_rows", schema=None) as batch_op:
        batch_op.create_index("ix_upload_rows_unit_period", ["unit_code", "period"], unique=False)
    objects = (
        "json_object_agg(column_id, value)::text"
        if op.get_bind().dialect.name == "postgresql"
        else "json_group_object(column_id, value)"
    )
    op.execute(
        'INSERT INTO upload_rows (upload_id, unit_code, period, "values") '
        f"SELECT upload_id, unit_code, period, {objects} FROM indicator_values "
        "GROUP BY upload_id, unit_code, period"
    )
    with op.batch_alter_table("indicator_values", schema=None) as batch_op:
        batch_op.drop_index("ix_values_unit_period")
        batch_op.drop_index("ix_values_period")
        batch_op.drop_index(batch_op.f("ix_indicator_values_upload_id"))
    op.drop_table("indicator_values")


def downgrade() -> None:
    raise NotImplementedError("the per-cell table is not rebuilt: restore a backup instead")
