"""A mediator's figures (load, cases handled and settled, median days) follow the cases as
they move through the services, and can be recounted from scratch."""
from datetime import datetime, time, timedelta

import pytest

from app.extensions import db
from cases.services import fire_transition
from conftest import TODAY, person
from lifecycle_paths import valid_data
from mediators import figures
from mediators.models import Mediator
from workflows import TransitionError

START = TODAY - timedelta(days=40)


@pytest.fixture
def drive(world):
    """drive(case, trigger, day=TODAY, **data overrides): fire through the service on `day`."""

    def fire(case, trigger, day=TODAY, **overrides):
        data = valid_data(trigger, mediator_id=world.mediator.id, to_centre_id=world.township.id)
        data.update(overrides)
        if trigger == "reach_agreement":
            data["agreement"] = {**data["agreement"], "effective_on": day,
                                 "performance_deadline": day + timedelta(days=10)}
        return fire_transition(case, trigger, world.clerk, data=data, today=day,
                               at=datetime.combine(day, time(10)))

    return fire


@pytest.fixture
def new_case(make_case, drive):
    """new_case(): a case registered and accepted at START, waiting for a mediator."""
    counter = iter(range(100))

    def make():
        n = next(counter)
        case = make_case(today=START, parties=[
            person(name=f"甲{n}", id_number=id_number(2 * n)),
            person("respondent", f"乙{n}", id_number(2 * n + 1))])
        drive(case, "accept", day=START)
        return case

    return make


def id_number(seed: int) -> str:
    from cases.validators import id_check_char
    first17 = f"35010219800101{seed:03d}"
    return first17 + id_check_char(first17)


def figures_of(mediator: Mediator) -> tuple:
    db.session.refresh(mediator)
    return (mediator.current_load, mediator.cases_handled, mediator.cases_settled,
            mediator.median_days)


def test_assignment_suspension_and_agreement_move_the_figures(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START + timedelta(days=2))
    assert figures_of(world.mediator) == (1, 0, 0, None)
    drive(case, "suspend", day=START + timedelta(days=5))
    assert figures_of(world.mediator) == (1, 0, 0, None)
    drive(case, "resume", day=START + timedelta(days=9))
    drive(case, "reach_agreement", day=START + timedelta(days=14))
    assert figures_of(world.mediator) == (0, 1, 1, 12.0)
    drive(case, "follow_up", day=TODAY)
    assert figures_of(world.mediator) == (0, 1, 1, 12.0)


def test_termination_counts_as_handled_not_settled(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    drive(case, "terminate", day=START + timedelta(days=7))
    assert figures_of(world.mediator) == (0, 1, 0, 7.0)
    drive(case, "refer", day=START + timedelta(days=8))
    drive(case, "follow_up", day=START + timedelta(days=20))
    assert figures_of(world.mediator) == (0, 1, 0, 7.0)


def test_median_over_several_cases_and_load_across_them(world, new_case, drive):
    cases = [new_case() for _ in range(3)]
    for case in cases:
        drive(case, "assign", day=START)
    assert figures_of(world.mediator)[0] == 3
    drive(cases[0], "reach_agreement", day=START + timedelta(days=4))
    drive(cases[1], "reach_agreement", day=START + timedelta(days=30))
    drive(cases[2], "terminate", day=START + timedelta(days=10))
    assert figures_of(world.mediator) == (0, 3, 2, 10.0)


def test_changing_mediator_moves_the_load(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    drive(case, "change_mediator", day=START + timedelta(days=3))
    assert figures_of(world.mediator) == (0, 0, 0, None)
    world.other_mediator.centre = world.county
    db.session.commit()
    drive(case, "assign", day=START + timedelta(days=4), mediator_id=world.other_mediator.id)
    drive(case, "reach_agreement", day=START + timedelta(days=9))
    assert figures_of(world.other_mediator) == (0, 1, 1, 5.0)
    assert figures_of(world.mediator) == (0, 0, 0, None)


def test_rejected_confirmation_then_termination_is_not_settled(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    drive(case, "reach_agreement", day=START + timedelta(days=5))
    drive(case, "apply_confirmation", day=START + timedelta(days=6))
    assert figures_of(world.mediator) == (0, 1, 1, 5.0)
    drive(case, "reject_confirmation", day=START + timedelta(days=12))
    assert figures_of(world.mediator) == (1, 0, 0, None)
    drive(case, "terminate", day=START + timedelta(days=20))
    assert figures_of(world.mediator) == (0, 1, 0, 20.0)


def test_withdrawal_frees_the_mediator_without_counting_as_handled(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    assert figures_of(world.mediator) == (1, 0, 0, None)
    drive(case, "withdraw", day=START + timedelta(days=3))
    assert figures_of(world.mediator) == (0, 0, 0, None)


def test_a_refused_transition_changes_no_figure(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    with pytest.raises(TransitionError):
        drive(case, "terminate", day=START + timedelta(days=3), reason_code="nonsense")
    assert figures_of(world.mediator) == (1, 0, 0, None)


def test_recompute_all_repairs_every_mediator(world, new_case, drive):
    case = new_case()
    drive(case, "assign", day=START)
    drive(case, "reach_agreement", day=START + timedelta(days=6))
    busy = new_case()
    drive(busy, "assign", day=START)
    world.mediator.cases_handled = 99
    world.mediator.current_load = 0
    world.other_mediator.cases_settled = 5
    world.other_mediator.median_days = 3.0
    db.session.commit()
    assert figures.recompute_all() == 2
    db.session.commit()
    assert figures_of(world.mediator) == (1, 1, 1, 6.0)
    assert figures_of(world.other_mediator) == (0, 0, 0, None)
