"""The monthly briefing: the PDF's text and counts equal the graded table; the workbook's
grade cells carry their color and label; an organizer's briefing holds their street only."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from assessment.outputs.briefing import cjk_font, pdf, workbook
from assessment.rules.grades import GRADE_KEYS, display
from assessment.service import Principal, Service
from assessment.service.roles import Role
from assessment.service.seed import seed_sample
from assessment.store import open_database

pytestmark = pytest.mark.skipif(cjk_font() is None, reason="no CJK font (fonts-wqy-microhei)")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('b') / 'b.db'}")
    seed_sample(db, accounts=False)
    yield db
    db.dispose()


def test_the_pdf_says_the_counts_of_the_graded_table(seeded):
    svc = Service(seeded, Principal.operator("admin"))
    brief = svc.briefing("2026-10")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf(brief))).pages)
    table = svc.view().table("2026-10")
    before = svc.view().table("2026-09")
    for key in GRADE_KEYS:
        now, was = int((table["grade"] == key).sum()), int((before["grade"] == key).sum())
        assert re.search(re.escape(f"{display(key)} {now} {was} {now - was:+d}"), text), key
    assert "“五色图”月度简报 2026-10" in text
    assert f"边界单位({len(brief.borderline)} 个" in text
    for name in table["unit_name"]:  # every unit is on the map
        assert name in text
    assert brief.borderline["stability"].lt(0.8).all()


def test_the_workbook_colors_and_labels_every_grade(seeded):
    svc = Service(seeded, Principal.operator("admin"))
    book = load_workbook(io.BytesIO(workbook(svc.briefing("2026-10"))))
    assert book.sheetnames == ["汇总", "单位", "督办"]
    units = book["单位"]
    rows = list(units.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 170
    for row in units.iter_rows(min_row=2):
        label = row[3].value
        assert label in {display(k) for k in GRADE_KEYS} | {"数据不全"}
        assert row[3].fill.fgColor.rgb not in (None, "00000000")


def test_an_organizers_briefing_holds_their_street_only(seeded):
    street = "500188001000"
    svc = Service(seeded, Principal("org", Role.ORGANIZER, frozenset({street})))
    brief = svc.briefing("2026-10")
    assert set(brief.units["unit_code"].str[:9]) == {street[:9]}
    assert brief.title.startswith("龙溪街道")


def test_the_report_command_writes_both_files(seeded, tmp_path):
    from assessment.cli.main import app

    out = tmp_path / "brief"
    result = CliRunner().invoke(
        app, ["report", "-p", "2026-10", "-o", str(out), "--db", seeded.url]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["五色图月度简报_2026-10.pdf", "五色图月度简报_2026-10.xlsx"]
    bad = CliRunner().invoke(app, ["report", "-p", "2031-01", "-o", str(out), "--db", seeded.url])
    assert bad.exit_code == 1


def test_a_briefing_for_any_level_holds_that_unit_s_part_with_a_row_per_level_below(tmp_path):
    import openpyxl
    from five_levels import load_five_levels

    from assessment.cli.main import app
    from assessment.store import open_database

    url = f"sqlite:///{tmp_path / 'country.db'}"
    db = open_database(url)
    load_five_levels(db)
    period = Service(db, Principal.operator("t")).view().periods[-1]
    db.dispose()
    out = tmp_path / "city"
    args = ["report", "-p", period, "-o", str(out), "--db", url, "--unit", "610100000000"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / f"五色图月度简报_{period}.xlsx")
    rows = [r for r in book["汇总"].iter_rows(values_only=True) if r and r[0]]
    header = next(k for k, r in enumerate(rows) if r[1] == "汇总等级")
    assert rows[header][0] == "区县"  # a city's summary: a row per county
    assert {r[0] for r in rows[header + 1 :]} == {"甲11县", "甲12县"}
    codes = [r[0] for r in book["单位"].iter_rows(min_row=2, values_only=True)]
    assert len(codes) == 12 and all(c.startswith("6101") for c in codes)
    unknown = CliRunner().invoke(app, [*args[:-1], "619900000000"])
    assert unknown.exit_code == 1 and "不在单位名册中" in unknown.output
