"""Every page of the app, headless with Streamlit's AppTest, on a copy of the seeded sample."""

from __future__ import annotations

import ast
import datetime as dt
import json
import shutil

import pandas as pd
import pytest
import streamlit as st
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from assessment.service import hierarchy
from assessment.service.loading import load_district
from assessment.service.seed import DEMO_PASSWORD, seed_sample
from assessment.service.sessions import open_session
from assessment.store import Scope, open_database
from assessment.store.tasks import list_tasks
from assessment.store.uploads import upload_history

APP = str(ROOT / "streamlit_app.py")
BAD_GB18030 = ROOT / "tests" / "bad_uploads" / "gb18030_bad_rows.csv"
ALL = Scope.everything()


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "app.db"
    db = open_database(f"sqlite:///{path}")
    seed_sample(db)
    db.dispose()
    return path


def sign_in(at: AppTest, name: str, password: str = DEMO_PASSWORD) -> AppTest:
    """As the sign-in route does (tests/app/test_server.py): the password checked through the
    service and a session opened; its id stands in for the browser's cookie."""
    opened = open_session(at.db, name, password, "127.0.0.1", "AppTest")
    at.session_state["session_token"] = opened.token
    at.run()
    assert not at.exception, at.exception
    return at


def start(url: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("FIVECOLOR_DB", url)
    monkeypatch.setenv("FIVECOLOR_WARM_UP", "0")  # no background grading racing each test
    st.cache_resource.clear()  # the database handle is cached per process
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    at.db = open_database(url, upgrade=False)
    return at


@pytest.fixture
def fresh(seeded_file, tmp_path, monkeypatch):
    """The app on a copy of the seeded sample, at its login page."""
    path = tmp_path / "app.db"
    shutil.copy(seeded_file, path)
    at = start(f"sqlite:///{path}", monkeypatch)
    yield at
    at.db.dispose()
    st.cache_resource.clear()


@pytest.fixture
def app(fresh):
    """Signed in as the district administrator."""
    return sign_in(fresh, "admin")


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def open_tab(at: AppTest, label: str) -> AppTest:
    """The map's tab ``label`` opened, as a click on it does (the tabs rerun when switched)."""
    at.session_state["map_view"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def page(at: AppTest, path: str) -> AppTest:
    at.switch_page(path)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_counts_with_labels_and_the_tile_grid(app):
    labels = [m.label for m in app.metric]
    assert labels == ["绿·好", "蓝·较好", "黄·合格", "橙·较差", "红·差", "数据不全"]
    district = load_district(app.db)
    latest = district.table(district.periods[-1])
    keys = ["green", "blue", "yellow", "orange", "red", ""]
    assert [int(m.value) for m in app.metric] == [int((latest["grade"] == g).sum()) for g in keys]
    before = district.table(district.periods[-2])  # the change: drawn after the map, in place
    assert [int(m.delta) for m in app.metric] == [
        int((latest["grade"] == g).sum() - (before["grade"] == g).sum()) for g in keys
    ]
    assert len(app.get("vega_lite_chart")) == 1
    spec = json.dumps(json.loads(app.get("vega_lite_chart")[0].proto.spec), ensure_ascii=False)
    assert "绿·好" in spec and "#2e9d48" in spec  # colors with their labels, from the one table


def test_clicking_a_tile_opens_that_unit(app):
    app.session_state["grid"] = {"selection": {"pick": [{"unit_code": "500188006003"}]}}
    app.run()
    assert not app.exception
    assert app.title[0].value == "单位详情"
    assert app.selectbox(key="unit_select").value == "500188006003"


def test_a_street_zooms_in_from_the_street_level(app):
    app.radio(key="level").set_value("街道/乡镇").run()
    app.session_state["drill_1_"] = {"selection": {"zoom": [{"unit_code": "500188002000"}]}}
    app.run()
    assert not app.exception
    assert app.selectbox(key="parent_select").value == "500188002000"
    assert sum(int(m.value) for m in app.metric) == 14  # 双凤街道's communities


def test_a_street_organizer_sees_only_their_street(fresh):
    at = sign_in(fresh, "org02")  # 双凤街道组织委员
    assert sum(int(m.value) for m in at.metric) == 14
    assert at.selectbox(key="parent_select").options == ["全部", "双凤街道"]


def test_unit_page_explains_a_vetoed_unit_and_turns_a_suggestion_into_a_task(app):
    app.session_state["unit"] = "500188006003"
    app.session_state["period"] = "2026-02"
    page(app, "app/unit.py")
    assert any(
        "发生2人及以上亡人事故" in e.value and "安全生产责任制" in e.value for e in app.error
    )
    assert any("仅提高分数不能改变等级" in i.value for i in app.info)
    before = len(list_tasks(app.db, ALL))
    buttons = [b for b in app.button if b.label == "生成督办事项"]
    assert buttons
    buttons[0].click().run()
    assert not app.exception
    assert len(list_tasks(app.db, ALL)) == before + 1


def test_upload_of_a_gb18030_file_with_bad_rows_lists_every_issue_and_imports_nothing(app):
    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-03").run()
    history_before = upload_history(app.db, ALL)
    app.file_uploader(key="upload_file").set_value(
        (BAD_GB18030.name, BAD_GB18030.read_bytes(), "text/csv")
    ).run()
    assert not app.exception
    assert any("发现 2 个错误" in e.value for e in app.error)
    problems = table_with(app, "问题")
    assert set(problems["问题"]) >= {"不是数字", "超出有效范围"}  # in Chinese, no codes
    assert "“很高”不是数字" in " ".join(problems["说明及修改方法"])
    assert not [b for b in app.button if b.label.startswith("确认导入")]
    pd.testing.assert_frame_equal(upload_history(app.db, ALL), history_before)


def test_an_upload_wrong_on_every_row_counts_every_row_and_lists_it_as_one(app):
    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-10").run()
    frame = pd.read_csv(ROOT / "sample_data" / "indicators_2026-10.csv", dtype=str)
    frame["dues_paid_rate"] = "很高"  # on all 170 rows: more than the collector lists
    app.file_uploader(key="upload_file").set_value(
        ("all-wrong.csv", frame.to_csv(index=False).encode(), "text/csv")
    ).run()
    assert not app.exception
    assert any(f"发现 {len(frame)} 个错误" in e.value for e in app.error)
    problems = table_with(app, "问题")
    assert len(problems) == 1 and problems.iloc[0]["处数"] == len(frame)


def test_upload_of_a_good_file_is_previewed_then_imported_on_confirm(app):
    page(app, "app/upload.py")
    good = (ROOT / "sample_data" / "indicators_2026-10.csv").read_bytes()
    fixed = good.replace(b"500188001001,", b"500188001001,", 1)
    frame = pd.read_csv(__import__("io").BytesIO(fixed), dtype=str, keep_default_na=False)
    frame.loc[0, "theme_day_attendance_rate"] = "99"
    app.selectbox(key="upload_period").set_value("2026-10").run()
    app.file_uploader(key="upload_file").set_value(
        ("fix.csv", frame.to_csv(index=False).encode(), "text/csv")
    ).run()
    confirm = [b for b in app.button if b.label.startswith("确认导入")]
    assert confirm
    confirm[0].click().run()
    assert not app.exception
    assert any("已导入" in s.value for s in app.success)
    assert upload_history(app.db, ALL).iloc[0]["filename"] == "fix.csv"


def test_a_weight_change_lists_the_units_that_would_change_color(app):
    page(app, "app/weights.py")
    assert any("0 个单位会变色" in m.value for m in app.markdown)
    app.number_input(key="band_community_green").set_value(85.0).run()
    assert not app.exception
    changed = table_with(app, "从")
    assert len(changed) > 0
    assert set(changed["从"]) == {"蓝·较好"} and set(changed["到"]) == {"绿·好"}
    counts = table_with(app, "调整后").set_index("等级")
    assert counts.loc["绿·好", "变化"] == len(changed)


def test_saving_a_weight_change_makes_a_new_unpublished_version(app):
    from assessment.store.assessments import rule_versions

    page(app, "app/weights.py")
    app.number_input(key="band_community_green").set_value(85.0).run()
    app.text_input(key="note_community").set_value("好的分数线降到85").run()
    next(b for b in app.button if b.label == "保存为新版本").click().run()
    assert not app.exception
    versions = rule_versions(app.db, "community")
    assert len(versions) == 2
    assert not versions.iloc[-1]["published"] and versions.iloc[-1]["note"] == "好的分数线降到85"


def step(app, to: str, comment: str) -> int:
    """Move the open task one step with a comment, as the page offers it."""
    task = int(app.selectbox(key="task_pick").value)
    to_box = next(b for b in app.selectbox if str(b.key).startswith(f"task_to_{task}_"))
    to_box.set_value(to)
    box = next(t for t in app.text_input if str(t.key).startswith(f"task_comment_{task}_"))
    box.set_value(comment)
    app.button(key="task_submit").click().run()
    assert not app.exception
    return task


def test_tasks_move_along_with_a_comment(app):
    page(app, "app/tasks.py")
    first = step(app, "整改中", "已约谈")
    tasks = list_tasks(app.db, ALL).set_index("id")
    assert tasks.loc[first, "status"] == "整改中"
    assert any(f"#{first}" in s.value for s in app.success)  # said after the page redraws


def test_the_comment_box_starts_empty_for_another_task_and_for_the_next_step(app):
    page(app, "app/tasks.py")
    first = step(app, "整改中", "已约谈")
    comments = [t for t in app.text_input if str(t.key).startswith(f"task_comment_{first}_")]
    assert [c.value for c in comments] == [""]  # the next step of the same task: empty
    open_ids = list_tasks(app.db, ALL).query("status != '已销号'")["id"]
    app.selectbox(key="task_pick").set_value(int(next(i for i in open_ids if i != first))).run()
    other = int(app.selectbox(key="task_pick").value)
    box = next(t for t in app.text_input if str(t.key).startswith(f"task_comment_{other}_"))
    assert box.value == ""


def test_red_and_orange_units_get_their_tasks_in_one_step_and_closed_ones_stay_findable(app):
    from assessment.store.tasks import move_task

    before = len(list_tasks(app.db, ALL))
    page(app, "app/tasks.py")
    app.button(key="tasks_urgent").click().run()
    assert not app.exception
    assert any("都已有督办事项" in s.value for s in app.success)  # the seed made them already
    assert len(list_tasks(app.db, ALL)) == before
    task = int(list_tasks(app.db, ALL)["id"].iloc[0])
    for to, who in (("整改中", "org"), ("待验收", "org"), ("已销号", "supervisor")):
        move_task(app.db, ALL, task, to, who, "ok")
    app.run()
    assert not [o for o in app.selectbox(key="task_pick").options if o.startswith(f"#{task} ")]
    app.text_input(key="task_search").set_value(f"#{task}").run()
    assert [o.split(" ")[0] for o in app.selectbox(key="task_pick").options] == [f"#{task}"]


def test_a_supervisor_changes_owner_and_deadline_with_history(app):
    import datetime as dt

    from assessment.store.tasks import task_events

    page(app, "app/tasks.py")
    task = int(app.selectbox(key="task_pick").value)
    app.text_input(key=f"task_owner_{task}").set_value("龙溪街道党工委")
    app.date_input(key=f"task_due_{task}").set_value(dt.date(2027, 1, 15))
    app.text_input(key=f"task_why_{task}").set_value("书记病假")
    app.button(key=f"task_edit_{task}").click().run()
    assert not app.exception
    row = list_tasks(app.db, ALL).set_index("id").loc[task]
    assert row["owner_role"] == "龙溪街道党工委" and row["due_date"] == dt.date(2027, 1, 15)
    last = task_events(app.db, ALL, task).iloc[-1]["comment"]
    assert "龙溪街道党工委" in last and "2027-01-15" in last and "书记病假" in last


def test_a_task_history_shows_each_step_at_the_time_where_people_are(app):
    from app.common import local_time
    from assessment.store.tasks import task_events

    page(app, "app/tasks.py")
    task = int(app.selectbox(key="task_pick").value)
    stored = task_events(app.db, ALL, task)
    history = next(t.value for t in app.dataframe if "办理人" in t.value.columns)
    # stored in UTC; Beijing is eight hours ahead: the table shows the hour people read
    assert list(history["时间"]) == [local_time(at) for at in stored["at"]]
    assert list(history["新状态"]) == list(stored["to"]) and len(history) >= 1


def test_trends_show_the_heatmap_transitions_and_falling_units(app):
    page(app, "app/trends.py")
    assert len(app.get("vega_lite_chart")) == 3
    assert [s.value for s in app.subheader] == [
        "各单位逐月颜色",
        "月度颜色变化",
        "连续下滑的单位",
        "预警:下月可能变差的单位",
        "水平与进步(同类比较)",
    ]


def test_overview_says_whether_the_month_is_published_and_current(app):
    assert any("显示的是已发布的评定结果" in s.value for s in app.success)
    assert not [w for w in app.warning if "试评" in w.value or "发布时" in w.value]
    good = (ROOT / "sample_data" / "indicators_2026-10.csv").read_bytes()
    frame = pd.read_csv(__import__("io").BytesIO(good), dtype=str, keep_default_na=False)
    frame.loc[0, "theme_day_attendance_rate"] = "99"
    from assessment.service.loading import load_district
    from assessment.store.uploads import import_monthly

    sets = [r.rules for r in load_district(app.db).rules]
    import_monthly(app.db, frame.to_csv(index=False).encode(), "fix.csv", "x", ALL, sets)
    app.run()
    assert any("显示的是发布时的结果" in w.value for w in app.warning)


def publish_from_weights_page(app, period: str | None = None) -> None:
    """Save a lower 好 line for 社区 as a new version and publish ``period`` with it, through
    the confirmation."""
    page(app, "app/weights.py")
    if period:
        app.selectbox(key="period_试算月份").set_value(period).run()
    app.number_input(key="band_community_green").set_value(85.0).run()
    app.text_input(key="note_community").set_value("好的分数线降到85").run()
    next(b for b in app.button if b.label == "保存为新版本").click().run()
    assert any("新版本" in s.value for s in app.success)  # said, and the page redrawn
    app.button(key="ask_weights").click().run()
    plan = table_with(app, "将变色的单位").set_index("规则集")
    assert len(plan) == 2  # the district's rule sets are published together
    assert plan["将变色的单位"].sum() > 0
    app.button(key="yes_weights").click().run()
    assert not app.exception
    assert any(s.value.startswith("已发布") for s in app.success)


def test_a_published_month_stays_as_published_when_a_later_month_gets_a_new_version(app):
    from assessment.store.assessments import assessments, rule_versions

    counts = [int(m.value) for m in app.metric]  # 2026-10 as published by the seed
    app.selectbox(key="period_月份").set_value("2026-09").run()
    before = [int(m.value) for m in app.metric]
    publish_from_weights_page(app, "2026-10")
    new = int(rule_versions(app.db, "community").iloc[-1]["id"])
    runs = assessments(app.db)
    published = runs[runs["status"] == "published"]
    assert set(published.loc[published["rule_set_version_id"] == new, "period"]) == {"2026-10"}
    page(app, "app/overview.py")
    app.selectbox(key="period_月份").set_value("2026-09").run()
    assert [int(m.value) for m in app.metric] == before  # the month before is untouched
    assert any("显示的是已发布的评定结果" in s.value for s in app.success)
    app.selectbox(key="period_月份").set_value("2026-10").run()
    assert int(app.metric[0].value) > counts[0]  # more 好 under the new line
    # the unit page of a month cites the version that month was published with
    page(app, "app/unit.py")
    app.selectbox(key="period_月份").set_value("2026-09").run()
    cited = next(m for m in app.metric if m.label == "规则集版本").value
    assert not cited.endswith("-调整")
    app.selectbox(key="period_月份").set_value("2026-10").run()
    assert next(m for m in app.metric if m.label == "规则集版本").value.endswith("-调整")


def test_publishing_a_new_version_from_the_weights_page(app):
    from assessment.store.assessments import assessments, rule_versions

    publish_from_weights_page(app)
    new = int(rule_versions(app.db, "community").iloc[-1]["id"])
    runs = assessments(app.db, "2026-10")
    assert ((runs["rule_set_version_id"] == new) & (runs["status"] == "published")).any()
    page(app, "app/overview.py")
    greens = next(m for m in app.metric if m.label == "绿·好")
    assert int(greens.value) > 34  # the overview now shows the published new version


def test_county_level_shows_the_district_tile(app):
    app.radio(key="level").set_value("区县").run()
    assert not app.exception
    assert len(app.get("vega_lite_chart")) == 1
    assert any("区县的等级由下属街道/乡镇的得分汇总而来" in c.value for c in app.caption)
    assert not [c for c in app.caption if "rollup" in c.value]  # no code words on screen


def test_the_map_lists_red_and_orange_units_ranks_streets_and_filters_by_color(app):
    district = load_district(app.db)
    period = district.periods[-1]
    table = district.table(period)
    bad = table[table["grade"].isin(["red", "orange"])]
    assert [t.label for t in app.tabs] == ["五色图", "红橙单位清单", "排名"]
    assert not app.dataframe  # the tabs not open are not drawn: the map's first paint is its own
    work = table_with(open_tab(app, "红橙单位清单"), "变化")
    assert len(work) == len(bad) and set(work["等级"]) <= {"红·差", "橙·较差"}
    assert list(work["等级"]).index("橙·较差") > list(work["等级"]).index("红·差")  # worst first
    assert not app.get("vega_lite_chart") and app.query_params["view"] in (
        "红橙单位清单",
        ["红橙单位清单"],
    )
    ranking = table_with(open_tab(app, "排名"), "红·差")
    assert ranking["红·差"].sum() == (bad["grade"] == "red").sum()
    assert ranking["红·差"].tolist()[0] + ranking["橙·较差"].tolist()[0] == max(
        r + o for r, o in zip(ranking["红·差"], ranking["橙·较差"], strict=True)
    )
    open_tab(app, "五色图").pills(key="grade_filter").set_value(["red"]).run()
    assert not app.exception and "view" not in app.query_params
    assert chart_codes(app.get("vega_lite_chart")[0]) == set(
        bad.loc[bad["grade"] == "red", "unit_code"]
    )


def test_a_missing_value_in_a_table_reads_as_a_dash_not_the_word_none(app):
    ranking = next(
        df for df in open_tab(app, "排名").dataframe if "督办按期销号" in df.value.columns
    )
    assert ranking.value["督办按期销号"].isna().any()  # streets with no follow-up due yet
    assert ranking.proto.placeholder == "—"
    calls = [  # and every table of every page says so (Streamlit's own placeholder: None)
        node
        for path in sorted((ROOT / "app").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
    ]
    direct = [  # Streamlit's tables called as they are: in common.grid, the weights' editor
        c
        for c in calls
        if isinstance(c.func, ast.Attribute)
        and c.func.attr in ("dataframe", "data_editor")
        and getattr(c.func.value, "id", None) == "st"
    ]
    through_grid = [c for c in calls if getattr(c.func, "id", None) == "grid"]
    assert len(direct) + len(through_grid) > 20
    assert all(any(k.arg == "placeholder" for k in call.keywords) for call in direct)


def chart_codes(chart) -> set[str]:
    """The unit codes a chart draws (its datasets travel as Arrow IPC beside the spec)."""
    import pyarrow as pa

    codes: set[str] = set()
    for ds in chart.proto.datasets:
        table = pa.ipc.open_stream(ds.data.data).read_all()
        if "unit_code" in table.column_names:
            codes |= {c for c in table.column("unit_code").to_pylist() if c}
    return codes


def test_a_level_of_more_tiles_than_a_page_is_paged_by_whole_groups(app, monkeypatch):
    """Every unit is on exactly one page, no page holds more than a page's tiles, and a
    street's units are never split across two pages (none has more than a page)."""
    monkeypatch.setattr(hierarchy, "PAGE_TILES", 40)
    app.radio(key="level").set_value("村/社区").run()
    assert not app.exception, app.exception
    box = app.selectbox(key="tile_page")
    units = load_district(app.db).registry
    leaves = units[~units["unit_code"].isin(units["parent_code"])]
    assert box.label.startswith(f"共 {len(leaves)} 个村/社区,分 {len(box.options)} 页")
    seen: list[set[str]] = []
    for number in range(1, len(box.options) + 1):
        app.selectbox(key="tile_page").set_value(number).run()
        seen.append(chart_codes(app.get("vega_lite_chart")[0]))
    assert all(0 < len(codes) <= 40 for codes in seen)
    assert sorted(c for codes in seen for c in codes) == sorted(leaves["unit_code"])
    street_of = dict(zip(leaves["unit_code"], leaves["parent_code"], strict=True))
    pages_of_street: dict[str, set[int]] = {}
    for number, codes in enumerate(seen):
        for code in codes:
            pages_of_street.setdefault(street_of[code], set()).add(number)
    assert all(len(p) == 1 for p in pages_of_street.values())
    open_tab(open_tab(app, "红橙单位清单"), "五色图")  # back from another tab: the same page
    assert app.selectbox(key="tile_page").value == len(box.options)
    assert chart_codes(app.get("vega_lite_chart")[0]) == seen[-1]


def test_searching_a_unit_opens_its_page(app):
    app.selectbox(key="unit_search").set_value("500188001003").run()
    assert not app.exception
    assert app.session_state["unit"] == "500188001003"


PAGES = ["app/overview.py", "app/unit.py", "app/upload.py", "app/weights.py", "app/tasks.py"]
PAGES += ["app/trends.py"]


def test_a_configured_empty_database_shows_only_how_to_create_the_first_admin(
    tmp_path, monkeypatch
):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    at = start(url, monkeypatch)
    assert any("请先登录" in i.value for i in at.info)  # the sign-in page says the rest
    assert not at.metric and not at.get("vega_lite_chart")
    assert not any("演示模式" in w.value for w in at.warning)  # never demo accounts
    assert load_district(at.db).registry.empty  # the sample was not loaded into it
    at.db.dispose()
    st.cache_resource.clear()


def test_every_page_says_what_is_missing_on_an_empty_database_and_with_rules_only(
    tmp_path, monkeypatch
):
    from assessment.rules.loader import load_rules
    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.store.assessments import save_rule_set
    from assessment.store.registry import import_registry

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db = open_database(url)
    add_user(db, Principal.operator(), "chief", "admin", None, "a-long-secret")
    at = sign_in(start(url, monkeypatch), "chief", "a-long-secret")
    assert any("还没有单位名册" in i.value for i in at.info)
    for path in PAGES:
        page(at, path)
    units = (ROOT / "sample_data" / "units.csv").read_bytes()
    import_registry(db, units, "units.csv", "chief", ALL)
    save_rule_set(db, load_rules(ROOT / "rules" / "community.yaml"), "chief")
    for path in PAGES:  # rules but no monthly data: no page fails (weights raised StopIteration)
        page(at, path)
        assert any("还没有任何月份的数据" in i.value for i in at.info) or path in (
            "app/upload.py",
            "app/tasks.py",
            "app/weights.py",
        )
    db.dispose()
    at.db.dispose()
    st.cache_resource.clear()


def test_a_unit_that_did_not_report_is_shown_as_data_incomplete_never_colored(app):
    app.session_state["unit"] = "500188102202"
    app.session_state["period"] = "2026-08"
    page(app, "app/unit.py")
    assert any("数据不全" in w.value and "本月未上报" in w.value for w in app.warning)
    badge = next(m.value for m in app.markdown if "<span" in m.value)
    assert "数据不全" in badge  # the badge says so; no color label
    assert not any(label in badge for label in ("绿·好", "蓝·较好", "黄·合格", "橙·较差", "红·差"))


def test_each_role_sees_only_the_actions_it_may_take(fresh):
    org = sign_in(fresh, "org01")  # 龙溪街道组织委员
    page(org, "app/upload.py")
    assert org.get("file_uploader") and org.get("download_button")
    org.session_state["unit"] = "500188001001"
    page(org, "app/unit.py")
    assert not [b for b in org.button if b.label == "生成督办事项"]
    page(org, "app/weights.py")
    assert not [b for b in org.button if b.label == "保存为新版本" or b.key == "ask_weights"]
    assert any("只有规则管理员或管理员可以发布" in c.value for c in org.caption)


def test_a_supervisor_has_no_uploader_and_no_audit_page(fresh):
    watch = sign_in(fresh, "supervisor")
    page(watch, "app/upload.py")
    assert not watch.get("file_uploader")
    assert any("督导不上传数据" in i.value for i in watch.info)
    assert not any("数据库" in c.value for c in watch.sidebar.caption)  # admins only


def test_the_audit_page_filters_and_exports_inert_csv(app):
    from assessment.service import Principal, Service

    Service(app.db, Principal.operator("=HYPERLINK(1)")).sign_out()  # a hostile account name
    page(app, "app/audit.py")
    log = table_with(app, "操作")
    assert "登录" in set(log["操作"]) and "admin" in set(log["账户"])
    app.text_input(key="audit_who").set_value("=HYPERLINK(1)").run()
    assert set(table_with(app, "操作")["账户"]) == {"=HYPERLINK(1)"}
    csv = app.get("download_button")[0].proto.url
    assert csv  # the export is offered; its cells are checked in test_exports
    assert any("数据库" in c.value for c in app.sidebar.caption)


def test_an_idle_session_ends_and_sign_out_returns_to_the_login_page(app):
    from sqlalchemy import update

    from assessment.store.schema import SignInSession, now
    from assessment.store.sessions import digest

    token = app.session_state["session_token"]
    with app.db.transaction() as s:  # the session was last used longer ago than the idle limit
        s.execute(
            update(SignInSession)
            .where(SignInSession.id == digest(token))
            .values(idle_expires_at=now() - dt.timedelta(seconds=1))
        )
    app.run()
    assert any("长时间未操作" in i.value for i in app.info)
    assert not app.metric
    at = sign_in(app, "admin")
    assert at.metric
    held = at.session_state["session_token"]
    next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert any("已退出登录" in i.value for i in at.info)
    assert not at.metric
    at.session_state["session_token"] = held  # the cookie the browser still had
    at.run()
    assert not at.metric  # the session is revoked in the store, not just forgotten by the page
    assert any("已退出登录" in i.value for i in at.info)


def test_after_the_readme_import_commands_the_app_shows_trial_grades(tmp_path, monkeypatch):
    """`import registry` then `import data -r …` (no `assess`): the rule sets used for the
    import are registered, so the map shows a trial grading at once."""
    from typer.testing import CliRunner

    from assessment.cli.main import app as cli

    url = f"sqlite:///{tmp_path / 'readme.db'}"
    run = CliRunner()
    sample = ROOT / "sample_data"
    rules = [
        "-r",
        str(ROOT / "rules" / "community.yaml"),
        "-r",
        str(ROOT / "rules" / "village.yaml"),
    ]
    assert (
        run.invoke(cli, ["import", "registry", str(sample / "units.csv"), "--db", url]).exit_code
        == 0
    )
    months = [str(sample / f"indicators_2026-{m}.csv") for m in ("09", "10")]
    result = run.invoke(cli, ["import", "data", *months, *rules, "--db", url])
    assert result.exit_code == 0, result.output
    added = run.invoke(
        cli, ["users", "add", "wang", "--role", "admin", "--db", url], input="pw-long-enough\n"
    )
    assert added.exit_code == 0, added.output
    at = sign_in(start(url, monkeypatch), "wang", "pw-long-enough")
    assert not [i.value for i in at.info if "还没有" in i.value]
    assert sum(int(m.value) for m in at.metric) == 170
    assert any("试评结果,尚未发布" in w.value for w in at.warning)  # a trial: a banner
    at.db.dispose()
    st.cache_resource.clear()


def test_the_unit_page_proposes_a_combined_plan_when_no_single_indicator_is_enough(app):
    app.session_state["unit"] = "500188001001"  # red in 2026-10, no single way up
    page(app, "app/unit.py")
    headline = next(m.value for m in app.markdown if "同时改进以下" in m.value)
    assert "重新评定为" in headline and "黄·合格" in headline
    plan = next(df.value for df in app.dataframe if "目标值" in df.value.columns)
    assert len(plan) >= 2 and (plan["目标值"] > plan["当前值"]).all()
    indicators = table_with(app, "满分值")
    assert indicators["满分值"].notna().any()
    assert "否决线" in indicators.columns


def test_an_organizer_attaches_evidence_to_a_task_and_downloads_it(fresh):
    org = sign_in(fresh, "org01")
    page(org, "app/tasks.py")
    task = int(org.selectbox(key="task_pick").value)
    uploader = next(
        u for u in org.file_uploader if str(u.key).startswith(f"evidence_upload_{task}")
    )
    uploader.set_value(("整改报告.pdf", b"%PDF-1.4 report", "application/pdf")).run()
    assert not org.exception
    assert any("已上传材料" in s.value for s in org.success)
    assert [b for b in org.get("download_button") if "整改报告.pdf" in b.proto.label]


def test_a_file_of_the_wrong_month_is_one_line_with_a_count_and_offers_its_month(app):
    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-10").run()
    september = (ROOT / "sample_data" / "indicators_2026-09.csv").read_bytes()
    app.file_uploader(key="upload_file").set_value(("sept.csv", september, "text/csv")).run()
    assert not app.exception
    problems = table_with(app, "处数")
    assert len(problems) == 1  # 170 identical rows collapsed, nothing else buried under them
    assert problems["处数"].iloc[0] == 170 and problems["列"].iloc[0] == "月份"
    app.button(key="use_file_month").click().run()
    assert app.selectbox(key="upload_period").value == "2026-09"
    assert not [e for e in app.error if "个错误" in e.value]


def test_the_preview_speaks_chinese_and_the_tracker_lists_who_has_not_reported(app):
    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-11").run()  # nobody has reported yet
    tracker = table_with(app, "未报单位")
    assert tracker["未报"].sum() == 170 and tracker["已报"].sum() == 0
    assert any("截止 2026-12-05" in i.value for i in [*app.info, *app.error])
    app.selectbox(key="upload_period").set_value("2026-10").run()
    october = (ROOT / "sample_data" / "indicators_2026-10.csv").read_bytes()
    app.file_uploader(key="upload_file").set_value(("oct.csv", october, "text/csv")).run()
    preview = next(df.value for df in app.dataframe if "单位代码" in df.value.columns)
    assert (
        "主题党日参加率" in preview.columns and "theme_day_attendance_rate" not in preview.columns
    )
    assert set(preview["支委会按月召开"].dropna()) == {"是", "否"}


def test_one_cell_is_corrected_online_as_a_new_checked_upload(app):
    from assessment.store.uploads import current_values

    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-10").run()
    app.selectbox(key="fix_unit").set_value("500188001001").run()
    app.selectbox(key="fix_column").set_value("theme_day_attendance_rate").run()
    app.text_input(key="fix_value").set_value("150").run()  # out of range: refused
    app.button(key="fix_submit").click().run()
    assert any("有效范围" in e.value for e in app.error)
    app.text_input(key="fix_value").set_value("96.5").run()
    app.text_input(key="fix_note").set_value("录入错误").run()
    app.button(key="fix_submit").click().run()
    assert not app.exception
    assert any("已更正" in s.value for s in app.success)
    values = current_values(app.db, ALL, ["2026-10"]).set_index("unit_code")
    assert values.loc["500188001001", "theme_day_attendance_rate"] == 96.5
    assert upload_history(app.db, ALL).iloc[0]["filename"].startswith("在线更正_500188001001")


def test_falling_units_are_counted_up_to_a_chosen_month(app):
    from assessment.insight.trends import worsening

    page(app, "app/trends.py")
    history = load_district(app.db).history()
    app.slider(key="fall_months").set_value(2).run()
    for month in sorted(history["period"].unique())[::-1]:
        want = worsening(history[history["period"] <= month], 2)
        app.selectbox(key="fall_until").set_value(month).run()
        assert any(f"统计截至 {month}" in c.value for c in app.caption)
        if len(want):
            table = table_with(app, "连续下滑月数")
            assert sorted(table["单位"]) == sorted(want["unit_code"].map(app_names(app)))
            break
    else:
        raise AssertionError("no month with falling units in the sample")


def app_names(at) -> dict[str, str]:
    registry = load_district(at.db).registry
    return dict(zip(registry["unit_code"], registry["unit_name"], strict=True))


def test_a_saved_draft_is_reopened_for_editing_and_versions_count_per_rule_set(app):
    page(app, "app/weights.py")
    app.number_input(key="band_community_green").set_value(85.0).run()
    app.text_input(key="note_community").set_value("好的分数线降到85").run()
    next(b for b in app.button if b.label == "保存为新版本").click().run()
    base = next(b for b in app.selectbox if str(b.key).startswith("base_community_"))
    from assessment.store.assessments import rule_versions

    newest = int(rule_versions(app.db, "community")["id"].max())
    assert base.value == newest  # the version just saved is the one open
    assert base.options[-1].startswith("第2版") and "草稿" in base.options[-1]
    assert app.number_input(key="band_community_green").value == 85.0  # the draft, reopened
    base.set_value(int(rule_versions(app.db, "community")["id"].min())).run()
    assert app.number_input(key="band_community_green").value == 90.0  # its own bands
    app.number_input(key="band_community_green").set_value(88.0).run()
    changed = table_with(app, "调整后的原因")
    assert changed["调整后的原因"].str.len().gt(0).all()


def test_a_borderline_unit_says_so_on_its_page_and_on_the_map(app):
    district = load_district(app.db)
    period = district.periods[-1]
    sure = district.stability(period)
    shaky = sure[sure["borderline"]].iloc[0]
    app.session_state["unit"] = shaky["unit_code"]
    page(app, "app/unit.py")
    metric = next(m for m in app.metric if m.label == "等级稳定性")
    assert metric.value == f"{shaky['stability']:.0%}"
    assert any("边界单位" in w.value for w in app.warning)
    page(app, "app/overview.py")
    assert any("边界" in c.value for c in app.caption)
    work = table_with(open_tab(app, "红橙单位清单"), "稳定性")
    assert work["稳定性"].between(0, 1).all()


def test_the_rules_page_ranks_the_weights_by_the_units_they_move(app):
    page(app, "app/weights.py")
    table = table_with(app, "调高25%变色")
    moved = table["调高25%变色"] + table["调低25%变色"]
    assert moved.is_monotonic_decreasing and moved.iloc[0] > 0
    assert set(table["类别"]) == {"维度", "指标"}


def test_the_unit_page_compares_a_unit_with_its_peers(app):
    app.session_state["unit"] = "500188001001"
    page(app, "app/unit.py")
    note = next(i.value for i in app.info if "同类比较" in i.value)
    assert "社区·规模" in note and "名" in note and "近三个月" in note


def test_folded_panels_are_drawn_only_when_opened(app):
    assert not any(b.key == "make_briefing" for b in app.button)
    assert not any(n.key == "quota_red" for n in app.number_input)
    app.session_state["briefing_open"] = True
    app.run()
    assert any(b.key == "make_briefing" for b in app.button)
    assert not any(n.key == "quota_red" for n in app.number_input)


def test_the_monthly_briefing_is_made_on_the_overview(app):
    app.session_state["briefing_open"] = True
    app.run()
    app.button(key="make_briefing").click().run()
    assert not app.exception
    labels = [b.proto.label for b in app.get("download_button")]
    assert "下载 Excel" in labels and "下载 PDF" in labels


def test_the_quota_check_lists_whom_a_share_would_affect_and_changes_nothing(app):
    before = [m.value for m in app.metric]
    app.session_state["quota_open"] = True
    app.run()
    app.number_input(key="quota_red").set_value(3.0).run()
    assert not app.exception
    hit = table_with(app, "影响")
    table = load_district(app.db).table(load_district(app.db).periods[-1])
    reds = int((table["grade"] == "red").sum())
    assert len(hit) == reds - int(0.03 * len(table))
    assert [m.value for m in app.metric] == before  # no grade moved


def test_the_link_to_copy_is_made_when_its_popover_opens_and_names_the_view(app):
    assert not app.code  # closed: nothing of it is drawn
    app.session_state["copy_map"] = True
    app.run()
    month = app.session_state["period"]
    assert f"month={month}" in app.code[0].value


def test_a_link_opens_the_unit_and_month_it_names_and_the_address_follows_the_view(app):
    app.query_params["unit"] = "500188102202"
    app.query_params["month"] = "2026-08"
    page(app, "app/unit.py")
    assert app.selectbox(key="unit_select").value == "500188102202"
    assert app.selectbox(key="period_月份").value == "2026-08"
    app.selectbox(key="unit_select").set_value("500188001003").run()
    assert (
        app.query_params["unit"] == ["500188001003"] or app.query_params["unit"] == "500188001003"
    )


def test_a_link_to_a_unit_outside_the_scope_shows_nothing_of_it(fresh):
    org = sign_in(fresh, "org01")  # 龙溪街道: 500188001xxx
    org.query_params["unit"] = "500188102202"  # another street's unit
    page(org, "app/unit.py")
    assert any("不在您可查看的范围内" in w.value for w in org.warning)
    assert not org.metric
    assert not any("500188102202" in m.value for m in org.markdown if "<span" in m.value)


def test_a_link_opened_before_signing_in_opens_the_map_at_its_month_level_and_parent(fresh):
    fresh.query_params["month"] = "2026-09"
    fresh.query_params["level"] = "村/社区"
    fresh.query_params["parent"] = "500188002000"
    at = sign_in(fresh, "admin")
    assert at.selectbox(key="period_月份").value == "2026-09"
    assert at.radio(key="level").value == "村/社区"
    assert at.selectbox(key="parent_select").value == "500188002000"
    assert sum(int(m.value) for m in at.metric) == 14  # 双凤街道's communities


def test_a_link_opens_the_maps_list_tab_and_an_unknown_tab_is_ignored(fresh):
    fresh.query_params["view"] = "红橙单位清单"
    at = sign_in(fresh, "admin")
    assert table_with(at, "变化")["等级"].isin(["红·差", "橙·较差"]).all()
    assert not at.get("vega_lite_chart")
    at.query_params["view"] = "<script>"
    at.run()
    assert not table_with(at, "变化").empty  # a value that is no tab changes nothing


def test_a_reporter_sets_its_own_password_then_lands_on_its_unit_only(fresh):
    from assessment.service import Principal
    from assessment.service.accounts import add_user

    add_user(
        fresh.db,
        Principal.operator("test"),
        "r500188001001",
        "reporter",
        ["500188001001"],
        "Initial-Pw-123",
        "银杏苑社区",
        must_change_password=True,
    )
    at = sign_in(fresh, "r500188001001", "Initial-Pw-123")
    assert at.title[0].value == "设置您的密码" and not at.metric
    at.text_input(key="pw_current").set_value("Initial-Pw-123")
    at.text_input(key="pw_new").set_value("my-village-pw-9")
    at.text_input(key="pw_again").set_value("my-village-pw-9")
    next(b for b in at.button if b.label == "保存并进入").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "银杏苑社区"  # its home, not the district map
    assert any("的数据" in m.value for m in [*at.success, *at.warning])
    assert not at.get("vega_lite_chart")  # no map of other units
    page(at, "app/tasks.py")
    for table in [df.value for df in at.dataframe if "unit_name" in df.value.columns]:
        assert set(table["unit_name"]) <= {"银杏苑社区"}  # its own tasks only
    at.query_params["unit"] = "500188002001"  # a link to another unit
    page(at, "app/unit.py")
    assert any("不在您可查看的范围内" in w.value for w in at.warning) and not at.metric


def test_a_village_fills_its_month_on_the_form_and_the_street_reviews_it(fresh):
    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.service.actions import reporting_month
    from assessment.store.forms import get_entry
    from assessment.store.messages import inbox

    add_user(fresh.db, Principal.operator("t"), "yx", "reporter", ["500188001001"], "village-pw-1")
    month = reporting_month()
    october = pd.read_csv(ROOT / "sample_data" / "indicators_2026-10.csv", dtype=str).set_index(
        "unit_code"
    )
    row = october.loc["500188001001"]
    at = sign_in(fresh, "yx", "village-pw-1")
    page(at, "app/form.py")
    inputs = {t.key: t for t in at.text_input}
    radios = {r.key: r for r in at.radio}
    assert inputs and radios  # numbers typed, yes/no picked
    for key, box in inputs.items():
        value = row.get(key.removeprefix("f_"))
        box.set_value("" if pd.isna(value) else str(value))
    for key, choice in radios.items():
        choice.set_value("是" if str(row.get(key.removeprefix("f_"))) in ("1", "1.0") else "否")
    wrong = next(k for k in inputs if "rate" in k)
    inputs[wrong].set_value("250")
    at.run()
    assert any("250" in e.value or "范围" in e.value for e in at.error)  # at the field, in Chinese
    at.text_input(key=wrong).set_value(str(row.get(wrong.removeprefix("f_")))).run()
    next(b for b in at.button if b.label == "保存草稿").click().run()
    assert get_entry(at.db, "500188001001", month).status == "draft"
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception, at.exception
    assert get_entry(at.db, "500188001001", month).status == "submitted"
    assert any("若审核通过,预计为" in m.value for m in at.markdown)
    org = sign_in(at, "org01")  # the street's organizer
    page(org, "app/review.py")
    org.text_input(key="review_comment_500188001001").set_value("请核对党员人数").run()
    next(b for b in org.button if b.label == "退回修改").click().run()
    assert get_entry(org.db, "500188001001", month).comment == "请核对党员人数"
    assert [m.kind for m in inbox(org.db, "yx")] == ["form_returned"]
    back = sign_in(org, "yx", "village-pw-1")
    page(back, "app/form.py")
    assert any("请核对党员人数" in w.value for w in back.warning)
    next(b for b in back.button if b.label == "提交").click().run()
    street = sign_in(back, "org01")
    page(street, "app/review.py")
    next(b for b in street.button if b.label == "审核通过").click().run()
    assert get_entry(street.db, "500188001001", month).status == "approved"
    graded = load_district(street.db).table(month).set_index("unit_code")
    assert graded.loc["500188001001", "grade"] in ("green", "blue", "yellow", "orange", "red")
    district = sign_in(street, "admin")  # the district: the status per street
    page(district, "app/review.py")
    per_street = table_with(district, "未报送")
    assert (
        per_street.loc["龙溪街道", "表单报送"] == 1 and per_street.loc["双凤街道", "表单报送"] == 0
    )
    assert per_street.loc["龙溪街道", "未报送"] == 15  # its other communities: nothing yet
    assert per_street["平均审核用时(小时)"].loc["龙溪街道"] >= 0


def test_a_reporter_of_two_communities_picks_which_one_it_works_on(fresh):
    from assessment.service import Principal
    from assessment.service.accounts import add_user

    add_user(
        fresh.db,
        Principal.operator("t"),
        "two",
        "reporter",
        ["500188001001", "500188001002"],
        "village-pw-1",
    )
    at = sign_in(fresh, "two", "village-pw-1")
    assert at.title[0].value == "银杏苑社区"
    at.selectbox(key="own_unit").set_value("500188001002").run()
    assert at.title[0].value == "锦绣林社区"
    page(at, "app/form.py")
    assert at.selectbox(key="own_unit").value == "500188001002"  # kept across its pages
    assert (
        at.selectbox(key="form_month")
        .format_func(at.selectbox(key="form_month").value)
        .endswith("月")
    )


@pytest.fixture
def country(tmp_path, monkeypatch):
    """The app on a generated five-level registry with two months, at its login page."""
    from five_levels import load_five_levels

    from assessment.service import Principal
    from assessment.service.accounts import add_user

    url = f"sqlite:///{tmp_path / 'country.db'}"
    db = open_database(url)
    load_five_levels(db)
    op = Principal.operator("t")
    add_user(db, op, "nation", "admin", None, DEMO_PASSWORD)
    add_user(db, op, "gov62", "admin", ["620000000000"], DEMO_PASSWORD)
    db.dispose()
    at = start(url, monkeypatch)
    yield at
    at.db.dispose()
    st.cache_resource.clear()


def test_a_province_opens_at_its_own_units_and_its_levels_and_sees_no_other(country):
    at = sign_in(country, "gov62")
    assert at.radio(key="level").options == ["省", "市", "区县", "街道/乡镇", "村/社区"]
    assert sum(int(m.value) for m in at.metric) == 24  # its villages, none of 甲省's
    at.radio(key="level").set_value("市").run()
    assert at.selectbox(key="parent_select").options == ["全部", "乙省"]
    ranking = table_with(open_tab(at, "排名"), "市")
    assert set(ranking["市"]) == {"乙1市", "乙2市"}
    at.radio(key="level").set_value("区县").run()
    at.selectbox(key="parent_select").set_value("620200000000").run()  # 乙2市
    assert sum(int(m.value) for m in at.metric) == 12
    assert set(table_with(at, "区县")["区县"]) == {"乙21县", "乙22县"}  # the tab stays open
    hits = [o for o in at.selectbox(key="unit_search").options if "甲" in o]
    assert hits == []  # search finds nothing of the other province


def test_the_trends_page_follows_any_level(country):
    at = sign_in(country, "nation")
    page(at, "app/trends.py")
    county = "610201000000"
    at.selectbox(key="trend_parent").set_value(county).run()
    assert not at.exception
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[0].proto
    rows = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pandas()
    assert set(rows["unit_code"].str[:6]) == {county[:6]}  # its 6 villages, nothing else
    assert rows["unit_code"].nunique() == 6


def test_an_export_is_checked_previewed_per_unit_then_imported(app):
    page(app, "app/upload.py")
    app.selectbox(key="upload_period").set_value("2026-10").run()
    export = pd.read_csv(ROOT / "sample_data" / "hotline_2026-10.csv", dtype=str)
    export = export.fillna("")
    bad = export.copy()
    bad.loc[2, "受理时间"] = "2026-11-01 08:00"  # next month
    app.file_uploader(key="events_file").set_value(
        ("12345.csv", bad.to_csv(index=False).encode(), "text/csv")
    ).run()
    assert not app.exception
    assert any("文件未导入" in e.value for e in app.error)
    assert "事件不在所选月份" in set(table_with(app, "问题")["问题"])
    assert not [b for b in app.button if b.key == "events_confirm"]
    first = export["所属村社区"].iloc[0]
    export = export[export["所属村社区"] != first]  # the corrected export: none of its tickets
    app.file_uploader(key="events_file").set_value(
        ("12345.csv", export.to_csv(index=False).encode(), "text/csv")
    ).run()
    preview = table_with(app, "事件数")
    row = preview[preview["单位名称"] == first].iloc[0]
    assert row["事件数"] == 0 and row["12345工单总数"] == 0
    assert pd.isna(row["12345回访满意率"])  # no rated ticket: not applicable, not 0
    busy = preview.iloc[0]
    assert busy["事件数"] == (export["所属村社区"] == busy["单位名称"]).sum()
    [confirm] = [b for b in app.button if b.key == "events_confirm"]
    confirm.click().run()
    assert not app.exception
    assert any("已导入12345热线工单" in s.value for s in app.success)
    history = upload_history(app.db, ALL)
    assert history.iloc[0]["source"] == "hotline"
    assert table_with(app, "来源")["来源"].iloc[0] == "12345热线工单"


def test_the_unit_page_lists_the_tickets_behind_its_hotline_rates(app):
    export = pd.read_csv(ROOT / "sample_data" / "hotline_2026-10.csv", dtype=str).fillna("")
    units = pd.read_csv(ROOT / "sample_data" / "units.csv", dtype=str)
    name = export["所属村社区"].iloc[0]
    code = units.loc[units["unit_name"] == name, "unit_code"].iloc[0]
    mine = export[export["所属村社区"] == name]
    app.session_state["unit"] = code
    app.session_state["period"] = "2026-10"
    page(app, "app/unit.py")
    assert any(f"本月 {len(mine)} 个事件" in x.label for x in app.expander)
    app.selectbox(key="events_hotline").set_value("hotline_closed_ontime").run()
    tickets = table_with(app, "工单编号")
    assert sorted(tickets["工单编号"]) == sorted(mine["工单编号"])
    received = pd.to_datetime(mine["受理时间"])
    closed = pd.to_datetime(mine["办结时间"].replace("", None))
    on_time = set(
        mine.loc[((closed - received).dt.total_seconds() <= 7 * 86400).to_numpy(), "工单编号"]
    )
    assert set(tickets.loc[tickets["计入"], "工单编号"]) == on_time
    assert any("受理时间到办结时间不超过 7 天" in c.value for c in app.caption)
