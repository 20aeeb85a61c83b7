"""Read the tables organizers send: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) and .xlsx.

Decoding is strict: UTF-8 first, then GB18030; never the other way round (GB18030 accepts almost
any bytes, so trying it first would garble UTF-8 silently). Key columns (unit codes, periods) are
read as text so leading zeros survive; other columns are left to pyarrow's fast type inference
and cleaned up by ``ingest`` when they hold text such as ``85%`` or ``是``. The table stays in
Arrow: ``ingest`` reads numeric columns straight into its matrix, never through pandas.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .problems import Problem

XLSX_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 1 << 16  # sniffed for the format, the encoding and the header line


@dataclass
class RawTable:
    """A table as read: original headers (duplicates kept), values as the file held them."""

    table: pa.Table | None
    file: str
    encoding: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame | None:
        """The table in pandas (for looking at it; ``ingest`` works on the Arrow table)."""
        return None if self.table is None else self.table.to_pandas()


def read_table(
    source: str | Path | bytes,
    name: str = "",
    text_columns: set[str] | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read a CSV or XLSX. ``text_columns`` is a predicate set of normalised header names that
    must stay text (see ``headers.normalise``).

    A file on disk is sniffed from its first bytes and, when it is UTF-8 CSV, parsed by Arrow
    straight from the path: a national table is never held twice in memory."""
    if isinstance(source, bytes):
        file, head, size = name or "上传文件", source[:HEAD_BYTES], len(source)
    else:
        file = name or Path(source).name
        try:
            with open(source, "rb") as f:
                head, size = f.read(HEAD_BYTES), os.fstat(f.fileno()).st_size
        except OSError as exc:
            return RawTable(
                None, file, problems=[_p("file_unreadable", f"无法读取文件: {exc}", file)]
            )

    def whole() -> bytes:
        return source if isinstance(source, bytes) else Path(source).read_bytes()

    if size == 0 or (head.isspace() and (size <= len(head) or whole().isspace())):
        return RawTable(
            None, file, problems=[_p("empty_file", "文件是空的:请确认导出时选对了表格", file)]
        )
    if head.startswith(XLSX_MAGIC) or file.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(whole(), file, sheet)
    if file.lower().endswith(".xls"):
        return RawTable(
            None,
            file,
            problems=[
                _p("old_excel", "不支持旧版 .xls 文件:请在 Excel 中“另存为” .xlsx 或 CSV", file)
            ],
        )
    return _read_csv(source, head, whole, file, text_columns or set())


def _read_csv(
    source: str | Path | bytes,
    head: bytes,
    whole: Callable[[], bytes],
    file: str,
    text_columns: set[str],
) -> RawTable:
    """Strict UTF-8 first, GB18030 second. Only the header line is decoded here; pyarrow checks
    the rest as it parses (an invalid UTF-8 byte anywhere sends the file to GB18030)."""

    bom = head.startswith(b"\xef\xbb\xbf")
    start = 3 if bom else 0
    if head.find(b"\n", start) < 0:
        head = whole()  # a header line longer than the sniffed bytes
    end = head.find(b"\n", start)
    first = head[start : end if end >= 0 else len(head)]
    try:
        header_text, encoding = first.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        header_text, encoding = None, "gb18030"
    table = None
    if header_text is not None:
        # Arrow skips the BOM itself; bytes are parsed in place, not copied.
        body = source if not isinstance(source, bytes) else pa.py_buffer(source)
        table = _parse(body, header_text, text_columns, file)
        if isinstance(table, RawTable) and table.problems[0].code != "csv_not_utf8":
            return table
    if table is None or isinstance(table, RawTable):
        try:
            text = whole().decode("gb18030")
        except UnicodeDecodeError:
            return RawTable(
                None,
                file,
                problems=[
                    _p(
                        "encoding",
                        "无法识别文件编码(既不是 UTF-8 也不是 GBK/GB18030):请在 Excel 中“另存为”"
                        "“CSV UTF-8(逗号分隔)”后重新上传",
                        file,
                    )
                ],
            )
        encoding = "gb18030"
        header_text = text.split("\n", 1)[0]
        table = _parse(pa.py_buffer(text.encode("utf-8")), header_text, text_columns, file)
        if isinstance(table, RawTable):
            return table
    if not any(h.strip() for h in table.column_names):
        return RawTable(
            None, file, encoding, [_p("no_header", "第1行没有表头:第1行须是列名", file, row=1)]
        )
    return RawTable(table, file, encoding)


def _parse(body: str | Path | pa.Buffer, header_text: str, text_columns: set[str], file: str):
    from .headers import normalise

    header = next(csv.reader([header_text.rstrip("\r")]), [])
    types = {h: pa.string() for h in header if normalise(h) in text_columns}
    try:
        return pacsv.read_csv(
            pa.BufferReader(body) if isinstance(body, pa.Buffer) else str(body),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                # Only an empty cell is empty: Arrow's default markers (NA, N/A, NULL, NaN,
                # #N/A, -1.#IND, ...) would turn an Excel error into a silently missing value.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            return RawTable(None, file, problems=[_p("csv_not_utf8", str(exc), file)])
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "csv_malformed",
                    f"CSV 格式有误({exc}):请检查是否有多余的逗号或未闭合的引号",
                    file,
                )
            ],
        )


def _read_xlsx(data: bytes, file: str, sheet: str | None) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "xlsx_broken",
                    f"无法打开 Excel 文件({type(exc).__name__}):文件可能已损坏或不完整,请重新导出",
                    file,
                )
            ],
        )
    try:
        if sheet is not None and sheet not in book.sheetnames:
            return RawTable(
                None,
                file,
                problems=[
                    _p(
                        "sheet_missing",
                        f"找不到工作表“{sheet}”。文件中的工作表: {', '.join(book.sheetnames)}",
                        file,
                    )
                ],
            )
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        book.close()
    problems = _formulas_without_values(data, file, sheet, rows)
    while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
        rows.pop()
    if not rows:
        return RawTable(None, file, "xlsx", [_p("empty_file", "工作表是空的", file)])
    header = ["" if h is None else str(h) for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    body = [list(r[: len(header)]) + [None] * (len(header) - len(r)) for r in rows[1:]]
    columns = [
        pa.array([_cell_text(row[c]) for row in body], type=pa.string()) for c in range(len(header))
    ]
    return RawTable(pa.Table.from_arrays(columns, names=header), file, "xlsx", problems)


def _formulas_without_values(
    data: bytes, file: str, sheet: str | None, rows: list
) -> list[Problem]:
    """Formula cells whose result was never calculated (a file written by a program, not saved
    by Excel) would read as empty: say so instead of importing blanks."""
    import openpyxl

    if not any(v is None for row in rows for v in row):
        return []
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        out = []
        for r, (formulas, values) in enumerate(
            zip(ws.iter_rows(values_only=True), rows, strict=False), 1
        ):
            for c, (f, v) in enumerate(zip(formulas, values, strict=False)):
                if v is None and isinstance(f, str) and f.startswith("="):
                    header = rows[0][c] if rows and c < len(rows[0]) else ""
                    out.append(
                        Problem(
                            code="formula_no_value",
                            message=f"单元格是公式“{f}”但没有计算结果:请在 Excel 中打开并保存,"
                            "或把公式“粘贴为数值”后重新上传",
                            file=file,
                            row=r,
                            column=str(header or ""),
                            value=f,
                        )
                    )
        return out
    finally:
        book.close()


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m")
    return str(v)


def _p(code: str, message: str, file: str, row: int | None = None) -> Problem:
    return Problem(code=code, message=message, file=file, row=row)
