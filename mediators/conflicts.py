"""After a mediator discloses a relationship with a party: each party consents or asks for
another mediator (人民法院在线调解规则 第十三条、第十四条). Detected conflicts are filtered out by
mediators.ranking before anyone is proposed; what is recorded here is the disclosure's answer."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.audit import record_event
from app.extensions import db
from app.models import User, utcnow
from app.workdays import today as centre_today
from cases.models import Case, CaseParty
from cases.services import case_change, fire_transition
from mediators.choice import ChoiceError, PartyActor, _settle, assign_proposal
from mediators.choice_models import ConflictConsent, MediatorProposal
from workflows.i18n import N_


def actor_for(link: CaseParty, clerk: User | None) -> User | PartyActor:
    """Who acts: the clerk at the counter, or the party through the party page."""
    return clerk if clerk is not None else PartyActor(link.party.name)


def consented_party_ids(proposal: MediatorProposal) -> set[int]:
    return {consent.case_party_id for consent in proposal.consents}


def waiting_disclosure(case: Case) -> MediatorProposal | None:
    """The disclosed proposal waiting for the parties' consent, if any."""
    return db.session.scalar(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id, MediatorProposal.status == "disclosed"))


def consent_to_mediator(proposal: MediatorProposal, link: CaseParty, clerk: User | None = None,
                        *, today: date | None = None) -> bool:
    """A party consents after the disclosure; with every party's consent the mediator is
    assigned (the disclosed conflict no longer blocks). Returns whether the case was assigned."""
    case = proposal.case
    _check_open(proposal, link)
    if link.id in consented_party_ids(proposal):
        return False
    consent = ConflictConsent(case_party_id=link.id, recorded_by_id=clerk.id if clerk else None)
    proposal.consents.append(consent)
    record_event(case, "consent_conflict", case.status, case.status, actor_for(link, clerk),
                 data={"party": link.id, "mediator_id": proposal.mediator_id})
    if consented_party_ids(proposal) >= {other.id for other in case.links}:
        assign_proposal(proposal, clerk or actor_for(link, clerk), today=today)
        return True
    with case_change(case, None):
        case.updated_at = utcnow()
    return False


def refuse_mediator(proposal: MediatorProposal, link: CaseParty, clerk: User | None = None,
                    *, note: str = "", today: date | None = None) -> MediatorProposal | None:
    """A party does not consent after the disclosure and asks for another mediator: the next
    one is proposed (or the choice goes on)."""
    case = proposal.case
    _check_open(proposal, link)
    with case_change(case, None):
        proposal.status, proposal.note = "refused", (note or "").strip() or None
        record_event(case, "refuse_mediator", case.status, case.status, actor_for(link, clerk),
                     note, data={"party": link.id, "mediator_id": proposal.mediator_id})
        following = _settle(case, today or centre_today())
        case.updated_at = utcnow()
    return following


def request_another_mediator(case: Case, link: CaseParty, clerk: User | None = None, *,
                             reason: str = "", today: date | None = None):
    """A party asks for another mediator during mediation (第十四条): `change_mediator` with
    reason party_request; the case returns to the choice and this mediator is not proposed
    again."""
    if link.case_id != case.id:
        raise ChoiceError(N_("This party is not a party to the case."))
    if case.status != "mediating":
        raise ChoiceError(N_("Another mediator can be requested only during mediation."))
    return fire_transition(case, "change_mediator", actor_for(link, clerk),
                           reason=(reason or "").strip(),
                           data={"reason_code": "party_request", "party": link.id}, today=today)


def _check_open(proposal: MediatorProposal, link: CaseParty) -> None:
    if proposal.status != "disclosed" or proposal.case.status != "matching":
        raise ChoiceError(N_("This proposal is no longer waiting for an answer."))
    if link.case_id != proposal.case_id:
        raise ChoiceError(N_("This party is not a party to the case."))
