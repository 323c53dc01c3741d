"""Parties choosing their mediator (调解专家超市): access codes, ranked choices, the proposal of
the best common choice or the centre's designation (人民调解法 第十九条), the mediator's answer,
and ratings after the case closes. Only these services commit."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import record_event
from app.extensions import db
from app.models import AuditEvent, User, utcnow
from app.workdays import today as centre_today
from cases.models import Case, CaseParty
from cases.services import case_change, fire_transition
from mediators.choice_models import (AccessCode, AccessFailure, MediatorChoice,
                                     MediatorProposal, MediatorRating, OPEN_PROPOSAL)
from mediators.models import Mediator
from workflows import TransitionError
from workflows.i18n import N_

# 32 symbols without 0/O, 1/I: 10 symbols carry 50 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_CHOICES = 3
MAX_FAILURES = 5
LOCK_MINUTES = 15
PREFIX_LENGTH = 3
SCORE_LIMIT = 200  # tie-breaks look up ranking scores among the best this many

# Titles of the events these services write into a case's history (for the case timeline).
CHOICE_EVENT_TITLES = {
    "issue_access_codes": N_("Access codes issued"),
    "choose_mediators": N_("Mediators chosen"),
    "propose_mediator": N_("Mediator proposed"),
    "decline_proposal": N_("Mediator declined"),
    "disclose_conflict": N_("Conflict disclosed"),
    "consent_conflict": N_("Party consented after disclosure"),
    "refuse_mediator": N_("Party asked for another mediator"),
    "rate_mediator": N_("Mediator rated"),
}


class ChoiceError(Exception):
    """Something a party or clerk asked for that cannot be done; `message` is an English msgid."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params


class AccessDenied(Exception):
    """A wrong, revoked or malformed access code (one answer for every cause)."""


class AccessLocked(Exception):
    """Too many wrong codes from this address or for this code prefix: try again later."""


@dataclass
class PartyActor:
    """A party acting through the party page, as the audit log names them."""

    display_name: str
    id: None = None


# --- access codes -------------------------------------------------------------------------

def _pepper() -> bytes:
    return hashlib.sha256(b"concord-access-code:" + current_app.config["SECRET_KEY"].encode()).digest()


def code_hash(code: str) -> str:
    return hmac.new(_pepper(), code.encode(), hashlib.sha256).hexdigest()


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    """ABCDE-FGHJK: easier to read aloud and to type."""
    return f"{code[:5]}-{code[5:]}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def issue_access_codes(case: Case, actor: User | None,
                       links: list[CaseParty] | None = None) -> dict[int, str]:
    """New codes for the parties (all, or `links`): {case_party id: code}. Old codes stop
    working. The codes are returned once, to be printed; only their hashes are kept."""
    links = links or list(case.links)
    now, codes = utcnow(), {}
    with case_change(case, None):
        for link in links:
            db.session.execute(update(AccessCode).where(
                AccessCode.case_party_id == link.id, AccessCode.revoked_at.is_(None))
                .values(revoked_at=now))
            code = new_code()
            db.session.add(AccessCode(case_party_id=link.id, code_hash=code_hash(code),
                                      issued_by_id=actor.id if actor else None, issued_at=now))
            codes[link.id] = code
        record_event(case, "issue_access_codes", case.status, case.status, actor,
                     data={"parties": [link.id for link in links]})
    return codes


def _buckets(code: str, client_ip: str) -> list[str]:
    prefix = hmac.new(_pepper(), code[:PREFIX_LENGTH].encode(), hashlib.sha256).hexdigest()
    return [f"ip:{client_ip}"[:80], f"prefix:{prefix[:32]}"]


def _locked(keys: list[str], now: datetime) -> bool:
    return db.session.scalar(select(func.count()).select_from(AccessFailure).where(
        AccessFailure.key.in_(keys), AccessFailure.locked_until > now)) > 0


def _count_failure(key: str, now: datetime) -> None:
    row = db.session.get(AccessFailure, key, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(AccessFailure(key=key, failures=1, window_started_at=now))
            return
        except IntegrityError:
            row = db.session.get(AccessFailure, key, with_for_update=True, populate_existing=True)
    if row.window_started_at < now - timedelta(minutes=LOCK_MINUTES):
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        row.failures, row.window_started_at = 0, now


def sign_in_with_code(raw: str, client_ip: str, now: datetime | None = None) -> AccessCode:
    """The access code's row, or AccessDenied / AccessLocked. Wrong codes are counted per
    client address and per code prefix in the database; five within 15 minutes lock for 15."""
    now = now or utcnow()
    code = normalise_code(raw)
    keys = _buckets(code, client_ip)
    if _locked(keys, now):
        db.session.rollback()
        raise AccessLocked()
    digest = code_hash(code)
    access = db.session.scalar(select(AccessCode).where(
        AccessCode.code_hash == digest, AccessCode.revoked_at.is_(None)))
    valid = (access is not None and len(code) == CODE_LENGTH
             and hmac.compare_digest(access.code_hash, digest))
    if not valid:
        for key in keys:
            _count_failure(key, now)
        db.session.commit()
        raise AccessDenied()
    access.last_used_at = now
    db.session.commit()
    return access


def current_access(access_id: int | None) -> AccessCode | None:
    """The signed-in party's code, unless it was revoked (re-issued) since."""
    if not access_id:
        return None
    access = db.session.get(AccessCode, access_id)
    return access if access is not None and access.revoked_at is None else None


def codes_issued(case: Case) -> dict[int, AccessCode]:
    """The live code of each party that has one: {case_party id: AccessCode}."""
    rows = db.session.scalars(select(AccessCode).join(CaseParty).where(
        CaseParty.case_id == case.id, AccessCode.revoked_at.is_(None)))
    return {row.case_party_id: row for row in rows}


# --- choices and proposals ------------------------------------------------------------------

def current_round(case: Case) -> int:
    """How many times the case has entered the choice (acceptance, then each change)."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.to_state == "matching",
        or_(AuditEvent.from_state.is_(None), AuditEvent.from_state != "matching"))) or 0


def choices_by_party(case: Case) -> dict[int, list[int]]:
    """The current round's choices: {case_party id: [mediator ids, first choice first]}."""
    rows = db.session.scalars(select(MediatorChoice).where(
        MediatorChoice.case_id == case.id, MediatorChoice.round == current_round(case))
        .order_by(MediatorChoice.case_party_id, MediatorChoice.rank))
    lists: dict[int, list[int]] = {}
    for row in rows:
        lists.setdefault(row.case_party_id, []).append(row.mediator_id)
    return lists


def proposals(case: Case) -> list[MediatorProposal]:
    return list(db.session.scalars(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id).order_by(MediatorProposal.id)))


def open_proposal(case: Case) -> MediatorProposal | None:
    """The proposal waiting for an answer in the current round, if any."""
    return db.session.scalar(select(MediatorProposal).where(
        MediatorProposal.case_id == case.id, MediatorProposal.status.in_(OPEN_PROPOSAL),
        MediatorProposal.round == current_round(case)))


def excluded_ids(case: Case) -> set[int]:
    """Mediators not to be proposed again for this case: declined, refused by a party,
    lapsed, or already assigned once (then changed)."""
    return set(db.session.scalars(select(MediatorProposal.mediator_id).where(
        MediatorProposal.case_id == case.id,
        MediatorProposal.status.not_in(OPEN_PROPOSAL))))


def choosable_ids(case: Case) -> list[int]:
    """The eligible pool for the case in ranking order, without excluded mediators."""
    from mediators.ranking import eligible_ids
    excluded = excluded_ids(case)
    return [mid for mid in eligible_ids(case) if mid not in excluded]


def record_choices(case: Case, link: CaseParty, mediator_ids: list[int],
                   actor: User | PartyActor | None, *, today: date | None = None
                   ) -> MediatorProposal | None:
    """A party's ranked choice of up to three mediators (replacing their earlier one); then
    propose a mediator if every party has chosen or the window has closed."""
    if case.status != "matching":
        raise ChoiceError(N_("Mediators can be chosen only while the case is choosing one."))
    if link.case_id != case.id:
        raise ChoiceError(N_("This party is not a party to the case."))
    ids = [int(mid) for mid in mediator_ids]
    if not 1 <= len(ids) <= MAX_CHOICES or len(set(ids)) != len(ids):
        raise ChoiceError(N_("Choose one to three different mediators."))
    if open_proposal(case) is not None:
        raise ChoiceError(N_("A mediator has already been proposed; the choice is closed."))
    allowed = set(choosable_ids(case))
    if any(mid not in allowed for mid in ids):
        raise ChoiceError(N_("A chosen mediator is no longer available for this case."))
    today = today or centre_today()
    with case_change(case, None):
        round_ = current_round(case)
        db.session.execute(delete(MediatorChoice).where(
            MediatorChoice.case_party_id == link.id, MediatorChoice.round == round_))
        for rank, mid in enumerate(ids, start=1):
            db.session.add(MediatorChoice(
                case_id=case.id, case_party_id=link.id, round=round_, mediator_id=mid, rank=rank,
                recorded_by_id=actor.id if isinstance(actor, User) else None))
        db.session.flush()
        record_event(case, "choose_mediators", case.status, case.status, actor,
                     data={"party": link.id, "mediators": ids,
                           "at_counter": isinstance(actor, User)})
        proposal = _settle(case, today)
        case.updated_at = utcnow()  # bumps the version: concurrent choices queue up
    return proposal


def settle(case: Case, today: date | None = None) -> MediatorProposal | None:
    """Lazily close the choice: propose a mediator if it is due (committed), else nothing."""
    if case.status != "matching":
        return None
    today = today or centre_today()
    if not _choice_complete(case, today) or open_proposal(case) is not None:
        return None
    with case_change(case, None):
        proposal = _settle(case, today)
        if proposal is not None:
            case.updated_at = utcnow()
    return proposal


def settle_all(today: date | None = None) -> int:
    """Settle every case still choosing (the daily `flask choices settle`); returns proposals made."""
    today = today or centre_today()
    made = 0
    ids = list(db.session.scalars(select(Case.id).where(Case.status == "matching")
                                  .order_by(Case.id)))
    for case_id in ids:
        case = db.session.get(Case, case_id)
        try:
            made += settle(case, today) is not None
        except Exception:  # noqa: BLE001 - one case's problem must not stop the daily run
            db.session.rollback()
            current_app.logger.exception("could not settle the choice of case %s", case_id)
    return made


def _choice_complete(case: Case, today: date) -> bool:
    lists = choices_by_party(case)
    return all(link.id in lists for link in case.links) or _window_closed(case, today)


def _window_closed(case: Case, today: date) -> bool:
    return case.choice_due is not None and today > case.choice_due


def _settle(case: Case, today: date) -> MediatorProposal | None:
    """Propose the best common choice, or after the window the top-ranked eligible mediator
    (in the caller's transaction)."""
    if case.status != "matching" or open_proposal(case) is not None:
        return None
    lists = choices_by_party(case)
    all_chosen = all(link.id in lists for link in case.links)
    if not (all_chosen or _window_closed(case, today)):
        return None
    eligible = set(choosable_ids(case))
    if all_chosen:
        best = best_common_choice(case, lists, eligible)
        if best is not None:
            return _propose(case, best, "parties")
    if not _window_closed(case, today):
        return None  # no common choice yet: the parties may still change theirs
    top = top_ranked(case, eligible)
    return _propose(case, top, "centre") if top is not None else None


def best_common_choice(case: Case, lists: dict[int, list[int]], eligible: set[int]) -> int | None:
    """The mediator every party chose with the lowest sum of ranks; ties by ranking score,
    then id."""
    common = set.intersection(*(set(ids) for ids in lists.values())) & eligible
    if not common:
        return None
    sums = {mid: sum(ids.index(mid) + 1 for ids in lists.values()) for mid in common}
    tied = [mid for mid in common if sums[mid] == min(sums.values())]
    if len(tied) == 1:
        return tied[0]
    scores = _scores(case, min(len(eligible), SCORE_LIMIT))  # only ties need the scores
    return min(tied, key=lambda mid: (-scores.get(mid, float("-inf")), mid))


def top_ranked(case: Case, eligible: set[int]) -> int | None:
    from mediators.ranking import rank_mediators
    limit = len(excluded_ids(case)) + 1
    for rec in rank_mediators(case, limit=limit):
        if rec.mediator_id in eligible:
            return rec.mediator_id
    return None


def _scores(case: Case, limit: int) -> dict[int, float]:
    from mediators.ranking import rank_mediators
    return {rec.mediator_id: rec.score for rec in rank_mediators(case, limit=max(limit, 1))}


def _propose(case: Case, mediator_id: int, chosen_by: str) -> MediatorProposal:
    proposal = MediatorProposal(case_id=case.id, round=current_round(case),
                                mediator_id=mediator_id, chosen_by=chosen_by, status="pending")
    db.session.add(proposal)
    db.session.flush()
    record_event(case, "propose_mediator", case.status, case.status, None,
                 data={"mediator_id": mediator_id, "chosen_by": chosen_by})
    return proposal


# --- the mediator's answer ------------------------------------------------------------------

def accept_proposal(proposal: MediatorProposal, actor: User, *, disclosure: str = "",
                    today: date | None = None) -> str:
    """The mediator accepts with their conflict declaration. With nothing to disclose the case
    is assigned ('assigned'); a disclosed relationship waits for every party's consent
    ('disclosed', 在线调解规则 第十三条)."""
    case = proposal.case
    if proposal.status != "pending" or case.status != "matching":
        raise ChoiceError(N_("This proposal is no longer waiting for an answer."))
    disclosure = (disclosure or "").strip()
    if disclosure:
        with case_change(case, None):
            proposal.status, proposal.disclosure = "disclosed", disclosure
            proposal.responded_at, proposal.responded_by_id = utcnow(), actor.id
            record_event(case, "disclose_conflict", case.status, case.status, actor,
                         data={"mediator_id": proposal.mediator_id})
            case.updated_at = utcnow()
        return "disclosed"
    proposal.responded_at, proposal.responded_by_id = utcnow(), actor.id
    assign_proposal(proposal, actor, today=today)
    return "assigned"


def assign_proposal(proposal: MediatorProposal, actor, *, today: date | None = None) -> None:
    """Fire `assign` for an accepted proposal; when the mediator has no room left the proposal
    lapses, the next one is proposed, and the refusal is raised."""
    case = proposal.case
    proposal.status = "accepted"
    data = {"mediator_id": proposal.mediator_id, "chosen_by": proposal.chosen_by,
            "parties_waived": False, "mediator_accepted": True, "conflict_declared": True,
            "has_conflict": False, "disclosed": bool(proposal.disclosure),
            "all_parties_consented": bool(proposal.disclosure)}
    try:
        fire_transition(case, "assign", actor, data=data, today=today)
    except TransitionError as err:
        if err.condition in ("over_capacity", "mediator_unavailable"):
            _lapse(proposal, actor, today or centre_today())
        raise


def _lapse(proposal: MediatorProposal, actor, today: date) -> None:
    case = proposal.case
    with case_change(case, None):
        proposal.status, proposal.note = "lapsed", "over_capacity"
        record_event(case, "decline_proposal", case.status, case.status, actor,
                     data={"mediator_id": proposal.mediator_id, "lapsed": True})
        _settle(case, today)
        case.updated_at = utcnow()


def decline_proposal(proposal: MediatorProposal, actor: User, *, note: str = "",
                     today: date | None = None) -> MediatorProposal | None:
    """The mediator declines: the next mediator is proposed (never this one again)."""
    case = proposal.case
    if proposal.status != "pending" or case.status != "matching":
        raise ChoiceError(N_("This proposal is no longer waiting for an answer."))
    with case_change(case, None):
        proposal.status, proposal.note = "declined", (note or "").strip() or None
        proposal.responded_at, proposal.responded_by_id = utcnow(), actor.id
        record_event(case, "decline_proposal", case.status, case.status, actor, note,
                     data={"mediator_id": proposal.mediator_id})
        following = _settle(case, today or centre_today())
        case.updated_at = utcnow()
    return following


def proposals_for_mediator(mediator_id: int) -> list[MediatorProposal]:
    return list(db.session.scalars(select(MediatorProposal).join(Case).where(
        MediatorProposal.mediator_id == mediator_id, MediatorProposal.status == "pending",
        Case.status == "matching").order_by(MediatorProposal.id)))


# --- ratings --------------------------------------------------------------------------------

def can_rate(case: Case) -> bool:
    return case.status == "closed" and case.mediator_id is not None


def rating_of(case: Case, link: CaseParty) -> MediatorRating | None:
    return db.session.scalar(select(MediatorRating).where(
        MediatorRating.case_id == case.id, MediatorRating.case_party_id == link.id))


def rate_mediator(case: Case, link: CaseParty, score: int, comment: str = "") -> MediatorRating:
    """A party's one rating (1–5 and a comment) of the mediator of their closed case; it feeds
    the mediator's satisfaction figures."""
    if not can_rate(case):
        raise ChoiceError(N_("The mediator can be rated after the case is closed."))
    if not (isinstance(score, int) and 1 <= score <= 5):
        raise ChoiceError(N_("Give from 1 to 5 stars."))
    if rating_of(case, link) is not None:
        raise ChoiceError(N_("You have already rated this mediator for this case."))
    rating = MediatorRating(case_id=case.id, case_party_id=link.id, mediator_id=case.mediator_id,
                            score=score, comment=(comment or "").strip())
    try:
        db.session.add(rating)
        db.session.flush()
        db.session.execute(update(Mediator).where(Mediator.id == case.mediator_id).values(
            rating_count=Mediator.rating_count + 1, rating_sum=Mediator.rating_sum + score))
        record_event(case, "rate_mediator", case.status, case.status,
                     PartyActor(link.party.name), data={"party": link.id, "score": score})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ChoiceError(N_("You have already rated this mediator for this case.")) from None
    except Exception:
        db.session.rollback()
        raise
    return rating
