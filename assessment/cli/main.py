"""Command line: a thin shell over the core (``fivecolor --help``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..problems import ProblemsError, tally
from ..rules.grades import GRADE_ORDER, MISSING_LABEL
from . import account_commands  # noqa: F401 (registers users provision and users import)
from .ops_commands import register as register_ops_commands
from .problem_lines import AllOpt, echo_problems
from .store_commands import register as register_store_commands
from .token_commands import tokens_app

if TYPE_CHECKING:
    from ..intake.inputs import Inputs

# pandas, pyarrow, the engine and the store load inside the commands that use them: `--help`
# and a typo cost a fraction of a second, not the whole stack. A command that grades files
# imports its own modules after `_graded`, whose files are parsed while pandas loads

app = typer.Typer(help="五色图: 基层党组织五色评估", no_args_is_help=True, add_completion=False)

ROOT = Path(__file__).resolve().parents[2]
RulesOpt = Annotated[list[Path], typer.Option("--rules", "-r", help="规则集 YAML,可重复")]
UnitsOpt = Annotated[Path | None, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")]
DataOpt = Annotated[list[Path], typer.Option("--data", "-d", help="月度指标表 CSV/XLSX,可重复")]
PeriodOpt = Annotated[str | None, typer.Option("--period", "-p", help="月份 YYYY-MM")]
EventsOpt = Annotated[
    list[str],
    typer.Option(
        "--events",
        "-e",
        help="其他系统的导出(每行一个事件),写作 来源=文件,可重复,"
        "如 hotline=sample_data/hotline_2026-10.csv",
    ),
]


def _events(pairs: list[str]) -> list[tuple[str, Path]]:
    out = []
    for pair in pairs:
        source, sep, path = pair.partition("=")
        if not sep or not source.strip() or not path.strip():
            typer.echo(f"--events 须写作 来源=文件(如 hotline=工单.csv),现在是“{pair}”", err=True)
            raise typer.Exit(2)
        out.append((source.strip(), Path(path.strip())))
    return out


def _report(inputs: Inputs, problems_out: Path | None = None, every: bool = False) -> bool:
    """Print the problems, a repeated one as one line (every row with ``every``); True when
    there is no error."""
    from ..outputs.exports import write_csv
    from ..problems.table import problems_frame

    echo_problems(inputs.problems, every)
    if problems_out is not None:
        write_csv(problems_frame(inputs.problems), problems_out)
    errors, warnings = tally(inputs.problems)
    if errors:
        typer.echo(f"共 {errors} 个错误、{warnings} 个警告:请改正后重试。", err=True)
    return not errors


def _graded(rules, units, data, period: str | None, events: list[str] = ()):
    """Load and check the files (every problem printed; exit 1 on an error), grade every month,
    and check that ``period`` is one of them: (inputs, assessments, periods)."""
    from ..intake.ahead import read_ahead

    pairs = _events(list(events))
    ahead = read_ahead(rules, units, data)  # parsed while pandas and the engine import
    from ..grading.graded import grade_inputs
    from ..intake.inputs import load_inputs

    inputs = load_inputs(rules, units, data, events=pairs, read=ahead.read)
    if not _report(inputs):
        raise typer.Exit(1)
    assessments = grade_inputs(inputs)
    periods = list(assessments[0].periods)
    _check_period(period, periods)
    return inputs, assessments, periods


def _check_period(period: str | None, available: list[str]) -> None:
    if period is not None and period not in available:
        typer.echo(
            f"数据中没有 {period} 的记录。已有的月份: {', '.join(available) or '无'}", err=True
        )
        raise typer.Exit(1)


@app.command()
def validate(
    rules: RulesOpt,
    units: UnitsOpt = None,
    data: DataOpt = [],  # noqa: B006 - typer reads the default
    period: PeriodOpt = None,
    problems_out: Annotated[Path | None, typer.Option(help="问题清单另存为 CSV")] = None,
    every: AllOpt = False,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """检查规则集、单位名册和月度数据,一次列出全部问题(同类问题合并为一行,--all 逐行列出)。"""
    from ..intake.inputs import load_inputs

    inputs = load_inputs(rules, units, data, period, _events(events))
    if not _report(inputs, problems_out, every):
        raise typer.Exit(1)
    rows = 0 if inputs.data is None else len(inputs.data)
    typer.echo(f"通过: {len(inputs.rule_sets)} 个规则集, {rows} 行数据。")


@app.command()
def grade(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="评定结果 CSV(UTF-8 BOM);以 .parquet 结尾则写 Parquet"),
    ],
    period: PeriodOpt = None,
    followups_out: Annotated[Path | None, typer.Option(help="处理意见建议另存为 CSV")] = None,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """评定:多个月份按顺序评定(连续月份升级需要前几个月),写出结果。"""
    _inputs, assessments, periods = _graded(rules, units, data, period, events)
    from ..grading.graded import graded_table
    from ..insight.followups import suggest
    from ..outputs.exports import write_csv, write_table

    chosen = [period] if period else periods
    table = graded_table(assessments, chosen)
    write_table(table, out)
    if followups_out is not None:
        import pandas as pd

        frames = [suggest(a, p) for a in assessments for p in chosen]
        write_csv(pd.concat(frames, ignore_index=True), followups_out)
    typer.echo(f"已写出 {len(table)} 行 → {out}")
    _print_counts(table)


@app.command()
def explain(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u")],
    data: DataOpt,
    unit: Annotated[str, typer.Option("--unit", help="单位代码")],
    period: PeriodOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出(供其他系统读取)")] = False,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """解释一个单位的颜色: 降级原因、维度得分、失分最多的指标、提升路径。"""
    from ..grading.graded import grade_inputs
    from ..insight.explain import explain as explain_unit
    from ..insight.explanation import explanation_json
    from ..intake.inputs import load_inputs
    from ..intake.textcols import printable

    inputs = load_inputs(rules, units, data, events=_events(events))
    if not _report(inputs):
        raise typer.Exit(1)
    for a in grade_inputs(inputs):
        if unit in set(a.units["unit_code"]):
            periods = list(a.periods)
            _check_period(period, periods)
            e = explain_unit(a, unit, period or periods[-1])
            if as_json:
                typer.echo(json.dumps(explanation_json(e), ensure_ascii=False, indent=2))
            else:
                typer.echo(printable(e.render()))
            return
    typer.echo(f"单位 {unit} 不在任何规则集的评定范围内:请核对单位代码", err=True)
    raise typer.Exit(1)


@app.command()
def stability(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="稳定性 CSV(UTF-8 BOM)")],
    period: PeriodOpt = None,
    draws: Annotated[int, typer.Option(help="权重抽样次数", min=10, max=100_000)] = 1000,
    spread: Annotated[
        float, typer.Option(help="每个权重的浮动幅度(0.25 即 ±25%)", min=0, max=0.9)
    ] = 0.25,
    band_shift: Annotated[float, typer.Option(help="分数线浮动 ± 分", min=0, max=20)] = 0.0,
    seed: Annotated[int, typer.Option(help="随机种子(同一种子结果可复现)")] = 0,
    threshold: Annotated[float, typer.Option(help="低于此比例为边界单位", min=0, max=1)] = 0.8,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """等级稳定性: 权重在 ±spread 内随机浮动时,每个单位保持原等级的比例;低于 0.8 为“边界单位”。"""
    _inputs, assessments, periods = _graded(rules, units, data, period, events)
    import pandas as pd

    from ..insight.stability import stability as stability_of
    from ..outputs.exports import write_csv

    month = period or periods[-1]
    frames = [
        stability_of(a, month, draws, spread, band_shift, seed)
        for a in assessments
        if month in a.periods
    ]
    table = pd.concat(frames, ignore_index=True)
    table["borderline"] = table["stability"] < threshold
    write_csv(table, out)
    shaky = int(table["borderline"].sum())
    typer.echo(f"{month}: {len(table)} 个单位,{draws} 次抽样,边界单位 {shaky} 个 → {out}")


@app.command()
def forecast(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="预警 CSV(UTF-8 BOM)")],
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="用截至该月的数据预测下月")
    ] = None,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """预警: 按各单位以往月份预测下月得分和成为橙/红的概率,并回测与“下月等级不变”的对比。"""
    _inputs, assessments, _periods = _graded(rules, units, data, period, events)
    import pandas as pd

    from ..insight.forecast import backtest
    from ..insight.forecast import forecast as forecast_of
    from ..outputs.exports import write_csv

    table = pd.concat([forecast_of(a, period) for a in assessments], ignore_index=True)
    write_csv(table, out)
    risky = int((table["p_orange_or_red"] >= 0.5).sum())
    typer.echo(
        f"预测 {table['period'].iloc[0]}: {len(table)} 个单位,橙/红概率 ≥ 50% 的 {risky} 个 → {out}"
    )
    for a in assessments:
        b = backtest(a)
        typer.echo(
            f"回测 {a.rules.name}({b['months']} 个月): 预测 精确率 {b['model_precision']:.0%} "
            f"召回率 {b['model_recall']:.0%};“等级不变” 精确率 {b['naive_precision']:.0%} "
            f"召回率 {b['naive_recall']:.0%}"
        )


@app.command()
def quota(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    max_share: Annotated[
        list[str], typer.Option("--max-share", help="如 red=0.10:红色不超过 10%(可重复)")
    ] = [],  # noqa: B006 - typer reads the default
    bottom: Annotated[float | None, typer.Option(help="末位比例,如 0.05")] = None,
    period: PeriodOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="另存为 CSV")] = None,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """名额检查(仅供参考,不改变任何等级): 按比例名额会影响哪些单位。"""
    shares = {}
    for item in max_share:
        grade, _, value = item.partition("=")
        try:
            shares[grade.strip()] = float(value)
        except ValueError:
            typer.echo(f"“{item}”应写成 等级=比例,如 red=0.10", err=True)
            raise typer.Exit(1) from None
    _inputs, assessments, periods = _graded(rules, units, data, period, events)
    from ..grading.graded import graded_table
    from ..insight.quota import quota_check
    from ..outputs.exports import write_csv

    month = period or periods[-1]
    try:
        table = quota_check(graded_table(assessments, [month]), shares, bottom)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if out is not None:
        write_csv(table, out)
    typer.echo(f"{month}: 名额会影响 {len(table)} 个单位(仅供参考,等级不变)")
    for r in table.itertuples():
        typer.echo(f"  {r.unit_code} {r.unit_name} {r.grade} {r.score:.1f} · {r.rule} · {r.effect}")


@app.command()
def peers(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="同类比较 CSV(UTF-8 BOM)")],
    period: PeriodOpt = None,
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """同类比较: 每个单位在同类型、规模相近单位中的名次,近三个月进步,以及“水平与进步”判断。"""
    inputs, assessments, periods = _graded(rules, units, data, period, events)
    import pandas as pd

    from ..insight.peers import fair_comparison
    from ..outputs.exports import write_csv

    month = period or periods[-1]
    values = inputs.data[inputs.data["period"] == month]
    table = pd.concat(
        [fair_comparison(a, month, values) for a in assessments if month in a.periods],
        ignore_index=True,
    )
    write_csv(table, out)
    typer.echo(f"{month}: {len(table)} 个单位 → {out}")
    for profile, n in table["profile"].value_counts().items():
        if profile:
            typer.echo(f"  {profile}: {n}")


@app.command()
def rollup(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="汇总 CSV(UTF-8 BOM)")],
    period: PeriodOpt = None,
    level: Annotated[
        str, typer.Option(help="名册中的层级: 省、市、区县、街道/乡镇…(street、county 亦可)")
    ] = "street",
    events: EventsOpt = [],  # noqa: B006 - typer reads the default
) -> None:
    """按任一层级汇总(省、市、区县、街道/乡镇…): 各等级单位数、平均分、好转与变差的比例、汇总等级。"""
    import datetime as dt

    inputs, assessments, periods = _graded(rules, units, data, period, events)
    import pandas as pd

    from ..grading.graded import graded_table
    from ..insight.levels import build_tree
    from ..insight.rollup import rollup as roll
    from ..insight.worklist import parent_summary
    from ..outputs.exports import write_csv
    from ..rules.grades import GRADE_KEYS

    tree = build_tree(inputs.registry)
    name = {"street": "街道/乡镇", "county": "区县"}.get(level, level)
    chosen = tree.named(name)
    if chosen is None or chosen.index == tree.levels[-1].index:
        above = "、".join(lv.name for lv in tree.levels[:-1])
        typer.echo(f"--level “{level}”不是名册中可汇总的层级:可用 {above}", err=True)
        raise typer.Exit(1)
    month = period or periods[-1]
    k = periods.index(month)
    now = graded_table(assessments, [month])
    before = graded_table(assessments, [periods[k - 1]]) if k > 0 else None
    main = max(assessments, key=lambda a: len(a.units)).compiled
    labels = [main.label(r) for r in range(len(GRADE_KEYS))]
    parents = roll(now, inputs.registry, main.rules.rollup, list(main.min_scores), labels)
    no_tasks = pd.DataFrame(columns=["unit_code", "due_date", "closed_at"])
    up = pd.Series(tree.ancestor_at(chosen.index), index=tree.codes)
    table = parent_summary(
        now,
        before,
        inputs.registry,
        parents,
        no_tasks,
        dt.date.today(),
        group=now["unit_code"].map(up),
    ).drop(columns=["tasks_due", "closed_on_time", "completion"])
    write_csv(table, out)
    typer.echo(f"{month}: {len(table)} 个{chosen.name} → {out}")


@app.command()
def template(
    rules: RulesOpt,
    units: Annotated[Path, typer.Option("--units", "-u", help="单位名册 CSV/XLSX")],
    out: Annotated[Path, typer.Option("--out", "-o", help="模板 .xlsx")],
    period: PeriodOpt = None,
    parent: Annotated[str | None, typer.Option(help="只含某街道/乡镇(代码)下的单位")] = None,
) -> None:
    """按规则集生成月度填报模板(.xlsx):中文表头、单位已预填、有效范围校验。"""
    from ..intake.ingest import parse_period
    from ..intake.inputs import load_inputs
    from ..intake.registry import leaf_units
    from ..outputs.spreadsheets import make_template

    if period is not None and parse_period(period) is None:
        typer.echo(f"月份“{period}”无法识别:请写成 2026-10、2026/10 或 2026年10月", err=True)
        raise typer.Exit(1)
    period = parse_period(period) if period is not None else None
    inputs = load_inputs(rules, units)
    if not _report(inputs):
        raise typer.Exit(1)
    reg = inputs.registry
    leaves = leaf_units(reg)
    if parent:
        leaves = leaves[leaves["parent_code"] == parent]
    types = {t for r in inputs.rule_sets for t in (r.rules.applies_to or leaves["unit_type"])}
    leaves = leaf_units(leaves, types)
    out.write_bytes(make_template([r.rules for r in inputs.rule_sets], leaves, period))
    typer.echo(f"模板: {len(leaves)} 个单位 → {out}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="评定结果 CSV")] = Path("out/sample_graded.csv"),
) -> None:
    """在自带的示例区县上评定全部12个月,打印每月各颜色的单位数。"""
    from ..grading.graded import grade_inputs, graded_table
    from ..intake.inputs import load_inputs
    from ..outputs.exports import write_csv

    sample = ROOT / "sample_data"
    files = sorted(p for p in sample.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    inputs = load_inputs(
        [ROOT / "rules" / "community.yaml", ROOT / "rules" / "village.yaml"],
        sample / "units.csv",
        files,
        events=[("hotline", p) for p in sorted(sample.glob("hotline_*.csv"))],
    )
    if not _report(inputs):
        raise typer.Exit(1)
    table = graded_table(grade_inputs(inputs))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out)
    typer.echo(f"示例区县: {table['unit_code'].nunique()} 个村/社区, {len(files)} 个月 → {out}")
    _print_counts(table)


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="输出目录")] = ROOT / "sample_data",
    seed: Annotated[int, typer.Option(help="随机种子")] = 2026,
) -> None:
    """重新生成示例区县(单位名册 + 12个月指标表)。"""
    from ..intake.sample_district import write_sample

    files = write_sample(out, seed=seed)
    typer.echo(f"已生成 {len(files)} 个文件 → {out}")


def _print_counts(table) -> None:
    header = "月份      " + "".join(f"{g.label:>6}" for g in GRADE_ORDER) + f"{MISSING_LABEL:>6}"
    typer.echo(header)
    for period, group in table.groupby("period"):
        counts = group["grade"].value_counts()
        cells = [counts.get(g.key, 0) for g in GRADE_ORDER] + [int((group["grade"] == "").sum())]
        typer.echo(f"{period}   " + "".join(f"{n:>8}" for n in cells))


register_store_commands(app)
register_ops_commands(app)
app.add_typer(tokens_app, name="tokens")


def main() -> None:
    try:
        app()
    except ProblemsError as exc:  # a last net: problems are always shown, never a traceback
        typer.echo(exc.summary(), err=True)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
