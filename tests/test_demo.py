"""`flask demo load`: the demonstration city, its users, mediators and 300 cases driven
through the real services, the same on every load for the same day."""
import hashlib
from collections import Counter

from sqlalchemy import func, select

from app.audit import verify_chains
from app.demo import DEMO_PASSWORD, demo_present, load_demo
from app.extensions import db
from app.models import ROLES, AuditEvent, Centre, User
from app.workdays import clock_settings, working_calendar
from cases.models import Agreement, Case, CaseParty, MediationSession, Party
from cases.validators import credit_code_problem, gender_from_id, id_number_problem, phone_problem
from cases.vocabulary import CATEGORIES, SOURCES
from conftest import TODAY, empty_database
from mediators.models import Mediator
from workflows.clocks import clocks_for
from workflows.vocabulary import STATES

USERNAMES = ("admin", "director", "supervisor", "clerk", "mediator", "clerk2")


def test_demo_city_is_complete_realistic_and_genuine(ctx):
    assert not demo_present()
    summary = load_demo(TODAY)
    assert demo_present() and "300 cases" in summary

    check_centres()
    check_users(ctx)
    check_mediators()
    cases = db.session.scalars(select(Case)).all()
    check_cases(cases)
    check_parties()
    check_histories(cases)
    check_clocks(cases)


def check_centres():
    centres = db.session.scalars(select(Centre)).all()
    assert Counter(c.level for c in centres) == {"city": 1, "county": 3, "township": 6,
                                                 "village": 12}
    for centre in centres:
        expected = (centre.parent.path if centre.parent else "/") + f"{centre.id}/"
        assert centre.path == expected
        assert centre.address and centre.phone and not phone_problem(centre.phone)
    village = next(c for c in centres if c.level == "village")
    assert [c.level for c in (village, village.parent, village.parent.parent,
                              village.parent.parent.parent)] == ["village", "township", "county",
                                                                 "city"]


def check_users(app):
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert set(users) == set(USERNAMES)
    assert {u.role for u in users.values()} == set(ROLES)
    assert users["clerk2"].role == "clerk" and users["clerk2"].centre.level == "township"
    mediator = db.session.get(Mediator, users["mediator"].mediator_id)
    assert mediator.centre_id == users["mediator"].centre_id
    assert users["mediator"].display_name == mediator.name
    assert all(u.active and u.check_password(DEMO_PASSWORD) for u in users.values())
    # Requests share the fixture's app context (and the signed-in user): the refusal first.
    client = app.test_client()
    assert client.post("/login", data={"username": "clerk", "password": "x"}).status_code == 200
    response = client.post("/login", data={"username": "clerk", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def check_mediators():
    mediators = db.session.scalars(select(Mediator)).all()
    assert len(mediators) == 60
    assert all(5 <= m.capacity <= 12 and not phone_problem(m.phone) for m in mediators)
    statuses = Counter(m.status for m in mediators)
    assert statuses["active"] >= 50 and set(statuses) == {"active", "on_leave", "retired"}
    assert len({m.centre_id for m in mediators}) == 22
    load = Counter(db.session.scalars(select(Case.mediator_id).where(
        Case.status.in_(("mediating", "suspended")))))
    assert all(load[m.id] <= m.capacity for m in mediators)


def check_cases(cases):
    assert len(cases) == 300
    assert {c.status for c in cases} == set(STATES)
    assert {c.category for c in cases} == set(CATEGORIES)
    assert {c.source for c in cases} == set(SOURCES)
    statuses = Counter(c.status for c in cases)
    assert statuses.most_common(1)[0][0] == "closed" and statuses["mediating"] >= 10
    assert len({c.number for c in cases}) == 300
    assert all("调字第" in c.number for c in cases)
    assert sum(c.amount is not None for c in cases) > 150
    assert all(c.facts and c.claims for c in cases)


def check_parties():
    parties = db.session.scalars(select(Party)).all()
    people = [p for p in parties if p.kind == "person"]
    organisations = [p for p in parties if p.kind == "organisation"]
    assert len(people) > 500 and len(organisations) >= 10
    for person in people:
        assert id_number_problem(person.id_number) is None, person.id_number
        assert gender_from_id(person.id_number) == person.gender
        assert 1950 <= person.birth_date.year <= 2002
        assert phone_problem(person.phone) is None and person.address.startswith("福州市")
    for organisation in organisations:
        assert credit_code_problem(organisation.credit_code) is None, organisation.credit_code
        assert organisation.legal_representative
    agents = db.session.scalars(select(CaseParty).where(CaseParty.agent_name.is_not(None))).all()
    assert len(agents) > 30 and "lawyer" in {a.agent_relation for a in agents}
    assert all(id_number_problem(a.agent_id_number) is None for a in agents)


def check_histories(cases):
    cases_checked, events, broken = verify_chains()
    assert (cases_checked, broken) == (300, [])
    assert events >= 300 * 5
    every_event = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq)).all()
    transitions = [e for e in every_event if e.trigger != "record_session"]
    by_case: dict[int, list[AuditEvent]] = {}
    for event in every_event:
        by_case.setdefault(event.case_id, []).append(event)
    for case in cases:
        times = [e.occurred_at for e in by_case[case.id]]  # sessions too: historical times
        assert times == sorted(times) and times[-1].date() <= TODAY, case.number
        assert by_case[case.id][-1].to_state == case.status
    assert {e.trigger for e in transitions} >= {"accept", "assign", "reach_agreement", "confirm",
                                                "follow_up", "suspend", "resume", "refer"}
    mediated = {e.case_id for e in transitions if e.trigger == "assign"}
    with_agreement = set(db.session.scalars(select(Agreement.case_id)))
    sessions_per_case = Counter(db.session.scalars(select(MediationSession.case_id)))
    assert with_agreement and with_agreement <= mediated
    assert set(sessions_per_case) == mediated and set(sessions_per_case.values()) == {1, 2, 3}
    for session in db.session.scalars(select(MediationSession)):
        assigned = next(e.occurred_at for e in by_case[session.case_id] if e.trigger == "assign")
        assert assigned < session.held_at and session.held_at.date() <= TODAY


def check_clocks(cases):
    calendar, settings = working_calendar(), clock_settings()
    states = Counter(clock.status for case in cases
                     for clock in clocks_for(case, TODAY, calendar, settings))
    assert states["overdue"] >= 5 and states["due_soon"] >= 3 and states["ok"] > states["overdue"]
    overdue = {case.status for case in cases
               if any(c.status == "overdue" for c in clocks_for(case, TODAY, calendar, settings))}
    assert {"registered", "matching", "mediating"} <= overdue


def test_demo_load_is_deterministic_and_loads_once(ctx):
    load_demo(TODAY)
    first = digest()
    empty_database()
    assert not demo_present()
    runner = ctx.test_cli_runner()

    result = runner.invoke(args=["demo", "load", "--today", TODAY.isoformat()])

    assert result.exit_code == 0, result.output
    assert digest() == first
    for username in USERNAMES:
        assert any(line.split()[1:3] == [username, DEMO_PASSWORD]
                   for line in result.output.splitlines() if line.strip()), username
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "already has data" in again.output
    assert db.session.scalar(select(func.count(Case.id))) == 300
    if_empty = runner.invoke(args=["demo", "load", "--if-empty"])
    assert if_empty.exit_code == 0 and "already loaded" in if_empty.output


def digest() -> str:
    """A fingerprint of what a user sees: numbers, states, dates, texts and parties."""
    rows = db.session.execute(
        select(Case.number, Case.status, Case.registered_on, Case.next_due, Case.amount,
               Case.facts, Party.name, Party.id_number, Party.credit_code)
        .join(Case.links).join(CaseParty.party)
        .order_by(Case.number, CaseParty.position)).all()
    assert len(rows) > 600
    return hashlib.sha256(repr(rows).encode()).hexdigest()
