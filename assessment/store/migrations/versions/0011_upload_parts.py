"""upload_parts: each upload's values as Arrow parts; the JSON history and snapshot go

Revision ID: 0011
Revises: 0010

A month was written twice as one JSON object per unit (the history in ``upload_rows``, the
current values merged into ``current_values``), each with its indexes: at 600k units on
PostgreSQL that was 15 s of a 19 s import. Each upload's rows of a month are now parts of a few
thousand rows in unit-code order, one Arrow IPC stream each, and the current values are the
uploads folded in order. On PostgreSQL, Arrow blobs are stored without compression. Every
version of every cell is carried over; rows of one upload that carried different columns
(history from before 0005 could) are written as separate parts, so a column a row did not
carry is still not carried.
"""

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PART_ROWS = 2048
BLOBS = [
    ("upload_parts", "frame"),
    ("month_frames", "frame"),
    ("assessments", "results"),
    ("registry_versions", "frame"),
]


def upgrade() -> None:
    op.create_table(
        "upload_parts",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_code", sa.String(length=32), nullable=False),
        sa.Column("last_code", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("frame", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("period", "upload_id", "part"),
    )
    with op.batch_alter_table("upload_parts", schema=None) as batch_op:
        batch_op.create_index("ix_upload_parts_upload", ["upload_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Arrow blobs barely compress, and PostgreSQL's attempt to cost 0.25 s of an 11 MB
        # assessment's write (0.06 s without): they are stored as they are
        for table, column in BLOBS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")
    months = bind.execute(
        sa.text("SELECT DISTINCT upload_id, period FROM upload_rows ORDER BY upload_id, period")
    ).all()
    for upload_id, period in months:
        rows = bind.execute(
            sa.text(
                'SELECT unit_code, "values" FROM upload_rows WHERE upload_id = :u AND period = :p'
            ),
            {"u": upload_id, "p": period},
        ).all()
        _write(bind, upload_id, period, [r[0] for r in rows], [r[1] for r in rows])
    op.drop_index("ix_current_values_period", table_name="current_values")
    op.drop_table("current_values")
    op.drop_index("ix_upload_rows_unit_period", table_name="upload_rows")
    op.drop_table("upload_rows")


def _write(bind, upload_id: int, period: str, codes: list[str], objects: list[str]) -> None:
    """One upload's month as parts: rows grouped by the columns they carry (the keys of their
    JSON objects), each group in code order."""
    texts = pa.array(objects, pa.string())
    keys = pc.replace_substring_regex(texts, r":[^,}]*", ":")  # the keys alone
    part = 0
    for signature in pc.unique(keys).to_pylist():
        mask = pc.equal(keys, signature)
        lines = "\n".join(pc.filter(texts, mask).to_pylist()).encode()
        values = pajson.read_json(io.BytesIO(lines)) if lines.strip(b"{} \n") else None
        group_codes = pc.filter(pa.array(codes, pa.string()), mask)
        table = pa.table(
            {
                "unit_code": group_codes,
                "period": pa.array([period] * len(group_codes), pa.string()),
                **{
                    name: pc.cast(values.column(name), pa.float64())
                    for name in (values.column_names if values is not None else [])
                },
            }
        )
        table = table.take(pc.sort_indices(table.column("unit_code")))
        for start in range(0, table.num_rows, PART_ROWS):
            piece = table.slice(start, PART_ROWS)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, piece.schema) as writer:
                writer.write_table(piece)
            bind.execute(
                sa.text(
                    "INSERT INTO upload_parts (period, upload_id, part, first_code, last_code,"
                    " rows, frame) VALUES (:period, :upload, :part, :first, :last, :rows, :frame)"
                ),
                {
                    "period": period,
                    "upload": upload_id,
                    "part": part,
                    "first": piece.column("unit_code")[0].as_py(),
                    "last": piece.column("unit_code")[-1].as_py(),
                    "rows": piece.num_rows,
                    "frame": sink.getvalue().to_pybytes(),
                },
            )
            part += 1


def downgrade() -> None:
    raise NotImplementedError("the JSON history is not rebuilt: restore a backup instead")
