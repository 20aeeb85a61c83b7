"""The HTTP API through the real server (`streamlit run`, uvicorn) with httpx: each role's token
sees only its scope, uploads give the same problems as the page, a revoked token stops at
once, and everything is in the audit log."""

from __future__ import annotations

import io

import httpx
import pandas as pd
import pytest
from conftest import ROOT, SAMPLE
from served import start_server, stop_server, worker_port

from assessment.service import Principal, Service
from assessment.service.api_tokens import add_token, revoke
from assessment.store import Scope, open_database
from assessment.store.audit import audit_entries
from assessment.store.uploads import check_monthly

STREET = "500188001000"  # 龙溪街道, org01's street
OTHER_UNIT = "500188002001"  # a community of 双凤街道


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from assessment.service.seed import seed_sample

    folder = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{folder / 'app.db'}"
    db = open_database(url)
    seed_sample(db)
    admin = Service(db, Principal.operator("setup"))
    tokens = {
        "admin": add_token(admin, "bi", "admin"),
        "street": add_token(admin, "street", "org01"),
        "supervisor": add_token(admin, "watch", "supervisor"),
        "spare": add_token(admin, "spare", "admin"),
    }
    proc, base = start_server(url, worker_port(8), FIVECOLOR_API_PER_MINUTE="40")
    with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as client:
        yield client, tokens, db, admin
    stop_server(proc)
    db.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_and_the_description_need_no_token(server):
    client, *_ = server
    assert client.get("/health").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/grades" in spec["paths"]
    assert "/events/{source}" in spec["paths"]


@pytest.mark.parametrize("token", [None, "fc_not-a-token", "Basic abc"])
def test_no_token_or_a_bad_one_is_401_without_detail(server, token):
    client, *_ = server
    headers = (
        {} if token is None else {"Authorization": token if " " in token else f"Bearer {token}"}
    )
    answer = client.get("/grades", headers=headers)
    assert answer.status_code == 401 and answer.json() == {"error": "unauthorized"}


def test_each_token_sees_only_its_accounts_scope(server):
    client, tokens, *_ = server
    everything = client.get("/grades", params={"period": "2026-10"}, headers=auth(tokens["admin"]))
    street = client.get("/grades", params={"period": "2026-10"}, headers=auth(tokens["street"]))
    assert everything.status_code == street.status_code == 200
    all_codes = {r["unit_code"] for r in everything.json()["rows"]}
    mine = {r["unit_code"] for r in street.json()["rows"]}
    assert len(all_codes) == 170 and mine < all_codes
    assert {r["parent_code"] for r in street.json()["rows"]} == {STREET}
    assert (
        client.get(f"/units/{OTHER_UNIT}/explain", headers=auth(tokens["street"])).status_code
        == 404
    )
    assert (
        client.get(f"/units/{OTHER_UNIT}/explain", headers=auth(tokens["admin"])).status_code == 200
    )
    theirs = client.get(
        "/grades", params={"parent": "500188002000"}, headers=auth(tokens["street"])
    )
    assert theirs.status_code == 404  # another street: as if it did not exist
    levels = client.get(
        "/grades", params={"level": "街道/乡镇"}, headers=auth(tokens["admin"])
    ).json()
    assert len(levels["rows"]) == 12 and all(r["grade"] for r in levels["rows"])


def test_json_comes_in_pages(server):
    client, tokens, *_ = server
    pages, offset = [], 0
    while offset is not None:
        answer = client.get(
            "/grades", params={"limit": 60, "offset": offset}, headers=auth(tokens["admin"])
        ).json()
        pages.append(answer["rows"])
        offset = answer["next"]
    assert [len(p) for p in pages] == [60, 60, 50] and answer["total"] == 170
    codes = [r["unit_code"] for p in pages for r in p]
    assert len(set(codes)) == 170
    bad = client.get("/grades", params={"limit": "0"}, headers=auth(tokens["admin"]))
    assert bad.status_code == 400


def test_grades_as_csv_and_parquet_are_the_same_table(server):
    client, tokens, *_ = server
    params = {"period": "2026-10"}
    as_json = client.get("/grades", params=params, headers=auth(tokens["admin"])).json()["rows"]
    as_csv = client.get(
        "/grades", params=params, headers={**auth(tokens["admin"]), "Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())
    csv = pd.read_csv(io.BytesIO(as_csv.content), dtype={"unit_code": str})
    parquet = client.get(
        "/grades", params={**params, "format": "parquet"}, headers=auth(tokens["admin"])
    )
    table = pd.read_parquet(io.BytesIO(parquet.content))
    assert list(csv["unit_code"]) == list(table["unit_code"]) == [r["unit_code"] for r in as_json]
    assert csv["score"].to_numpy() == pytest.approx(table["score"].to_numpy())
    assert [r["grade_label"] for r in as_json] == list(table["grade_label"].astype(str))


def test_an_upload_gives_the_same_problems_as_the_page(server):
    client, tokens, db, _ = server
    bad = (ROOT / "tests" / "bad_uploads" / "values_out_of_range.csv").read_bytes()
    answer = client.post(
        "/uploads",
        params={"period": "2026-10", "filename": "x.csv"},
        content=bad,
        headers=auth(tokens["admin"]),
    )
    assert answer.status_code == 422 and answer.json()["status"] == "rejected"
    _, page = check_monthly(db, bad, "x.csv", Scope.everything(), _sets(db), "2026-10")
    got = [(p["code"], p["row"], p["column"], p["message"]) for p in answer.json()["problems"]]
    assert got == [(p.code, p.row, p.column, p.message) for p in page]


def test_an_export_is_imported_for_the_tokens_street_only(server):
    client, tokens, *_ = server
    export = pd.read_csv(SAMPLE / "hotline_2026-10.csv", dtype=str, keep_default_na=False)
    everything = export.to_csv(index=False).encode()
    refused = client.post(
        "/events/hotline",
        params={"period": "2026-10"},
        content=everything,
        headers=auth(tokens["street"]),
    )
    assert refused.status_code == 422
    assert "unknown_unit_name" in {p["code"] for p in refused.json()["problems"]}
    mine = export[export["所属街道"] == "龙溪街道"].to_csv(index=False).encode()
    ok = client.post(
        "/events/hotline",
        params={"period": "2026-10"},
        content=mine,
        headers=auth(tokens["street"]),
    )
    assert ok.status_code == 200 and ok.json()["status"] == "imported"
    watch = client.post("/events/hotline", content=mine, headers=auth(tokens["supervisor"]))
    assert watch.status_code == 403  # a supervisor does not upload


def test_a_units_tickets_behind_its_rates(server):
    client, tokens, *_ = server
    export = pd.read_csv(SAMPLE / "hotline_2026-10.csv", dtype=str, keep_default_na=False)
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str)
    code = units.loc[units["unit_name"] == export["所属村社区"].iloc[0], "unit_code"].iloc[0]
    answer = client.get(
        f"/units/{code}/events",
        params={"period": "2026-10", "source": "hotline"},
        headers=auth(tokens["admin"]),
    ).json()
    mine = export[export["所属村社区"] == export["所属村社区"].iloc[0]]
    assert sorted(r["event_id"] for r in answer["rows"]) == sorted(mine["工单编号"])
    bad = client.get(f"/units/{code}/events", params={"source": "x"}, headers=auth(tokens["admin"]))
    assert bad.status_code == 400 and "hotline" in bad.json()["message"]


def test_tasks_and_the_briefing_tables(server):
    client, tokens, *_ = server
    tasks = client.get("/tasks", headers=auth(tokens["street"])).json()
    assert tasks["rows"] and {r["unit_code"][:9] for r in tasks["rows"]} == {STREET[:9]}
    brief = client.get(
        "/briefing", params={"period": "2026-10"}, headers=auth(tokens["admin"])
    ).json()
    assert sum(r["now"] for r in brief["counts"]) == 170 and len(brief["units"]) == 170
    one = client.get(
        "/briefing", params={"table": "summary", "format": "csv"}, headers=auth(tokens["admin"])
    )
    assert one.status_code == 200 and "龙溪街道" in one.content.decode("utf-8-sig")


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(server):
    client, tokens, *_ = server
    big = b"x" * (101 * 2**20)
    answer = client.post("/uploads", content=big, headers=auth(tokens["admin"]))
    assert answer.status_code == 413


def test_a_revoked_token_stops_at_once_and_every_call_is_audited(server):
    client, tokens, db, admin = server
    assert client.get("/tasks", headers=auth(tokens["spare"])).status_code == 200
    revoke(admin, "spare")
    assert client.get("/tasks", headers=auth(tokens["spare"])).status_code == 401
    calls = audit_entries(db, actions=["api_call"])
    assert {"/api/v1/tasks"} <= set(calls["detail"].map(lambda d: d["path"]))
    assert {200, 401} <= set(calls["detail"].map(lambda d: d["status"]))


def test_a_token_over_its_rate_is_told_when_to_come_back(server):
    client, tokens, *_ = server
    statuses = [client.get("/health").status_code]  # not counted
    for _ in range(45):
        statuses.append(client.get("/tasks", headers=auth(tokens["supervisor"])).status_code)
    assert 429 in statuses
    late = client.get("/tasks", headers=auth(tokens["supervisor"]))
    assert late.status_code == 429 and int(late.headers["Retry-After"]) >= 1


def _sets(db):
    from assessment.service.loading import graded

    return [r.rules for r in graded(db).rules]
