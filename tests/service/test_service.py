"""The service as each role: what it returns is cut to the user's scope, and what the role may
not do is refused below the pages (run on SQLite, and on PostgreSQL when configured)."""

from __future__ import annotations

import io
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import RULES, SAMPLE
from openpyxl import load_workbook

from assessment.grading.engine import Assessment
from assessment.grading.scoring import StaleGrades
from assessment.insight.explanation import explanation_json
from assessment.problems import ProblemsError
from assessment.rules.loader import load_rules, parse_rules
from assessment.service import Denied, Principal, Service, warm
from assessment.service import district as district_module
from assessment.service import hierarchy as hierarchy_module
from assessment.service import loading as loading_module
from assessment.service import view as view_module
from assessment.service.accounts import add_user, sign_in
from assessment.store import Scope
from assessment.store import uploads as uploads_module
from assessment.store.audit import audit_entries
from assessment.store.registry import import_registry
from assessment.store.schema import AssessmentRun
from assessment.store.tasks import list_tasks, task_events

ALL = Scope.everything()
MINE, OTHER = "500188001000", "500188002000"  # 龙溪街道, 双凤街道
MY_UNIT, OTHER_UNIT = "500188001001", "500188002001"
PASSWORD = "correct-horse"
VERSION = 'version: "2026.1"'


def month(period: str) -> bytes:
    return (SAMPLE / f"indicators_{period}.csv").read_bytes()


def street_rows(data: bytes, prefix: str) -> bytes:
    """The rows of one street's units (codes start with its first nine digits)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return frame[frame["unit_code"].str.startswith(prefix[:9])].to_csv(index=False).encode()


@pytest.fixture
def district(db):
    """The sample registry, two months, both rule sets active, October published, tasks for
    its red and orange units, and one account per role (two organizers, two streets)."""
    admin = Service(db, Principal.operator("setup"))
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "setup", ALL)
    versions = [
        admin.save_rules(load_rules(RULES / f), "shipped")
        for f in ("community.yaml", "village.yaml")
    ]
    for p in ("2026-09", "2026-10"):
        out = admin.upload(month(p), f"{p}.csv", p)
        assert out.status == "imported", out.problems
    ids = admin.assess("2026-10", versions, publish=True)
    todo = admin.suggestions("2026-10")
    admin.create_tasks(todo[todo["source"].str.startswith("grade:")], ids[0])
    for name, role, scope in [
        ("chief", "admin", None),
        ("owner", "rules", None),
        ("watch", "supervisor", ["500188000000"]),
        ("org01", "organizer", [MINE]),
        ("org02", "organizer", [OTHER]),
    ]:
        add_user(db, admin.user, name, role, scope, PASSWORD)
    return db


def as_user(db, name: str) -> Service:
    return Service(db, sign_in(db, name, PASSWORD))


def codes_of(frame: pd.DataFrame) -> set[str]:
    return set(frame["unit_code"])


def mine(code: str) -> bool:
    return code.startswith(MINE[:9])


def test_an_organizer_reads_only_their_street(district):
    view = as_user(district, "org01").view()
    assert all(mine(c) for c in codes_of(view.registry))
    assert all(mine(c) for c in codes_of(view.table("2026-10")))
    assert all(mine(c) for c in codes_of(view.history()))
    assert codes_of(view.parents("2026-10")) == {MINE}  # not the district, not other streets
    names = view.names  # a unit's name only inside the scope, however it is asked
    assert MY_UNIT in names and names.get(MY_UNIT) == names[MY_UNIT] != ""
    assert OTHER_UNIT not in names and names.get(OTHER_UNIT, "?") == "?"
    mapped = pd.Series([MY_UNIT, OTHER_UNIT, MINE, "no-such-unit"]).map(names)
    assert mapped.notna().tolist() == [True, False, True, False]
    assert mapped[0] == view.registry.set_index("unit_code").loc[MY_UNIT, "unit_name"]
    codes = pd.Series([OTHER_UNIT, MINE, "no-such-unit", MY_UNIT, None, MINE])
    fresh = as_user(district, "org01").view().names  # looked up together, nothing known yet
    pd.testing.assert_series_equal(fresh.names_of(codes), codes.map(names))
    assert OTHER_UNIT not in fresh and set(fresh.of(codes)) == {MINE, MY_UNIT}
    assert view.explain(MY_UNIT, "2026-10") is not None
    for read in (view.explain, view.suggestions):
        with pytest.raises(Denied, match="不在您的管辖范围内"):
            read(OTHER_UNIT, "2026-10")
    with pytest.raises(Denied):
        view.unit_history(OTHER_UNIT)
    everyone = as_user(district, "chief").view()
    assert len(everyone.registry) > len(view.registry)
    # Grades inside the scope are the district's grades.
    full = everyone.table("2026-10").set_index("unit_code")
    cut = view.table("2026-10").set_index("unit_code")
    assert (full.loc[cut.index, "grade"] == cut["grade"]).all()


def test_a_scopes_cuts_of_the_whole_are_kept_for_its_sessions_and_no_other(district, monkeypatch):
    whole = as_user(district, "chief").view()  # graded whole: every street is cut from it
    cuts = []
    real = view_module.keep_allowed

    def counting(frame, allowed):
        cuts.append(len(frame))
        return real(frame, allowed)

    monkeypatch.setattr(view_module, "keep_allowed", counting)
    first = as_user(district, "org01").view()
    assert first.district is whole.district
    mine_first = first.table("2026-10"), first.worklist("2026-10"), len(first.registry)
    made = len(cuts)
    again = as_user(district, "org01").view()  # another session of the same scope
    pd.testing.assert_frame_equal(mine_first[0], again.table("2026-10"))
    pd.testing.assert_frame_equal(mine_first[1], again.worklist("2026-10"))
    assert len(again.registry) == mine_first[2] and len(cuts) == made  # nothing cut again
    other = as_user(district, "org02").view()  # another scope: its own cuts, none of mine
    assert not any(mine(c) for c in codes_of(other.table("2026-10")))
    assert codes_of(other.table("2026-10")) == codes_of(whole.table("2026-10").pipe(other.cut))
    assert len(cuts) > made
    kept_units = sum(m["units"] for m in whole.district._scopes.values())
    assert kept_units == len(first.allowed) + len(other.allowed)
    # past the bound, the scope used longest ago is let go (org01), the latest stays
    bound = max(len(first.allowed), len(other.allowed))  # either fits, not both
    monkeypatch.setattr(hierarchy_module, "SCOPED_UNITS", bound)
    as_user(district, "org02").view().table("2026-10")
    assert [set(s) for s in whole.district._scopes] == [{OTHER}]
    cuts.clear()
    as_user(district, "org01").view().table("2026-10")
    assert cuts and [set(s) for s in whole.district._scopes] == [{MINE}]


def alone(monkeypatch) -> list:
    """Forget the districts graded so far (the next view of a street reads it alone), and
    record every read of stored values: the scopes asked for."""
    monkeypatch.setattr(loading_module, "_GRADED", {})
    monkeypatch.setattr(loading_module, "_PARTS", {})
    reads = []
    real = loading_module.current_values

    def recording(db, scope, *args, **kwargs):
        reads.append(scope.roots)
        return real(db, scope, *args, **kwargs)

    monkeypatch.setattr(loading_module, "current_values", recording)
    return reads


def sorted_by_unit(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("unit_code", ignore_index=True)


def test_a_street_is_read_and_graded_alone_with_the_grades_of_the_whole(district, monkeypatch):
    reads = alone(monkeypatch)
    street = as_user(district, "org01").view()
    assert not street.district.whole and reads == [frozenset({MINE})]
    assert all(mine(c) for c in street.district.data["unit_code"])  # nothing else was read
    assert {c for c in street.district.registry["unit_code"] if not mine(c)} == {"500188000000"}
    whole = as_user(district, "chief").view()
    assert whole.district.whole
    for period in whole.periods:
        pd.testing.assert_frame_equal(  # the same values; a cut keeps the whole's categories
            sorted_by_unit(street.table(period)),
            sorted_by_unit(whole.table(period).pipe(street.cut)),
            check_categorical=False,
        )
        pd.testing.assert_frame_equal(
            street.parents(period), whole.parents(period).pipe(street.cut)
        )
        pd.testing.assert_frame_equal(
            street.worklist(period), whole.worklist(period).pipe(street.cut)
        )
        pd.testing.assert_frame_equal(
            sorted_by_unit(street.stability(period)),
            sorted_by_unit(whole.stability(period, list(street.leaves()["unit_code"]))),
        )
    assert explanation_json(street.explain(MY_UNIT, "2026-10")) == explanation_json(
        whole.explain(MY_UNIT, "2026-10")
    )
    pd.testing.assert_frame_equal(
        sorted_by_unit(street.forecast("2026-10")),
        sorted_by_unit(street.cut(whole.forecast("2026-10"))),
    )
    # what compares a unit with all the others is computed on every unit
    pd.testing.assert_frame_equal(street.backtest(), whole.backtest())
    pd.testing.assert_frame_equal(
        sorted_by_unit(street.fair("2026-10")), sorted_by_unit(street.cut(whole.fair("2026-10")))
    )


def test_a_street_read_alone_knows_whether_a_published_month_is_still_current(
    district, monkeypatch
):
    reads = alone(monkeypatch)

    def shown() -> tuple[set[str], bool]:
        """October's status for the street's organizer, and whether the whole store was read."""
        reads.clear()
        status = {s.status for s in as_user(district, "org01").view().shown("2026-10")}
        return status, None in reads

    assert shown() == ({"published"}, False)
    chief = as_user(district, "chief")
    november = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    november["period"] = "2026-11"
    out = chief.upload(november.to_csv(index=False).encode(), "11.csv", "2026-11")
    assert out.status == "imported", out.problems
    assert shown() == ({"published"}, False)  # a later month changes nothing
    # a correction in another street's unit changes the district's October: stale for all
    frame = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    frame = frame[frame["unit_code"] == OTHER_UNIT].assign(dues_paid_rate="12")
    out = chief.upload(frame.to_csv(index=False).encode(), "fix.csv", "2026-10")
    assert out.status == "imported", out.problems
    assert shown() == ({"stale"}, True)  # the whole store was read to be sure
    assert {s.status for s in chief.view().shown("2026-10")} == {"stale"}
    # published again, it is current again, for the street as for the whole
    chief.publish_month("2026-10")
    assert shown() == ({"published"}, False)


def test_a_file_of_several_months_that_changes_a_published_one_makes_it_stale_for_a_street(
    district, monkeypatch
):
    alone(monkeypatch)
    october = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    changed = october[october["unit_code"] == OTHER_UNIT].assign(dues_paid_rate="12")
    november = october.assign(period="2026-11")
    both = pd.concat([changed, november]).to_csv(index=False).encode()
    out = as_user(district, "chief").upload(both, "10-11.csv", None)
    assert out.status == "imported", out.problems
    statuses = {s.status for s in as_user(district, "org01").view().shown("2026-10")}
    assert statuses == {"stale"}


def test_a_grading_from_before_it_recorded_its_upload_is_checked_on_the_whole_store(
    district, monkeypatch
):
    with district.transaction() as s:
        s.execute(sa.update(AssessmentRun).values(upload_id=None))
    reads = alone(monkeypatch)
    assert {s.status for s in as_user(district, "org01").view().shown("2026-10")} == {"published"}
    assert None in reads


def test_with_a_relative_rule_set_a_street_is_cut_from_the_whole(district, monkeypatch):
    text = (RULES / "community.yaml").read_text("utf-8")
    relative = text.replace(
        "scoring: {method: linear, worst: 80, best: 95}", "scoring: {method: percentile}", 1
    )
    assert relative != text
    owner = as_user(district, "owner")
    owner.publish_month("2026-10", owner.save_rules(parse_rules(relative), "按排名计分"))
    reads = alone(monkeypatch)
    view = as_user(district, "org01").view()
    assert view.district.whole and reads == [None]
    assert all(mine(c) for c in codes_of(view.table("2026-10")))


def test_a_server_prepares_the_whole_map_before_anyone_signs_in(district, monkeypatch):
    reads = alone(monkeypatch)
    monkeypatch.delenv("FIVECOLOR_WARM_UP", raising=False)
    warm.warm_up(district).join(120)
    assert reads == [None]  # the whole store, read once

    def never(*args, **kwargs):
        raise AssertionError("the first sign-in should find the map ready")

    for module, name in (
        (loading_module, "load_district"),
        (district_module, "stability"),
        (district_module, "rollup"),
        (view_module, "worklist"),
        (hierarchy_module, "parent_summary"),
    ):
        monkeypatch.setattr(module, name, never)
    monkeypatch.setattr(Assessment, "table", never)
    chief = as_user(district, "chief")
    view = chief.view()
    latest = view.periods[-1]
    opening = view.opening_level(warm.MAP_TILES)
    assert opening == view.levels()[-1].index  # the sample district: every unit on one page
    tiles = view.tiles(latest, opening)
    assert len(tiles) == len(view.table(latest)) and tiles["grade"].ne("").all()
    assert len(view.stability(latest, list(tiles["unit_code"]))) == len(tiles)
    assert len(view.worklist(latest)) and len(view.previous_table(latest))
    ranked = view.levels()[-2].index
    summary = view.level_summary(latest, ranked, chief.tasks())
    assert sorted(summary["unit_code"]) == view.units_at(ranked)  # its streets and towns
    street = as_user(district, "org01").view()  # a part of the store: cut from the whole
    assert all(mine(c) for c in codes_of(street.table(latest))) and reads == [None]
    monkeypatch.setenv("FIVECOLOR_WARM_UP", "0")
    assert warm.warm_up(district) is None


def test_searching_units_finds_names_and_codes_within_the_scope_only(district):
    street, whole = as_user(district, "org01").view(), as_user(district, "chief").view()
    assert set(whole.find_units("500188002")["unit_code"]) == set(
        whole.registry.query("unit_code.str.startswith('500188002')")["unit_code"]
    )  # the street and its units: search finds units at every level
    assert street.find_units("500188002").empty  # another street's codes: nothing
    name = street.leaves()["unit_name"].iloc[0]
    found = street.find_units(name[1:3])
    assert name in set(found["unit_name"]) and all(mine(c) for c in found["unit_code"])
    assert len(whole.find_units("5001", limit=7)) == 7 and whole.find_units("  ").empty


def test_an_organizer_uploads_only_for_their_street_and_hears_nothing_of_others(district):
    org = as_user(district, "org01")
    own = street_rows(month("2026-10"), MINE)
    frame, problems = org.check_upload(own, "mine.csv", "2026-10")
    assert frame is not None and all(mine(c) for c in frame["unit_code"])
    assert not [p for p in problems if p.code == "not_reported"]  # not 154 other units' warnings
    everyone = month("2026-10")
    out = org.upload(everyone, "all.csv", "2026-10")
    assert out.status == "rejected"
    rejected = {p.value for p in out.problems if p.code == "unknown_unit"}
    assert rejected and not any(mine(c) for c in rejected)
    # A wrong code beside another street's unit name gets no hint revealing that unit's code.
    frame = pd.read_csv(io.BytesIO(own), dtype=str, keep_default_na=False)
    frame.loc[0, ["unit_code", "unit_name"]] = ["500188001999", "红岩林社区"]
    _, problems = org.check_upload(frame.to_csv(index=False).encode(), "x.csv", "2026-10")
    assert not any(OTHER_UNIT in p.message for p in problems)


def test_an_organizers_template_and_upload_history_hold_only_their_street(district):
    org = as_user(district, "org01")
    sheet = load_workbook(io.BytesIO(org.template("2026-11"))).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, max_col=1, values_only=True) if row[0]]
    assert codes and all(mine(str(c)) for c in codes)
    org.upload(street_rows(month("2026-10"), MINE), "mine.csv", "2026-10")
    as_user(district, "org02").upload(street_rows(month("2026-10"), OTHER), "b.csv", "2026-10")
    assert set(org.upload_history()["filename"]) == {"mine.csv"}
    assert {"mine.csv", "b.csv"} <= set(as_user(district, "chief").upload_history()["filename"])


def test_what_an_organizer_may_not_do_is_refused_and_logged(district):
    org = as_user(district, "org01")
    loaded = load_rules(RULES / "community.yaml")
    refusals = [
        lambda: org.save_rules(loaded, "我来改权重"),
        lambda: org.assess("2026-10", publish=True),
        lambda: org.import_registry((SAMPLE / "units.csv").read_bytes(), "units.csv"),
        lambda: org.create_tasks(org.suggestions("2026-10")),
        lambda: org.audit(),
        lambda: org.database_location(),
    ]
    for refused in refusals:
        with pytest.raises(Denied, match="组织员无权"):
            refused()
    denied = audit_entries(district, who="org01", actions=["access_denied"])
    assert len(denied) == len(refusals)


def test_an_organizer_works_only_their_own_tasks_and_cannot_accept_them(district):
    org = as_user(district, "org01")
    tasks = list_tasks(district, ALL)
    assert all(mine(c) for c in org.tasks()["unit_code"])
    theirs = int(tasks.loc[~tasks["unit_code"].map(mine), "id"].iloc[0])
    own = int(tasks.loc[tasks["unit_code"].map(mine), "id"].iloc[0])
    with pytest.raises(ProblemsError, match="不在您的管辖范围内"):
        org.move_task(theirs, "整改中")
    with pytest.raises(ProblemsError):
        org.task_events(theirs)
    org.move_task(own, "整改中", "已签收")
    org.move_task(own, "待验收", "整改完成")
    assert org.task_steps("待验收") == ()
    with pytest.raises(Denied, match="组织员无权生成、验收和退回督办事项"):
        org.move_task(own, "已销号")
    watch = as_user(district, "watch")
    watch.move_task(own, "已销号", "验收通过", expected="待验收")
    events = task_events(district, ALL, own)
    assert list(events["who"]) == ["setup", "org01", "org01", "watch"]


def test_a_supervisor_manages_follow_ups_but_cannot_import(district):
    watch = as_user(district, "watch")
    with pytest.raises(Denied, match="督导无权上传月度数据"):
        watch.upload(month("2026-10"), "m.csv", "2026-10")
    with pytest.raises(Denied):
        watch.check_upload(month("2026-10"), "m.csv", "2026-10")
    with pytest.raises(Denied):
        watch.import_registry((SAMPLE / "units.csv").read_bytes(), "units.csv")
    with pytest.raises(Denied):
        watch.save_rules(load_rules(RULES / "community.yaml"), "x")
    todo = watch.suggestions("2026-10")
    ids = watch.create_tasks(todo[todo["source"].str.startswith("indicator:")].head(1))
    assert len(ids) == 1


def test_the_rules_owner_saves_and_publishes_but_cannot_upload(district):
    owner = as_user(district, "owner")
    text = (RULES / "community.yaml").read_text(encoding="utf-8")
    changed = parse_rules(text.replace(VERSION, VERSION[:-1] + '-b"', 1), "community.yaml")
    vid = owner.save_rules(changed, "新版本")
    [run] = owner.assess("2026-10", [vid], publish=True)
    assert run > 0
    with pytest.raises(Denied):
        owner.upload(month("2026-10"), "m.csv", "2026-10")
    with pytest.raises(Denied):
        owner.audit()
    saved = audit_entries(district, who="owner", actions=["rules_saved", "assessment_published"])
    assert len(saved) == 2  # every write is attributed to the signed-in user


def test_two_servers_moving_one_task_at_once_apply_one_step(district):
    """Both saw 待签收 and both submit 整改中: one step lands, the other is told the task was
    changed meanwhile; the history has one step, never two or a lost one."""
    task = int(list_tasks(district, ALL)["id"].iloc[0])
    users = [as_user(district, "chief"), as_user(district, "watch")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(svc: Service) -> None:
        barrier.wait()
        try:
            svc.move_task(task, "整改中", "签收", expected="待签收")
            outcomes.append("moved")
        except ProblemsError as exc:
            outcomes.append(exc.problems[0].code)

    threads = [threading.Thread(target=move, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["changed_meanwhile", "moved"]
    events = task_events(district, ALL, task)
    assert list(events["to"]) == ["待签收", "整改中"]
    with pytest.raises(ProblemsError, match="已被他人修改"):
        users[0].move_task(task, "待验收", expected="待签收")


def test_each_month_shows_what_was_published_until_it_is_published_again(district):
    """A version published for one month applies from that month; a month published with
    another version keeps showing its own results, even after its data changes."""
    owner = as_user(district, "owner")
    view = owner.view()
    oct_, sep = view.shown("2026-10"), view.shown("2026-09")
    assert {s.status for s in oct_} == {"published"} and {s.status for s in sep} == {"trial"}
    published_oct = view.table("2026-10").set_index("unit_code")[["grade", "score"]].sort_index()
    community = parse_rules(
        (RULES / "community.yaml").read_text("utf-8").replace("min_score: 90", "min_score: 85")
    )
    v2 = owner.save_rules(community, "好的分数线降到85")
    # saving a version changes nothing shown
    assert (
        owner.view()
        .table("2026-10")
        .set_index("unit_code")[["grade", "score"]]
        .sort_index()
        .equals(published_oct)
    )
    plan = owner.publish_plan("2026-09", v2).set_index("rules_id")
    assert set(plan.index) == {"community", "village"}  # the district's rule sets together
    assert plan.loc["community", "version_id"] == v2 and plan.loc["community", "changed"] > 0
    assert plan.loc["village", "changed"] == 0
    owner.publish_month("2026-09", v2)
    view = owner.view()
    by_rules = {s.rules_id: s for s in view.shown("2026-09")}
    assert by_rules["community"].version_id == v2 and by_rules["community"].published
    assert view.district.applies_from(v2) == "2026-09"
    assert (
        view.table("2026-10")
        .set_index("unit_code")[["grade", "score"]]
        .sort_index()
        .equals(published_oct)
    )
    # data corrected after publishing: October still shows what was published, marked stale
    frame = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    frame["dues_paid_rate"] = "100"
    frame["theme_day_attendance_rate"] = "100"
    chief = as_user(district, "chief")
    assert chief.upload(frame.to_csv(index=False).encode(), "fix.csv", "2026-10").status == (
        "imported"
    )
    view = owner.view()
    assert {s.status for s in view.shown("2026-10")} == {"stale"}
    shown = view.table("2026-10").set_index("unit_code")[["grade", "score"]].sort_index()
    assert shown.equals(published_oct)
    regraded = view.district.by_version[by_rules["village"].version_id].table(["2026-10"])
    assert (
        not regraded.set_index("unit_code")["score"]
        .reindex(shown.index)
        .dropna()
        .equals(shown["score"].dropna())
    )  # the new data would grade differently: what is shown is the stored result


def test_who_reports_a_task_done_cannot_also_accept_it(district):
    watch = as_user(district, "watch")
    task = int(watch.tasks()["id"].iloc[0])
    watch.move_task(task, "整改中", "已签收")
    watch.move_task(task, "待验收", "已整改")
    with pytest.raises(ProblemsError, match="不能验收销号自己的事项"):
        watch.move_task(task, "已销号", "通过")
    as_user(district, "chief").move_task(task, "已销号", "通过")
    assert list_tasks(district, ALL).set_index("id").loc[task, "status"] == "已销号"


def test_evidence_is_kept_with_the_task_within_scope_type_and_size(district, monkeypatch):
    org = as_user(district, "org01")
    tasks = list_tasks(district, ALL)
    own = int(tasks.loc[tasks["unit_code"].map(mine), "id"].iloc[0])
    theirs = int(tasks.loc[~tasks["unit_code"].map(mine), "id"].iloc[0])
    pdf = b"%PDF-1.4 minutes of the meeting"
    fid = org.attach_evidence(own, "C:\\材料\\整改报告.pdf", pdf)
    files = org.evidence(own)
    assert list(files["filename"]) == ["整改报告.pdf"] and list(files["size"]) == [len(pdf)]
    assert org.evidence_file(fid) == ("整改报告.pdf", pdf)
    with pytest.raises(ProblemsError, match="不在您的管辖范围内"):
        org.attach_evidence(theirs, "a.pdf", pdf)
    with pytest.raises(ProblemsError, match="不在您的管辖范围内"):
        as_user(district, "org02").evidence_file(fid)
    with pytest.raises(ProblemsError, match="不是可接受的材料类型"):
        org.attach_evidence(own, "report.html", b"<script>alert(1)</script>")
    monkeypatch.setenv("FIVECOLOR_MAX_EVIDENCE_MB", "1")
    with pytest.raises(ProblemsError, match="超过上限 1 MB"):
        org.attach_evidence(own, "big.jpg", b"\xff" * (2 << 20))
    assert len(org.evidence(own)) == 1  # nothing refused was kept
    with pytest.raises(Denied):
        as_user(district, "owner").attach_evidence(own, "a.pdf", pdf)


def test_a_large_jump_from_last_month_is_a_warning_on_its_cell(district):
    chief = as_user(district, "chief")
    frame = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    _, plain = chief.check_upload(month("2026-10"), "oct.csv", "2026-10")
    frame.loc[3, "dues_paid_rate"] = str(float(frame.loc[3, "dues_paid_rate"]) / 10)  # 9.5
    frame.loc[4, "grid_events"] = frame.loc[4, "grid_events"] + "00"  # two digits too many
    checked, problems = chief.check_upload(frame.to_csv(index=False).encode(), "x.csv", "2026-10")
    assert checked is not None  # a warning: the file can still be imported

    def jumps(found):
        return {(p.row, p.column) for p in found if p.code == "large_change"}

    assert jumps(problems) - jumps(plain) == {(5, "dues_paid_rate"), (6, "grid_events")}
    said = next(p.message for p in problems if p.row == 5 and p.code == "large_change")
    assert "党费按月交纳率" in said and "变化很大" in said


def test_a_store_too_large_to_hold_its_values_twice_reads_them_again_when_asked(
    district, monkeypatch
):
    alone(monkeypatch)
    kept = as_user(district, "chief").view()
    assert kept.district.kept_values is not None
    before = {
        "values": kept.unit_values(MY_UNIT, "2026-10"),
        "table": kept.table("2026-10"),
        "regraded": kept.regrade(kept.rules[0]).table(["2026-10"]),
        "shown": [s.status for s in kept.shown("2026-10")],
    }
    alone(monkeypatch)
    monkeypatch.setattr(uploads_module, "_WIDE_CACHE", {})
    monkeypatch.setattr(uploads_module, "KEPT_ROWS", 10)
    monkeypatch.setattr(loading_module, "KEPT_ROWS", 10)
    view = as_user(district, "chief").view()
    assert view.district.kept_values is None and uploads_module._WIDE_CACHE == {}
    assert view.unit_values(MY_UNIT, "2026-10") == before["values"] != {}
    pd.testing.assert_frame_equal(view.table("2026-10"), before["table"])
    regraded = view.regrade(view.rules[0]).table(["2026-10"])
    pd.testing.assert_frame_equal(regraded, before["regraded"])
    assert [s.status for s in view.shown("2026-10")] == before["shown"] == ["published"] * 2
    assert len(view.district.data) == len(kept.district.data)  # read again, not held
    assert view.district.kept_values is None and uploads_module._WIDE_CACHE == {}


def test_a_country_sets_a_past_months_matrices_aside_and_restores_them_exactly(
    district, monkeypatch
):
    alone(monkeypatch)
    kept = as_user(district, "chief").view()
    codes = sorted(codes_of(kept.worklist("2026-09")))[:5]
    before = {
        "explained": explanation_json(kept.explain(MY_UNIT, "2026-09")),
        "stability": kept.stability("2026-09", codes).reset_index(drop=True),
        "suggested": kept.all_suggestions("2026-09"),
    }
    alone(monkeypatch)
    monkeypatch.setattr(uploads_module, "_WIDE_CACHE", {})
    monkeypatch.setattr(uploads_module, "KEPT_ROWS", 10)
    monkeypatch.setattr(loading_module, "KEPT_ROWS", 10)
    view = as_user(district, "chief").view()
    months = [a.periods for a in view.district.by_version.values()]
    pd.testing.assert_frame_equal(view.table("2026-09"), kept.table("2026-09"))
    assert all("raw" not in m["2026-09"].__dict__ for m in months)  # set aside
    assert all("raw" in m["2026-10"].__dict__ for m in months)  # the month the map opens at
    assert explanation_json(view.explain(MY_UNIT, "2026-09")) == before["explained"]
    mine_graded = view.district.assessment_of(MY_UNIT, "2026-09").periods["2026-09"]
    assert "raw" in mine_graded.__dict__  # restored, and kept (the other rule set's: not yet)
    assert sum("raw" in m["2026-09"].__dict__ for m in months) == 1
    stability = view.stability("2026-09", codes).reset_index(drop=True)
    pd.testing.assert_frame_equal(stability, before["stability"])
    pd.testing.assert_frame_equal(view.all_suggestions("2026-09"), before["suggested"])
    assert all("raw" in m["2026-09"].__dict__ for m in months)


def test_a_past_month_restored_after_its_data_changed_is_refused_not_mixed(district, monkeypatch):
    alone(monkeypatch)
    monkeypatch.setattr(uploads_module, "_WIDE_CACHE", {})
    monkeypatch.setattr(uploads_module, "KEPT_ROWS", 10)
    monkeypatch.setattr(loading_module, "KEPT_ROWS", 10)
    view = as_user(district, "chief").view()
    view.table("2026-09")  # built, and its matrices set aside
    september = pd.read_csv(io.BytesIO(month("2026-09")), dtype=str, keep_default_na=False)
    changed = september[september["unit_code"] == MY_UNIT].assign(dues_paid_rate="12")
    out = as_user(district, "chief").upload(changed.to_csv(index=False).encode(), "9.csv", None)
    assert out.status == "imported", out.problems
    with pytest.raises(StaleGrades, match="请刷新页面"):
        view.explain(MY_UNIT, "2026-09")  # the page shown before the upload, not mixed with it
    fresh = as_user(district, "chief").view()  # the next page run: the new data, consistent
    assert fresh.district is not view.district and fresh.explain(MY_UNIT, "2026-09")


def test_a_month_asked_for_by_two_threads_at_once_is_built_once(district, monkeypatch):
    """The warm-up and a first session asking at the same moment: the second waits for the
    first's table (and roll-up) instead of building it beside it."""
    alone(monkeypatch)
    view = as_user(district, "chief").view()
    built, second_asks = [], threading.Event()
    real_table, real_roll_up = district_module.District._table, district_module.District._roll_up

    def slow(real):
        def build(self, period):
            built.append((real.__name__, period))
            second_asks.wait(5)
            time.sleep(0.3)  # the second thread meanwhile asks for the same month
            return real(self, period)

        return build

    monkeypatch.setattr(district_module.District, "_table", slow(real_table))
    monkeypatch.setattr(district_module.District, "_roll_up", slow(real_roll_up))
    got = {}
    first = threading.Thread(target=lambda: got.update(a=view.district.parents("2026-10")))
    first.start()
    while not built:
        time.sleep(0.01)
    second_asks.set()
    got["b"] = view.district.parents("2026-10")
    first.join()
    assert sorted(built) == [("_roll_up", "2026-10"), ("_table", "2026-10")]
    pd.testing.assert_frame_equal(got["a"], got["b"])
