"""Reading what organizers send: encodings, headers, values, and every problem at once."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.intake.headers import header_map, text_headers
from assessment.intake.ingest import ingest_monthly, parse_period
from assessment.intake.numbers import to_numbers
from assessment.intake.readers import read_table
from assessment.intake.registry import ingest_registry, registry_text_headers
from assessment.rules.loader import load_rules

COMMUNITY = load_rules(RULES / "community.yaml").rules
VILLAGE = load_rules(RULES / "village.yaml").rules
SETS = [COMMUNITY, VILLAGE]
TEXT = text_headers(header_map(SETS))
REGISTRY = ingest_registry(
    read_table(SAMPLE / "units.csv", text_columns=registry_text_headers())
).frame


def ingest(text: str, encoding="utf-8", name="t.csv", **kw):
    """A partial table unless ``require_columns=True``: these tests are about reading."""
    raw = read_table(text.encode(encoding), name=name, text_columns=TEXT)
    kw.setdefault("require_columns", False)
    return ingest_monthly(raw, SETS, kw.pop("registry", None), **kw)


def codes(result) -> list[tuple[str, int | None, str]]:
    return sorted((p.code, p.row, p.column) for p in result.problems)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_chinese_headers_read_in_every_encoding_organizers_use(encoding):
    text = "单位代码,月份,主题党日参加率(%),支委会按月召开\n000123,2026年10月,85%,是\n"
    result = ingest(text, encoding)
    assert result.ok, result.problems
    row = result.frame.iloc[0]
    assert row["unit_code"] == "000123"  # leading zeros kept
    assert row["period"] == "2026-10"
    assert row["theme_day_attendance_rate"] == 85.0
    assert row["committee_meeting_held"] == 1.0


def test_values_as_organizers_type_them():
    values = pd.Series(["85%", "８５", "1,200", "1,234.5", "", None, "0.5", "-3"])
    numbers, bad = to_numbers(values)
    np.testing.assert_array_equal(numbers, [85, 85, 1200, 1234.5, np.nan, np.nan, 0.5, -3])
    assert not bad.any()
    words = pd.Series([" 是 ", "否", "已完成", "√", "TRUE", "1", ""])
    numbers, bad = to_numbers(words, yes_no=True)
    np.testing.assert_array_equal(numbers, [1, 0, 1, 1, 1, 1, np.nan])
    assert not bad.any()
    _, bad = to_numbers(pd.Series(["abc", "85"]))
    assert bad.tolist() == [True, False]


@pytest.mark.parametrize(
    "cell",
    [
        "9,5",
        "1.000,5",
        "1,00",
        "12,3456",
        "#N/A",
        "#DIV/0!",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "nan",
        "-1.#IND",
        "1.#QNAN",
        "inf",
        "-inf",
        "Infinity",
        "1e999",
        "是",
        "Y",
        "true",
        "√",
    ],
)
def test_no_cell_is_read_with_a_wrong_meaning(cell):
    """Each of these was read as a number or as an empty cell before; now it is refused."""
    numbers, bad = to_numbers(pd.Series([cell, "85"]))
    assert bad.tolist() == [True, False]
    assert np.isnan(numbers[0]) or not np.isfinite(numbers[0])


def test_declared_not_applicable_markers_are_empty_and_nothing_else_is():
    numbers, bad = to_numbers(
        pd.Series(["/", "不适用", "无", "#N/A"]), not_applicable=frozenset({"/", "不适用", "无"})
    )
    assert np.isnan(numbers).all() and bad.tolist() == [False, False, False, True]


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026-10", "2026-10"),
        ("2026/9", "2026-09"),
        ("2026年10月", "2026-10"),
        ("202610", "2026-10"),
        ("2026-13", None),
        ("十月", None),
    ],
)
def test_periods_in_the_forms_people_write(text, period):
    assert parse_period(text) == period


def test_headers_forgive_spaces_width_and_case():
    text = "UNIT_CODE, period ,主题党日参加率（％）,Theme_Day_Held\n1,2026-10,90,1\n"
    result = ingest(text)
    assert result.ok, result.problems
    assert {"theme_day_attendance_rate", "theme_day_held"} <= set(result.frame.columns)


def test_every_problem_in_a_file_is_reported_at_once():
    text = (
        "unit_code,period,theme_day_attendance_rate,grid_events,grid_events_ontime,联系电话\n"
        "500188001001,2026-10,abc,10,12,13800000000\n"
        "500188001001,2026-10,120,5,4,\n"
        "999999999999,2026-09,90,-1,0,\n"
    )
    result = ingest(text, registry=REGISTRY, period="2026-10", require_columns=True)
    assert result.frame is None
    got = codes(result)
    assert ("personal_data", None, "联系电话") in got
    assert ("not_a_number", 2, "theme_day_attendance_rate") in got
    assert ("numerator_gt_denominator", 2, "grid_events_ontime") in got
    assert ("duplicate_unit", 2, "unit_code") in got and ("duplicate_unit", 3, "unit_code") in got
    assert ("out_of_range", 3, "theme_day_attendance_rate") in got
    assert ("unknown_unit", 4, "unit_code") in got
    assert ("period_mismatch", 4, "period") in got
    assert ("negative_value", 4, "grid_events") in got
    assert any(c == "missing_column" for c, _, _ in got)
    assert any(c == "not_reported" for c, _, _ in got)
    messages = {(p.code, p.row): p.message for p in result.problems}
    assert "个人信息" in messages[("personal_data", None)]
    assert "120 超出“主题党日参加率”的有效范围 [0, 100]" in messages[("out_of_range", 3)]


def test_unknown_code_suggests_the_registry_unit_with_that_name():
    text = (
        "unit_code,unit_name,period,theme_day_attendance_rate\n500188001999,银杏苑社区,2026-10,90\n"
    )
    result = ingest(text, registry=REGISTRY)
    message = next(p.message for p in result.problems if p.code == "unknown_unit")
    assert "名册中“银杏苑社区”的代码是 500188001001" in message


def test_unknown_columns_are_warnings_and_dropped():
    result = ingest("unit_code,period,备注\n1,2026-10,无\n")
    assert [(p.code, p.severity) for p in result.problems if p.column == "备注"] == [
        ("unknown_column", "warning")
    ]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "empty.csv", "empty_file"),
        (b"unit_code,period\n", "header_only.csv", "empty_file"),
        (b"\xff\xfe\x00\x01bad", "bytes.csv", "encoding"),
        (b"PK\x03\x04broken zip", "broken.xlsx", "xlsx_broken"),
        (b"anything", "old.xls", "old_excel"),
    ],
)
def test_broken_files_say_what_is_wrong(data, name, code):
    raw = read_table(data, name=name, text_columns=TEXT)
    result = ingest_monthly(raw, SETS)
    assert result.frame is None
    assert [p.code for p in result.problems] == [code]
    assert all(p.file == name for p in result.problems)


def test_xlsx_first_sheet_or_a_named_one():
    frame = pd.DataFrame({"单位代码": ["000123"], "月份": ["2026-10"], "主题党日参加率": [88]})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as writer:
        pd.DataFrame({"说明": ["封面"]}).to_excel(writer, sheet_name="封面", index=False)
        frame.to_excel(writer, sheet_name="数据", index=False)
    raw = read_table(buf.getvalue(), name="m.xlsx", sheet="数据")
    result = ingest_monthly(raw, SETS, require_columns=False)
    assert result.frame.loc[0, "unit_code"] == "000123"
    assert result.frame.loc[0, "theme_day_attendance_rate"] == 88
    missing = read_table(buf.getvalue(), name="m.xlsx", sheet="没有")
    assert [p.code for p in missing.problems] == ["sheet_missing"]


def test_bundled_gb18030_month_reads_like_the_utf8_ones():
    gb = read_table(SAMPLE / "indicators_2026-03_gb18030.csv", text_columns=TEXT)
    assert gb.encoding == "gb18030"
    result = ingest_monthly(gb, SETS, REGISTRY)
    assert result.ok
    assert set(result.frame["period"]) == {"2026-03"}
    assert result.frame["committee_meeting_held"].isin([0, 1, np.nan]).all()


def test_registry_problems_are_collected():
    text = "单位代码,单位名称,单位类型,上级代码\n1,区,区县,\n2,甲,社区,9\n2,乙,社区,1\n3,丙,,1\n"
    reg = ingest_registry(
        read_table(text.encode(), name="u.csv", text_columns=registry_text_headers())
    )
    assert reg.frame is None
    assert sorted((p.code, p.row) for p in reg.problems) == [
        ("duplicate_unit", 4),
        ("empty_type", 5),
        ("unknown_parent", 3),
    ]


@pytest.mark.parametrize(
    ("edits", "cyclic"),
    [
        ({"500188001001": "500188001001"}, ["500188001001"]),  # its own parent
        ({"500188001000": "500188001001"}, None),  # a street below one of its communities
    ],
)
def test_a_registry_whose_parents_loop_is_refused_naming_the_units(edits, cyclic):
    """Such a unit silently dropped out of grading (169 rows instead of 170)."""

    frame = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    for code, parent in edits.items():
        frame.loc[frame["unit_code"] == code, "parent_code"] = parent
    data = frame.to_csv(index=False).encode()
    reg = ingest_registry(read_table(data, "units.csv", text_columns=registry_text_headers()))
    assert reg.frame is None
    named = {p.message.split()[1] for p in reg.problems if p.code == "parent_cycle"}
    if cyclic is not None:
        assert named == set(cyclic)
    else:  # the street, its community, and every unit hanging below the loop
        street = frame["parent_code"] == "500188001000"
        assert named == {"500188001000", *frame.loc[street, "unit_code"]}


def test_a_rule_set_declares_which_markers_mean_not_applicable():
    from conftest import make_rules

    rules = make_rules(not_applicable=["/", "不适用"]).rules
    text = (
        "unit_code,period,参加率,按时办结数,工单总数\n1,2026-10,/,不适用,#N/A\n2,2026-10,90,3,4\n"
    )
    raw = read_table(text.encode(), name="t.csv", text_columns=text_headers(header_map([rules])))
    result = ingest_monthly(raw, [rules], require_columns=False)
    assert codes(result) == [("excel_error", 2, "工单总数")]
    plain = make_rules().rules  # without the declaration "/" is not a number
    raw = read_table(text.encode(), name="t.csv", text_columns=text_headers(header_map([plain])))
    assert {p.code for p in ingest_monthly(raw, [plain], require_columns=False).problems} == {
        "not_a_number",
        "excel_error",
    }


def test_a_million_problems_make_a_bounded_list_with_the_count():
    """A rejected 1M-row upload stored a 388 MB problem list; now each code keeps its first
    hundred and one line with the count."""
    from assessment.problems import PER_CODE

    rows = 5 * PER_CODE
    header = "unit_code,period,主题党日参加率(%)\n"
    text = header + "".join(f"{k},2026-13,abc\n" for k in range(rows))
    result = ingest(text)
    by_code = pd.Series([p.code for p in result.problems]).value_counts()
    assert by_code["bad_period"] == by_code["not_a_number"] == PER_CODE + 1
    summary = [p for p in result.problems if p.code == "not_a_number" and p.row is None]
    assert summary[0].value == str(rows) and f"共 {rows} 处" in summary[0].message
    huge = ingest(header + "1,2026-10," + "9" * 1_000_000 + "x\n")
    assert all(len(p.value) <= 80 and len(p.message) <= 400 for p in huge.problems)
