"""assessments.results: every unit's result of an assessment as one Arrow IPC stream

Revision ID: 0009
Revises: 0008

A province's assessment was 600k ``assessment_results`` rows (5 s of COPY and index upkeep on
PostgreSQL, and an ORM object per row to read it back); it is one blob written and read whole.
Every stored result is carried over (the dimension scores as ``score.<id>`` columns), then the
old table is dropped.
"""

import json

import pyarrow as pa
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TEXT = ("grade", "grade_label", "score_grade", "reasons", "vetoes")


def upgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("results", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    ids = [r[0] for r in bind.execute(sa.text("SELECT id FROM assessments ORDER BY id"))]
    for run_id in ids:
        rows = bind.execute(
            sa.text(
                "SELECT unit_code, score, grade, grade_label, score_grade, reasons, vetoes, "
                "dimensions FROM assessment_results WHERE assessment_id = :id ORDER BY unit_code"
            ),
            {"id": run_id},
        ).all()
        if not rows:
            continue
        dims = [_dims(r[7]) for r in rows]
        columns = {
            "unit_code": pa.array([r[0] for r in rows], pa.string()),
            "score": pa.array([r[1] for r in rows], pa.float64()),
            **{
                c: pa.array([r[2 + k] or "" for r in rows], pa.string()) for k, c in enumerate(TEXT)
            },
        }
        for key in dims[0]:
            columns[f"score.{key}"] = pa.array([d.get(key) for d in dims], pa.float64())
        table = pa.table(columns)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        bind.execute(
            sa.text("UPDATE assessments SET results = :blob WHERE id = :id"),
            {"blob": sink.getvalue().to_pybytes(), "id": run_id},
        )
    with op.batch_alter_table("assessment_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_results_assessment_id"))
    op.drop_table("assessment_results")


def _dims(value) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def downgrade() -> None:
    raise NotImplementedError("the per-unit results table is not rebuilt: restore a backup instead")
