"""current_values: one row per unit-month with its current values, kept with every upload

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "current_values",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("unit_code", "period"),
    )
    with op.batch_alter_table("current_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_current_values_period"), ["period"], unique=False)
    # Backfill from the history: for each cell, the value of the latest upload that carried it.
    rows = op.get_bind().execute(
        sa.text(
            "SELECT upload_id, unit_code, period, column_id, value FROM indicator_values ORDER BY upload_id"
        )
    )
    current: dict[tuple[str, str], dict] = {}
    latest: dict[tuple[str, str], int] = {}
    for upload_id, unit_code, period, column_id, value in rows:
        current.setdefault((unit_code, period), {})[column_id] = value
        latest[(unit_code, period)] = upload_id
    table = sa.table(
        "current_values",
        sa.column("unit_code"),
        sa.column("period"),
        sa.column("upload_id"),
        sa.column("values"),
    )
    if current:
        op.bulk_insert(
            table,
            [
                {"unit_code": u, "period": p, "upload_id": latest[(u, p)], "values": json.dumps(v)}
                for (u, p), v in current.items()
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("current_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_current_values_period"))
    op.drop_table("current_values")
