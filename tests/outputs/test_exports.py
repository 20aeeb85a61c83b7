"""Every export is inert in Excel and WPS: text that could start a formula gets a leading
apostrophe, numbers stay numbers."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from assessment.outputs.exports import csv_bytes, inert


def test_text_that_could_start_a_formula_is_made_inert_and_numbers_are_not():
    for hostile in ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(1)", "\tx", "\rx"]:
        assert inert(hostile) == "'" + hostile
    for kept in ["-1.5", "+3", "1e5", "银杏苑社区", "", 5, None]:
        assert inert(kept) == kept


def test_the_csv_export_has_a_bom_and_inert_cells():
    frame = pd.DataFrame({"单位": ["=1+1", "正常"], "得分": [1.5, -2.0]})
    data = csv_bytes(frame)
    assert data.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back["单位"]) == ["'=1+1", "正常"]
    assert list(back["得分"]) == [1.5, -2.0]


HOSTILE = ['=HYPERLINK("http://127.0.0.2/","点我")', "+1+1", "@SUM(1)", "-2+3", "\t=1"]


def test_the_graded_csv_and_follow_ups_keep_hostile_names_as_text(tmp_path):
    from conftest import RULES, SAMPLE
    from typer.testing import CliRunner

    from assessment.cli.main import app

    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    leaves = units.index[units["unit_type"].isin(["社区", "村"])][: len(HOSTILE)]
    units.loc[leaves, "unit_name"] = HOSTILE
    units.to_csv(tmp_path / "units.csv", index=False)
    out, follow = tmp_path / "graded.csv", tmp_path / "follow.csv"
    args = ["grade", "-r", str(RULES / "community.yaml"), "-r", str(RULES / "village.yaml")]
    args += ["-u", str(tmp_path / "units.csv"), "-d", str(SAMPLE / "indicators_2026-10.csv")]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--followups-out", str(follow)])
    assert result.exit_code == 0, result.output
    graded = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = set(graded["unit_name"])  # the registry reader trims the tab of "\t=1"
    assert {"'" + h.strip() for h in HOSTILE} <= names and not names & set(HOSTILE)
    actions = pd.read_csv(follow, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    risky = actions.map(lambda v: v[:1] in ("=", "+", "@", "\t") or v.startswith("-2"))
    assert not risky.to_numpy().any()
    assert (graded["score"].astype(float) >= 0).all()  # numbers stay numbers


def test_the_template_and_problem_list_store_hostile_text_as_text_not_formulas():
    from conftest import make_rules
    from openpyxl import load_workbook

    from assessment.outputs.spreadsheets import make_template, problems_workbook
    from assessment.problems import Problem

    units = pd.DataFrame(
        {
            "unit_code": [f"{k}" for k in range(len(HOSTILE))],
            "unit_name": HOSTILE,
            "unit_type": "社区",
        }
    )
    book = load_workbook(io.BytesIO(make_template([make_rules().rules], units, "2026-10")))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value in HOSTILE]
    assert len(cells) == len(HOSTILE) and all(c.data_type == "s" for c in cells)
    problems = [Problem("not_a_number", "x", value=h) for h in HOSTILE]
    book = load_workbook(io.BytesIO(problems_workbook(problems)))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value in HOSTILE]
    assert len(cells) == len(HOSTILE) and all(c.data_type == "s" for c in cells)


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6), st.sampled_from(HOSTILE))), st.integers(0, 3)
)
def test_the_vectorised_export_check_agrees_with_the_one_cell_rule(values, cut):
    import pyarrow as pa

    from assessment.outputs.exports import inert_table

    column = pa.array(values, type=pa.string()).slice(min(cut, len(values)))
    got = inert_table(pa.table({"v": column})).column(0).to_pylist()
    assert got == [inert(v) for v in column.to_pylist()]
