"""The integration JSON API under /api/v1: intake, case status, changes since, transitions,
the public mediator pool and statute search. Every request carries an integration token."""
from __future__ import annotations

import base64
import binascii
import http
from datetime import datetime, timezone

from flask import g, request
from flask_smorest import Blueprint, abort
from sqlalchemy import and_, or_, select

from app.api import schemas, tokens
from app.api.presenters import case_dict, court_feedback_of, ended
from app.extensions import db
from app.models import Centre
from cases.models import Case
from workflows import TRIGGERS

bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="Integration API for other systems (12345 hotline, grid platform, "
                           "courts, police)")

AUTH_ERRORS = (401,)
CASE_ERRORS = (401, 404)


def documents(*codes: int):
    """Document error answers (each with the error schema) on an operation."""
    def decorator(func):
        for code in codes:
            func = bp.alt_response(code, response=http.HTTPStatus(code).name)(func)
        return func
    return decorator


# ---- authentication ----------------------------------------------------------------------

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="concord"'}


@bp.before_request
def authenticate():
    """Every API call needs `Authorization: Bearer <token>` with an active token."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        abort(401, message="Send an integration token: Authorization: Bearer <token>.",
              headers=CHALLENGE)
    if scheme.lower() != "bearer" or not presented.strip():
        abort(401, message="The Authorization header must read: Bearer <token>.",
              headers=CHALLENGE)
    row = tokens.find_token(presented.strip())
    if row is None:
        abort(401, message="The token is unknown or revoked.",
              headers={"WWW-Authenticate": 'Bearer realm="concord", error="invalid_token"'})
    tokens.touch(row)
    g.api_token = row


def current_token():
    return g.api_token


def scoped_case(number: str) -> Case:
    """The case with this number, or 404 when it does not exist or lies outside the token's
    scope (the same answer, so that numbers outside the scope are not disclosed)."""
    case = None
    if 0 < len(number) <= 64 and not schemas.CONTROL_CHARS.search(number):
        case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not tokens.case_in_scope(current_token(), case):
        abort(404, message="No case with this number within the token's scope.")
    return case


def audit_data() -> dict:
    token = current_token()
    return {"via": "api", "api_token": token.name, "api_token_id": token.id}


# ---- cases -------------------------------------------------------------------------------

@bp.route("/cases", methods=["POST"], tags=["cases"])
@bp.arguments(schemas.IntakeSchema)
@bp.response(201, schemas.CaseSchema, description="The case was registered")
@bp.alt_response(200, schema=schemas.CaseSchema, success=True,
                 description="A case with this source and reference was registered before: "
                             "that case (a retry never registers a second one)")
@documents(400, 401, 403, 409)
def create_case(data):
    """Register a dispute (登记), idempotently on (source, source_ref).

    201 when registered now, 200 with the same case on a retry. 403 when the centre or the
    source lies outside the token's scope; 409 when the reference is already used by a case
    outside the token's scope."""
    from app.api.intake import register_from_api
    case, created = register_from_api(current_token(), data)
    return case_dict(case), 201 if created else 200


@bp.route("/cases", methods=["GET"], tags=["cases"])
@bp.arguments(schemas.CaseListArgsSchema, location="query")
@bp.response(200, schemas.CaseListSchema)
@documents(*AUTH_ERRORS)
def list_cases(args):
    """Cases changed since a time, oldest change first.

    For the sender to keep in step. Pages are chained by `cursor`; a case changed again later
    appears again on a later page."""
    token = current_token()
    query = (select(Case).join(Centre, Centre.id == Case.centre_id)
             .where(Centre.path.startswith(token.centre.path, autoescape=True)))
    if token.source:
        query = query.where(Case.source == token.source)
    since = args["updated_since"]
    if since is not None:
        query = query.where(Case.updated_at >= since.astimezone(timezone.utc).replace(tzinfo=None))
    if args["cursor"]:
        after_at, after_id = decode_cursor(args["cursor"])
        query = query.where(or_(Case.updated_at > after_at,
                                and_(Case.updated_at == after_at, Case.id > after_id)))
    limit = args["limit"]
    rows = list(db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [case_dict(c, full=False) for c in rows],
            "next_cursor": encode_cursor(rows[-1]) if more else None}


def encode_cursor(case: Case) -> str:
    raw = f"{case.updated_at.isoformat(timespec='microseconds')}|{case.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, case_id = raw.split("|")
        value = datetime.fromisoformat(at), int(case_id)
        if value[0].tzinfo is not None or not 0 < value[1] <= schemas.MAX_ID:
            raise ValueError(cursor)
        return value
    except (ValueError, UnicodeDecodeError, binascii.Error):
        abort(422, errors={"query": {"cursor": ["Not a cursor given by this API."]}})


@bp.route("/cases/<number>", methods=["GET"], tags=["cases"])
@bp.response(200, schemas.CaseSchema)
@documents(*CASE_ERRORS)
def get_case(number: str):
    """A case: status, due dates, mediator, outcome and issued documents.

    For an ended court-delegated case, `court_feedback` holds the result for the court.
    The number is URL-encoded in the path."""
    return case_dict(scoped_case(number))


@bp.route("/cases/<number>/court-feedback", methods=["GET"], tags=["cases"])
@bp.response(200, schemas.CourtFeedbackSchema)
@documents(401, 404, 409)
def court_feedback(number: str):
    """The result for the court (调解结果反馈) of a court-delegated case (法院委派).

    Outcome, agreement fingerprint and termination reason. 404 for a case from another
    source; 409 while the case has not ended."""
    case = scoped_case(number)
    if case.source != "court_delegated":
        abort(404, message="This case was not delegated by a court.")
    if not ended(case):
        abort(409, message="The case has not ended yet.", state=case.status,
              condition="not_ended")
    return court_feedback_of(case)


def transition_view(trigger: str):
    def view(data, number: str):
        from app.api.transitions import fire_from_api
        case = scoped_case(number)
        fire_from_api(case, trigger, data, audit_data())
        return case_dict(case)
    view.__name__ = f"transition_{trigger}"
    view.__doc__ = (f"{TRIGGERS[trigger]}.\n\nThe same guards as the case page; "
                    "409 when the case's state does not allow it, a guard fails (the answer "
                    "names the condition) or the case changed since `version`.")
    return view


for _trigger, _schema in schemas.TRANSITION_SCHEMAS.items():
    _view = transition_view(_trigger)
    _view = documents(400, 401, 404, 409)(_view)
    _view = bp.response(200, schemas.CaseSchema, description="Done; the case as it is now")(_view)
    _view = bp.arguments(_schema)(_view)
    bp.route(f"/cases/<number>/transitions/{_trigger}", methods=["POST"],
             endpoint=f"transition_{_trigger}", tags=["transitions"])(_view)


# ---- the expert pool and the statutes ----------------------------------------------------

@bp.route("/mediators", methods=["GET"], tags=["mediators"])
@bp.arguments(schemas.MediatorArgsSchema, location="query")
@bp.response(200, schemas.MediatorPageSchema)
@documents(*AUTH_ERRORS)
def mediators(args):
    """The public expert pool (调解专家超市).

    Public fields only, never phones or ID numbers."""
    from mediators.services import PoolFilters, pool_page
    centre_id = None
    if args["centre"]:
        centre = db.session.scalar(select(Centre).where(Centre.short_code == args["centre"]))
        if centre is None:
            abort(422, errors={"query": {"centre": ["No centre with this code."]}})
        centre_id = centre.id
    page = pool_page(PoolFilters(category=args["specialty"], kind=args["kind"],
                                 centre_id=centre_id, available=args["available"]),
                     args["page"], args["per_page"])
    return {"items": [mediator_dict(m) for m in page.items], "total": page.total,
            "page": page.page, "pages": page.pages}


def mediator_dict(profile) -> dict:
    fields = schemas.PublicMediatorSchema().fields
    values = {name: getattr(profile, name) for name in fields}
    for name in ("served_centre_names", "specialties", "languages"):
        values[name] = list(values[name])
    return values


@bp.route("/statutes/search", methods=["GET"], tags=["statutes"])
@bp.arguments(schemas.StatuteArgsSchema, location="query")
@bp.response(200, schemas.StatuteResultSchema)
@documents(*AUTH_ERRORS)
def statute_search(args):
    """The articles that govern a question in plain words, best first."""
    from statutes.search import search
    hits = search(args["q"], args["limit"], level=args["level"],
                  include_local=args["include_local"], in_force_only=args["in_force_only"])
    return {"items": [hit.as_dict() for hit in hits]}
from app.api.errors import install_on_blueprint  # noqa: E402
install_on_blueprint(bp)
