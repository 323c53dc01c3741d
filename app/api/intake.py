"""Intake through the API: the request's data to cases.services.register_case, idempotent on
(source, source_ref) even when two deliveries of the same case race."""
from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.api import tokens
from app.api.models import ApiToken
from app.extensions import db
from app.models import Centre
from cases import validators
from cases.models import Case
from cases.services import IntakeData, IntakeError, PartyData, register_case

PERSON_ONLY = ("gender", "ethnicity", "birth_date", "id_number", "occupation")
ORGANISATION_ONLY = ("credit_code", "legal_representative")


def existing_case(source: str, source_ref: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.source == source,
                                                Case.source_ref == source_ref))


def register_from_api(token: ApiToken, data: dict) -> tuple[Case, bool]:
    """(the case, True) when registered now; (the case, False) when it was registered before.

    The registration's audit event has no user (the system actor) and names the token."""
    if token.source and data["source"] != token.source:
        abort(403, message=f"This token may only hand over cases from the source "
                           f"'{token.source}'.")
    centre = intake_centre(token, data.get("centre"))
    found = existing_case(data["source"], data["source_ref"])
    if found is not None:
        return answer_existing(token, found), False
    intake = intake_data(centre, data)
    try:
        case = register_case(intake, None, audit_data={
            "via": "api", "api_token": token.name, "api_token_id": token.id})
    except IntakeError as err:
        found = existing_case(data["source"], data["source_ref"])
        if found is not None:
            return answer_existing(token, found), False
        abort(422, errors={"json": intake_errors(err.errors)})
    except SQLAlchemyError:
        # A concurrent delivery of the same case won the unique (source, source_ref): answer
        # with its case. Anything else is a real failure.
        db.session.rollback()
        found = existing_case(data["source"], data["source_ref"])
        if found is None:
            raise
        return answer_existing(token, found), False
    return case, True


def answer_existing(token: ApiToken, case: Case) -> Case:
    if not tokens.case_in_scope(token, case):
        abort(409, message="A case from this source with this reference is registered "
                           "outside the token's scope.", condition="reference_taken")
    return case


def intake_centre(token: ApiToken, code: str | None) -> Centre:
    if not code:
        return token.centre
    centre = db.session.scalar(select(Centre).where(Centre.short_code == code))
    if centre is None:
        abort(422, errors={"json": {"centre": ["No centre with this code."]}})
    if not tokens.centre_in_scope(token, centre):
        abort(403, message="This centre lies outside the token's scope.")
    return centre


def intake_data(centre: Centre, data: dict) -> IntakeData:
    return IntakeData(
        centre_id=centre.id, source=data["source"], category=data["category"],
        facts=data["facts"], claims=data["claims"],
        parties=[party_data(p) for p in data["parties"]],
        mediation_type=data.get("mediation_type"), amount=data.get("amount"),
        source_ref=data["source_ref"])


def party_data(values: dict) -> PartyData:
    """The service's PartyData; particulars of the other kind of party are dropped."""
    person = values.get("kind", "person") == "person"
    kept = {k: v for k, v in values.items()
            if v not in (None, "") and k not in (ORGANISATION_ONLY if person else PERSON_ONLY)}
    for key in ("id_number", "agent_id_number"):
        if key in kept:
            kept[key] = validators.normalise_id_number(kept[key])
    if "credit_code" in kept:
        kept["credit_code"] = validators.normalise_credit_code(kept["credit_code"])
    kept["kind"] = "person" if person else "organisation"
    return PartyData(**kept)


def intake_errors(errors: dict[str, str]) -> dict:
    """The service's {"parties-2": msgid} as the API's {"parties": {"2": [message]}}."""
    result: dict = {}
    for key, message in errors.items():
        if key.startswith("parties-") and key[8:].isdigit():
            result.setdefault("parties", {}).setdefault(key[8:], {}).setdefault(
                "_schema", []).append(message)
        elif key == "parties":
            result.setdefault("parties", {}).setdefault("_schema", []).append(message)
        else:
            result.setdefault(key, []).append(message)
    return result
