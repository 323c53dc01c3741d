"""Conflicts: a mediator's disclosure at acceptance, the parties' consent after it (在线调解规则
第十三条), and a party asking for another mediator (第十四条)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from conftest import TODAY
from mediators import choice, conflicts
from mediators.models import MediatorConflict
from test_party_choice import accepted_case, add_mediators, sign_in_party


def proposed(world, make_case, pick=1):
    mediators = add_mediators(world)
    case = accepted_case(make_case, world)
    for link in case.links:
        proposal = choice.record_choices(case, link, [mediators[pick].id], None, today=TODAY)
    return case, proposal, mediators


def test_declared_conflict_keeps_a_mediator_out_of_the_choice(world, make_case):
    a, b, *_ = add_mediators(world)
    b.conflicts.append(MediatorConflict(name="李四", relation="表兄弟"))
    db.session.commit()
    case = accepted_case(make_case, world)
    assert b.id not in choice.choosable_ids(case)
    with pytest.raises(choice.ChoiceError):
        choice.record_choices(case, case.links[0], [b.id], None, today=TODAY)


def test_disclosure_waits_for_every_partys_consent(world, make_case):
    case, proposal, mediators = proposed(world, make_case)
    outcome = choice.accept_proposal(proposal, world.clerk, disclosure="曾与张三同在一个单位工作",
                                     today=TODAY)
    assert outcome == "disclosed" and case.status == "matching"
    first, second = case.links
    assert conflicts.consent_to_mediator(proposal, first, today=TODAY) is False
    assert case.status == "matching"
    assert conflicts.consent_to_mediator(proposal, second, world.clerk, today=TODAY) is True
    db.session.refresh(case)
    assert case.status == "mediating" and case.mediator_id == mediators[1].id
    assign = db.session.scalar(select(AuditEvent).where(AuditEvent.trigger == "assign"))
    assert assign.data["disclosed"] is True and assign.data["all_parties_consented"] is True
    consents = db.session.scalars(select(AuditEvent.actor_name).where(
        AuditEvent.trigger == "consent_conflict")).all()
    assert consents == ["张三", world.clerk.display_name]


def test_refusal_after_disclosure_proposes_another(world, make_case):
    case, proposal, mediators = proposed(world, make_case)
    choice.accept_proposal(proposal, world.clerk, disclosure="亲戚关系", today=TODAY)
    following = conflicts.refuse_mediator(proposal, case.links[1], note="不放心", today=TODAY)
    assert proposal.status == "refused" and following is None  # no other common choice yet
    assert mediators[1].id not in choice.choosable_ids(case)
    with pytest.raises(choice.ChoiceError):
        conflicts.consent_to_mediator(proposal, case.links[0], today=TODAY)


def test_party_asks_for_another_mediator_during_mediation(world, make_case, client, monkeypatch):
    monkeypatch.setattr("mediators.party_views.today", lambda: TODAY)
    case, proposal, mediators = proposed(world, make_case)
    choice.accept_proposal(proposal, world.clerk, today=TODAY)
    code = choice.issue_access_codes(case, world.clerk)[case.links[1].id]
    sign_in_party(client, code)
    assert 'action="/party/case/another-mediator"' in client.get("/party/case").get_data(as_text=True)
    response = client.post("/party/case/another-mediator", data={"note": "调解员偏向对方"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status == "matching" and case.mediator_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.trigger == "change_mediator"))
    assert event.data["reason_code"] == "party_request" and event.actor_name == "李四"
    # A new round: earlier choices no longer count and the mediator is not proposed again.
    assert choice.choices_by_party(case) == {}
    assert mediators[1].id not in choice.choosable_ids(case)


def test_party_consents_on_the_party_page(world, make_case, client, monkeypatch):
    monkeypatch.setattr("mediators.party_views.today", lambda: TODAY)
    case, proposal, _ = proposed(world, make_case)
    choice.accept_proposal(proposal, world.clerk, disclosure="同村邻居", today=TODAY)
    code = choice.issue_access_codes(case, world.clerk)[case.links[0].id]
    sign_in_party(client, code)
    assert "同村邻居" in client.get("/party/case").get_data(as_text=True)
    assert client.post("/party/case/disclosure/consent").status_code == 302
    assert conflicts.consented_party_ids(proposal) == {case.links[0].id}
