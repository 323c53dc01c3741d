"""The integration API: tokens (shown once, stored hashed, revocable, scoped), idempotent
intake, case status, changes since, transitions with the case page's guards, the public pool,
statute search, court feedback, JSON errors and the OpenAPI document."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from app.api.models import ApiToken
from app.api.tokens import create_token, hash_token, revoke_token
from app.extensions import db
from cases.models import Case
from conftest import TEST_DB, TODAY
from lifecycle_paths import PATHS, valid_data

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "statutes"


@pytest.fixture
def token(world):
    """A token for the county centre's subtree, every source."""
    row, secret = create_token("12345 hotline", world.county)
    return secret


def auth(secret):
    return {"Authorization": f"Bearer {secret}"}


def intake(**overrides):
    body = {
        "source": "hotline_12345", "source_ref": "GD-2026-0001", "category": "neighbour",
        "facts": "楼上漏水导致楼下天花板受损。", "claims": "请求赔偿维修费3000元。",
        "parties": [
            {"role": "applicant", "kind": "person", "name": "张三",
             "id_number": "11010519491231002X", "phone": "13800138000"},
            {"role": "respondent", "kind": "person", "name": "李四",
             "id_number": "110105198001010032"},
        ],
    }
    body.update(overrides)
    return body


def case_url(case_or_number, suffix=""):
    number = getattr(case_or_number, "number", case_or_number)
    return f"/api/v1/cases/{quote(number, safe='')}{suffix}"


# ---- tokens ------------------------------------------------------------------------------

def test_a_token_is_stored_only_as_its_hash_and_shown_once(world):
    row, secret = create_token("grid platform", world.county, "grid")
    assert secret.startswith("cnc_") and len(secret) > 40
    assert row.token_hash == hash_token(secret) and secret not in (row.token_hash, row.prefix)
    assert secret.startswith(row.prefix)
    stored = db.session.execute(select(ApiToken.__table__)).all()
    assert all(secret not in str(value) for r in stored for value in r)


def test_missing_malformed_unknown_and_revoked_tokens_answer_401(client, world, token):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                    auth("cnc_not-a-token")):
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.json["code"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/cases", headers=auth(token)).status_code == 200
    revoke_token(db.session.scalar(select(ApiToken)))
    assert client.get("/api/v1/cases", headers=auth(token)).status_code == 401


def test_a_used_token_records_when(client, world, token):
    client.get("/api/v1/cases", headers=auth(token))
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_cli_creates_prints_on_last_line_lists_and_revokes(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--name", "court", "--centre", "榕鼓",
                                 "--source", "court_delegated"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    assert row.centre_id == world.county.id and row.source == "court_delegated"
    default = runner.invoke(args=["api-token", "create", "--name", "all"])
    top = db.session.scalar(select(ApiToken).where(
        ApiToken.token_hash == hash_token(default.output.strip().splitlines()[-1])))
    assert top.centre_id == world.city.id and top.source is None
    listed = runner.invoke(args=["api-token", "list"])
    assert row.prefix in listed.output and secret not in listed.output
    assert runner.invoke(args=["api-token", "revoke", str(row.id)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    bad = runner.invoke(args=["api-token", "create", "--name", "x", "--centre", "nowhere"])
    assert bad.exit_code != 0


def test_admin_page_creates_a_token_shown_once_and_revokes_it(app, world, login):
    client = login(world.users["admin"])
    page = client.get("/admin/api-tokens/")
    assert page.status_code == 200
    response = client.post("/admin/api-tokens/", data={
        "name": "12345", "centre_id": world.county.id, "source": "hotline_12345"})
    assert response.status_code == 200
    row = db.session.scalar(select(ApiToken))
    html = response.get_data(as_text=True)
    start = html.index('id="new-token">') + len('id="new-token">')
    secret = html[start:html.index("<", start)]
    assert hash_token(secret) == row.token_hash
    assert secret not in client.get("/admin/api-tokens/").get_data(as_text=True)
    client.post(f"/admin/api-tokens/{row.id}/revoke")
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None


def test_admin_token_page_is_for_admins_only(world, login):
    assert login(world.clerk).get("/admin/api-tokens/").status_code == 403


# ---- intake ------------------------------------------------------------------------------

def test_intake_registers_once_and_a_retry_returns_the_same_case(client, world, token):
    first = client.post("/api/v1/cases", json=intake(), headers=auth(token))
    assert first.status_code == 201, first.json
    assert first.json["number"].endswith("号") and first.json["status"] == "registered"
    assert first.json["source_ref"] == "GD-2026-0001"
    assert first.json["centre"]["code"] == "榕鼓"
    assert first.json["due"]["acceptance_due"] is not None
    again = client.post("/api/v1/cases", json=intake(), headers=auth(token))
    assert again.status_code == 200 and again.json["number"] == first.json["number"]
    assert db.session.scalar(select(func.count(Case.id))) == 1
    case = db.session.scalar(select(Case))
    assert case.events[0].trigger == "register" and case.created_by_id is None


def test_malformed_json_answers_400_in_json(client, world, token):
    response = client.post("/api/v1/cases", data="{not json", headers={
        **auth(token), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["code"] == 400
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_intake_keeps_the_amount_and_an_organisation(client, world, token):
    body = intake(amount=3000.5)
    body["parties"][1] = {"role": "respondent", "kind": "organisation", "name": "福州某物业公司",
                          "credit_code": "91350100M000100Y43"}
    response = client.post("/api/v1/cases", json=body, headers=auth(token))
    assert response.status_code == 201, response.json
    assert response.json["amount"] == "3000.50"


def test_intake_at_a_centre_below_and_outside_the_scope(client, world, token):
    below = client.post("/api/v1/cases", json=intake(centre="榕鼓东"), headers=auth(token))
    assert below.status_code == 201 and below.json["centre"]["code"] == "榕鼓东"
    outside = client.post("/api/v1/cases", json=intake(centre="榕台", source_ref="X-2"),
                          headers=auth(token))
    assert outside.status_code == 403 and outside.is_json
    unknown = client.post("/api/v1/cases", json=intake(centre="nowhere", source_ref="X-3"),
                          headers=auth(token))
    assert unknown.status_code == 422
    assert unknown.json["errors"]["json"]["centre"]


def test_a_source_scoped_token_registers_only_its_source(client, world):
    _, secret = create_token("grid", world.county, "grid")
    assert client.post("/api/v1/cases", json=intake(), headers=auth(secret)).status_code == 403
    ok = client.post("/api/v1/cases", json=intake(source="grid"), headers=auth(secret))
    assert ok.status_code == 201


def test_bad_intake_gets_422_with_field_messages(client, world, token):
    body = intake(category="nonsense")
    body["parties"][0]["id_number"] = "110105194912310021"   # wrong check digit
    body["parties"][1].pop("name")
    del body["facts"]
    response = client.post("/api/v1/cases", json=body, headers=auth(token))
    assert response.status_code == 422
    assert response.json["code"] == 422 and response.json["status"] == "Unprocessable Entity"
    errors = response.json["errors"]["json"]
    assert "category" in errors and "facts" in errors
    assert "check digit" in errors["parties"]["0"]["id_number"][0]
    assert errors["parties"]["1"]["name"]
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_intake_needs_both_sides_and_an_applicant_phone(client, world, token):
    body = intake()
    body["parties"][1]["role"] = "applicant"
    response = client.post("/api/v1/cases", json=body, headers=auth(token))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert errors["parties"]["1"]["phone"] == ["Enter the applicant's phone number."]
    body["parties"][1]["phone"] = "13900139000"
    response = client.post("/api/v1/cases", json=body, headers=auth(token))
    assert response.status_code == 422
    assert "respondent" in response.json["errors"]["json"]["parties"]["_schema"][0]


@pytest.mark.postgres_only
def test_concurrent_deliveries_of_one_case_register_it_once(app, world):
    if TEST_DB != "postgresql":
        pytest.skip("needs PostgreSQL")
    _, secret = create_token("hotline", world.county)
    results = []

    def deliver():
        client = app.test_client()
        results.append(client.post("/api/v1/cases", json=intake(), headers=auth(secret)))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1 and codes.count(200) == 5, codes
    assert len({r.json["number"] for r in results}) == 1
    assert db.session.scalar(select(func.count(Case.id))) == 1


# ---- reading -----------------------------------------------------------------------------

def test_case_by_its_url_encoded_number(client, world, token, make_case):
    case = make_case(source="hotline_12345", source_ref="R-1")
    response = client.get(case_url(case), headers=auth(token))
    assert response.status_code == 200
    body = response.json
    assert body["number"] == case.number and body["status"] == "registered"
    assert body["due"]["acceptance_due"] == case.acceptance_due.isoformat()
    assert body["mediator"] is None and body["documents"] == []
    assert body["allowed_triggers"] == ["accept", "decline", "transfer", "withdraw"]
    assert body["court_feedback"] is None
    assert client.get(case_url("（2026）榕鼓调字第9999号"), headers=auth(token)).status_code == 404


def test_cases_outside_the_scope_answer_404(client, world, make_case):
    inside = make_case()
    outside = make_case(centre=world.other)
    _, township = create_token("township", world.township)
    _, county = create_token("county", world.county)
    _, grid = create_token("grid", world.county, "grid")
    assert client.get(case_url(inside), headers=auth(county)).status_code == 200
    assert client.get(case_url(outside), headers=auth(county)).status_code == 404
    assert client.get(case_url(inside), headers=auth(township)).status_code == 404
    assert client.get(case_url(inside), headers=auth(grid)).status_code == 404
    response = client.post(case_url(outside, "/transitions/accept"),
                           json={"mediation_type": "people"}, headers=auth(county))
    assert response.status_code == 404 and response.is_json


def test_updated_since_lists_changes_in_order_with_a_cursor(client, world, token, make_case):
    cases = [make_case(source_ref=f"S-{i}") for i in range(5)]
    make_case(centre=world.other)  # outside the scope
    listed = client.get("/api/v1/cases?limit=2", headers=auth(token)).json
    numbers = [c["number"] for c in listed["items"]]
    while listed["next_cursor"]:
        listed = client.get(f"/api/v1/cases?limit=2&cursor={listed['next_cursor']}",
                            headers=auth(token)).json
        numbers += [c["number"] for c in listed["items"]]
    assert numbers == [c.number for c in cases]
    mark = client.get(case_url(cases[3]), headers=auth(token)).json["updated_at"]
    later = client.get("/api/v1/cases", query_string={"updated_since": mark},
                       headers=auth(token)).json["items"]
    assert [c["number"] for c in later] == [cases[3].number, cases[4].number]
    # A transition bumps updated_at: the case shows up as changed.
    client.post(case_url(cases[0], "/transitions/accept"), json={"mediation_type": "people"},
                headers=auth(token))
    later = client.get("/api/v1/cases", query_string={"updated_since": mark},
                       headers=auth(token)).json["items"]
    assert [c["number"] for c in later][-1] == cases[0].number
    bad = client.get("/api/v1/cases?updated_since=yesterday&cursor=%%%", headers=auth(token))
    assert bad.status_code == 422 and "updated_since" in bad.json["errors"]["query"]
    bad_cursor = client.get("/api/v1/cases?cursor=abc", headers=auth(token))
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json["errors"]["query"]


# ---- transitions -------------------------------------------------------------------------

def test_transitions_follow_the_lifecycle_with_the_case_pages_guards(client, world, token,
                                                                      make_case):
    case = make_case()
    url = case_url(case, "/transitions/")
    assign = valid_data("assign", mediator_id=world.mediator.id, to_centre_id=None)
    del assign["has_conflict"]
    refused = client.post(url + "assign", json=assign, headers=auth(token))
    assert refused.status_code == 409
    assert refused.json["condition"] == "not_allowed_in_state"
    assert refused.json["state"] == "registered" and refused.json["trigger"] == "assign"
    done = client.post(url + "accept", json={"mediation_type": "people", "version": case.version},
                       headers=auth(token))
    assert done.status_code == 200 and done.json["status"] == "matching"
    stale = client.post(url + "decline", json={"reason_code": "other",
                                               "redirect_channel": "court", "version": 1},
                        headers=auth(token))
    assert stale.status_code == 409 and stale.json["condition"] == "stale_version"
    guard = client.post(url + "assign", json={"mediator_id": world.mediator.id,
                                              "chosen_by": "parties",
                                              "conflict_declared": True},
                        headers=auth(token))
    assert guard.status_code == 409 and guard.json["condition"] == "mediator_not_accepted"
    assigned = client.post(url + "assign", json={
        "mediator_id": world.mediator.id, "chosen_by": "parties", "mediator_accepted": True,
        "conflict_declared": True}, headers=auth(token))
    assert assigned.status_code == 200
    assert assigned.json["mediator"] == {"id": world.mediator.id, "name": "林秀英"}
    assert assigned.json["due"]["mediation_due"] is not None
    db.session.expire_all()
    event = db.session.get(Case, case.id).events[-1]
    assert event.trigger == "assign" and event.data["via"] == "api"
    assert event.data["api_token"] == "12345 hotline"


def test_transition_data_is_checked_per_trigger(client, world, token, make_case):
    case = make_case()
    url = case_url(case, "/transitions/")
    bad = client.post(url + "accept", json={"mediation_type": "martial"}, headers=auth(token))
    assert bad.status_code == 422 and "mediation_type" in bad.json["errors"]["json"]
    unknown_field = client.post(url + "accept", json={"mediation_type": "people", "x": 1},
                                headers=auth(token))
    assert unknown_field.status_code == 422 and "x" in unknown_field.json["errors"]["json"]
    assert client.post(url + "fly", json={}, headers=auth(token)).status_code == 404
    assert client.post(url + "fly", json={}, headers=auth(token)).is_json
    transfer = client.post(url + "transfer", json={"to_centre": "nowhere"}, headers=auth(token))
    assert transfer.status_code == 422 and "to_centre" in transfer.json["errors"]["json"]
    moved = client.post(url + "transfer", json={"to_centre": "榕鼓东"}, headers=auth(token))
    assert moved.status_code == 200 and moved.json["centre"]["code"] == "榕鼓东"


def test_wrong_method_and_unknown_paths_answer_json(client, world, token):
    response = client.delete("/api/v1/mediators", headers=auth(token))
    assert response.status_code == 405 and response.is_json
    assert "GET" in response.headers["Allow"]
    response = client.get("/api/v1/nothing-here", headers=auth(token))
    assert response.status_code == 404 and response.is_json
    assert client.get("/no-such-page").content_type.startswith("text/html")


# ---- court feedback ----------------------------------------------------------------------

def drive(client, secret, case, trigger, world):
    data = valid_data(trigger, mediator_id=world.mediator.id, to_centre_id=None)
    if trigger == "reach_agreement":
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in data["agreement"].items()}
        data["effective_on"] = TODAY.isoformat()
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()
            if k != "has_conflict"}
    response = client.post(case_url(case, f"/transitions/{trigger}"), json=data,
                           headers=auth(secret))
    assert response.status_code == 200, response.json
    return response.json


def test_court_feedback_after_an_agreement(client, world, make_case):
    from cases.document_models import IssuedDocument
    _, secret = create_token("court", world.county, "court_delegated")
    case = make_case(source="court_delegated", source_ref="（2026）闽0102民初123号")
    feedback_url = case_url(case, "/court-feedback")
    pending = client.get(feedback_url, headers=auth(secret))
    assert pending.status_code == 409 and pending.json["condition"] == "not_ended"
    for trigger in PATHS["agreed"]:
        body = drive(client, secret, case, trigger, world)
    db.session.add(IssuedDocument(case_id=case.id, kind="agreement", version=1,
                                  sha256="a" * 64, fingerprint="b" * 64, short_code="abc",
                                  size=1000, pages=2, content=b"%PDF"))
    db.session.commit()
    body = client.get(case_url(case), headers=auth(secret)).json
    feedback = body["court_feedback"]
    assert feedback["court_reference"] == "（2026）闽0102民初123号"
    assert feedback["outcome"] == "settled" and feedback["agreement_fingerprint"] == "a" * 64
    assert feedback["termination_reason"] is None
    assert body["documents"][0]["kind"] == "agreement" and body["documents"][0]["sha256"] == "a" * 64
    assert client.get(feedback_url, headers=auth(secret)).json == feedback


def test_court_feedback_after_a_termination(client, world, make_case):
    _, secret = create_token("court", world.county, "court_delegated")
    case = make_case(source="court_delegated", source_ref="（2026）闽0102民初124号")
    for trigger in PATHS["terminated"]:
        drive(client, secret, case, trigger, world)
    feedback = client.get(case_url(case, "/court-feedback"), headers=auth(secret)).json
    assert feedback["outcome"] == "not_settled"
    assert feedback["termination_reason"] == "party_unwilling"
    assert feedback["failure_summary"] == "被申请人拒绝继续调解。"
    assert feedback["agreement_fingerprint"] is None


def test_court_feedback_is_only_for_court_delegated_cases(client, world, token, make_case):
    case = make_case()
    assert client.get(case_url(case, "/court-feedback"), headers=auth(token)).status_code == 404


# ---- pool and statutes -------------------------------------------------------------------

def test_mediators_show_public_fields_only(client, world, token):
    world.mediator.phone = "13700137000"
    world.mediator.id_number = "11010519491231002X"
    db.session.commit()
    response = client.get("/api/v1/mediators", headers=auth(token))
    assert response.status_code == 200
    text = json.dumps(response.json, ensure_ascii=False)
    assert "林秀英" in text and "13700137000" not in text and "11010519491231002X" not in text
    assert all("phone" not in m and "id_number" not in m for m in response.json["items"])
    narrowed = client.get("/api/v1/mediators?centre=榕台", headers=auth(token)).json
    assert [m["name"] for m in narrowed["items"]] == ["陈建国"]
    assert client.get("/api/v1/mediators?kind=wizard", headers=auth(token)).status_code == 422


def test_statute_search(client, world, token):
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    from statutes.importer import import_corpus
    from statutes.search import index_articles
    import_corpus(CORPUS)
    index_articles()
    response = client.get("/api/v1/statutes/search", query_string={"q": "一方拒绝调解怎么办",
                                                                   "limit": 10},
                          headers=auth(token))
    assert response.status_code == 200
    hits = response.json["items"]
    assert 0 < len(hits) <= 10
    assert any(h["short_title"] == "人民调解法" and h["article"] == "第十七条" for h in hits), \
        [(h["short_title"], h["article"]) for h in hits]
    assert client.get("/api/v1/statutes/search?q=", headers=auth(token)).status_code == 422


# ---- the document and its page -----------------------------------------------------------

def test_openapi_document_is_valid_and_documents_security(client):
    from openapi_spec_validator import validate
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/cases/{number}/transitions/accept" in spec["paths"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                assert "401" in op["responses"] and "default" not in op["responses"], path


def test_docs_page_renders_without_anything_from_elsewhere(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/api/v1/cases/{number}/transitions/accept" in html and "IntakeSchema" not in html
    assert "Intake" in html
    for marker in ("cdn", "unpkg", "jsdelivr", "<script src=\"http", "https://fonts"):
        assert marker not in html.lower()
