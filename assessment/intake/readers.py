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
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..problems import Problem
from .limits import MB, Limits

if TYPE_CHECKING:
    import pandas as pd

XLSX_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 1 << 16  # sniffed for the format, the encoding and the header line
# Arrow parses a CSV in blocks, one chunk of every column each, on every core. Its default
# (1 MB) cut a month of 600,000 units into 86 chunks, and every check after it walks them one
# by one; 8 MB blocks parse as fast and leave 11 (a row longer than a block is refused by the
# cell and header limits long before).
BLOCK_BYTES = 8 << 20


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
    limits: Limits | None = None,
) -> RawTable:
    """Read a CSV or XLSX. ``text_columns`` is a predicate set of normalised header names that
    must stay text (see ``headers.normalise``).

    A file on disk is sniffed from its first bytes and, when it is UTF-8 CSV, parsed by Arrow
    straight from the path: a national table is never held twice in memory. Whatever the
    bytes, the answer is a table or listed problems, never an exception, within ``limits``."""
    limits = limits or Limits.from_env()
    try:
        return _read_table(source, name, text_columns, sheet, limits)
    except Exception as exc:  # a last net: a reader bug must never reach the user as a traceback
        file = name or (str(source) if not isinstance(source, bytes) else "上传文件")
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "file_unreadable",
                    f"无法读取文件({type(exc).__name__}):请在 Excel 中另存为 .xlsx 或"
                    "“CSV UTF-8(逗号分隔)”后重新上传",
                    file,
                )
            ],
        )


def _read_table(source, name, text_columns, sheet, limits: Limits) -> RawTable:
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
    if size > limits.max_bytes:
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "file_too_large",
                    f"文件有 {size / MB:.0f} MB,超过上限 {limits.max_bytes / MB:.0f} MB:"
                    "请按街道/乡镇分开上传,或删除多余的工作表和列",
                    file,
                )
            ],
        )
    if head.startswith(XLSX_MAGIC) or file.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(whole(), file, sheet, limits)
    if file.lower().endswith(".xls"):
        return RawTable(
            None,
            file,
            problems=[
                _p("old_excel", "不支持旧版 .xls 文件:请在 Excel 中“另存为” .xlsx 或 CSV", file)
            ],
        )
    table = _read_csv(source, head, whole, file, text_columns or set(), limits)
    return _within(table, limits)


def _read_csv(
    source: str | Path | bytes,
    head: bytes,
    whole: Callable[[], bytes],
    file: str,
    text_columns: set[str],
    limits: Limits,
) -> RawTable:
    """Strict UTF-8 first, GB18030 second. Only the header line is decoded here; pyarrow checks
    the rest as it parses (an invalid UTF-8 byte anywhere sends the file to GB18030)."""

    if b"\n" not in head and b"\r" in head:  # Excel's "CSV (Macintosh)": CR-only line ends
        data = whole().replace(b"\r", b"\n")
        source, head, whole = data, data[:HEAD_BYTES], lambda: data
    bom = head.startswith(b"\xef\xbb\xbf")
    start = 3 if bom else 0
    if head.find(b"\n", start) < 0:
        head = whole()  # a header line longer than the sniffed bytes (within max_bytes)
    end = head.find(b"\n", start)
    end = len(head) if end < 0 else end
    columns = head.count(b",", start, end) + 1  # quoted commas aside: enough to refuse
    if columns > limits.max_columns:
        message = f"表头有 {columns} 列,超过上限 {limits.max_columns} 列:请删除多余的列后重新上传"
        return RawTable(None, file, problems=[_p("too_many_columns", message, file, row=1)])
    if end - start > 4 * limits.max_header_chars:  # bytes: at most 4 per character
        return _header_too_long(file, limits)
    first = head[start:end]
    try:
        header_text, encoding = first.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        header_text, encoding = None, "gb18030"
    table = None
    if header_text is not None:
        # Arrow skips the BOM itself; bytes are parsed in place, not copied.
        body = source if not isinstance(source, bytes) else pa.py_buffer(source)
        table = _parse(body, header_text, text_columns, file, limits)
        if isinstance(table, pa.Table) and any(
            pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in table.schema.types
        ):  # Arrow types a column with a byte that is not UTF-8 as binary: not UTF-8 after all
            table = RawTable(None, file, problems=[_p("csv_not_utf8", "invalid UTF-8", file)])
        if isinstance(table, RawTable) and table.problems[0].code != "csv_not_utf8":
            return table
    if table is None or isinstance(table, RawTable):
        raw = whole()
        try:  # a BOM in front of a GB18030 body (an editor's doing) is not part of the text
            text = (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw).decode("gb18030")
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
        table = _parse(pa.py_buffer(text.encode("utf-8")), header_text, text_columns, file, limits)
        if isinstance(table, RawTable):
            return table
    if not any(h.strip() for h in table.column_names):
        return RawTable(
            None, file, encoding, [_p("no_header", "第1行没有表头:第1行须是列名", file, row=1)]
        )
    return RawTable(table, file, encoding)


def _header_too_long(file: str, limits: Limits) -> RawTable:
    message = f"第1行(表头)超过 {limits.max_header_chars} 个字符:第1行须是列名,请检查文件"
    return RawTable(None, file, problems=[_p("header_too_long", message, file, row=1)])


def _within(raw: RawTable, limits: Limits) -> RawTable:
    """Rows and cell lengths of a parsed table against ``limits``."""
    table = raw.table
    if table is None:
        return raw
    if table.num_rows > limits.max_rows:
        message = f"文件有 {table.num_rows} 行,超过上限 {limits.max_rows} 行:请按街道/乡镇分开上传"
        return RawTable(None, raw.file, raw.encoding, [_p("too_many_rows", message, raw.file)])
    problems = list(raw.problems)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_string(column.type):
            continue
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > limits.max_cell_chars:
            at = pc.index(lengths, longest).as_py()
            problems.append(
                Problem(
                    "cell_too_long",
                    f"单元格有 {longest} 个字符,超过上限 {limits.max_cell_chars}:请只填写数值或简短的文字",
                    file=raw.file,
                    row=at + 2,
                    column=str(name),
                )
            )
    if len(problems) > len(raw.problems):
        return RawTable(None, raw.file, raw.encoding, problems)
    return raw


def _parse(
    body: str | Path | pa.Buffer,
    header_text: str,
    text_columns: set[str],
    file: str,
    limits: Limits,
):
    from .headers import normalise

    if len(header_text) > limits.max_header_chars:
        return _header_too_long(file, limits)
    header = next(csv.reader([header_text.rstrip("\r")]), [])
    if len(header) > limits.max_columns:
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "too_many_columns",
                    f"表头有 {len(header)} 列,超过上限 {limits.max_columns} 列:"
                    "请删除多余的列后重新上传",
                    file,
                    row=1,
                )
            ],
        )
    types = {h: pa.string() for h in header if normalise(h) in text_columns}
    try:
        return pacsv.read_csv(
            pa.BufferReader(body) if isinstance(body, pa.Buffer) else str(body),
            read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
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
        if re.search(r"Expected \d+ columns", str(exc)):  # every such row, with its number
            return RawTable(None, file, problems=_malformed_rows(body, len(header), file))
        row = re.search(r"[Rr]ow #(\d+)", str(exc))
        return RawTable(
            None,
            file,
            problems=[
                _p(
                    "csv_malformed",
                    f"CSV 格式有误({str(exc)[:120]}):请检查该行是否有多余的逗号或未闭合的引号",
                    file,
                    row=int(row.group(1)) if row else None,
                )
            ],
        )


def _malformed_rows(body, width: int, file: str) -> list[Problem]:
    """The rows whose number of fields is not the header's (read again with Python's csv
    module, only on this error path; at most the first 100)."""
    data = body.to_pybytes() if isinstance(body, pa.Buffer) else Path(body).read_bytes()
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    out = []
    reader = csv.reader(io.StringIO(text, newline=""))
    for fields in reader:
        if fields and len(fields) != width and reader.line_num > 1:
            out.append(
                _p(
                    "csv_malformed",
                    f"这一行有 {len(fields)} 个字段,表头有 {width} 列:"
                    "请检查是否有多余的逗号或未闭合的引号",
                    file,
                    row=reader.line_num,
                )
            )
            if len(out) == 100:
                break
    return out or [_p("csv_malformed", "CSV 格式有误:请检查是否有多余的逗号或未闭合的引号", file)]


def _read_xlsx(data: bytes, file: str, sheet: str | None, limits: Limits) -> RawTable:
    import openpyxl

    refused = _zip_refusal(data, file, limits)
    if refused is not None:
        return refused
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
        ws.reset_dimensions()  # the sheet's own claim (e.g. columns to XFD) is not trusted
        rows, too_wide = _sheet_rows(ws, limits)
    except Exception as exc:  # malformed sheet XML, a numeric cell "NaN", entities, ...
        return RawTable(
            None,
            file,
            "xlsx",
            [
                _p(
                    "xlsx_broken",
                    f"工作表内容无法解析({type(exc).__name__}):请在 Excel 中打开并另存为 .xlsx,"
                    "或另存为 CSV 后重新上传",
                    file,
                )
            ],
        )
    finally:
        book.close()
    if too_wide or len(rows) > limits.max_rows + 1:
        what = f"超过 {limits.max_columns} 列" if too_wide else f"超过 {limits.max_rows} 行"
        return RawTable(
            None,
            file,
            "xlsx",
            [_p("too_many_cells", f"工作表{what}:请删除多余的行列,或按街道/乡镇分开上传", file)],
        )
    rows = [() if r is None else r for r in rows]
    problems = _formulas_without_values(data, file, sheet, rows, limits)
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
    table = RawTable(pa.Table.from_arrays(columns, names=header), file, "xlsx", problems)
    return _within(table, limits)


def _sheet_rows(ws, limits: Limits) -> tuple[list, bool]:
    """The sheet's rows within the limits, and whether a cell lies past the last column. One
    column and one row past the limits show whether there is more; cells beyond them are never
    expanded. Empty rows are kept as None (row numbers stay right)."""
    rows, too_wide = [], False
    for row in ws.iter_rows(
        max_row=limits.max_rows + 2, max_col=limits.max_columns + 1, values_only=True
    ):
        if not any(v is not None for v in row):
            rows.append(None)
            continue
        too_wide |= row[-1] is not None and len(row) > limits.max_columns
        rows.append(row[: limits.max_columns])
    return rows, too_wide


def _zip_refusal(data: bytes, file: str, limits: Limits) -> RawTable | None:
    """An .xlsx is a zip: its declared uncompressed size is checked before anything is
    inflated (a 3 MB file can expand to gigabytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unzipped = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # openpyxl below reports the broken file
    if unzipped <= limits.max_unzipped:
        return None
    message = (
        f"Excel 文件解压后有 {unzipped / MB:.0f} MB,超过上限 {limits.max_unzipped / MB:.0f} MB:"
        "请删除多余的工作表、图片和格式,或另存为 CSV 后上传"
    )
    return RawTable(None, file, "xlsx", [_p("xlsx_too_large", message, file)])


def _formulas_without_values(
    data: bytes, file: str, sheet: str | None, rows: list, limits: Limits
) -> list[Problem]:
    """Formula cells whose result was never calculated (a file written by a program, not saved
    by Excel) would read as empty: say so instead of importing blanks."""
    import openpyxl

    if not any(v is None for row in rows for v in row):
        return []
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        ws.reset_dimensions()
        out = []
        formula_rows = ws.iter_rows(max_row=len(rows), max_col=limits.max_columns, values_only=True)
        for r, (formulas, values) in enumerate(zip(formula_rows, rows, strict=False), 1):
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
    if hasattr(v, "strftime"):  # a date cell: the day and time kept (a month reads 2026-10-01)
        midnight = not any(getattr(v, unit, 0) for unit in ("hour", "minute", "second"))
        return v.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
    return str(v)


def _p(code: str, message: str, file: str, row: int | None = None) -> Problem:
    return Problem(code=code, message=message, file=file, row=row)
