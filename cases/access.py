"""Who may see and act on which case: centre scoping and roles.

A user sees the cases of their centre and of every centre below it. Clerks, directors and
admins act on them; supervisors only read; a mediator sees and works on the cases assigned to
them.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from app.extensions import db
from app.models import Centre, User
from cases.models import Case

CASE_MANAGERS = {"admin", "director", "clerk"}
MEDIATOR_TRIGGERS = {"suspend", "resume", "extend", "reach_agreement", "terminate"}


def subtree_centre_ids(centre: Centre) -> Select:
    """A sub-select of the ids of `centre` and every centre below it."""
    return select(Centre.id).where(Centre.path.startswith(centre.path, autoescape=True))


def visible_cases(user: User) -> Select:
    """A select of the cases `user` may see."""
    query = select(Case).where(Case.centre_id.in_(subtree_centre_ids(user.centre)))
    if user.role == "mediator":
        query = query.where(Case.mediator_id == user.mediator_id)
    return query


def can_view(user: User, case: Case) -> bool:
    if not case.centre.is_within(user.centre):
        return False
    return user.role != "mediator" or (user.mediator_id is not None
                                       and case.mediator_id == user.mediator_id)


def can_register(user: User) -> bool:
    return user.role in CASE_MANAGERS


def can_fire(user: User, case: Case, trigger: str) -> bool:
    if not can_view(user, case):
        return False
    if user.role in CASE_MANAGERS:
        return True
    return user.role == "mediator" and trigger in MEDIATOR_TRIGGERS


def can_record_session(user: User, case: Case) -> bool:
    return can_view(user, case) and (user.role in CASE_MANAGERS or user.role == "mediator")


def visible_centres(user: User) -> list[Centre]:
    """The centres in the user's subtree, in hierarchy order."""
    return list(db.session.scalars(
        select(Centre).where(Centre.id.in_(subtree_centre_ids(user.centre))).order_by(Centre.path)))


def case_for_user(case_id: int, user: User) -> Case:
    """The case, or 404 when it does not exist or lies outside the user's view."""
    case = db.session.get(Case, case_id)
    if case is None or not can_view(user, case):
        abort(404)
    return case


def require(allowed: bool) -> None:
    """403 unless allowed (for a case the user may see but not act on)."""
    if not allowed:
        abort(403)
