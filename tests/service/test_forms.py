"""在线填报 through the service: the form from the rule sets, the upload's own checks, drafts,
submission, the trial grade, the street's review, and scope: a reporter reaches its own unit
only, an organizer reviews its own street only."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.grading.scoring import shift_period
from assessment.problems import ProblemsError
from assessment.rules.loader import load_rules
from assessment.service import Principal, Service
from assessment.service.accounts import add_user, principal_named
from assessment.service.actions import report_deadline, reporting_month
from assessment.service.forms import (
    approve,
    approve_unflagged,
    check,
    entry,
    fields,
    open_months,
    return_form,
    save_draft,
    submit,
    tracker,
    trial,
)
from assessment.store import Scope
from assessment.store.messages import inbox
from assessment.store.registry import import_registry
from assessment.store.uploads import current_values, upload_history

ALL = Scope.everything()
UNIT, OTHER_STREET_UNIT = "500188001001", "500188002001"  # 银杏苑社区 (龙溪), 双凤's first
# The form is open for the month being reported now (and missed ones shortly before): the
# sample's October and September stand in for this month and the one before, whenever this runs.
MONTH = reporting_month()
PREV = shift_period(MONTH, -1)


def _month(period: str) -> bytes:
    """The sample's September as ``PREV``, its October as ``MONTH``."""
    source = {PREV: "2026-09", MONTH: "2026-10"}[period]
    frame = pd.read_csv(SAMPLE / f"indicators_{source}.csv", dtype=str, keep_default_na=False)
    return frame.assign(period=period).to_csv(index=False).encode()


@pytest.fixture
def town(db):
    """The sample registry and September's values (October not yet reported), both rule sets,
    a reporter for 银杏苑社区 and the organizers of 龙溪 and 双凤."""
    admin = Service(db, Principal.operator("setup"))
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "setup", ALL)
    for f in ("community.yaml", "village.yaml"):
        admin.save_rules(load_rules(RULES / f), "shipped")
    assert admin.upload(_month(PREV), "prev.csv", PREV).ok
    op = Principal.operator("setup")
    add_user(db, op, "yinxing", "reporter", [UNIT], "village-pw-1", "银杏苑社区")
    add_user(db, op, "org01", "organizer", ["500188001000"], "street-pw-1")
    add_user(db, op, "org02", "organizer", ["500188002000"], "street-pw-2")
    return db


def as_(db, name: str) -> Service:
    return Service(db, principal_named(db, name))


def october_row(unit: str = UNIT) -> dict[str, str]:
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    row = frame[frame["unit_code"] == unit].iloc[0].to_dict()
    return {k: v for k, v in row.items() if k not in ("unit_code", "unit_name", "period")}


def test_the_form_is_the_rule_set_s_columns_for_the_unit_s_type_grouped_by_dimension(town):
    form = fields(as_(town, "yinxing"), UNIT, MONTH)
    ids = {f.id for f in form}
    assert ids <= set(october_row())  # nothing the rules do not grade (减负)
    assert {f.group for f in form} >= {"组织建设", "服务群众"}
    assert any(f.kind == "yes_no" for f in form) and any(f.kind == "count" for f in form)
    september = current_values(town, ALL, [PREV])
    row = september[september["unit_code"] == UNIT].iloc[0]
    shown = next(f for f in form if f.kind == "count" and f.last)
    assert float(shown.last) == float(row[shown.id])  # last month beside it, as stored


def test_the_form_checks_with_the_upload_s_own_codes_and_messages(town):
    values = october_row()
    some = next(f for f in fields(as_(town, "yinxing"), UNIT, MONTH) if f.high is not None)
    values[some.id] = str(some.high + 1000)
    problems = check(as_(town, "yinxing"), UNIT, MONTH, values)
    bad = [p for p in problems if p.severity == "error"]
    assert [(p.code, p.row) for p in bad] == [("out_of_range", 2)]
    assert float(bad[0].value) == some.high + 1000


def test_draft_submit_return_resubmit_approve_and_the_values_count_only_when_approved(town):
    me = as_(town, "yinxing")
    values = october_row()
    save_draft(me, UNIT, MONTH, {**values, "member_count": ""})
    assert entry(me, UNIT, MONTH).status == "draft"
    assert entry(me, UNIT, MONTH).values["member_count"] == ""  # kept as typed
    assert UNIT not in set(current_values(town, ALL, [MONTH])["unit_code"])
    submit(me, UNIT, MONTH, values)
    assert entry(me, UNIT, MONTH).status == "submitted"
    e = trial(me, UNIT, MONTH, values)
    assert e is not None and e.grade in ("green", "blue", "yellow", "orange", "red")
    assert UNIT not in set(current_values(town, ALL, [MONTH])["unit_code"])  # not yet
    street = as_(town, "org01")
    assert tracker(street, MONTH).set_index("unit_code").loc[UNIT, "status_text"] == "已提交"
    with pytest.raises(ProblemsError, match="写明"):
        return_form(street, UNIT, MONTH, "  ")
    return_form(street, UNIT, MONTH, "党员人数与名册不符,请核对")
    assert entry(me, UNIT, MONTH).comment == "党员人数与名册不符,请核对"
    assert [m.link for m in inbox(town, "yinxing")] == [f"/form?month={MONTH}"]
    submit(me, UNIT, MONTH, values)
    outcome = approve(street, UNIT, MONTH)
    assert outcome.ok and entry(me, UNIT, MONTH).status == "approved"
    stored = current_values(town, ALL, [MONTH])
    assert UNIT in set(stored["unit_code"])
    history = upload_history(town, ALL)
    assert "审核org01" in history["filename"].iloc[0] and history["author"].iloc[0] == "yinxing"
    with pytest.raises(ProblemsError, match="没有待审核"):
        approve(street, UNIT, MONTH)  # once only


def test_a_submission_with_an_error_is_refused_and_kept_as_a_draft(town):
    me = as_(town, "yinxing")
    values = october_row()
    count = next(f.id for f in fields(me, UNIT, MONTH) if f.kind == "count")
    values[count] = "abc"
    with pytest.raises(ProblemsError) as exc:
        submit(me, UNIT, MONTH, values)
    assert exc.value.codes == ["not_a_number"]
    assert entry(me, UNIT, MONTH).status == "draft"


def test_a_reporter_reaches_its_own_unit_only_by_any_call(town):
    me = as_(town, "yinxing")
    for call in (
        lambda: fields(me, OTHER_STREET_UNIT, MONTH),
        lambda: save_draft(me, OTHER_STREET_UNIT, MONTH, {}),
        lambda: submit(me, OTHER_STREET_UNIT, MONTH, {}),
        lambda: entry(me, OTHER_STREET_UNIT, MONTH),
        lambda: trial(me, OTHER_STREET_UNIT, MONTH, {}),
        lambda: approve(me, UNIT, MONTH),  # nor review its own
        lambda: me.upload(_month(MONTH), "x.csv", MONTH),
    ):
        with pytest.raises(ProblemsError):
            call()
    assert list(me.view().registry["unit_code"]) == [UNIT]


def test_an_organizer_reviews_its_own_street_only(town):
    submit(as_(town, "yinxing"), UNIT, MONTH, october_row())
    other = as_(town, "org02")
    with pytest.raises(ProblemsError):
        approve(other, UNIT, MONTH)
    with pytest.raises(ProblemsError):
        return_form(other, UNIT, MONTH, "不行")
    assert UNIT not in set(tracker(other, MONTH)["unit_code"])
    assert approve_unflagged(as_(town, "org01"), MONTH) == [UNIT]


def test_form_and_file_for_one_unit_month_merge_cell_by_cell_later_approved_wins(town):
    street = as_(town, "org01")
    values = october_row()
    column = next(f.id for f in fields(street, UNIT, MONTH) if f.kind == "count")
    file = pd.read_csv(io.BytesIO(_month(MONTH)), dtype=str, keep_default_na=False)
    file = file[file["unit_code"].str.startswith("500188001")]
    file.loc[file["unit_code"] == UNIT, column] = "7"
    assert street.upload(file.to_csv(index=False).encode(), "street.csv", MONTH).ok
    assert float(current_values(town, ALL, [MONTH]).set_index("unit_code").loc[UNIT, column]) == 7
    submit(as_(town, "yinxing"), UNIT, MONTH, {**values, column: "9"})
    approve(street, UNIT, MONTH)
    now = current_values(town, ALL, [MONTH]).set_index("unit_code")
    assert float(now.loc[UNIT, column]) == 9  # the later approved value wins
    assert float(now.loc["500188001002", column]) == float(
        file.set_index("unit_code").loc["500188001002", column]
    )  # the file's other units untouched
    assert len(upload_history(town, ALL)) >= 3  # both kept in the history


def test_a_returned_form_reaches_the_reporter_once_in_the_inbox_and_by_each_channel(town):
    import datetime as dt

    from assessment.service.accounts import set_email
    from assessment.service.channels import Channels, Smtp
    from assessment.service.reminders import remind
    from assessment.store.messages import sent_log

    set_email(town, Principal.operator("setup"), "yinxing", "yx@town.test")
    submit(as_(town, "yinxing"), UNIT, MONTH, october_row())
    return_form(as_(town, "org01"), UNIT, MONTH, "请核对")
    unreachable = Channels(smtp=Smtp("127.0.0.1", 1, False), base_url="http://x")
    remind(town, dt.date(2026, 11, 20), unreachable)
    remind(town, dt.date(2026, 11, 20), unreachable)
    mine = [r for r in sent_log(town) if r["event"].startswith("form_returned")]
    assert {(r["channel"], r["recipient"]) for r in mine} == {
        ("inbox", "yinxing"),
        ("email", "yx@town.test"),
    }
    assert [r["attempts"] for r in mine if r["channel"] == "email"] == [2]  # retried
    assert [m.kind for m in inbox(town, "yinxing")] == ["form_returned"]  # one copy


def test_a_unit_fills_this_month_and_a_missed_one_never_a_stored_or_future_one(town):
    me = as_(town, "yinxing")
    missed = shift_period(MONTH, -2)  # nothing stored for it: still open, a while
    assert open_months(me, UNIT) == [MONTH, missed]
    save_draft(me, UNIT, missed, october_row())
    assert entry(me, UNIT, missed).status == "draft"
    for closed in (PREV, shift_period(MONTH, 1), shift_period(MONTH, -3)):  # stored, future, old
        with pytest.raises(ProblemsError) as exc:
            save_draft(me, UNIT, closed, october_row())
        assert exc.value.codes == ["month_closed"]
        with pytest.raises(ProblemsError):
            submit(me, UNIT, closed, october_row())
        assert entry(me, UNIT, closed) is None  # nothing kept


def test_the_tracker_says_who_is_late_against_the_deadline(town):
    street = as_(town, "org01")
    deadline = report_deadline(MONTH)
    before = tracker(street, MONTH, today=deadline).set_index("unit_code")
    assert not before["late"].any()  # the deadline's own day is not late
    submit(as_(town, "yinxing"), UNIT, MONTH, october_row())
    after = tracker(street, MONTH, today=deadline + dt.timedelta(days=1)).set_index("unit_code")
    # sent today: on time up to the deadline's day, late after it (the month's deadline is
    # in this calendar month, so which one holds depends on the day the suite runs)
    assert after.loc[UNIT, "late"] == (dt.date.today() > deadline)
    others = after.drop(index=UNIT)
    assert others["late"].all() and len(others) > 5  # nothing sent by the day after
