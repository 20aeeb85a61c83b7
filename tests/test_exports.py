"""Every export is inert in Excel and WPS: text that could start a formula gets a leading
apostrophe, numbers stay numbers."""

from __future__ import annotations

import io

import pandas as pd

from assessment.exports import csv_bytes, inert


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
