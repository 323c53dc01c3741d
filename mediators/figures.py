"""A mediator's figures derived from cases, kept in step when a case moves.

Definitions (each counts a case for the mediator of record, `cases.mediator_id`):

- current load: cases being mediated or suspended;
- cases handled: cases whose latest outcome is an agreement or a termination, i.e. in
  agreed / confirming / confirmed / terminated / referred, or closed after one of those;
- cases settled: handled cases whose latest outcome is an agreement in effect
  (`agreement_effective_on` is set). A rejected judicial confirmation clears that date, so a
  case that is then terminated counts as handled but not settled;
- median days: the median of the days from assignment to the agreement taking effect, or to
  the termination (the date of the case's last `terminate` audit event), over handled cases.

Every figure is recounted from the cases, so it is right whatever happened before.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Float, cast, func, select, update

from app.extensions import db
from app.models import AuditEvent
from cases.models import Case
from mediators.models import Mediator

LOAD_STATES = ("mediating", "suspended")
HANDLED_STATES = ("agreed", "confirming", "confirmed", "terminated", "referred", "closed")


@dataclass
class Figures:
    """The case-derived figures of one mediator."""

    current_load: int = 0
    cases_handled: int = 0
    cases_settled: int = 0
    median_days: float | None = None


def case_moved(case: Case, before_status: str, before_mediator_id: int | None) -> None:
    """Recount the figures of the mediators a case move concerns (caller's transaction)."""
    if before_mediator_id == case.mediator_id and _group(before_status) == _group(case.status):
        return  # e.g. suspend, confirm, refer, follow-up: no figure can change
    for mediator_id in sorted({before_mediator_id, case.mediator_id} - {None}):
        recompute(mediator_id)


def _group(status: str) -> str | None:
    """Which figures a case in this state counts towards."""
    if status in LOAD_STATES:
        return "load"
    return "handled" if status in HANDLED_STATES else None


def recompute(mediator_id: int) -> Figures:
    """Recount one mediator's figures, holding its row locked until the caller commits."""
    mediator = db.session.get(Mediator, mediator_id, with_for_update=True)
    figures = count_figures([mediator_id]).get(mediator_id, Figures())
    for name, value in vars(figures).items():
        setattr(mediator, name, value)
    return figures


def recompute_all() -> int:
    """Recount every mediator's figures (CLI, demo loader); returns the number of mediators."""
    ids = db.session.scalars(select(Mediator.id)).all()
    counted = count_figures(None)
    rows = [{"id": mid, **vars(counted.get(mid, Figures()))} for mid in ids]
    if rows:
        db.session.execute(update(Mediator), rows)
    return len(rows)


def count_figures(mediator_ids: list[int] | None) -> dict[int, Figures]:
    """Figures of the given mediators (None: all) that have any counted case, in one query."""
    figures: dict[int, Figures] = {}
    durations: dict[int, list[int]] = {}
    for row in db.session.execute(_with_mediators(_counted_cases(), mediator_ids)):
        entry = figures.setdefault(row.mediator_id, Figures())
        if row.status in LOAD_STATES:
            entry.current_load += 1
            continue
        entry.cases_handled += 1
        entry.cases_settled += row.agreement_effective_on is not None
        days = _days_taken(row.assigned_on, row.agreement_effective_on or row.terminated_at)
        if days is not None:
            durations.setdefault(row.mediator_id, []).append(days)
    for mediator_id, days in durations.items():
        figures[mediator_id].median_days = float(statistics.median(days))
    return figures


def _counted_cases():
    """Cases in hand or handled, with the dates a handled case's duration is measured between."""
    terminated_at = (select(func.max(AuditEvent.occurred_at))
                     .where(AuditEvent.case_id == Case.id, AuditEvent.trigger == "terminate")
                     .scalar_subquery())
    return select(Case.mediator_id, Case.status, Case.assigned_on, Case.agreement_effective_on,
                  terminated_at.label("terminated_at")).where(
        Case.status.in_(LOAD_STATES + HANDLED_STATES))


def _with_mediators(query, mediator_ids: list[int] | None):
    """Restrict a case query to the given mediators, or to cases that have one."""
    if mediator_ids is None:
        return query.where(Case.mediator_id.is_not(None))
    return query.where(Case.mediator_id.in_(mediator_ids))


def _days_taken(start: date | None, end) -> int | None:
    """Whole days from `start` to `end` (a date or a datetime), None when either is unknown."""
    if start is None or end is None:
        return None
    end_day = end.date() if isinstance(end, datetime) else end
    return max((end_day - start).days, 0)


# Smoothing (a Beta prior): a record counts as if SETTLEMENT_PRIOR_CASES more cases had been
# handled at the typical rate, so 2 of 2 settled (83%) ranks below 190 of 200 (94%).
SETTLEMENT_PRIOR_CASES = 10.0
SETTLEMENT_PRIOR_RATE = 0.8  # about the pool's mean; a constant, so no pool-wide scan per case
# Ratings likewise: RATING_PRIOR_COUNT ratings of RATING_PRIOR_MEAN (on the 1-5 scale).
RATING_PRIOR_COUNT = 5.0
RATING_PRIOR_MEAN = 4.0


def smoothed_settlement_rate():
    """SQL: the share of settled cases, pulled towards the typical rate for short records."""
    return ((cast(Mediator.cases_settled, Float) + SETTLEMENT_PRIOR_CASES * SETTLEMENT_PRIOR_RATE)
            / (cast(Mediator.cases_handled, Float) + SETTLEMENT_PRIOR_CASES))


def smoothed_rating():
    """SQL: the mean rating (1-5), pulled towards the typical rating for few ratings."""
    return ((cast(Mediator.rating_sum, Float) + RATING_PRIOR_COUNT * RATING_PRIOR_MEAN)
            / (cast(Mediator.rating_count, Float) + RATING_PRIOR_COUNT))
