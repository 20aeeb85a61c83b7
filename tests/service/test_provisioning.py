"""Reporter accounts for every village and community, accounts from a sheet, and the initial
password that must be replaced before anything else."""

from __future__ import annotations

import stat

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app as cli
from assessment.problems import ProblemsError
from assessment.service import Principal, Service, sign_in
from assessment.service.accounts import add_user, set_own_password
from assessment.service.provisioning import import_accounts, provision_reporters
from assessment.store import Scope
from assessment.store.registry import current_registry, import_registry
from assessment.store.users import accounts, get_account

OPERATOR = Principal.operator("setup")
LONGXI = "500188001000"


@pytest.fixture
def town(db):
    import_registry(
        db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "setup", Scope.everything()
    )
    return db


def _leaves_under(db, code: str) -> pd.DataFrame:
    registry = current_registry(db, Scope.everything())
    inside = Scope.of(code).codes(registry)
    parents = set(registry["parent_code"])
    return registry[registry["unit_code"].isin(inside) & ~registry["unit_code"].isin(parents)]


def test_one_reporter_per_unit_without_one_each_with_its_own_initial_password(town):
    add_user(town, OPERATOR, "yinxing", "reporter", ["500188001001"], "their-own-pw-1")
    made = provision_reporters(town, OPERATOR, LONGXI)
    leaves = _leaves_under(town, LONGXI)
    assert {h.unit_code for h in made} == set(leaves["unit_code"]) - {"500188001001"}
    names = dict(zip(leaves["unit_code"], leaves["unit_name"], strict=True))
    for h in made:
        account = get_account(town, h.name)
        assert h.name == f"r{h.unit_code}" and account.display_name == names[h.unit_code]
        assert account.scope == (h.unit_code,) and account.role == "reporter"
        assert account.must_change_password and h.password not in account.password_hash
    assert len({h.password for h in made}) == len(made)  # every one different
    assert not provision_reporters(town, OPERATOR, LONGXI)  # a rerun adds none


def test_an_initial_password_opens_nothing_until_the_reporter_sets_their_own(town):
    made = provision_reporters(town, OPERATOR, LONGXI)[0]
    first = sign_in(town, made.name, made.password)
    assert first.must_change_password
    with pytest.raises(ProblemsError, match="请先设置自己的密码"):
        Service(town, first).view()
    with pytest.raises(ProblemsError, match="当前密码不对"):
        set_own_password(town, first, "not-it", "my-village-pw-9")
    with pytest.raises(ProblemsError, match="至少 8 个字符"):
        set_own_password(town, first, made.password, "short")
    mine = set_own_password(town, first, made.password, "my-village-pw-9")
    assert not mine.must_change_password
    assert sign_in(town, made.name, "my-village-pw-9").name == made.name
    view = Service(town, mine).view()
    assert list(view.registry["unit_code"]) == [made.unit_code]  # its own unit, nothing else


def test_a_reporter_is_given_a_village_or_community_never_a_street(town):
    with pytest.raises(ProblemsError) as exc:
        add_user(town, OPERATOR, "wide", "reporter", [LONGXI], "long-enough-1")
    assert exc.value.codes == ["reporter_scope"]


def test_the_sheet_creates_and_updates_accounts_or_says_every_problem_and_stores_nothing(town):
    add_user(town, OPERATOR, "org01", "organizer", [LONGXI], "long-enough-1")
    bad = pd.DataFrame(
        {
            "用户名": ["ok1", "x", "ok1", "r2"],
            "角色": ["填报员", "boss", "reporter", "reporter"],
            "管辖范围": ["500188001002", "", "500188001003", LONGXI],
            "邮箱": ["", "", "not-an-address", ""],
        }
    )
    before = len(accounts(town))
    with pytest.raises(ProblemsError) as exc:
        import_accounts(town, OPERATOR, bad)
    found = {(p.code, p.row) for p in exc.value.problems}
    assert {("bad_user_name", 3), ("bad_role", 3), ("duplicate_user", 4), ("bad_email", 4)} <= found
    assert ("reporter_scope", 5) in found
    assert len(accounts(town)) == before  # nothing half-imported
    good = pd.DataFrame(
        {
            "name": ["ok1", "org01"],
            "role": ["填报员", "organizer"],
            "scope": ["500188001002", "500188002000"],
            "display_name": ["锦绣林社区填报员", "双凤街道组织委员"],
        }
    )
    created, updated = import_accounts(town, OPERATOR, good)
    assert [h.name for h in created] == ["ok1"] and updated == ["org01"]
    assert get_account(town, "ok1").must_change_password
    assert get_account(town, "org01").scope == ("500188002000",)


def test_the_commands_write_the_sheet_for_the_owner_only_and_say_so(town, tmp_path):
    runner = CliRunner()
    out = tmp_path / "handout.xlsx"
    args = ["users", "provision", "--role", "reporter", "--under", LONGXI, "--out", str(out)]
    done = runner.invoke(cli, [*args, "--db", town.url])
    assert done.exit_code == 0, done.output
    assert "仅本机当前用户可读" in done.output and "首次登录" in done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("用户名", "单位代码", "单位名称", "初始密码")
    first = rows[1]
    assert sign_in(town, first[0], first[3]).must_change_password  # the sheet's password works
    again = runner.invoke(cli, [*args, "--db", town.url])
    assert again.exit_code != 0 and "已存在" in again.output  # never overwrites
    sheet_in = tmp_path / "people.csv"
    sheet_in.write_text(
        "用户名,角色,管辖范围,显示名\nzhao,组织员,500188002000,双凤街道组织委员\n", encoding="utf-8"
    )
    imported = runner.invoke(cli, ["users", "import", str(sheet_in), "--db", town.url])
    assert imported.exit_code == 0, imported.output
    assert "已新建 1 个账户" in imported.output
    assert (tmp_path / "people_初始密码.xlsx").exists()
    assert get_account(town, "zhao").role == "organizer"
