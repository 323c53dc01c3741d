"""Writes mediators and users, then replays every planned step through the real services."""
from __future__ import annotations

import random
from collections import Counter

from app.demo.people import Identities
from app.demo.places import Place
from app.demo.planner import CasePlan, Step
from app.extensions import db
from app.models import User
from cases.services import ACTIVE_MEDIATION_STATES, fire_transition, record_session, register_case
from mediators.models import Mediator

DEMO_PASSWORD = "concord-demo"
MEDIATOR_COUNT = 60


def _mediator_homes(places: list[Place]) -> list[Place]:
    """Where the 60 mediators sit: 6 at the city, 8 per county, 2 per township, 1-2 per village."""
    homes: list[Place] = []
    villages = [p for p in places if p.level == "village"]
    for place in places:
        count = {"city": 6, "county": 8, "township": 2, "village": 1}[place.level]
        if place.level == "village" and villages.index(place) % 2 == 0:
            count = 2
        homes += [place] * count
    assert len(homes) == MEDIATOR_COUNT
    return homes


def _create_mediators(rng: random.Random, places: list[Place], people: Identities) -> list[Mediator]:
    mediators = []
    for place in _mediator_homes(places):
        mediators.append(Mediator(name=people.name(rng.choice(("male", "female"))),
                                  centre_id=place.id, capacity=rng.randint(5, 12),
                                  status="active", phone=people.mobile()))
    county = next(p for p in places if p.level == "county")
    for index in rng.sample(range(MEDIATOR_COUNT), 6):
        if mediators[index].centre_id != county.id:
            mediators[index].status = "on_leave" if index % 3 else "retired"
    db.session.add_all(mediators)
    db.session.flush()
    return mediators


DEMO_USERS = (  # role, username, display name, centre ("city", "county", "township")
    ("admin", "admin", "陈晓东", "city"),
    ("director", "director", "郑建华", "city"),
    ("supervisor", "supervisor", "黄丽萍", "city"),
    ("clerk", "clerk", "林雅婷", "county"),
    ("mediator", "mediator", None, "county"),
    ("clerk", "clerk2", "吴佳慧", "township"),
)


def _create_users(places: list[Place], mediators: list[Mediator]) -> dict[str, User]:
    """One user per role at the city or the first county, plus a township clerk."""
    at = {"city": places[0], "county": places[1], "township": places[2]}
    linked = next(m for m in mediators if m.centre_id == at["county"].id and m.is_active)
    users, password_hash = {}, None
    for role, username, display_name, level in DEMO_USERS:
        user = User(username=username, display_name=display_name or linked.name, role=role,
                    centre_id=at[level].id,
                    mediator_id=linked.id if role == "mediator" else None)
        if password_hash is None:
            user.set_password(DEMO_PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash  # one shared demo password: hash it once
        db.session.add(user)
        users[username] = user
    db.session.flush()
    return users


class MediatorPool:
    """Active mediators and their current load, kept in step with the replayed transitions."""

    def __init__(self, mediators: list[Mediator], places: list[Place]):
        self.mediators = [(m.id, m.centre_id, m.capacity, m.name) for m in mediators if m.is_active]
        self.names = {m.id: m.name for m in mediators}
        self.chains = {p.id: [int(i) for i in reversed(p.path.strip("/").split("/"))]
                       for p in places}
        self.load: Counter = Counter()

    def pick(self, centre_id: int, exclude: list[int]) -> int:
        """The least-loaded mediator with room, at the case's centre or nearest above it."""
        chain = self.chains[centre_id]
        eligible = [(self.load[mid], chain.index(cid), mid)
                    for mid, cid, capacity, _ in self.mediators
                    if cid in chain and self.load[mid] < capacity and mid not in exclude]
        if not eligible:
            raise RuntimeError(f"no mediator with capacity serves centre {centre_id}")
        return min(eligible)[2]

    def moved(self, before: tuple[str, int | None], after: tuple[str, int | None]) -> None:
        if before[0] in ACTIVE_MEDIATION_STATES and before[1]:
            self.load[before[1]] -= 1
        if after[0] in ACTIVE_MEDIATION_STATES and after[1]:
            self.load[after[1]] += 1


class Replay:
    """Replays every planned step of every case in time order through the real services."""

    def __init__(self, plans: list[CasePlan], users: dict[str, User], pool: MediatorPool,
                 places: list[Place]):
        self.plans, self.users, self.pool = plans, users, pool
        self.paths = {p.id: p.path for p in places}
        self.clerk_paths = [(users[name], users[name].centre.path) for name in ("clerk2", "clerk")]
        self.mediator_user = users["mediator"]

    def run(self) -> None:
        order = sorted((step.at, plan.index, i) for plan in self.plans
                       for i, step in enumerate(plan.steps))
        for _, index, i in order:
            plan = self.plans[index]
            self.do(plan, plan.steps[i])

    def actor(self, centre_id: int, mediator_id: int | None, trigger: str) -> User:
        if mediator_id == self.mediator_user.mediator_id and trigger in (
                "session", "suspend", "resume", "extend", "reach_agreement"):
            return self.mediator_user
        path = self.paths[centre_id]
        for user, clerk_path in self.clerk_paths:
            if path.startswith(clerk_path):
                return user
        return self.users["director"]

    def do(self, plan: CasePlan, step: Step) -> None:
        if step.trigger == "register":
            actor = self.actor(plan.place.id, None, "register")
            plan.case = register_case(plan.intake, actor, today=step.day, at=step.at)
            return
        case = plan.case
        before = (case.status, case.mediator_id)
        actor = self.actor(case.centre_id, case.mediator_id, step.trigger)
        if step.trigger == "session":
            self.session(plan, step, actor)
            return
        data = dict(step.data)
        if step.trigger == "assign":
            data["mediator_id"] = self.pool.pick(case.centre_id, plan.mediators)
            plan.mediators.append(data["mediator_id"])
        fire_transition(case, step.trigger, actor, reason=step.reason, data=data,
                        today=step.day, at=step.at)
        self.pool.moved(before, (case.status, case.mediator_id))

    def session(self, plan: CasePlan, step: Step, actor: User) -> None:
        t = plan.texts
        attendees = (f"调解员：{self.pool.names[plan.case.mediator_id]}；"
                     f"申请人：{t['A']}；被申请人：{t['B']}")
        record_session(plan.case, actor, held_at=step.at, mode=step.data["mode"],
                       place=step.data["place"], attendees=attendees,
                       minutes=step.data["minutes"], at=step.at)
