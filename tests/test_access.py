"""Centre scoping and roles: every case route, every role, from inside and outside the case's
centre subtree. Inside means the case's county; outside, another county of the same city."""
import pytest

from app.extensions import db
from app.models import User
from cases.models import Case
from cases.services import fire_transition
from conftest import TODAY, password_hash

ROLES = ("admin", "director", "clerk", "mediator", "supervisor")
MANAGERS = {"admin", "director", "clerk"}


@pytest.fixture
def users(world):
    """A user of every role at the county (inside) and at the other county (outside)."""
    inside = dict(world.users)
    outside = {}
    for role in ROLES:
        user = User(username=f"out-{role}", display_name=f"outside {role}", role=role,
                    centre=world.other, password_hash=password_hash(),
                    mediator_id=world.other_mediator.id if role == "mediator" else None)
        db.session.add(user)
        outside[role] = user
    db.session.commit()
    return {"inside": inside, "outside": outside}


@pytest.fixture
def mediating_case(world, make_case):
    """A case being mediated by the inside mediator user's mediator record."""
    case = make_case()
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=TODAY)
    fire_transition(case, "assign", world.clerk, today=TODAY, data={
        "mediator_id": world.mediator.id, "chosen_by": "parties", "mediator_accepted": True,
        "conflict_declared": True, "has_conflict": False})
    return case


def current_version(case_id):
    db.session.expire_all()
    return db.session.get(Case, case_id).version


def expected(where, role, action):
    """The HTTP status a role gets; 404 hides cases outside a user's view."""
    if action in ("home", "list"):
        return 200
    if action == "new":
        return 200 if role in MANAGERS else 403
    if where == "outside":
        return 404
    if action == "view":
        return 200
    if action in ("session", "mediation_trigger"):  # managers and the assigned mediator
        return 302 if role in MANAGERS | {"mediator"} else 403
    if action == "manager_trigger":
        return 302 if role in MANAGERS else 403
    raise AssertionError(action)


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES)
def test_case_routes(client, login, users, mediating_case, where, role):
    user = users[where][role]
    login(user)
    case_id, version = mediating_case.id, mediating_case.version
    answers = {
        "home": client.get("/").status_code,
        "list": client.get("/cases/").status_code,
        "new": client.get("/cases/new").status_code,
        "view": client.get(f"/cases/{case_id}").status_code,
    }
    for action, got in answers.items():
        assert got == expected(where, role, action), (action, got)
    # Acting: a session record, a mediation-phase trigger, then a manager-only trigger.
    session = client.post(f"/cases/{case_id}/sessions", data={
        "version": version, "held_at": "2026-11-16T10:00", "mode": "in_person",
        "place": "调解室", "attendees": "张三、李四", "minutes": "双方陈述意见。"})
    assert session.status_code == expected(where, role, "session")
    extend = client.post(f"/cases/{case_id}/transitions/extend", data={
        "version": current_version(case_id), "days": "10", "all_parties_consent": "y"})
    assert extend.status_code == expected(where, role, "mediation_trigger")
    change = client.post(f"/cases/{case_id}/transitions/change_mediator", data={
        "version": current_version(case_id), "reason_code": "recusal"})
    assert change.status_code == expected(where, role, "manager_trigger")
    db.session.expire_all()
    assert db.session.get(Case, case_id).status == (
        "matching" if change.status_code == 302 else "mediating")


def test_mediator_sees_only_assigned_cases(client, login, users, world, make_case):
    unassigned = make_case()
    login(users["inside"]["mediator"])
    assert client.get(f"/cases/{unassigned.id}").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, make_case):
    case = make_case()
    for url in ("/", "/cases/", "/cases/new", f"/cases/{case.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/cases/{case.id}/transitions/accept", data={"version": 1})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_supervisor_sees_the_whole_subtree_but_changes_nothing(client, login, world, make_case):
    village_case = make_case(centre=world.village)
    login(world.users["supervisor"])
    assert client.get(f"/cases/{village_case.id}").status_code == 200
    response = client.post(f"/cases/{village_case.id}/transitions/accept",
                           data={"version": village_case.version, "mediation_type": "people"})
    assert response.status_code == 403
    db.session.expire_all()
    assert village_case.status == "registered"


def test_a_township_clerk_cannot_see_the_county_case(client, login, world, make_case):
    county_case = make_case()
    township_clerk = User(username="town", display_name="街道受理员", role="clerk",
                          centre=world.township, password_hash=password_hash())
    db.session.add(township_clerk)
    db.session.commit()
    login(township_clerk)
    assert client.get(f"/cases/{county_case.id}").status_code == 404
