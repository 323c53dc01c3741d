"""The audit log: one chained event per change, append-only, and `flask audit verify`."""
import pytest
from sqlalchemy import select, text

from app.audit import verify_chains
from app.extensions import db
from app.models import AuditEvent
from conftest import TODAY


def events_of(case):
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)))


def test_events_form_a_hash_chain(world, make_case):
    from cases.services import fire_transition
    case = make_case()
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=TODAY)
    first, second = events_of(case)
    assert (first.seq, first.trigger, first.to_state) == (1, "register", "registered")
    assert first.prev_hash == AuditEvent.GENESIS
    assert (second.trigger, second.from_state, second.to_state) == ("accept", "registered", "matching")
    assert second.prev_hash == first.hash
    assert second.hash == second.compute_hash()
    assert second.actor_name == world.clerk.display_name
    assert second.data["mediation_type"] == "people"


def test_orm_refuses_to_change_or_delete_an_event(world, make_case):
    event_id = events_of(make_case())[0].id
    db.session.get(AuditEvent, event_id).reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event_id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).reason == ""


def test_verify_reports_the_first_broken_link(app, world, make_case):
    from cases.services import fire_transition
    case = make_case()
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=TODAY)
    fire_transition(case, "withdraw", world.clerk, data={"by_applicant": True}, today=TODAY)
    intact = make_case()
    assert verify_chains()[2] == []
    # Tamper below the ORM, as someone with database access might.
    db.session.execute(text("UPDATE audit_events SET reason = 'forged' WHERE case_id = :c AND seq = 2"),
                       {"c": case.id})
    db.session.commit()
    cases, events, broken = verify_chains()
    assert (cases, events) == (2, 4)
    assert len(broken) == 1
    assert (broken[0].case_id, broken[0].seq) == (case.id, 2)
    assert "altered" in broken[0].problem
    assert intact.id != case.id

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"case id {case.id}, event 2" in result.output


def test_verify_notices_a_deleted_event(app, world, make_case):
    from cases.services import fire_transition
    case = make_case()
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=TODAY)
    fire_transition(case, "withdraw", world.clerk, data={"by_applicant": True}, today=TODAY)
    db.session.execute(text("DELETE FROM audit_events WHERE case_id = :c AND seq = 2"), {"c": case.id})
    db.session.commit()
    broken = verify_chains()[2]
    assert [(b.seq, "missing" in b.problem) for b in broken] == [(3, True)]


def test_cli_verify_passes_on_intact_chains(app, world, make_case):
    make_case()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "all chains intact" in result.output
