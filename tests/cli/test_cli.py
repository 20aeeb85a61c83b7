"""The CLI, in-process: exit codes, messages, output files."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import RULES, SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app
from assessment.problems import PER_CODE
from assessment.rules.grades import GRADE_KEYS

runner = CliRunner()
RULE_ARGS = ["--rules", str(RULES / "community.yaml"), "--rules", str(RULES / "village.yaml")]
UNITS = ["--units", str(SAMPLE / "units.csv")]


def data_args(*months: str) -> list[str]:
    files = sorted(p for p in SAMPLE.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    if months:
        files = [p for p in files if any(m in p.name for m in months)]
    return [arg for p in files for arg in ("--data", str(p))]


def test_validate_passes_on_the_sample_district():
    result = runner.invoke(app, ["validate", *RULE_ARGS, *UNITS, *data_args()])
    assert result.exit_code == 0, result.output
    assert "通过: 2 个规则集" in result.output


def test_validate_lists_every_problem_and_fails(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unit_code,period,theme_day_attendance_rate\n500188001001,2026-10,abc\n"
        "500188001001,2026-10,150\n",
        encoding="utf-8",
    )
    out = tmp_path / "problems.csv"
    result = runner.invoke(
        app, ["validate", *RULE_ARGS, *UNITS, "--data", str(bad), "--problems-out", str(out)]
    )
    assert result.exit_code == 1
    assert "“abc”不是数字" in result.output
    assert "150 超出“主题党日参加率”的有效范围" in result.output
    assert "duplicate_unit" in result.output
    saved = pd.read_csv(out, encoding="utf-8-sig")
    assert {"not_a_number", "out_of_range", "duplicate_unit"} <= set(saved["code"])


def test_validate_reports_a_bad_rule_file_with_path_and_line():
    result = runner.invoke(app, ["validate", "--rules", "tests/bad_rules/unknown_method.yaml"])
    assert result.exit_code == 1
    assert "第18行 dimensions[0].indicators[0].scoring.method" in result.output
    assert "未知的评分方法“linaer”" in result.output


def test_grade_writes_the_contract_columns_for_all_months(tmp_path):
    out = tmp_path / "graded.csv"
    result = runner.invoke(app, ["grade", *RULE_ARGS, *UNITS, *data_args(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_code": str}, keep_default_na=False)
    for col in [
        "unit_code",
        "unit_name",
        "period",
        "score",
        "grade",
        "grade_label",
        "reasons",
        "score.organization",
        "score.safety",
    ]:
        assert col in table.columns
    assert table["period"].nunique() == 12
    assert set(table["grade"]) <= {*GRADE_KEYS, ""}
    assert table.groupby("period")["unit_code"].nunique().eq(table["unit_code"].nunique()).all()
    assert table["unit_code"].str.len().eq(12).all()


def test_grade_one_period_still_uses_the_months_before_for_escalation(tmp_path):
    full, single = tmp_path / "all.csv", tmp_path / "one.csv"
    runner.invoke(app, ["grade", *RULE_ARGS, *UNITS, *data_args(), "--out", str(full)])
    result = runner.invoke(
        app,
        ["grade", *RULE_ARGS, *UNITS, *data_args(), "--period", "2026-10", "--out", str(single)],
    )
    assert result.exit_code == 0, result.output
    a = pd.read_csv(full, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    b = pd.read_csv(single, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    a = a[a["period"] == "2026-10"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert b["reasons"].str.contains("连续2个月").any()


def test_grade_with_an_unknown_period_says_which_exist(tmp_path):
    result = runner.invoke(
        app,
        [
            "grade",
            *RULE_ARGS,
            *UNITS,
            *data_args("2026-10"),
            "--period",
            "2030-01",
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code == 1
    assert "已有的月份: 2026-10" in result.output


def test_grade_writes_follow_up_suggestions(tmp_path):
    out, fu = tmp_path / "g.csv", tmp_path / "fu.csv"
    result = runner.invoke(
        app,
        [
            "grade",
            *RULE_ARGS,
            *UNITS,
            *data_args(),
            "--period",
            "2026-10",
            "--out",
            str(out),
            "--followups-out",
            str(fu),
        ],
    )
    assert result.exit_code == 0, result.output
    graded = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_code": str})
    tasks = pd.read_csv(fu, encoding="utf-8-sig", dtype={"unit_code": str})
    red = set(graded.loc[graded["grade"] == "red", "unit_code"])
    assert red and red <= set(tasks.loc[tasks["source"] == "grade:red", "unit_code"])
    assert not tasks["action"].str.contains(r"\{").any()  # every placeholder filled


def test_explain_prints_the_reasons_for_a_vetoed_unit():
    result = runner.invoke(
        app,
        [
            "explain",
            *RULE_ARGS,
            *UNITS,
            *data_args(),
            "--unit",
            "500188006003",
            "--period",
            "2026-02",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "发生2人及以上亡人事故" in result.output


@pytest.mark.parametrize("command", ["grade", "explain"])
def test_overlapping_rule_sets_are_refused(command, tmp_path):
    args = ["--rules", str(RULES / "community.yaml"), "--rules", str(RULES / "community.yaml")]
    extra = ["--out", str(tmp_path / "x.csv")] if command == "grade" else ["--unit", "1"]
    result = runner.invoke(app, [command, *args, *UNITS, *data_args("2026-10"), *extra])
    assert result.exit_code == 1
    assert "rules_overlap" in result.output


def test_demo_grades_the_bundled_district(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "d.csv")])
    assert result.exit_code == 0, result.output
    assert "2026-10" in result.output and "较好" in result.output


def test_template_is_filled_in_and_read_back_by_validate(tmp_path):
    out = tmp_path / "t.xlsx"
    result = runner.invoke(
        app,
        [
            "template",
            *RULE_ARGS,
            *UNITS,
            "--period",
            "2026-11",
            "--parent",
            "500188101000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    import openpyxl

    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:4] == ["单位代码", "单位名称", "月份", "支委会按月召开"]
    assert ws["D1"].comment is not None and "是 或 否" in ws["D1"].comment.text
    assert ws.data_validations.dataValidation  # ranges enforced in Excel
    for row in ws.iter_rows(min_row=2):
        for cell in row[3:]:
            hint = ws.cell(1, cell.column).comment  # 是/否 only where the template asks for it
            cell.value = "是" if hint is not None and "是 或 否" in hint.text else 1
    wb.save(out)
    check = runner.invoke(app, ["validate", *RULE_ARGS, *UNITS, "--data", str(out)])
    assert check.exit_code == 0, check.output


def test_the_same_month_in_two_files_is_refused():
    args = data_args("2026-10")
    result = runner.invoke(app, ["validate", *RULE_ARGS, *UNITS, *args, *args])
    assert result.exit_code == 1
    assert "数据出现在多个文件中" in result.output


def test_a_problem_repeated_on_every_row_is_one_line_with_its_count_and_all_lists_each(
    tmp_path,
):
    frame = pd.read_csv(SAMPLE / "indicators_2026-09.csv", dtype=str, keep_default_na=False)
    frame["period"] = "2026-13"  # one wrong month on every row
    frame.loc[5, "dues_paid_rate"] = "abc"  # and one real error after it
    bad = tmp_path / "september.csv"
    frame.to_csv(bad, index=False)
    args = ["validate", *RULE_ARGS, *UNITS, "--data", str(bad)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    month = [line for line in lines if "bad_period" in line]
    assert len(month) == 1 and f"共 {len(frame)} 处(第 2、3、4、5、6、7、8、9… 行)" in month[0]
    assert any("“abc”不是数字" in line and "第7行" in line for line in lines)
    assert lines.index(month[0]) < 5 and len(lines) < 10  # the real error is in sight
    assert "加 --all 逐行列出" in result.output
    assert f"共 {len(frame) + 1} 个错误" in result.output  # every row counted, listed or not
    every = runner.invoke(app, [*args, "--all"])
    assert every.exit_code == 1
    listed = [line for line in every.output.splitlines() if "bad_period" in line]
    rows = [line for line in listed if "列“period”" in line]  # one line a row, up to the cap
    assert len(rows) == PER_CODE and len({line.split(" 列")[0] for line in rows}) == PER_CODE
    assert f"共 {len(frame)} 处" in listed[-1]  # and how many more there are


def test_a_file_over_the_limit_names_the_setting_that_raises_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FIVECOLOR_MAX_UPLOAD_MB", "1")
    big = tmp_path / "big.csv"
    big.write_text("unit_code,period\n" + "500188001001,2026-10\n" * 60_000, encoding="utf-8")
    result = runner.invoke(app, ["validate", *RULE_ARGS, *UNITS, "--data", str(big)])
    assert result.exit_code == 1
    assert "超过上限 1 MB" in result.output and "FIVECOLOR_MAX_UPLOAD_MB" in result.output


def test_a_mistyped_limit_stops_the_command_with_its_name_not_a_traceback():
    command = "from assessment.cli.console import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", command, "validate", *RULE_ARGS, *UNITS, *data_args("2026-10")],
        env={**os.environ, "FIVECOLOR_MAX_UPLOAD_MB": "100MB"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "FIVECOLOR_MAX_UPLOAD_MB" in done.stderr and "“100MB”" in done.stderr
    assert "Traceback" not in done.stderr


def run_console(*args: str) -> subprocess.CompletedProcess:
    """The ``fivecolor`` process itself (its entry point), not the app called in-process."""
    command = "from assessment.cli.console import main; main()"
    return subprocess.run(
        [sys.executable, "-c", command, *args], capture_output=True, text=True, timeout=120
    )


def test_the_grade_process_writes_and_says_everything_before_it_leaves(tmp_path):
    args = ["grade", *RULE_ARGS, *UNITS, *data_args("2026-10"), "-p", "2026-10"]
    done = run_console(*args, "-o", str(tmp_path / "a.csv"))
    assert done.returncode == 0, done.stderr
    in_process = runner.invoke(app, [*args, "-o", str(tmp_path / "b.csv")])
    assert in_process.exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # every line printed, the counts' table last, as the command run in-process prints them
    assert done.stdout == in_process.stdout.replace("b.csv", "a.csv")
    assert done.stdout.splitlines()[-1].startswith("2026-10")


def test_a_store_command_closes_its_store_before_the_process_ends(tmp_path):
    db = tmp_path / "store.db"
    done = run_console("import", "registry", str(SAMPLE / "units.csv"), "--db", f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    # SQLite folds its write-ahead log into the file when the last connection closes: a
    # process that skipped its connections' closing would leave store.db-wal behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.db"]


def events_args(*months: str) -> list[str]:
    files = sorted(SAMPLE.glob("hotline_*.csv"))
    files = [p for p in files if not months or any(m in p.name for m in months)]
    return [arg for p in files for arg in ("--events", f"hotline={p}")]


def test_grade_takes_the_hotline_figures_from_the_export(tmp_path):
    args = ["grade", *RULE_ARGS, *UNITS, *data_args("2026-10"), "-p", "2026-10"]
    with_export = tmp_path / "a.csv"
    result = runner.invoke(app, [*args, *events_args("2026-10"), "-o", str(with_export)])
    assert result.exit_code == 0, result.output
    without = tmp_path / "b.csv"
    assert runner.invoke(app, [*args, "-o", str(without)]).exit_code == 0
    a, b = pd.read_csv(with_export), pd.read_csv(without)
    assert (a["score.service"] != b["score.service"]).sum() > 100  # 12345 counts in 服务群众


def test_a_monthly_table_that_still_carries_a_derived_column_is_refused(tmp_path):
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str)
    frame["12345工单总数"] = "3"
    frame.to_csv(tmp_path / "old.csv", index=False)
    result = runner.invoke(
        app, ["validate", *RULE_ARGS, *UNITS, "--data", str(tmp_path / "old.csv")]
    )
    assert result.exit_code == 1
    assert "derived_column" in result.output and "12345热线工单" in result.output


def test_an_export_with_a_bad_pair_or_source_says_how_to_write_it(tmp_path):
    base = ["validate", *RULE_ARGS, *UNITS]
    result = runner.invoke(app, [*base, "--events", "hotline.csv"])
    assert result.exit_code == 2 and "来源=文件" in result.output
    export = str(SAMPLE / "hotline_2026-10.csv")
    result = runner.invoke(app, [*base, "--events", f"grid={export}"])
    assert result.exit_code == 1 and "hotline(12345热线工单)" in result.output


def test_import_events_into_the_store_and_again_unchanged(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    units = str(SAMPLE / "units.csv")
    assert runner.invoke(app, ["import", "registry", units, "--db", url]).exit_code == 0
    export = str(SAMPLE / "hotline_2026-10.csv")
    args = ["import", "events", export, "--source", "hotline", *RULE_ARGS, "--db", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = (SAMPLE / "hotline_2026-10.csv").read_text(encoding="utf-8")
    assert f"已导入(第 1 次上传,{len(text.splitlines()) - 1} 个事件" in result.output
    again = runner.invoke(app, ["import", "events", export, "--source", "hotline", "--db", url])
    assert again.exit_code == 0 and "未变化" in again.output  # the rule sets in the store
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace("2026-10-0", "2026-11-0", 1), encoding="utf-8")
    result = runner.invoke(app, ["import", "events", str(bad), "-s", "hotline", "--db", url])
    assert result.exit_code == 1 and "events_many_months" in result.output


def test_grade_writes_parquet_with_the_same_table_as_csv(tmp_path):
    args = ["grade", *RULE_ARGS, *UNITS, *data_args("2026-10"), *events_args("2026-10")]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "g.csv")]).exit_code == 0
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "g.parquet")]).exit_code == 0
    csv = pd.read_csv(tmp_path / "g.csv", dtype={"unit_code": str, "parent_code": str})
    parquet = pd.read_parquet(tmp_path / "g.parquet")
    assert list(parquet["unit_code"]) == list(csv["unit_code"])
    assert parquet["score"].to_numpy() == pytest.approx(csv["score"].to_numpy(), nan_ok=True)
    assert list(parquet["grade_label"]) == list(csv["grade_label"])
