"""The lifecycle through the service and the database: every (state, trigger) pair, the audit
event each transition writes, and random trigger sequences (hypothesis)."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from cases.services import StaleCaseError, fire_transition
from conftest import TODAY
from lifecycle_paths import PATHS, valid_data
from mediators.models import Mediator
from workflows import TRANSITION_TABLE, TransitionError
from workflows.vocabulary import STATES, TERMINAL_STATES, TRIGGERS

DESTINATIONS = {(trigger, source): dest for trigger, sources, dest in TRANSITION_TABLE
                for source in sources}
TRANSITION_EVENTS = set(TRIGGERS)


def transition_events(case):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.case_id == case.id, AuditEvent.trigger.in_(TRANSITION_EVENTS))) or 0


@pytest.fixture
def drive(world):
    def fire(case, trigger, **overrides):
        data = valid_data(trigger, mediator_id=world.mediator.id, to_centre_id=world.township.id)
        data.update(overrides)
        return fire_transition(case, trigger, world.clerk, reason="test", data=data, today=TODAY)
    return fire


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_every_state_and_trigger(make_case, drive, state, trigger):
    case = make_case()
    for step in PATHS[state]:
        drive(case, step)
    assert case.status == state
    events, version = transition_events(case), case.version
    destination = DESTINATIONS.get((trigger, state))
    if destination is None:
        with pytest.raises(TransitionError) as raised:
            drive(case, trigger)
        assert (raised.value.state, raised.value.trigger) == (state, trigger)
        assert raised.value.condition == "not_allowed_in_state"
        assert state in str(raised.value) and trigger in str(raised.value)
        db.session.expire_all()
        assert (case.status, case.version, transition_events(case)) == (state, version, events)
    else:
        drive(case, trigger)
        db.session.expire_all()
        assert case.status == destination
        assert case.version == version + 1
        assert transition_events(case) == events + 1
        last = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                 .order_by(AuditEvent.seq.desc()).limit(1))
        assert (last.trigger, last.from_state, last.to_state, last.reason) == (
            trigger, state, destination, "test")


def test_a_failed_guard_changes_nothing(make_case, drive):
    case = make_case()
    case.links[1].refuses_mediation = True
    db.session.commit()
    version = case.version
    with pytest.raises(TransitionError) as raised:
        drive(case, "accept")
    assert raised.value.condition == "party_refuses_mediation"
    assert "李四" in str(raised.value)
    db.session.expire_all()
    assert (case.status, case.version, transition_events(case)) == ("registered", version, 0)


def test_a_full_mediator_cannot_be_assigned(world, make_case, drive):
    world.mediator.capacity = 1
    db.session.commit()
    first, second = make_case(), make_case()
    for case in (first, second):
        drive(case, "accept")
    drive(first, "assign")
    with pytest.raises(TransitionError) as raised:
        drive(second, "assign")
    assert raised.value.condition == "over_capacity"
    assert second.status == "matching"


def test_stale_version_is_refused(world, make_case):
    case = make_case()
    with pytest.raises(StaleCaseError):
        fire_transition(case, "accept", world.clerk, expected_version=case.version - 1,
                        data={"mediation_type": "people"}, today=TODAY)
    db.session.expire_all()
    assert case.status == "registered"


def test_agreement_terms_are_stored(make_case, drive):
    case = make_case()
    for step in ["accept", "assign", "reach_agreement"]:
        drive(case, step)
    agreement = case.current_agreement
    assert agreement.terms == "被申请人赔偿3000元。"
    assert case.follow_up_due == agreement.performance_deadline + __import__("datetime").timedelta(days=15)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(list(TRIGGERS)), st.booleans()), max_size=12))
def test_random_trigger_sequences(world, make_case, steps):
    mediator = Mediator(name="随机调解员", centre=world.county, capacity=100_000)
    db.session.add(mediator)
    db.session.commit()
    case = make_case()
    successes = 0
    for trigger, with_valid_data in steps:
        before = (case.status, case.version)
        data = valid_data(trigger, mediator_id=mediator.id, to_centre_id=world.township.id) \
            if with_valid_data else {}
        try:
            fire_transition(case, trigger, world.clerk, data=data, today=TODAY)
        except TransitionError:
            db.session.expire_all()
            assert (case.status, case.version) == before
            continue
        assert before[0] not in TERMINAL_STATES, "a terminal state accepted a trigger"
        assert case.status == DESTINATIONS[(trigger, before[0])]
        successes += 1
        assert case.status in STATES
    assert transition_events(case) == successes
