"""Capacity under concurrency: simultaneous assignments of one mediator never exceed the
mediator's capacity (the mediator's row is locked while the load is counted)."""
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from cases.models import Case
from cases.services import fire_transition
from conftest import TEST_DB, TODAY
from test_party_choice import accepted_case
from workflows import TransitionError

ASSIGN = {"chosen_by": "centre", "parties_waived": True, "mediator_accepted": True,
          "conflict_declared": True, "has_conflict": False}


def test_assignment_refused_at_capacity(world, make_case):
    cases = [accepted_case(make_case, world) for _ in range(world.mediator.capacity + 1)]
    for case in cases[:-1]:
        fire_transition(case, "assign", world.clerk, data={**ASSIGN, "mediator_id": world.mediator.id},
                        today=TODAY)
    with pytest.raises(TransitionError) as raised:
        fire_transition(cases[-1], "assign", world.clerk,
                        data={**ASSIGN, "mediator_id": world.mediator.id}, today=TODAY)
    assert raised.value.condition == "over_capacity"


def test_simultaneous_assignments_never_exceed_capacity(app, world, make_case):
    if TEST_DB != "postgresql":
        pytest.skip("concurrency is tested against PostgreSQL (SQLite serialises all writers)")
    threads, capacity, mediator_id = 8, world.mediator.capacity, world.mediator.id
    case_ids = [accepted_case(make_case, world).id for _ in range(threads)]
    clerk_id = world.clerk.id
    outcomes, barrier = [], threading.Barrier(threads)

    def work(case_id):
        with app.app_context():
            from app.models import User
            clerk = db.session.get(User, clerk_id)
            case = db.session.get(Case, case_id)
            barrier.wait()
            try:
                fire_transition(case, "assign", clerk, data={**ASSIGN, "mediator_id": mediator_id},
                                today=TODAY)
                outcomes.append("assigned")
            except TransitionError as err:
                outcomes.append(err.condition)
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work, args=(case_id,)) for case_id in case_ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == sorted(["assigned"] * capacity + ["over_capacity"] * (threads - capacity))
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Case.id)).where(
        Case.mediator_id == mediator_id, Case.status == "mediating")) == capacity
