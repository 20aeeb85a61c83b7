"""The problems of an upload as the pages show them: a summary line, a repeated problem as one
row with its count and rows, and the whole list row by row as .xlsx."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.common import grid
from assessment.outputs.spreadsheets import problems_workbook
from assessment.problems import Problem, tally
from assessment.problems.table import collapsed_problems


def show_problems(problems: list[Problem], names: dict[str, str], filename: str, key: str) -> None:
    errors, warnings = tally(problems)
    if errors:
        st.error(
            f"发现 {errors} 个错误、{warnings} 个警告:文件未导入。请按下表逐项修改后重新上传。"
        )
    elif problems:
        st.warning(f"没有错误,有 {warnings} 个警告(可以导入,请留意)。")
    else:
        st.success("检查通过,没有发现问题。")
    if not problems:
        return
    table = collapsed_problems(problems, names)
    table["severity"] = table["severity"].map({"error": "错误", "warning": "警告"})
    grid(
        table[["severity", "title", "column", "count", "rows", "message"]].rename(
            columns={
                "severity": "类型",
                "title": "问题",
                "column": "列",
                "count": "处数",
                "rows": "行",
                "message": "说明及修改方法",
            }
        ),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"说明及修改方法": st.column_config.TextColumn(width="large")},
    )
    st.download_button(
        "下载问题清单(.xlsx,逐行列出)",
        problems_workbook(problems),
        file_name=f"问题清单_{Path(filename).stem}.xlsx",
        key=f"{key}_download",
    )
