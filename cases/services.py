"""Case operations: intake, numbering, transitions and session records. Only services commit."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.audit import record_event
from app.extensions import db
from app.models import Centre, User, utcnow
from app.workdays import clock_settings, today as centre_today, working_calendar
from cases import validators
from cases.models import Agreement, Case, CaseParty, CaseSequence, MediationSession, Party
from mediators import figures
from mediators.models import Mediator
from workflows import TransitionError, fire
from workflows.guards import parse_date
from workflows.vocabulary import AGREEMENT_ITEMS
from workflows.i18n import N_

ACTIVE_MEDIATION_STATES = ("mediating", "suspended")


class StaleCaseError(Exception):
    """The case changed since the user loaded it (optimistic locking): nothing was saved."""

    def __init__(self, case_id: int):
        super().__init__(f"case {case_id} was changed by someone else")
        self.case_id = case_id


class IntakeError(Exception):
    """Intake data that cannot be registered; `errors` maps a field path to an English msgid."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SessionNotAllowed(Exception):
    """A session record for a case that is not being mediated."""


@dataclass
class PartyData:
    """The particulars of one party as entered at intake."""

    role: str
    kind: str
    name: str
    gender: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    occupation: str | None = None
    credit_code: str | None = None
    legal_representative: str | None = None
    refuses_mediation: bool = False
    agent_name: str | None = None
    agent_id_number: str | None = None
    agent_phone: str | None = None
    agent_relation: str | None = None


@dataclass
class IntakeData:
    """What a clerk (or another system) hands over to register a dispute."""

    centre_id: int
    source: str
    category: str
    facts: str
    claims: str
    parties: list[PartyData] = field(default_factory=list)
    mediation_type: str | None = None
    amount: Decimal | None = None
    source_ref: str | None = None


def format_case_number(year: int, short_code: str, sequence: int) -> str:
    return f"（{year}）{short_code}调字第{sequence:04d}号"


def next_sequence(centre_id: int, year: int) -> int:
    """Take the centre's next number for the year inside the caller's transaction.

    The UPDATE locks the sequence row until commit, so concurrent intakes queue up and a
    rolled-back intake gives its number back: no gaps, no duplicates.
    """
    for _ in range(5):
        value = db.session.execute(
            update(CaseSequence)
            .where(CaseSequence.centre_id == centre_id, CaseSequence.year == year)
            .values(last_value=CaseSequence.last_value + 1)
            .returning(CaseSequence.last_value)
        ).scalar()
        if value is not None:
            return value
        try:
            with db.session.begin_nested():
                db.session.add(CaseSequence(centre_id=centre_id, year=year, last_value=1))
            return 1
        except IntegrityError:
            continue  # another intake created the row first; take the next value from it
    raise RuntimeError("could not allocate a case number")


def check_intake(data: IntakeData) -> dict[str, str]:
    """Problems with the intake as a whole (each party's fields are checked by the form too)."""
    errors: dict[str, str] = {}
    roles = [p.role for p in data.parties]
    if "applicant" not in roles:
        errors["parties"] = N_("Add at least one applicant.")
    elif "respondent" not in roles:
        errors["parties"] = N_("Add at least one respondent: a dispute needs another side.")
    seen: dict[str, int] = {}
    for index, party in enumerate(data.parties):
        problem = party_problem(party)
        if problem:
            errors[f"parties-{index}"] = problem
        key = party.id_number or party.credit_code
        if key:
            if key in seen:
                errors[f"parties-{index}"] = N_("The same person or organisation is entered twice.")
            seen[key] = index
    return errors


def party_problem(party: PartyData) -> str | None:
    if not (party.name or "").strip():
        return N_("Enter the party's name.")
    if party.kind == "person":
        if party.id_number and validators.id_number_problem(party.id_number):
            return validators.id_number_problem(party.id_number)
    elif party.credit_code and validators.credit_code_problem(party.credit_code):
        return validators.credit_code_problem(party.credit_code)
    if party.phone and validators.phone_problem(party.phone):
        return validators.phone_problem(party.phone)
    return None


def _find_or_create_party(data: PartyData) -> Party:
    key_column, key = (
        (Party.id_number, validators.normalise_id_number(data.id_number or ""))
        if data.kind == "person"
        else (Party.credit_code, validators.normalise_credit_code(data.credit_code or "")))
    party = db.session.scalar(select(Party).where(key_column == key)) if key else None
    if party is not None and party.name != data.name.strip():
        raise IntakeError({"parties": N_(
            "This ID number or credit code is already registered under a different name.")})
    if party is None:
        party = Party(kind=data.kind, name=data.name.strip())
        db.session.add(party)
    for attr in ("gender", "ethnicity", "birth_date", "address", "occupation",
                 "legal_representative"):
        value = getattr(data, attr)
        if value:
            setattr(party, attr, value)
    if data.phone:
        party.phone = validators.normalise_phone(data.phone)
    if data.kind == "person" and key:
        party.id_number = key
        party.birth_date = party.birth_date or validators.birth_date_from_id(key)
        party.gender = party.gender or validators.gender_from_id(key)
    elif key:
        party.credit_code = key
    return party


DUPLICATE_REFERENCE = N_("A case with this sender's reference is already registered.")


def source_ref_taken(source: str, source_ref: str) -> bool:
    """Whether a case from this channel already carries the sender's reference."""
    with db.session.no_autoflush:
        return db.session.scalar(select(Case.id).where(
            Case.source == source, Case.source_ref == source_ref).limit(1)) is not None


def register_case(data: IntakeData, actor: User | None, today: date | None = None,
                  at: datetime | None = None, audit_data: dict | None = None) -> Case:
    """Register a dispute (登记): number it, link its parties, start the acceptance clock.
    `audit_data` is added to the registration's audit event (e.g. which integration sent it)."""
    errors = check_intake(data)
    if errors:
        raise IntakeError(errors)
    centre = db.session.get(Centre, data.centre_id)
    if centre is None:
        raise IntakeError({"centre_id": N_("Choose a centre.")})
    if data.source_ref and source_ref_taken(data.source, data.source_ref):
        raise IntakeError({"source_ref": DUPLICATE_REFERENCE})
    today = today or centre_today()
    try:
        sequence = next_sequence(centre.id, today.year)
        case = Case(
            number=format_case_number(today.year, centre.short_code, sequence),
            year=today.year, sequence=sequence, centre_id=centre.id,
            source=data.source, source_ref=data.source_ref or None, category=data.category,
            mediation_type=data.mediation_type or None, amount=data.amount,
            facts=data.facts.strip(), claims=data.claims.strip(), status="registered",
            registered_at=at or utcnow(), registered_on=today,
            acceptance_due=working_calendar().add_working_days(
                today, clock_settings().acceptance_working_days),
            suspended_days=0, created_by_id=actor.id if actor else None,
        )
        case.next_due = case.acceptance_due
        db.session.add(case)
        for position, party_data in enumerate(data.parties):
            party = _find_or_create_party(party_data)
            case.links.append(CaseParty(
                party=party, role=party_data.role, position=position,
                refuses_mediation=party_data.refuses_mediation,
                agent_name=party_data.agent_name or None,
                agent_id_number=party_data.agent_id_number or None,
                agent_phone=party_data.agent_phone or None,
                agent_relation=party_data.agent_relation or None))
        try:
            with db.session.begin_nested():      # a failed flush leaves the transaction usable
                db.session.flush()
        except IntegrityError:
            if data.source_ref and source_ref_taken(data.source, data.source_ref):
                raise IntakeError({"source_ref": DUPLICATE_REFERENCE}) from None
            raise
        record_event(case, "register", None, "registered", actor,
                     data={"number": case.number, "source": case.source, **(audit_data or {})},
                     at=at)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case


def guard_context(case: Case, trigger: str, data: dict) -> dict:
    """Facts from the database that a trigger's guard needs, added to the user's data."""
    context: dict = {}
    if trigger == "accept":
        context["refusing_parties"] = [l.party.name for l in case.links if l.refuses_mediation]
    elif trigger == "assign" and data.get("mediator_id"):
        mediator = db.session.get(Mediator, int(data["mediator_id"]), with_for_update=True)
        if mediator is None or not mediator.is_active:
            raise TransitionError(
                case.status, trigger, "mediator_unavailable",
                N_("the chosen mediator is not in the pool or not active"), {})
        context["mediator_id"] = mediator.id
        context["mediator_capacity"] = mediator.capacity
        context["mediator_load"] = mediator_load(mediator.id)
    return context


def mediator_load(mediator_id: int) -> int:
    return db.session.scalar(
        select(func.count(Case.id)).where(
            Case.mediator_id == mediator_id, Case.status.in_(ACTIVE_MEDIATION_STATES))) or 0


@contextmanager
def case_change(case: Case, expected_version: int | None):
    """One transaction changing a case: committed at the end, rolled back on any error.

    Raises StaleCaseError when the case is no longer at `expected_version` (what the user saw),
    or when another transaction changed it meanwhile (SQLAlchemy's version check at flush).
    """
    try:
        if expected_version is not None and case.version != expected_version:
            raise StaleCaseError(case.id)
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleCaseError(case.id) from None
    except Exception:
        db.session.rollback()
        raise


def fire_transition(case: Case, trigger: str, actor: User | None, *,
                    expected_version: int | None = None, reason: str = "",
                    data: dict | None = None, today: date | None = None,
                    at: datetime | None = None):
    """Move a case by a trigger and write its audit event, all in one transaction.

    Raises StaleCaseError when the case changed since `expected_version` was read, and
    TransitionError (from workflows) when the state or a guard forbids the trigger; in both
    cases nothing is saved.
    """
    data = dict(data or {})
    with case_change(case, expected_version):
        before_status, before_mediator_id = case.status, case.mediator_id
        data.update(guard_context(case, trigger, data))
        result = fire(case, trigger, today=today or centre_today(), calendar=working_calendar(),
                      settings=clock_settings(), actor=actor, reason=reason, **data)
        if trigger == "reach_agreement":
            db.session.add(agreement_from(result.data["agreement"], case, actor))
        record_event(case, trigger, result.source, result.dest, actor, reason, result.data, at=at)
        figures.case_moved(case, before_status, before_mediator_id)
    return result


def agreement_from(terms: dict, case: Case, actor: User | None) -> Agreement:
    """The Agreement row for the terms the guard accepted (dates arrive as ISO strings)."""
    values = {key: (parse_date(value) if key in AGREEMENT_DATES else value.strip())
              for key, value in terms.items() if key in AGREEMENT_ITEMS}
    return Agreement(case=case, created_by_id=actor.id if actor else None, **values)


AGREEMENT_DATES = ("performance_deadline", "effective_on")


def record_session(case: Case, actor: User | None, *, held_at: datetime, mode: str,
                   place: str, attendees: str, minutes: str,
                   expected_version: int | None = None,
                   at: datetime | None = None) -> MediationSession:
    """Record a mediation session (调解记录) on a case being mediated."""
    with case_change(case, expected_version):
        if case.status != "mediating":
            raise SessionNotAllowed(case.status)
        session = MediationSession(case=case, held_at=held_at, mode=mode, place=place,
                                   attendees=attendees, minutes=minutes,
                                   recorded_by_id=actor.id if actor else None)
        db.session.add(session)
        case.updated_at = utcnow()  # bumps the version: a concurrent edit sees the change
        db.session.flush()
        record_event(case, "record_session", case.status, case.status, actor,
                     data={"held_at": held_at.isoformat(), "mode": mode}, at=at)
    return session


def next_sequences(centre_id: int, year: int, count: int) -> range:
    """Take `count` consecutive numbers of the centre's sequence for the year at once, inside
    the caller's transaction (the batched form of next_sequence, same locking and no gaps)."""
    if count < 1:
        raise ValueError("count must be positive")
    for _ in range(5):
        last = db.session.execute(
            update(CaseSequence)
            .where(CaseSequence.centre_id == centre_id, CaseSequence.year == year)
            .values(last_value=CaseSequence.last_value + count)
            .returning(CaseSequence.last_value)
        ).scalar()
        if last is not None:
            return range(last - count + 1, last + 1)
        try:
            with db.session.begin_nested():
                db.session.add(CaseSequence(centre_id=centre_id, year=year, last_value=count))
            return range(1, count + 1)
        except IntegrityError:
            continue  # another intake created the row first; take the numbers from it
    raise RuntimeError("could not allocate case numbers")
