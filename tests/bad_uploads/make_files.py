"""Builds the bad upload files in this folder from the sample district's 2026-10 table.

Run from the repository root: ``.venv/bin/python tests/bad_uploads/make_files.py``. Each file
NAME.* is paired with NAME.expected: the errors (code, row, column) it must produce, one per line;
a first line ``# registry: none`` means the case is checked without the unit registry.
"""

from __future__ import annotations

import io
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


def main() -> None:
    wrong_meanings()
    df = base()
    # Text in number columns, as people type it.
    bad = df.copy()
    bad.loc[3, "theme_day_attendance_rate"] = "九十"
    bad.loc[7, "hotline_tickets"] = "12件"
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
    rng.loc[8, "hotline_closed_ontime"] = str(int(rng.loc[8, "hotline_tickets"]) + 5)
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
