"""The intake form (纠纷登记): a valid entry registers a numbered case; bad input gets a message
next to the field, keeps everything typed, and writes nothing."""
from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from app.extensions import db
from cases import validators
from cases.models import Case, Party
from conftest import TODAY, person

FACTS = "楼上卫生间漏水，楼下天花板发霉。"
ORG_CODE = "91350100M000100Y43"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Register as if on TODAY (2026-11-16), whatever day the suite runs."""
    monkeypatch.setattr("cases.services.centre_today", lambda: TODAY)


def intake(world, **overrides):
    """A valid intake as the browser posts it; overrides replace or (value None) drop keys."""
    data = {
        "centre_id": str(world.county.id), "source": "walk_in", "source_ref": "",
        "category": "neighbour", "mediation_type": "", "amount": "3000.50",
        "facts": FACTS, "claims": "请求赔偿维修费3000.50元。",
        "parties-0-role": "applicant", "parties-0-kind": "person", "parties-0-name": "张三",
        "parties-0-id_number": "11010519491231002X", "parties-0-phone": "13800138000",
        "parties-0-address": "福州市鼓楼区东街1号", "parties-0-ethnicity": "汉族",
        "parties-1-role": "respondent", "parties-1-kind": "person", "parties-1-name": "李四",
        "parties-1-id_number": "110105198001010032", "parties-1-phone": "",
        "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def case_count() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def input_tag(page: str, field_id: str) -> str:
    match = re.search(r'<(?:input|select|textarea)[^>]*id="%s"[^>]*>' % re.escape(field_id), page)
    assert match, f"no field {field_id}"
    return match.group(0)


def test_valid_intake_registers_a_numbered_case(world, login_en):
    client = login_en(world.clerk)
    response = client.post("/cases/new", data=intake(world))
    case = db.session.scalar(select(Case))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.number == "（2026）榕鼓调字第0001号"
    assert case.amount == Decimal("3000.50") and case.facts == FACTS
    assert [(link.role, link.party.name) for link in case.links] == [
        ("applicant", "张三"), ("respondent", "李四")]
    applicant = case.links[0].party
    assert applicant.phone == "13800138000" and applicant.ethnicity == "汉族"
    assert applicant.gender == "female"  # read from the ID number
    with client.session_transaction() as session:
        assert any(case.number in message for _, message in session["_flashes"])


def test_the_form_starts_with_an_applicant_and_a_respondent_at_the_users_centre(world, login_en):
    page = page_text(login_en(world.clerk).get("/cases/new"))
    assert re.search(r'<option selected value="applicant">', input_tag(page, "parties-0-role")
                     + page[page.index('id="parties-0-role"'):][:400])
    assert 'name="parties-1-name"' in page and 'name="parties-2-name"' not in page
    centre_select = page[page.index('id="centre_id"'):][:2000]
    assert f'selected value="{world.county.id}"' in centre_select
    assert world.other.name not in centre_select  # outside the clerk's subtree
    assert world.township.name in centre_select


def test_second_case_of_the_year_takes_the_next_number(world, login_en):
    client = login_en(world.clerk)
    client.post("/cases/new", data=intake(world))
    client.post("/cases/new", data=intake(world))
    assert sorted(db.session.scalars(select(Case.number))) == [
        "（2026）榕鼓调字第0001号", "（2026）榕鼓调字第0002号"]


@pytest.mark.parametrize("field, value, message", [
    ("parties-0-id_number", "110105194912310021", "The check digit of this ID number is wrong"),
    ("parties-0-id_number", "1101051949", "An ID number has 18 characters"),
    ("parties-0-phone", "12345", "Enter an 11-digit mobile number"),
    ("parties-0-phone", "", "Enter the applicant's phone number."),
    ("parties-0-name", "", "Enter the party's name."),
    ("parties-0-birth_date", "1950-01-01", "The birth date does not match the ID number."),
    ("parties-0-birth_date", "2026-02-30", "Not a valid date value."),
    ("parties-1-agent_id_number", "12345", "An ID number has 18 characters"),
    ("parties-1-agent_phone", "999", "Enter an 11-digit mobile number"),
    ("amount", "-1", "Enter an amount between 0"),
    ("amount", "NaN", "Enter an amount between 0"),
    ("amount", "1e999999", "Enter an amount between 0"),
    ("amount", "12.345", "at most two decimals"),
    ("amount", "三千元", "Not a valid decimal value."),
    ("category", "", "Choose the category of the dispute."),
    ("facts", "   ", "Describe what happened."),
])
def test_bad_input_gets_its_message_and_keeps_what_was_typed(world, login_en, field, value, message):
    agent = {"parties-1-agent_name": "赵律师"} if "agent" in field else {}
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{field: value}, **agent))
    page = page_text(response)
    assert response.status_code == 200
    assert message in page
    assert case_count() == 0
    for key in ("facts", "parties-0-name", "parties-1-name", "parties-0-address",
                "parties-1-id_number", "amount"):
        if key != field:
            assert intake(world)[key] in page
    if value.strip():
        assert value in page  # the wrong value stays in its box to be corrected
    assert "autofocus" in input_tag(page, field)  # the cursor goes to the first mistake


def test_message_sits_next_to_its_field(world, login_en):
    page = page_text(login_en(world.clerk).post(
        "/cases/new", data=intake(world, **{"parties-1-phone": "12345"})))
    block = page[page.index('id="parties-1"'):]
    block = block[:block.index("</fieldset>")]
    assert "Enter an 11-digit mobile number" in block
    first = page[page.index('id="parties-0"'):]
    assert "Enter an 11-digit mobile number" not in first[:first.index("</fieldset>")]


def test_missing_respondent(world, login_en):
    response = login_en(world.clerk).post(
        "/cases/new", data=intake(world, **{"parties-1-role": "applicant",
                                            "parties-1-phone": "13900139000"}))
    assert response.status_code == 200
    assert "Add at least one respondent: a dispute needs another side." in page_text(response)
    assert case_count() == 0


def test_organisation_with_a_valid_credit_code(world, login_en):
    assert validators.credit_code_problem(ORG_CODE) is None
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "parties-1-kind": "organisation", "parties-1-name": "福州某物业管理有限公司",
        "parties-1-credit_code": ORG_CODE.lower(), "parties-1-legal_representative": "王五",
        # a person's ID typed before switching the kind is not kept for an organisation
        "parties-1-id_number": "110105198001010032"}))
    assert response.status_code == 302
    org = db.session.scalar(select(Party).where(Party.kind == "organisation"))
    assert (org.name, org.credit_code, org.legal_representative, org.id_number) == (
        "福州某物业管理有限公司", ORG_CODE, "王五", None)


def test_organisation_with_a_wrong_check_character(world, login_en):
    wrong = ORG_CODE[:-1] + "A"
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "parties-1-kind": "organisation", "parties-1-name": "福州某物业管理有限公司",
        "parties-1-credit_code": wrong, "parties-1-id_number": ""}))
    page = page_text(response)
    assert response.status_code == 200
    assert "The check character of this credit code is wrong" in page
    assert wrong in page and "福州某物业管理有限公司" in page
    assert case_count() == 0


def test_an_organisation_needs_no_id_number_and_a_person_no_credit_code(world, login_en):
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "parties-0-id_number": "", "parties-0-credit_code": "not a code",
        "parties-1-kind": "organisation", "parties-1-name": "某公司", "parties-1-id_number": "bad"}))
    assert response.status_code == 302


def test_service_errors_are_shown_in_place(world, login_en, make_case):
    make_case()  # 张三 11010519491231002X is on file
    client = login_en(world.clerk)
    response = client.post("/cases/new", data=intake(world, **{"parties-0-name": "王五"}))
    assert response.status_code == 200
    assert "already registered under a different name" in page_text(response)
    twice = client.post("/cases/new", data=intake(world, **{
        "parties-1-id_number": "11010519491231002X", "parties-1-name": "张三"}))
    page = page_text(twice)
    block = page[page.index('id="parties-1"'):]
    assert "The same person or organisation is entered twice." in block[:block.index("</fieldset>")]
    assert case_count() == 1


def test_source_reference_must_be_unique_per_source(world, login_en):
    client = login_en(world.clerk)
    assert client.post("/cases/new", data=intake(world, source="hotline_12345",
                                                 source_ref="GD-2026-001")).status_code == 302
    again = client.post("/cases/new", data=intake(world, source="hotline_12345",
                                                  source_ref="GD-2026-001"))
    assert again.status_code == 200
    assert "A case from this source already has this reference." in page_text(again)
    assert case_count() == 1


def test_add_another_party_keeps_everything_typed(world, login_en):
    client = login_en(world.clerk)
    response = client.post("/cases/new", data=intake(world, submit=None, add_party="third_party",
                                                     **{"parties-0-phone": "12345"}))
    page = page_text(response)
    assert response.status_code == 200
    assert case_count() == 0
    assert 'name="parties-2-name"' in page
    assert re.search(r'id="parties-2-role"[^>]*>\s*(<option[^>]*>[^<]*</option>\s*)*?'
                     r'<option selected value="third_party">', page)
    for kept in (FACTS, "张三", "李四", "12345", "3000.50"):
        assert kept in page
    assert "Enter an 11-digit mobile number" not in page  # adding a party does not validate yet
    assert "autofocus" in input_tag(page, "parties-2-name")


def test_remove_a_party(world, login_en):
    client = login_en(world.clerk)
    data = intake(world, submit=None, **{
        "parties-2-role": "third_party", "parties-2-kind": "person", "parties-2-name": "王五",
        "parties-1-remove": "Remove"})
    page = page_text(client.post("/cases/new", data=data))
    assert "王五" in page and "张三" in page and "李四" not in page
    assert case_count() == 0


def test_three_parties_are_registered_in_order(world, login_en):
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "parties-2-role": "third_party", "parties-2-kind": "person", "parties-2-name": "王五",
        "parties-2-agent_name": "赵律师", "parties-2-agent_relation": "lawyer",
        "parties-2-refuses_mediation": "y"}))
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    third = case.links[2]
    assert (third.role, third.party.name, third.agent_name, third.agent_relation,
            third.refuses_mediation) == ("third_party", "王五", "赵律师", "lawyer", True)


@pytest.mark.parametrize("role", ["mediator", "supervisor"])
def test_roles_that_cannot_register_get_403(world, login_en, role):
    client = login_en(world.users[role])
    assert client.get("/cases/new").status_code == 403
    assert client.post("/cases/new", data=intake(world)).status_code == 403
    assert case_count() == 0


def test_a_clerk_cannot_register_at_a_centre_outside_their_subtree(world, login_en):
    client = login_en(world.outsider)
    page = page_text(client.get("/cases/new"))
    assert world.other.name in page and world.county.name not in page
    response = client.post("/cases/new", data=intake(world))  # centre_id = the county
    assert response.status_code == 200
    assert "Not a valid choice" in page_text(response)
    assert case_count() == 0


def test_signed_out_users_are_sent_to_sign_in(world, client):
    response = client.get("/cases/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


FIELD_NAMES = [
    "centre_id", "source", "source_ref", "category", "mediation_type", "amount", "facts",
    "claims", "submit", "add_party", "parties", "parties-", "parties-x-name",
    "parties-999999-name", "parties--1-name",
] + [f"parties-{i}-{name}" for i in range(3) for name in (
    "role", "kind", "name", "gender", "ethnicity", "birth_date", "id_number", "phone",
    "address", "occupation", "credit_code", "legal_representative", "refuses_mediation",
    "agent_name", "agent_id_number", "agent_phone", "agent_relation", "remove")]
TRICKY = st.sampled_from([
    "", " ", "\x00", "NaN", "-0", "1e999999", "99999999999999999999", "2026-02-30", "0000-00-00",
    "applicant", "organisation", "person", "汉族", "x" * 300, "'; DROP TABLE cases; --",
    "%", "_", "11010519491231002X", "13800138000", ORG_CODE, "<script>alert(1)</script>"])


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(garbage=st.dictionaries(st.sampled_from(FIELD_NAMES), st.one_of(TRICKY, st.text()),
                               max_size=25))
def test_garbage_never_gives_a_500(world, login_en, garbage):
    client = login_en(world.clerk)
    before = case_count()
    response = client.post("/cases/new", data=garbage)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert case_count() == before


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELD_NAMES), st.one_of(TRICKY, st.text()),
                               max_size=4))
def test_a_valid_form_with_garbage_in_places_never_gives_a_500(world, login_en, changes):
    client = login_en(world.clerk)
    before = case_count()
    response = client.post("/cases/new", data=intake(world, **changes))
    assert response.status_code in (200, 302)
    assert case_count() == before + (response.status_code == 302)


def test_a_forged_source_with_a_reference_is_refused_not_looked_up(world, login_en):
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "source": "\x00", "source_ref": "NaN"}))
    assert response.status_code == 200
    assert "Not a valid choice." in page_text(response) and case_count() == 0


def test_an_agent_needs_a_name(world, login_en):
    response = login_en(world.clerk).post("/cases/new", data=intake(world, **{
        "parties-1-agent_phone": "13900139000"}))
    page = page_text(response)
    assert "Enter the agent's name." in page and "13900139000" in page
    assert "autofocus" in input_tag(page, "parties-1-agent_name")
    assert re.search(r'<details class="agent" open>', page)  # the agent box is open to fix it
    assert case_count() == 0


def test_enter_in_a_text_box_registers_rather_than_removes_a_party(world, login_en):
    page = page_text(login_en(world.clerk).post("/cases/new", data=intake(
        world, submit=None, add_party="respondent")))
    form = page[page.index('<form method="post" action="/cases/new"'):]
    first_button = re.search(r'<(?:button|input)[^>]*type="submit"[^>]*>', form).group(0)
    assert 'name="submit"' in first_button


def test_service_refuses_a_repeated_sender_reference(world, make_case):
    from cases.services import IntakeError
    make_case(source="hotline_12345", source_ref="12345-2026-000917")
    with pytest.raises(IntakeError) as raised:
        make_case(source="hotline_12345", source_ref="12345-2026-000917",
                  parties=[person(id_number=None), person("respondent", "王五", id_number=None)])
    assert "source_ref" in raised.value.errors
    assert db.session.scalar(select(func.count(Case.id))) == 1
