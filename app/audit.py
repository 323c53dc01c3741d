"""The append-only, hash-chained audit log: writing events and verifying the chains."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User, utcnow

SYSTEM_ACTOR = "system"  # events the application writes by itself (e.g. a lapsed choice window)


def record_event(case, trigger: str, from_state: str | None, to_state: str | None,
                 actor: User | None, reason: str = "", data: dict | None = None,
                 at: datetime | None = None) -> AuditEvent:
    """Append an event to the case's chain, in the caller's transaction (not committed here)."""
    if case.id is None:
        db.session.flush()
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.case_id == case.id)
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event = AuditEvent(
        case_id=case.id,
        seq=(last.seq + 1) if last else 1,
        actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else SYSTEM_ACTOR,
        occurred_at=at or utcnow(),
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason or "",
        data=data or {},
        prev_hash=last.hash if last else AuditEvent.GENESIS,
    )
    event.hash = event.compute_hash()
    db.session.add(event)
    return event


@dataclass
class BrokenLink:
    """The first event of a case's chain that does not verify, and why."""

    case_id: int
    seq: int
    event_id: int
    problem: str


def verify_chains() -> tuple[int, int, list[BrokenLink]]:
    """Check every case's chain; return (cases checked, events checked, first break per case)."""
    broken: list[BrokenLink] = []
    cases = events = 0
    current_case, prev_hash, expected_seq, skip = None, None, 0, False
    rows = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    for event in rows:
        if event.case_id != current_case:
            current_case, prev_hash, expected_seq, skip = event.case_id, AuditEvent.GENESIS, 1, False
            cases += 1
        events += 1
        if skip:
            continue
        problem = None
        if event.seq != expected_seq:
            problem = f"expected event {expected_seq}, found {event.seq} (an event is missing)"
        elif event.prev_hash != prev_hash:
            problem = "its previous-event hash does not match the event before it"
        elif event.compute_hash() != event.hash:
            problem = "its content does not match its hash (it was altered)"
        if problem:
            broken.append(BrokenLink(event.case_id, event.seq, event.id, problem))
            skip = True
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return cases, events, broken
