"""The parties choose their mediator in a real browser: the clerk prints access codes, each
party signs in at /party/ with a code, sees the recommendations with their reasons and sends
a list; the common choice is proposed, and the clerk accepts it for the mediator."""
from __future__ import annotations

import re

import pytest

from browser_support import Screenshots, skip_reason
from conftest import TEST_DB

_skip = skip_reason(TEST_DB)
if _skip:
    pytest.skip(_skip, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from app.extensions import db  # noqa: E402
from app.workdays import today as centre_today  # noqa: E402
from cases.services import fire_transition  # noqa: E402
from mediators.choice import CODE_LENGTH  # noqa: E402
from mediators.models import MediatorSpecialty  # noqa: E402
from mediators.ranking import eligible_ids  # noqa: E402
from browser_fixtures import expect_state, in_chinese, sign_in  # noqa: E402

pytestmark = pytest.mark.browser

APPLICANT, RESPONDENT = "张三", "李四"
INVALID_CODE = "This code is not valid. Check it and try again."


@pytest.fixture
def matching_case(world, make_case):
    """A neighbour dispute accepted today for people's mediation (the choice window is open),
    with 林秀英 specialised in neighbour disputes and eligible for it."""
    on = centre_today()
    db.session.add(MediatorSpecialty(mediator_id=world.mediator.id, category="neighbour"))
    db.session.commit()
    case = make_case(today=on)
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=on)
    assert case.status == "matching" and case.choice_due >= on
    assert eligible_ids(case) == [world.mediator.id]
    return case


def sign_out_clerk(page, base_url: str) -> None:
    page.click("header form[action$='/logout'] button")
    expect(page).to_have_url(f"{base_url}/login")


def print_codes(page, shots) -> dict[str, str]:
    """On the choice page: print codes for all parties; returns {party name: code}."""
    page.click("form[action$='/choice/codes']:not(:has(input[name=party])) button[type=submit]")
    expect(page).to_have_url(re.compile(r"/cases/\d+/choice/codes$"))
    slips = page.locator("section.code-slip")
    expect(slips).to_have_count(2)
    shots.take("codes")
    codes = {}
    for name in (APPLICANT, RESPONDENT):
        code = slips.filter(has_text=name).locator(".code-value").inner_text().strip()
        assert re.fullmatch(rf"[A-Z0-9]{{5}}-[A-Z0-9]{{{CODE_LENGTH - 5}}}", code), code
        codes[name] = code
    assert codes[APPLICANT] != codes[RESPONDENT]
    return codes


def party_sign_in(page, base_url: str, code: str) -> int:
    """Enter the code at /party/; returns the status of the sign-in POST."""
    page.goto(f"{base_url}/party/")
    page.fill("input[name=code]", code)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url == f"{base_url}/party/") as answer:
        page.click("form.party-form button[type=submit]")
    page.wait_for_load_state()
    return answer.value.status


def expect_wrong_code_refused(page, served_app, base_url: str, code: str, case) -> str:
    """A wrong code: the sign-in page again with one generic message and nothing else."""
    assert party_sign_in(page, base_url, code) == 401
    expect(page).to_have_url(f"{base_url}/party/")
    error = page.locator(".field.has-error .error")
    expect(error).to_have_text(in_chinese(served_app, INVALID_CODE))
    body = page.locator("body")
    for secret in (case.number, APPLICANT, RESPONDENT, "林秀英"):
        expect(body).not_to_contain_text(secret)
    return error.inner_text()


def choose_and_send(page, served_app, mediator_id: int, name: str) -> None:
    """From the party's case page: choose the mediator among the recommended, send the list."""
    recommended = page.locator("section.card", has=page.locator(
        "h2", has_text=in_chinese(served_app, "Recommended for your case")))
    card = recommended.locator("li.mediator-card", has_text=name)
    expect(card).to_have_count(1)
    reasons = card.locator("ul.reasons")
    expect(reasons).to_contain_text(in_chinese(served_app, "Specialty"))
    expect(reasons).to_contain_text(in_chinese(served_app, "Proximity"))
    card.locator(f"form[action*='/case/choices/add/{mediator_id}'] button").click()
    expect(page.locator("#my-choices ol.draft .draft-name")).to_have_text([name])
    page.click("#my-choices form[action$='/party/case/choices'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/party/case$"))
    expect(page.locator(".flash-success")).to_have_text(
        in_chinese(served_app, "Your choice is saved."))


def leave(page, base_url: str) -> None:
    page.click("form.party-signout button[type=submit]")
    expect(page).to_have_url(f"{base_url}/party/")


class Facts:
    """Plain values read in the test's thread (the browser thread has no database session)."""

    def __init__(self, **values) -> None:
        self.__dict__.update(values)


def test_parties_choose_a_common_mediator_who_is_assigned(world, matching_case, live_server,
                                                          served_app, page):
    case = Facts(id=matching_case.id, number=matching_case.number)
    mediator = Facts(id=world.mediator.id, name=world.mediator.name)
    choice_flow(page, live_server, served_app, case, mediator)


def choice_flow(page, live_server: str, served_app, case: Facts, mediator: Facts) -> None:
    shots = Screenshots(page, prefix="party-")
    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server}/cases/{case.id}")
    expect_state(page, "matching")
    page.click("#choice-link")
    expect(page).to_have_url(f"{live_server}/cases/{case.id}/choice")
    shots.take("choice-overview")
    codes = print_codes(page, shots)
    sign_out_clerk(page, live_server)

    # Wrong codes, a made-up one and the real one with its last letter changed: one answer.
    near_miss = codes[APPLICANT][:-1] + ("A" if codes[APPLICANT][-1] != "A" else "B")
    answers = {expect_wrong_code_refused(page, served_app, live_server, wrong, case)
               for wrong in ("ZZZZZ-ZZZZZ", near_miss)}
    assert len(answers) == 1
    shots.take("wrong-code")

    # Party 1 sees the case and the recommendations, and chooses 林秀英.
    party_sign_in(page, live_server, codes[APPLICANT])
    expect(page).to_have_url(f"{live_server}/party/case")
    expect(page.locator(".party-page h1")).to_have_text(case.number)
    expect(page.locator(".party-status .state")).to_have_class(re.compile(r"\bstate-matching\b"))
    expect(page.locator(".party-page")).to_contain_text(APPLICANT)
    shots.take("party1-case")
    choose_and_send(page, served_app, mediator.id, mediator.name)
    expect(page.locator("#my-choices")).to_contain_text(
        in_chinese(served_app, "%(chosen)s of %(total)s parties have chosen.")
        .replace("%(chosen)s", "1").replace("%(total)s", "2"))
    shots.take("party1-sent")
    leave(page, live_server)

    # Party 2 chooses the same mediator: she is proposed.
    party_sign_in(page, live_server, codes[RESPONDENT])
    expect(page).to_have_url(f"{live_server}/party/case")
    expect(page.locator(".party-page")).to_contain_text(RESPONDENT)
    choose_and_send(page, served_app, mediator.id, mediator.name)
    expect(page.locator(".flash-info")).to_contain_text(mediator.name)
    expect(page.locator("#my-choices")).to_have_count(0)
    expect(page.locator("section.attention")).to_contain_text(mediator.name)
    shots.take("party2-proposed")
    leave(page, live_server)

    # The clerk accepts for the mediator, declaring no relationship with any party.
    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server}/cases/{case.id}/choice")
    expect(page.locator("main h2", has_text=mediator.name)).to_have_count(1)
    accept_form = page.locator("form.answer[action$='/accept']")
    expect(accept_form).to_have_count(1)
    shots.take("proposal")
    accept_form.locator("input[name=declaration][value=none]").check()
    accept_form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/cases/{case.id}/choice")
    expect(page.locator(".flash-success")).to_have_text(
        in_chinese(served_app, "Accepted: the mediator is assigned."))
    shots.take("accepted")

    page.goto(f"{live_server}/cases/{case.id}")
    expect_state(page, "mediating")
    expect(page.locator(".case-head")).to_contain_text(mediator.name)
    shots.take("mediating")
