"""An export read as its source declares it: every problem at once, nothing of a refused file
kept, nothing the source does not declare kept."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.intake.derive import source_of, source_units
from assessment.intake.events import ingest_events, parse_dates, source_headers
from assessment.intake.readers import read_table
from assessment.rules.loader import load_rules
from tests.intake.event_rules import event_rules

REGISTRY = pd.DataFrame(
    {
        "unit_code": ["S", "T", "A", "B", "C", "D"],
        "unit_name": ["一街道", "二街道", "甲社区居民委员会", "乙社区", "乙社区", "丁社区"],
        "unit_type": ["街道", "街道", "社区", "社区", "社区", "社区"],
        "parent_code": ["", "", "S", "S", "T", "S"],
    }
)
HEADER = "工单编号,社区代码,受理时间,办结时间,类别,是否紧急,费用,评价\n"


def ingest(text: str | bytes, period: str | None = "2026-10", rules=None, registry=REGISTRY):
    rules = rules or event_rules()
    source = source_of([rules], rules.sources[0].id)
    units = source_units(registry, [rules], source.id)
    data = text.encode() if isinstance(text, str) else text
    raw = read_table(data, name="export.csv", text_columns=source_headers(source))
    return ingest_events(raw, source, units, period)


def found(result) -> set[tuple[str, int | None]]:
    return {(p.code, p.row) for p in result.problems}


def test_every_problem_of_an_export_is_listed_at_once_and_nothing_is_kept():
    text = HEADER + (
        "1,A,2026-10-01,,供水,是,1,满意\n"
        "1,A,2026-10-02,,供水,是,1,满意\n"  # the same ticket twice
        ",A,2026-10-02,,供水,是,1,满意\n"  # no ticket number
        "4,X,2026-10-03,,供水,是,1,满意\n"  # not a unit of the registry
        "5,S,2026-10-03,,供水,是,1,满意\n"  # the street, not a graded unit
        "6,A,2026-09-30 23:59,,供水,是,1,满意\n"  # last month
        "7,A,2026-02-30,,供水,是,1,满意\n"  # no such day
        "8,A,十月三日,2026-10-05 25:10,供水,是,1,满意\n"  # neither is a date
        "9,A,,,供水,也许,1千,满意\n"  # no month; a flag and a number that are neither
    )
    result = ingest(text)
    assert result.frame is None and not result.ok
    assert {
        ("duplicate_event", 3),
        ("empty_event_id", 4),
        ("unknown_unit", 5),
        ("unknown_unit", 6),
        ("event_outside_month", 7),
        ("bad_date", 8),
        ("bad_date", 9),
        ("bad_flag", 10),
        ("not_a_number", 10),
        ("bad_date", 10),
    } <= found(result)
    cells = {(p.code, p.row, p.column) for p in result.problems}
    assert {("bad_date", 9, "受理时间"), ("bad_date", 9, "办结时间")} <= cells
    outside = next(p for p in result.problems if p.code == "event_outside_month")
    assert "2026-09-30 23:59" in outside.message


def test_dates_as_people_and_excel_write_them():
    values, bad = parse_dates(
        pd.Series(
            [
                "2026-10-03",
                "2026/10/3 8:05",
                "2026年10月3日",
                "2026年10月3日 14:20",
                "2026.10.03 14:20:05",
                "2026-10-03T14:20:05",
                "",
                "2026-10",
                "44000",
                "2026-13-01",
                "2026-10-03 24:00",
            ]
        )
    )
    want = ["2026-10-03T00:00:00", "2026-10-03T08:05:00", "2026-10-03T00:00:00"]
    want += ["2026-10-03T14:20:00", "2026-10-03T14:20:05", "2026-10-03T14:20:05"]
    assert [str(v) for v in values[:6]] == want
    assert np.isnat(values[6]) and not bad[6]  # empty is empty, not an error
    assert bad[7:].all()  # a month alone, a serial number, month 13, hour 24


def test_an_xlsx_export_keeps_its_times():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    import datetime as dt

    sheet.append([1, "A", dt.datetime(2026, 10, 3, 14, 20), dt.datetime(2026, 10, 4, 9), "供水"])
    buf = io.BytesIO()
    book.save(buf)
    result = ingest(buf.getvalue())
    assert result.ok, result.problems
    assert str(result.frame["received"].iloc[0]) == "2026-10-03 14:20:00"
    assert str(result.frame["closed"].iloc[0]) == "2026-10-04 09:00:00"


def test_the_month_is_taken_from_the_events_or_they_must_say_which():
    one = ingest(HEADER + "1,A,2026-10-01,,,,,\n2,D,2026-10-31 23:59,,,,,\n", period=None)
    assert one.ok and one.period == "2026-10"
    two = ingest(HEADER + "1,A,2026-10-01,,,,,\n2,D,2026-11-01,,,,,\n", period=None)
    assert not two.ok
    problem = next(p for p in two.problems if p.code == "events_many_months")
    assert "2026-10(1 条)" in problem.message and "2026-11(1 条)" in problem.message


def test_columns_the_source_does_not_declare_are_not_kept():
    text = (
        "来电人姓名,联系电话,"
        + HEADER.replace("\n", "")
        + "\n张三,13800000000,1,A,2026-10-01,,,,,\n"
    )
    result = ingest(text)
    assert result.ok
    assert "来电人姓名" not in result.frame.columns and "联系电话" not in result.frame.columns
    warning = next(p for p in result.problems if p.code == "unknown_column")
    assert "来电人姓名" in warning.message and "不保存" in warning.message


def test_a_missing_declared_column_is_named():
    result = ingest("工单编号,社区代码,受理时间\n1,A,2026-10-01\n")
    missing = {p.column for p in result.problems if p.code == "missing_column"}
    assert missing == {"办结时间", "类别", "是否紧急", "费用", "评价"}


@pytest.fixture
def by_name():
    """The sample's rule sets: events name their unit and its street, not a code."""
    return load_rules(RULES / "community.yaml").rules


def test_units_named_by_name_within_their_street(by_name):
    header = (
        "工单编号,受理时间,签收时间,办结时间,所属街道,所属村社区,诉求类别,是否重复诉求,回访结果\n"
    )
    rows = (
        "1,2026-10-01,,,一街道,甲社区,,否,\n"  # the short form of 甲社区居民委员会
        "2,2026-10-01,,,一街道,甲社区居民委员会,,否,\n"  # the official name
        "3,2026-10-01,,,S,乙社区,,否,\n"  # the street by its code
        "4,2026-10-01,,,二 街 道,乙社区,,否,\n"  # spaces do not count
        "5,2026-10-01,,,一街道,丙社区,,否,\n"  # no such community in that street
    )
    result = ingest(header + rows, rules=by_name)
    assert found(result) >= {("unknown_unit_name", 6)}
    assert not any(p.code == "unknown_unit_name" and p.row != 6 for p in result.problems)
    fixed = ingest(header + rows.replace("丙社区", "丁社区"), rules=by_name)
    assert fixed.ok, fixed.problems
    assert fixed.frame["unit_code"].tolist() == ["A", "A", "B", "C", "D"]


def test_a_name_two_units_share_is_refused_without_a_street(by_name):
    rules = by_name.model_copy(
        update={
            "sources": [
                by_name.sources[0].model_copy(
                    update={"unit": by_name.sources[0].unit.model_copy(update={"parent": None})}
                )
            ]
        }
    )
    header = (
        "工单编号,受理时间,签收时间,办结时间,所属街道,所属村社区,诉求类别,是否重复诉求,回访结果\n"
    )
    result = ingest(header + "1,2026-10-01,,,一街道,乙社区,,否,\n", rules=rules)
    problem = next(p for p in result.problems if p.code == "ambiguous_unit_name")
    assert problem.row == 2 and "多个单位" in problem.message


def test_the_sample_export_reads_whole():
    rules = [load_rules(RULES / f).rules for f in ("community.yaml", "village.yaml")]
    registry = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    source = source_of(rules, "hotline")
    units = source_units(registry, rules, "hotline")
    path = SAMPLE / "hotline_2026-10.csv"
    result = ingest_events(read_table(path, text_columns=source_headers(source)), source, units)
    assert result.ok, result.problems[:3]
    assert result.period == "2026-10"
    assert len(result.frame) == len(path.read_text(encoding="utf-8").splitlines()) - 1


def test_a_byte_that_is_not_utf8_in_an_untyped_column_is_not_read_as_bytes():
    """Arrow types such a column as binary; the reader treats the file as not UTF-8: read as
    GB18030 when it is, refused with the encoding named when it is neither."""
    neither = HEADER.encode() + b"1,A,\x80026-10-01,,,,,\n2,A,2026-10-02,,,,,\n"
    assert found(ingest(neither)) == {("encoding", None)}
    gbk = HEADER.encode("gb18030") + "1,A,2026年10月1日,,,,,\n".encode("gb18030")
    result = ingest(gbk)
    assert result.ok and str(result.frame["received"].iloc[0]) == "2026-10-01 00:00:00"
