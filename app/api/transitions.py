"""Transitions through the API: the request's data to cases.services.fire_transition, with
the case page's checks (receiving centre, eligible mediator) and 409 for refusals."""
from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import select

from app.extensions import db
from app.models import Centre
from cases.action_forms import transfer_targets
from cases.models import Case
from cases.services import StaleCaseError, fire_transition
from mediators.ranking import eligible_ids
from workflows import TransitionError, allowed_triggers

AGREEMENT_FIELDS = ("facts", "disputed_matters", "responsibilities", "terms",
                    "performance_method", "performance_deadline", "effective_on")


def fire_from_api(case: Case, trigger: str, data: dict, audit: dict) -> None:
    data = dict(data)
    version, reason = data.pop("version", None), data.pop("reason", None) or ""
    if version is not None and version != case.version:
        refuse(case, trigger, "stale_version",
               f"The case is at version {case.version}, not {version}: it changed since; "
               "read it again.")
    if trigger not in allowed_triggers(case):
        refuse(case, trigger, "not_allowed_in_state",
               f"“{trigger}” is not allowed while the case is “{case.status}”.")
    trigger_data = guard_data(case, trigger, data)
    try:
        fire_transition(case, trigger, None, expected_version=version, reason=reason,
                        data={**trigger_data, **audit})
    except StaleCaseError:
        db.session.refresh(case)
        refuse(case, trigger, "stale_version", "The case changed meanwhile; read it again.")
    except TransitionError as err:
        refuse(case, trigger, err.condition, err.render())


def refuse(case: Case, trigger: str, condition: str, message: str):
    abort(409, message=message, condition=condition, state=case.status, trigger=trigger)


def guard_data(case: Case, trigger: str, data: dict) -> dict:
    """The keywords the trigger's guard expects, as the case page's forms give them."""
    if trigger == "reach_agreement":
        return {"agreement": {key: data[key] for key in AGREEMENT_FIELDS}}
    if trigger == "transfer":
        target = db.session.scalar(select(Centre).where(Centre.short_code == data["to_centre"]))
        if target is None or target.id not in {c.id for c in transfer_targets(case)}:
            abort(422, errors={"json": {"to_centre": [
                "Not a centre of this case's hierarchy other than its own."]}})
        return {"to_centre_id": target.id}
    if trigger == "assign":
        if data["mediator_id"] not in eligible_ids(case):
            refuse(case, trigger, "mediator_not_eligible",
                   "The mediator is not eligible for this case: not active, not serving its "
                   "centre, at capacity or in conflict with a party.")
        return {**data, "has_conflict": False}
    if trigger == "follow_up":
        return {"performance": data["performance"]} if data.get("performance") else {}
    return data
