"""Parties choosing their mediator: access codes (hashed, re-issued, rate-limited), ranked
choices at the party page or the counter, the proposal of the best common choice or the
centre's designation after the window, and the mediator's accept / decline."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from cases.services import fire_transition
from conftest import TODAY
from mediators import choice
from mediators.choice_models import AccessCode, AccessFailure, MediatorChoice, MediatorProposal
from mediators.models import Mediator

CHOICE_DUE = date(2026, 11, 19)  # 3 working days after Monday 16 November


def add_mediators(world, n=3, capacity=3):
    """n more mediators at the county centre (world.mediator is the first)."""
    names = ["王建华", "赵丽", "孙强", "周敏", "吴刚"]
    made = [Mediator(name=names[i], centre=world.county, capacity=capacity) for i in range(n)]
    db.session.add_all(made)
    db.session.commit()
    return [world.mediator, *made]


def accepted_case(make_case, world, **fields):
    case = make_case(**fields)
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=TODAY)
    return case


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The pages' today is the fixtures' TODAY, inside the choice window."""
    for target in ("mediators.party_views.today", "mediators.clerk_choice_views.today",
                   "mediators.choice.centre_today"):
        monkeypatch.setattr(target, lambda: TODAY)


def sign_in_party(client, code, ip="10.0.0.1"):
    return client.post("/party/", data={"code": code}, environ_base={"REMOTE_ADDR": ip})


# --- access codes ---------------------------------------------------------------------------

def test_codes_are_random_hashed_and_reissue_revokes(world, make_case, client):
    case = accepted_case(make_case, world)
    codes = choice.issue_access_codes(case, world.clerk)
    assert set(codes) == {link.id for link in case.links}
    code = codes[case.links[0].id]
    assert len(code) == 10 and set(code) <= set(choice.CODE_ALPHABET)  # 10 × 5 bits = 50 bits
    stored = db.session.scalars(select(AccessCode.code_hash)).all()
    assert code not in " ".join(stored) and choice.code_hash(code) in stored
    assert sign_in_party(client, choice.format_code(code).lower()).status_code == 302
    again = choice.issue_access_codes(case, world.clerk, [case.links[0]])
    assert sign_in_party(client, code).status_code == 401
    assert client.get("/party/case").status_code == 302  # the old session ended with the code
    assert sign_in_party(client, again[case.links[0].id]).status_code == 302
    page = client.get("/party/case").get_data(as_text=True)
    assert case.number in page and "张三" in page


def test_wrong_codes_lock_out_per_address_and_give_one_answer(world, make_case, client):
    case = accepted_case(make_case, world)
    good = choice.issue_access_codes(case, world.clerk)[case.links[0].id]
    answers = {sign_in_party(client, f"ZZZZZZZZ{n:02d}").get_data(as_text=True)
               .split('role="alert">')[1].split("<")[0] for n in range(4)}
    assert len(answers) == 1  # the same message whatever the code
    assert sign_in_party(client, "short").status_code == 401
    assert sign_in_party(client, good).status_code == 429  # locked although right
    assert sign_in_party(client, good, ip="10.0.0.2").status_code == 302
    row = db.session.get(AccessFailure, "ip:10.0.0.1")
    assert row.locked_until is not None


def test_code_prefix_is_locked_across_addresses(world, make_case, client):
    case = accepted_case(make_case, world)
    good = choice.issue_access_codes(case, world.clerk)[case.links[0].id]
    wrong = good[:3] + ("2222222" if good[3:] != "2222222" else "3333333")
    for n in range(choice.MAX_FAILURES):
        assert sign_in_party(client, wrong, ip=f"10.1.0.{n}").status_code == 401
    assert sign_in_party(client, good, ip="10.9.9.9").status_code == 429


def test_lock_expires(world, make_case, ctx):
    case = accepted_case(make_case, world)
    good = choice.issue_access_codes(case, world.clerk)[case.links[0].id]
    start = datetime_now()
    for _ in range(choice.MAX_FAILURES):
        with pytest.raises(choice.AccessDenied):
            choice.sign_in_with_code("WRONGWRONG", "1.2.3.4", now=start)
    with pytest.raises(choice.AccessLocked):
        choice.sign_in_with_code(good, "1.2.3.4", now=start + timedelta(minutes=14))
    assert choice.sign_in_with_code(good, "1.2.3.4", now=start + timedelta(minutes=16))


def datetime_now():
    from app.models import utcnow
    return utcnow()


# --- choosing and proposing -----------------------------------------------------------------

def test_best_common_choice_is_proposed_when_all_have_chosen(world, make_case):
    a, b, c, d = add_mediators(world)
    case = accepted_case(make_case, world)
    first, second = case.links
    assert choice.record_choices(case, first, [b.id, c.id, a.id], None, today=TODAY) is None
    proposal = choice.record_choices(case, second, [a.id, c.id], None, today=TODAY)
    # c: ranks 2 + 2 = 4; a: 3 + 1 = 4; equal scores, so the lower id; b is not common.
    assert proposal.mediator_id == a.id and proposal.chosen_by == "parties"
    assert proposal.status == "pending"
    with pytest.raises(choice.ChoiceError):
        choice.record_choices(case, first, [d.id], None, today=TODAY)


def test_lowest_rank_sum_wins(world, make_case):
    a, b, c, _ = add_mediators(world)
    case = accepted_case(make_case, world)
    first, second = case.links
    choice.record_choices(case, first, [a.id, b.id], None, today=TODAY)
    proposal = choice.record_choices(case, second, [b.id, c.id, a.id], None, today=TODAY)
    assert proposal.mediator_id == b.id  # 2 + 1 = 3 beats a's 1 + 3 = 4


def test_equal_rank_sums_go_to_the_better_ranked(world, make_case):
    from mediators.models import MediatorSpecialty
    a, b, *_ = add_mediators(world)
    b.specialties.append(MediatorSpecialty(category="neighbour"))  # fits the case: scores higher
    db.session.commit()
    case = accepted_case(make_case, world)
    first, second = case.links
    choice.record_choices(case, first, [a.id, b.id], None, today=TODAY)
    proposal = choice.record_choices(case, second, [b.id, a.id], None, today=TODAY)
    assert proposal.mediator_id == b.id and b.id > a.id


def test_choices_are_validated(world, make_case):
    a, b, c, d = add_mediators(world)
    case = accepted_case(make_case, world)
    link = case.links[0]
    for bad in ([], [a.id, a.id], [a.id, b.id, c.id, d.id], [world.other_mediator.id]):
        with pytest.raises(choice.ChoiceError):
            choice.record_choices(case, link, bad, None, today=TODAY)
    registered = make_case()
    with pytest.raises(choice.ChoiceError):
        choice.record_choices(registered, registered.links[0], [a.id], None, today=TODAY)


def test_no_common_choice_waits_for_the_window_then_the_centre_designates(world, make_case):
    a, b, c, d = add_mediators(world)
    case = accepted_case(make_case, world)
    first, second = case.links
    choice.record_choices(case, first, [a.id], None, today=TODAY)
    assert choice.record_choices(case, second, [b.id], None, today=TODAY) is None
    assert choice.settle(case, CHOICE_DUE) is None  # the last day of the window
    proposal = choice.settle(case, CHOICE_DUE + timedelta(days=1))
    from mediators.ranking import rank_mediators
    assert proposal.chosen_by == "centre"
    assert proposal.mediator_id == rank_mediators(case, limit=1)[0].mediator_id
    assert choice.settle(case, CHOICE_DUE + timedelta(days=2)) is None  # one open proposal


def test_accept_assigns_with_the_declaration(world, make_case):
    a, b, *_ = add_mediators(world)
    case = accepted_case(make_case, world)
    for link in case.links:
        proposal = choice.record_choices(case, link, [b.id], None, today=TODAY)
    assert choice.accept_proposal(proposal, world.users["mediator"], today=TODAY) == "assigned"
    db.session.refresh(case)
    assert case.status == "mediating" and case.mediator_id == b.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.trigger == "assign"))
    assert event.data["chosen_by"] == "parties" and event.data["conflict_declared"] is True
    assert event.data["mediator_accepted"] is True and event.data["has_conflict"] is False


def test_designated_mediator_assigned_after_the_window(world, make_case):
    add_mediators(world)
    case = accepted_case(make_case, world)
    proposal = choice.settle(case, CHOICE_DUE + timedelta(days=1))
    choice.accept_proposal(proposal, world.clerk, today=CHOICE_DUE + timedelta(days=1))
    db.session.refresh(case)
    assert case.status == "mediating" and case.mediator_id == proposal.mediator_id


def test_decline_proposes_the_next_and_never_the_same_again(world, make_case):
    a, b, c, _ = add_mediators(world)
    case = accepted_case(make_case, world)
    first, second = case.links
    choice.record_choices(case, first, [a.id, b.id], None, today=TODAY)
    proposal = choice.record_choices(case, second, [a.id, b.id], None, today=TODAY)
    assert proposal.mediator_id == a.id
    following = choice.decline_proposal(proposal, world.clerk, note="出差", today=TODAY)
    assert following.mediator_id == b.id
    after = choice.decline_proposal(following, world.clerk, today=TODAY)
    assert after is None  # nothing common left, window still open
    assert a.id not in choice.choosable_ids(case) and b.id not in choice.choosable_ids(case)
    late = choice.settle(case, CHOICE_DUE + timedelta(days=1))
    assert late.chosen_by == "centre" and late.mediator_id not in (a.id, b.id)


def test_settle_command_runs_daily(app, world, make_case):
    add_mediators(world)
    case = accepted_case(make_case, world)
    result = app.test_cli_runner().invoke(args=["choices", "settle", "--today", "2026-11-20"])
    assert result.exit_code == 0 and "1 mediator(s) proposed" in result.output
    assert db.session.scalar(select(func.count()).select_from(MediatorProposal)
                             .where(MediatorProposal.case_id == case.id)) == 1


# --- through the web ------------------------------------------------------------------------

def test_party_chooses_on_the_party_page(world, make_case, client):
    a, b, *_ = add_mediators(world)
    case = accepted_case(make_case, world)
    codes = choice.issue_access_codes(case, world.clerk)
    sign_in_party(client, codes[case.links[0].id])
    page = client.get("/party/case").get_data(as_text=True)
    assert b.name in page and "王建华" in page
    client.post(f"/party/case/choices/add/{b.id}")
    client.post(f"/party/case/choices/add/{a.id}")
    client.post(f"/party/case/choices/up/{a.id}")
    assert client.post("/party/case/choices").status_code == 302
    saved = db.session.scalars(select(MediatorChoice).order_by(MediatorChoice.rank)).all()
    assert [(c.mediator_id, c.rank) for c in saved] == [(a.id, 1), (b.id, 2)]


def test_clerk_records_a_choice_and_prints_codes(world, make_case, login):
    a, b, *_ = add_mediators(world)
    case = accepted_case(make_case, world)
    client = login(world.clerk)
    link = case.links[1]
    assert client.get(f"/cases/{case.id}/choice").status_code == 200
    response = client.post(f"/cases/{case.id}/choice/parties/{link.id}",
                           data={"first": b.id, "second": 0, "third": 0})
    assert response.status_code == 302
    assert db.session.scalar(select(MediatorChoice.mediator_id)) == b.id
    sheet = client.post(f"/cases/{case.id}/choice/codes")
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(func.count()).select_from(AccessCode)) == 2


def test_outsider_and_supervisor_cannot_manage(world, make_case, login, client):
    case = accepted_case(make_case, world)
    assert login(world.outsider).get(f"/cases/{case.id}/choice").status_code == 404
    client.post("/logout")
    assert login(world.users["supervisor"]).post(f"/cases/{case.id}/choice/codes").status_code == 403


def test_mediator_answers_their_own_proposal_only(world, make_case, login):
    a, b, *_ = add_mediators(world)
    other = accepted_case(make_case, world)
    for link in other.links:
        foreign = choice.record_choices(other, link, [b.id], None, today=TODAY)
    case = accepted_case(make_case, world)
    for link in case.links:
        own = choice.record_choices(case, link, [a.id], None, today=TODAY)
    client = login(world.users["mediator"])  # the user of mediator a
    assert client.post(f"/choice/proposals/{foreign.id}/decline").status_code == 403
    assert case.number in client.get("/choice/proposals").get_data(as_text=True)
    response = client.post(f"/choice/proposals/{own.id}/accept", data={"declaration": "none"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status == "mediating" and case.mediator_id == a.id


def test_accepting_needs_a_declaration(world, make_case, login):
    a, *_ = add_mediators(world)
    case = accepted_case(make_case, world)
    for link in case.links:
        own = choice.record_choices(case, link, [a.id], None, today=TODAY)
    client = login(world.clerk)
    client.post(f"/choice/proposals/{own.id}/accept", data={"declaration": "disclose"})
    client.post(f"/choice/proposals/{own.id}/accept", data={})
    db.session.refresh(own)
    assert own.status == "pending"
    client.post(f"/choice/proposals/{own.id}/accept",
                data={"declaration": "disclose", "disclosure": "与张三是同学"})
    db.session.refresh(own)
    assert own.status == "disclosed" and own.disclosure == "与张三是同学"
