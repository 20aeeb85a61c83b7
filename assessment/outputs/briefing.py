"""The monthly briefing for the people who decide: an Excel workbook and a printable A4 PDF in
Chinese, for one user's scope, built from frames the service hands over (nothing is read here).

The PDF draws the color map itself (a tile per unit, its color and its label, grouped by
street), so nothing but fpdf2 and a CJK font on the machine is needed: no browser, no network.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..rules.grades import GRADE_KEYS, MISSING_LABEL, display, legend
from .exports import inert, text_cells_only

FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
COLORS = {k: h for k, _, h in legend()}


@dataclass
class Briefing:
    """Everything one month's briefing shows, already cut to the reader's scope."""

    title: str
    period: str
    previous: str | None
    units: pd.DataFrame  # unit_code, unit_name, street, grade, score, reasons, stability, …
    counts: pd.DataFrame  # grade, now, before, change
    summary: pd.DataFrame  # per street: name, grade, mean_score, red, orange, completion
    borderline: pd.DataFrame  # 边界单位
    warning: pd.DataFrame  # early warning
    overdue: pd.DataFrame  # overdue follow-ups
    open_tasks: pd.DataFrame
    summary_level: str = "街道/乡镇"  # what ``summary`` has a row of: the level below the scope


def cjk_font() -> str | None:
    """A font that has Chinese: ``FIVECOLOR_CJK_FONT``, else a system one."""
    wanted = os.environ.get("FIVECOLOR_CJK_FONT")
    for path in ([wanted] if wanted else []) + list(FONTS):
        if path and Path(path).is_file():
            return path
    return None


def workbook(b: Briefing) -> bytes:
    """汇总, 单位 (each grade cell filled with its color and labelled), 督办; every text cell
    inert in Excel/WPS."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([b.title])
    ws.append([])
    ws.append(["等级", b.period, b.previous or "上月", "变化"])
    for r in b.counts.itertuples():
        ws.append([r.label, int(r.now), None if pd.isna(r.before) else int(r.before), r.change])
    ws.append([])
    ws.append([b.summary_level, "汇总等级", "平均分", "红·差", "橙·较差", "督办按期销号"])
    for r in b.summary.itertuples():
        ws.append(
            [
                r.name,
                r.grade_label,
                _num(r.mean_score),
                int(r.red),
                int(r.orange),
                _num(r.completion),
            ]
        )
    units = wb.create_sheet("单位")
    head = [
        "单位代码",
        "单位",
        "上级单位",
        "等级",
        "总分",
        "原因",
        "稳定性",
        "下月预测分",
        "橙红概率",
    ]
    units.append(head)
    for r in b.units.itertuples():
        units.append(
            [
                r.unit_code,
                r.unit_name,
                r.street,
                display(r.grade) if r.grade in GRADE_KEYS else MISSING_LABEL,
                _num(r.score),
                r.reasons,
                _num(r.stability),
                _num(r.predicted_score),
                _num(r.p_orange_or_red),
            ]
        )
        cell = units.cell(row=units.max_row, column=4)
        color = COLORS.get(r.grade if r.grade in GRADE_KEYS else "", "#9e9e9e")
        cell.fill = PatternFill("solid", fgColor=color.lstrip("#"))
        cell.font = Font(color="FFFFFF" if r.grade in ("green", "blue", "red", "") else "222222")
    tasks = wb.create_sheet("督办")
    tasks.append(["编号", "单位", "月份", "处理意见", "责任方", "期限", "状态", "逾期"])
    for r in b.open_tasks.itertuples():
        late = "是" if r.overdue else ""
        tasks.append(
            [
                int(r.id),
                r.unit_name,
                r.period,
                r.action,
                r.owner_role,
                str(r.due_date),
                r.status,
                late,
            ]
        )
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = inert(cell.value)
    text_cells_only(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf(b: Briefing) -> bytes:
    """An A4 PDF: counts and changes, the color map, 边界单位, early warning, overdue tasks."""
    from fpdf import FPDF

    font = cjk_font()
    if font is None:
        raise RuntimeError(
            "生成 PDF 需要中文字体:请安装 fonts-wqy-microhei,或设置 FIVECOLOR_CJK_FONT 为字体文件路径"
        )
    doc = FPDF(format="A4", unit="mm")
    doc.set_auto_page_break(True, margin=14)
    doc.add_font("cjk", fname=font)
    doc.set_title(b.title)
    doc.add_page()
    doc.set_font("cjk", size=16)
    doc.cell(0, 10, b.title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=10)
    doc.cell(0, 6, f"月份 {b.period}" + (f" · 与 {b.previous} 比较" if b.previous else ""))
    doc.ln(8)
    _heading(doc, "各等级单位数")
    _table(
        doc,
        ["等级", b.period, b.previous or "上月", "变化"],
        [
            [r.label, str(int(r.now)), "" if pd.isna(r.before) else str(int(r.before)), r.change]
            for r in b.counts.itertuples()
        ],
        [40, 30, 30, 30],
        fills=[COLORS.get(k, "#9e9e9e") for k in b.counts["grade"]],
    )
    _heading(doc, "五色图")
    _tiles(doc, b.units)
    _heading(doc, f"边界单位({len(b.borderline)} 个:权重稍变就可能换颜色,定级前请复核)")
    _table(
        doc,
        ["单位", "上级单位", "等级", "稳定性"],
        [
            [r.unit_name, r.street, display(r.grade), f"{r.stability:.0%}"]
            for r in b.borderline.itertuples()
        ],
        [55, 45, 30, 25],
    )
    _heading(doc, f"预警:下月可能为橙或红的单位({len(b.warning)} 个)")
    _table(
        doc,
        ["单位", "本月等级", "预测得分", "橙红概率", "主要拖累指标"],
        [
            [
                r.unit_name,
                display(r.grade) if r.grade in GRADE_KEYS else MISSING_LABEL,
                _text(r.predicted_score),
                f"{r.p_orange_or_red:.0%}",
                r.drivers or "",
            ]
            for r in b.warning.itertuples()
        ],
        [40, 25, 22, 22, 71],
    )
    _heading(doc, f"逾期督办事项({len(b.overdue)} 项)")
    _table(
        doc,
        ["编号", "单位", "责任方", "期限", "状态"],
        [
            [f"#{int(r.id)}", r.unit_name, r.owner_role, str(r.due_date), r.status]
            for r in b.overdue.itertuples()
        ],
        [18, 50, 50, 30, 30],
    )
    return bytes(doc.output())


def _heading(doc, text: str) -> None:
    doc.ln(3)
    doc.set_font("cjk", size=12)
    doc.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=9)


def _table(doc, head, rows, widths, fills=None) -> None:
    if not rows:
        doc.cell(0, 6, "无", new_x="LMARGIN", new_y="NEXT")
        return
    doc.set_fill_color(235, 235, 235)
    for text, w in zip(head, widths, strict=True):
        doc.cell(w, 6, text, border=1, fill=True)
    doc.ln()
    for k, row in enumerate(rows):
        for j, (text, w) in enumerate(zip(row, widths, strict=True)):
            fill = fills is not None and j == 0
            if fill:
                doc.set_fill_color(*_rgb(fills[k]))
            doc.cell(w, 6, _fit(doc, str(text), w), border=1, fill=fill)
        doc.ln()


def _tiles(doc, units: pd.DataFrame, per_row: int = 8) -> None:
    """A tile per unit, grouped by street: its color, its name and its label."""
    w, h = 22.5, 9.0
    for street, group in units.groupby("street", sort=True):
        if doc.get_y() + h + 8 > doc.h - doc.b_margin:
            doc.add_page()
        doc.set_font("cjk", size=9)
        doc.cell(0, 6, str(street), new_x="LMARGIN", new_y="NEXT")
        for k, r in enumerate(group.itertuples()):
            if k and k % per_row == 0:
                doc.ln(h + 1)
                if doc.get_y() + h > doc.h - doc.b_margin:
                    doc.add_page()
            x = doc.l_margin + (k % per_row) * (w + 1)
            key = r.grade if r.grade in GRADE_KEYS else ""
            doc.set_fill_color(*_rgb(COLORS.get(key, "#9e9e9e")))
            doc.rect(x, doc.get_y(), w, h, style="F")
            light = key in ("green", "blue", "red", "")
            doc.set_text_color(*((255, 255, 255) if light else (34, 34, 34)))
            doc.set_font("cjk", size=6.5)
            doc.set_xy(x, doc.get_y() + 0.5)
            doc.cell(w, 4, _fit(doc, str(r.unit_name), w), align="C")
            doc.set_xy(x, doc.get_y() + 4)
            doc.cell(w, 4, display(key) if key else MISSING_LABEL, align="C")
            doc.set_y(doc.get_y() - 4.5)
        doc.set_text_color(0, 0, 0)
        doc.ln(h + 3)


def _fit(doc, text: str, width: float) -> str:
    while text and doc.get_string_width(text) > width - 1:
        text = text[:-1]
    return text


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _num(x):
    return None if x is None or pd.isna(x) else round(float(x), 4)


def _text(x) -> str:
    return "" if x is None or pd.isna(x) else f"{float(x):.1f}"
