"""Spreadsheets for people: the upload template generated from a rule set, and the problem list.

The template is what organizers fill in, so nobody designs a form by hand: Chinese headers with
hints, their units pre-filled, allowed ranges enforced by Excel's data validation. It reads back
through the ordinary upload path unchanged.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..problems import Problem
from ..problems.table import problems_frame
from ..rules.models import Input, RuleSet
from .exports import text_cells_only

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
KEY_FILL = PatternFill("solid", fgColor="F2F2F2")


def template_columns(
    rule_sets: Sequence[RuleSet], unit_types: set[str]
) -> list[tuple[object, str]]:
    """The columns to fill: (spec, note) for every indicator or input the rule sets read for
    these unit types (rates are filled as numerator and denominator); never a column the rule
    set computes from another system's events (``derive``)."""
    out: dict[str, tuple[object, str]] = {}
    for rules in rule_sets:
        if rules.applies_to is not None and not unit_types & set(rules.applies_to):
            continue
        derived = rules.derived()
        inputs = {i.id: i for i in rules.inputs}
        for ind in rules.indicators():
            if ind.applies_to is not None and not unit_types & set(ind.applies_to):
                continue
            only = f"(仅{'、'.join(ind.applies_to)})" if ind.applies_to else ""
            if ind.rate is not None:
                for part in (ind.rate.numerator, ind.rate.denominator):
                    if part not in derived:
                        out.setdefault(part, (inputs[part], f"用于计算“{ind.name}”"))
            elif ind.id not in derived:
                out.setdefault(ind.id, (ind, only))
        for veto in rules.vetoes:
            if veto.column in inputs and veto.column not in derived:
                out.setdefault(veto.column, (inputs[veto.column], f"一票否决:{veto.name}"))
    return list(out.values())


def _hint(spec, note: str) -> str:
    lines = [f"列代码: {spec.id}"]
    if getattr(spec, "unit", None):
        lines.append(f"单位: {spec.unit}")
    scoring = getattr(spec, "scoring", None)
    if scoring is not None and scoring.method == "pass_fail":
        lines.append("填 是 或 否")
    elif spec.valid_range is not None:
        lo, hi = spec.valid_range
        lines.append(f"有效范围: {lo:g} ~ {hi:g}")
    if isinstance(spec, Input) or spec.unit in ("件", "人", "个", "天", "处"):
        lines.append("填整数,不能为负")
    if note:
        lines.append(note)
    lines.append("没有数据请留空(不要填0)")
    return "\n".join(lines)


def make_template(
    rule_sets: Sequence[RuleSet], units: pd.DataFrame, period: str | None = None
) -> bytes:
    """An .xlsx to fill in: one row per unit in ``units`` (unit_code, unit_name, unit_type)."""
    types = set(units["unit_type"])
    columns = template_columns(rule_sets, types)
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "-", f"{period}指标" if period else "指标")[:31]
    headers = ["单位代码", "单位名称", "月份", *(spec.name for spec, _ in columns)]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws["A1"].comment = Comment("统计用区划代码(12位),已预填,请勿修改", "五色图")
    ws["C1"].comment = Comment("格式 2026-10", "五色图")
    for k, (spec, note) in enumerate(columns, start=4):
        ws.cell(row=1, column=k).comment = Comment(
            _hint(spec, note), "五色图", height=160, width=260
        )
    n = len(units)
    for r, (code, name) in enumerate(zip(units["unit_code"], units["unit_name"], strict=True), 2):
        ws.cell(row=r, column=1, value=str(code)).number_format = "@"
        ws.cell(row=r, column=2, value=str(name))
        ws.cell(row=r, column=3, value=period or "").number_format = "@"
        for c in (1, 2, 3):
            ws.cell(row=r, column=c).fill = KEY_FILL
    last = max(n + 1, 2)
    for k, (spec, _) in enumerate(columns, start=4):
        letter = get_column_letter(k)
        scoring = getattr(spec, "scoring", None)
        if scoring is not None and scoring.method == "pass_fail":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
            dv.error, dv.errorTitle = "请选择 是 或 否", spec.name
        elif spec.valid_range is not None:
            lo, hi = spec.valid_range
            dv = DataValidation(
                type="decimal",
                operator="between",
                formula1=str(lo),
                formula2=str(hi),
                allow_blank=True,
            )
            dv.error, dv.errorTitle = f"请输入 {lo:g} 到 {hi:g} 之间的数", spec.name
        else:
            dv = DataValidation(
                type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
            )
            dv.error, dv.errorTitle = "请输入不小于0的数", spec.name
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")
        ws.column_dimensions[letter].width = max(10, min(24, len(spec.name) * 2 + 2))
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 16, 16
    ws.freeze_panes = "D2"
    notes = wb.create_sheet("填表说明")
    notes.append(["列名", "列代码", "说明"])
    for spec, note in columns:
        notes.append([spec.name, spec.id, _hint(spec, note).replace("\n", ";")])
    notes.column_dimensions["A"].width, notes.column_dimensions["C"].width = 30, 80
    text_cells_only(wb)  # a unit name "=HYPERLINK(...)" is a name, never a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PROBLEM_HEADERS = {
    "severity": "严重程度",
    "file": "文件",
    "row": "行",
    "line": "规则文件行",
    "path": "位置",
    "column": "列",
    "value": "值",
    "title": "问题类别",
    "code": "问题代码",
    "message": "说明及修改方法",
}


def problems_workbook(problems: Sequence[Problem]) -> bytes:
    """The problem list as an .xlsx organizers can open, sort and tick off."""
    frame = problems_frame(problems)[list(PROBLEM_HEADERS)]
    frame["severity"] = frame["severity"].map({"error": "错误", "warning": "警告"})
    always = ("severity", "title", "message")  # no column that is empty for every problem
    frame = frame[
        [c for c in frame if c in always or frame[c].replace("", None).notna().any()]
    ].rename(columns=PROBLEM_HEADERS)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="问题清单")
        ws = writer.sheets["问题清单"]
        ws.column_dimensions[get_column_letter(frame.shape[1])].width = 90
        ws.freeze_panes = "A2"
        text_cells_only(writer.book)
    return buf.getvalue()
