"""Ratings: after the case closes each party rates the mediator once (1–5 and a comment)
through the access code; the ratings feed the mediator's satisfaction figures."""
import pytest

from app.extensions import db
from cases.services import fire_transition
from conftest import TODAY
from mediators import choice
from mediators.choice_models import MediatorRating
from test_party_choice import accepted_case, sign_in_party


def closed_case(world, make_case):
    case = accepted_case(make_case, world)
    fire_transition(case, "assign", world.clerk, today=TODAY, data={
        "mediator_id": world.mediator.id, "chosen_by": "centre", "parties_waived": True,
        "mediator_accepted": True, "conflict_declared": True, "has_conflict": False})
    fire_transition(case, "terminate", world.clerk, today=TODAY, data={
        "reason_code": next(iter(__import__("workflows").TERMINATION_REASONS)),
        "failure_summary": "双方分歧过大"})
    fire_transition(case, "follow_up", world.clerk, today=TODAY)
    assert case.status == "closed"
    return case


def test_each_party_rates_once_and_the_figures_follow(world, make_case):
    case = closed_case(world, make_case)
    first, second = case.links
    choice.rate_mediator(case, first, 5, "耐心细致")
    choice.rate_mediator(case, second, 2)
    with pytest.raises(choice.ChoiceError):
        choice.rate_mediator(case, first, 4)
    db.session.refresh(world.mediator)
    assert (world.mediator.rating_count, world.mediator.rating_sum) == (2, 7)


def test_no_rating_before_the_case_closes_or_out_of_range(world, make_case):
    case = accepted_case(make_case, world)
    with pytest.raises(choice.ChoiceError):
        choice.rate_mediator(case, case.links[0], 5)
    closed = closed_case(world, make_case)
    for bad in (0, 6):
        with pytest.raises(choice.ChoiceError):
            choice.rate_mediator(closed, closed.links[0], bad)
    assert db.session.query(MediatorRating).count() == 0


def test_party_rates_on_the_party_page(world, make_case, client):
    case = closed_case(world, make_case)
    code = choice.issue_access_codes(case, world.clerk)[case.links[0].id]
    sign_in_party(client, code)
    assert 'name="score"' in client.get("/party/case").get_data(as_text=True)
    client.post("/party/case/rating", data={"score": "4", "comment": "很好"})
    client.post("/party/case/rating", data={"score": "1"})
    rating = db.session.query(MediatorRating).one()
    assert (rating.score, rating.comment, rating.mediator_id) == (4, "很好", world.mediator.id)
    assert 'name="score"' not in client.get("/party/case").get_data(as_text=True)
