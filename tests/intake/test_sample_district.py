"""The bundled sample district is what its seeded generator makes, and looks like a district."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SAMPLE

from assessment.intake.readers import read_table
from assessment.intake.sample_district import GB18030_MONTH, XLSX_MONTH, write_sample


def test_committed_sample_is_exactly_what_the_generator_writes(tmp_path):
    files = write_sample(tmp_path, seed=2026)
    assert sorted(p.name for p in files) == sorted(p.name for p in SAMPLE.iterdir())
    for path in files:
        committed = SAMPLE / path.name
        if path.suffix == ".xlsx":  # the zip holds timestamps: compare the cells
            assert read_table(path).frame.equals(read_table(committed).frame)
        else:
            assert path.read_bytes() == committed.read_bytes(), path.name


def test_registry_shape_and_codes():
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    assert units["unit_code"].str.fullmatch(r"\d{12}").all()
    counts = units["unit_type"].value_counts()
    assert counts["区县"] == 1
    assert counts.get("街道", 0) + counts.get("镇", 0) == 12
    assert 150 <= counts["社区"] + counts["村"] <= 220
    villages = units[units["unit_type"] == "村"]
    assert (villages["unit_code"].str[-3:].astype(int) >= 200).all()


def test_one_month_as_gb18030_with_chinese_headers_and_one_as_xlsx():
    gb = (SAMPLE / f"indicators_{GB18030_MONTH}_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert gb.decode("gb18030").startswith("单位代码,单位名称,月份,")
    assert (SAMPLE / f"indicators_{XLSX_MONTH}.xlsx").read_bytes().startswith(b"PK")
