"""Builds the bad upload files in this folder from the sample district's 2026-10 table.

Run from the repository root: ``.venv/bin/python tests/bad_uploads/make_files.py``. Each file
NAME.* is paired with NAME.expected: every problem it must produce, as the user reads it (see
tests/intake/test_bad_uploads.py for the format and options).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[1] / "sample_data"


def base() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)


def write(name: str, frame: pd.DataFrame, **kw) -> None:
    frame.to_csv(HERE / name, index=False, **kw)


def wrong_meanings() -> None:
    """Cells that were read with a wrong meaning (issue #9): each is now a listed error."""
    df = base()
    at = df.index[df["unit_code"] == "500188001013"][0]  # 9,5 graded it green, 9.5 blue
    cells = {
        "dues_paid_rate": "9,5",
        "theme_day_attendance_rate": "1.000,5",
        "resident_satisfaction_rate": "#N/A",  # skipped the veto: green where 50 is red
        "three_meetings_one_lesson_rate": "是",  # a yes/no word in a percentage column
        "households": "inf",  # no valid_range: a non-finite number got through
        "grid_patrol_coverage_rate": "NA",
        "mobile_member_contact_rate": "#DIV/0!",
        "member_volunteer_rate": "-1.#IND",
    }
    bad = df.copy()
    for k, (column, value) in enumerate(cells.items()):
        bad.loc[at + k, column] = value
    write("wrong_meanings.csv", bad)


def xlsx_bytes(rows: list[list], patch=None) -> bytes:
    """A workbook of ``rows``; ``patch(name, xml) -> xml`` rewrites the parts of the zip."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    if patch is None:
        return buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, patch(item.filename, src.read(item.filename)))
    return out.getvalue()


def sheet_patch(old: bytes, new: bytes):
    def patch(name: str, xml: bytes) -> bytes:
        return xml.replace(old, new, 1) if name.startswith("xl/worksheets/sheet") else xml

    return patch


def as_numbers(column: pd.Series) -> pd.Series:
    """A column as Excel holds it: numbers as numbers and blanks as empty cells."""
    if column.name in ("unit_code", "period"):
        return column
    numbers = pd.to_numeric(column.replace("", None), errors="coerce")
    if not (numbers.notna() | (column == "")).all():
        return column
    return numbers.astype(object).where(numbers.notna(), None)


def hostile() -> None:
    """The files people and attackers really produce (issue #9): read exactly as meant or refused
    with a listed problem, within the limits."""
    df = base()
    typed = df.apply(as_numbers)
    rows = [list(df.columns), *typed.itertuples(index=False, name=None)]
    month = df.to_csv(index=False).encode()
    # Excel's "CSV (Macintosh)": CR-only line ends, read like LF.
    (HERE / "mac_line_ends.csv").write_bytes(month.replace(b"\n", b"\r"))
    # A UTF-8 BOM in front of a GB18030 body (an editor's "save as" after the fact).
    gb = (SAMPLE / "indicators_2026-03_gb18030.csv").read_bytes()
    (HERE / "bom_gb18030.csv").write_bytes(b"\xef\xbb\xbf" + gb)
    # Headers with spaces around them.
    spaced = df.rename(columns={"unit_code": "  unit_code", "period": "period "})
    write("spaced_header.csv", spaced)

    # A sheet that claims columns to XFD and rows to 1,048,576: read by its real cells.
    def claim(name: str, xml: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)
        return xml

    (HERE / "claims_xfd.xlsx").write_bytes(xlsx_bytes(rows, claim))
    # Real Excel error cells and TRUE in a percentage column.
    errs = [list(r) for r in rows]
    col = list(df.columns).index
    errs[1][col("resident_satisfaction_rate")] = "#N/A"
    errs[2][col("dues_paid_rate")] = "#DIV/0!"
    errs[3][col("theme_day_attendance_rate")] = True
    book = openpyxl.Workbook()
    for row in errs:
        book.active.append(row)
    for cell in (
        book.active["A2"].offset(0, col("resident_satisfaction_rate")),
        book.active["A3"].offset(0, col("dues_paid_rate")),
    ):
        cell.data_type = "e"  # an error value, as Excel stores it
    book.save(HERE / "excel_errors.xlsx")
    # A numeric cell whose value is NaN; sheet XML that is cut short; XXE; billion laughs.
    first = f"{float(typed.loc[0, 'dues_paid_rate']):g}".encode()
    nan = sheet_patch(b"<v>" + first + b"</v>", b"<v>NaN</v>")
    (HERE / "numeric_nan.xlsx").write_bytes(xlsx_bytes(rows, nan))

    def cut(name: str, xml: bytes) -> bytes:
        return xml[: len(xml) // 2] if name.startswith("xl/worksheets/sheet") else xml

    (HERE / "sheet_cut_short.xlsx").write_bytes(xlsx_bytes(rows, cut))
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'

    def entity(doctype: bytes, ref: bytes):
        def patch(name: str, xml: bytes) -> bytes:
            if not name.startswith("xl/worksheets/sheet"):
                return xml
            body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
            body = body.replace(b"<v>", b"<v>" + ref, 1)
            return doctype + body

        return patch

    (HERE / "xxe.xlsx").write_bytes(xlsx_bytes(rows, entity(xxe, b"&e;")))
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "lol">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (chr(98 + k).encode(), (b"&" + chr(97 + k).encode() + b";") * 10)
            for k in range(9)
        )
        + b"]>"
    )
    (HERE / "billion_laughs.xlsx").write_bytes(xlsx_bytes(rows, entity(laughs, b"&j;")))
    # A small zip that inflates to megabytes (checked with a 1 MB limit: see its .expected).
    padded = [list(r) for r in rows] + [[f"5001{k:08d}", "x" * 1500] for k in range(1000)]
    (HERE / "zip_bomb.xlsx").write_bytes(xlsx_bytes(padded))
    # More real columns than the limit (500), as a sheet and as a CSV header.
    wide = [[*rows[0], *[f"备注{k}" for k in range(520)]], [*rows[1], *range(520)]]
    (HERE / "too_many_columns.xlsx").write_bytes(xlsx_bytes(wide))
    (HERE / "wide_header.csv").write_text(",".join(map(str, wide[0])) + "\n", "utf-8")
    # A header field over 128 KiB, and one cell over the 2,000-character limit.
    (HERE / "huge_header_field.csv").write_bytes(month.replace(b"unit_name", b"A" * 140_000, 1))
    (HERE / "long_cell.csv").write_bytes(
        month.replace(str(df.loc[1, "unit_name"]).encode(), ("很长的名字" * 500).encode(), 1)
    )
    # Rows with more fields than the header.
    lines = month.split(b"\n")
    lines[3] += b",1"
    lines[7] += b",2,3"
    (HERE / "extra_fields.csv").write_bytes(b"\n".join(lines))
    # Registries: a unit that is its own parent, a loop, control characters in names.
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    loop = units.copy()
    streets = loop.index[loop["unit_type"] == "街道"]
    loop.loc[streets[0], "parent_code"] = loop.loc[streets[0], "unit_code"]
    loop.loc[streets[1], "parent_code"] = loop.loc[streets[2], "unit_code"]
    loop.loc[streets[2], "parent_code"] = loop.loc[streets[1], "unit_code"]
    write("registry_cycle.csv", loop.head(40))
    names = units.copy()
    names.loc[3, "unit_name"] = "银杏\x00苑社区"
    names.loc[4, "unit_name"] = "\x1b[2J\x1b[31m红色社区"
    names.loc[5, "unit_type"] = "社\n区"
    write("registry_control_chars.csv", names)


def main() -> None:
    wrong_meanings()
    hostile()
    df = base()
    # Text in number columns, as people type it.
    bad = df.copy()
    bad.loc[3, "theme_day_attendance_rate"] = "九十"
    bad.loc[7, "grid_events"] = "12件"
    write("text_in_numbers.csv", bad)
    # The same unit twice.
    write("duplicated_rows.csv", pd.concat([df, df.iloc[[5]]], ignore_index=True))
    # A column of personal data.
    pii = df.copy()
    pii.insert(2, "书记姓名", "张三")
    pii.insert(3, "联系电话", "13800000000")
    write("personal_data.csv", pii)
    # Wrong and mismatching periods (uploaded as 2026-10).
    per = df.copy()
    per.loc[0, "period"] = "2026-13"
    per.loc[1, "period"] = "2026-09"
    write("wrong_period.csv", per)
    # A code not in the registry, with a registry unit's name.
    unk = df.copy()
    unk.loc[2, "unit_code"] = "500188001999"
    write("unknown_unit.csv", unk)
    # Out of range, negative count, numerator above denominator.
    rng = df.copy()
    rng.loc[4, "dues_paid_rate"] = "150"
    rng.loc[6, "escalated_petition_count"] = "-1"
    rng.loc[8, "grid_events_ontime"] = str(int(rng.loc[8, "grid_events"]) + 5)
    write("values_out_of_range.csv", rng)
    # GB18030 with Chinese headers and bad rows, as an organizer's Excel saves it.
    gb = pd.read_csv(
        SAMPLE / "indicators_2026-03_gb18030.csv",
        dtype=str,
        keep_default_na=False,
        encoding="gb18030",
    )
    gb.loc[2, "主题党日参加率"] = "很高"
    gb.loc[9, "党费按月交纳率"] = "101%"
    gb.to_csv(HERE / "gb18030_bad_rows.csv", index=False, encoding="gb18030")
    # Files that are not tables at all.
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "header_only.csv").write_text(",".join(df.columns) + "\n", encoding="utf-8")
    (HERE / "utf16.csv").write_bytes(df.head(3).to_csv(index=False).encode("utf-16"))
    text = df.head(6).to_csv(index=False)
    (HERE / "truncated.csv").write_text(text[: len(text) - 400], encoding="utf-8")
    # A broken xlsx (cut short) and one with formulas Excel never calculated.
    buf = io.BytesIO()
    df.head(5).to_excel(buf, index=False)
    (HERE / "broken.xlsx").write_bytes(buf.getvalue()[:1500])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.head(4).itertuples(index=False):
        ws.append(list(row))
    ws["F3"] = "=E3*100"
    wb.save(HERE / "formulas.xlsx")
    # 10,000 rows, three bad cells, checked without the registry (the codes are invented).
    n = 10_000
    big = pd.DataFrame(np.repeat(df.iloc[[0]].to_numpy(), n, axis=0), columns=df.columns).assign(
        unit_code=[f"5001{i:08d}" for i in range(n)]
    )
    big.loc[1233, "member_volunteer_rate"] = "N/A?"
    big.loc[4999, "theme_day_attendance_rate"] = "850"
    big.loc[9998, "inactive_members_3m"] = "-2"
    write("rows_10000_few_bad.csv", big)
    assert zipfile.is_zipfile(HERE / "formulas.xlsx")


if __name__ == "__main__":
    main()
