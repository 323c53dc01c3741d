"""Marshmallow schemas of the integration API: what it reads (422 with field messages when
wrong) and what it answers (documented in the OpenAPI document)."""
from __future__ import annotations

import re
from datetime import date, timezone
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from cases import validators
from cases.vocabulary import (AGENT_RELATIONS, CATEGORIES, ETHNICITIES, GENDERS, PARTY_KINDS,
                              PARTY_ROLES, SOURCES)
from mediators.models import MEDIATOR_KINDS
from statutes.models import LAW_LEVELS
from workflows.vocabulary import (CHANGE_MEDIATOR_REASONS, CHOSEN_BY, DECLINE_REASONS,
                                  MEDIATION_TYPES, PERFORMANCE_RESULTS, REDIRECT_CHANNELS,
                                  REFERRAL_BODIES, STATES, SUSPEND_REASONS, TERMINATION_REASONS,
                                  TRIGGERS)

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_ID = 2**31 - 1
MAX_PARTIES = 20
PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"
ID_PATTERN = r"^[1-9]\d{16}[\dX]$"


class Text(fields.String):
    """A string with control characters removed and surrounding spaces stripped."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        return CONTROL_CHARS.sub("", value).strip()


class UtcDateTime(fields.DateTime):
    """A stored (naive UTC) timestamp written with its offset: 2026-11-23T08:00:00+00:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def one_of(vocabulary) -> validate.OneOf:
    return validate.OneOf(list(vocabulary))


def required_text(max_length: int, **kwargs) -> Text:
    return Text(required=True, validate=validate.Length(1, max_length), **kwargs)


def optional_text(max_length: int, *extra, **kwargs) -> Text:
    return Text(allow_none=True, validate=[validate.Length(max=max_length), *extra], **kwargs)


def checked(problem):
    """A field validator from one of cases.validators' `*_problem` functions."""
    def check(value):
        if value:
            message = problem(value)
            if message:
                raise ValidationError(message)
    return check


def amount_in_yuan(value: Decimal) -> None:
    if value is None:
        return
    try:
        if not 0 <= value <= MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
            raise ValidationError(
                "Enter an amount from 0 to 999999999999.99 yuan with at most two decimals.")
    except InvalidOperation:
        raise ValidationError("Not a valid amount.") from None


# ---- intake ------------------------------------------------------------------------------

class PartySchema(ma.Schema):
    """One party (当事人): a natural person (GB 11643 ID number) or an organisation
    (GB 32100 unified social credit code), with an optional agent (代理人)."""

    role = fields.String(required=True, validate=one_of(PARTY_ROLES))
    kind = fields.String(load_default="person", validate=one_of(PARTY_KINDS))
    name = required_text(128)
    gender = fields.String(allow_none=True, validate=one_of(GENDERS))
    ethnicity = fields.String(allow_none=True, validate=one_of(ETHNICITIES))
    birth_date = fields.Date(allow_none=True)
    id_number = optional_text(18, checked(validators.id_number_problem), metadata={
        "description": "18-character ID number with its GB 11643 check character",
        "pattern": ID_PATTERN})
    occupation = optional_text(64)
    credit_code = optional_text(18, checked(validators.credit_code_problem),
                                metadata={"description": "Unified social credit code (GB 32100)"})
    legal_representative = optional_text(64)
    phone = optional_text(32, checked(validators.phone_problem), metadata={
        "description": "Mobile or landline with its area code; required for applicants",
        "pattern": PHONE_PATTERN})
    address = optional_text(255)
    refuses_mediation = fields.Boolean(load_default=False)
    agent_name = optional_text(64)
    agent_id_number = optional_text(18, checked(validators.id_number_problem))
    agent_phone = optional_text(32, checked(validators.phone_problem))
    agent_relation = fields.String(allow_none=True, validate=one_of(AGENT_RELATIONS))

    @validates_schema
    def consistent(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        born = data.get("birth_date")
        if born and not date(1900, 1, 1) <= born <= date.today():
            errors["birth_date"] = ["Enter a birth date between 1900 and today."]
        id_number = validators.normalise_id_number(data.get("id_number") or "")
        if (born and id_number and data.get("kind", "person") == "person"
                and not validators.id_number_problem(id_number)
                and validators.birth_date_from_id(id_number) != born):
            errors["birth_date"] = ["The birth date does not match the ID number."]
        if data.get("role") == "applicant" and not data.get("phone"):
            errors["phone"] = ["Enter the applicant's phone number."]
        if not data.get("agent_name") and (data.get("agent_id_number") or data.get("agent_phone")):
            errors["agent_name"] = ["Enter the agent's name."]
        if errors:
            raise ValidationError(errors)


class IntakeSchema(ma.Schema):
    """A dispute handed over by another system; (source, source_ref) identifies it there."""

    centre = optional_text(16, metadata={
        "description": "Short code of the registering centre, within the token's scope "
                       "(default: the token's centre)"})
    source = fields.String(required=True, validate=one_of(SOURCES),
                           metadata={"description": "Source channel (来源渠道)"})
    source_ref = required_text(128, metadata={
        "description": "The sender's own reference (for court delegations: the court's case "
                       "number); a retry with the same source and reference returns the "
                       "case already registered"})
    category = fields.String(required=True, validate=one_of(CATEGORIES))
    mediation_type = fields.String(allow_none=True, validate=one_of(MEDIATION_TYPES))
    amount = fields.Decimal(allow_none=True, allow_nan=False, validate=amount_in_yuan, metadata={
        "description": "Amount in dispute, in yuan, at most two decimals",
        "minimum": 0, "maximum": float(MAX_AMOUNT)})
    facts = required_text(20000)
    claims = required_text(20000)
    parties = fields.List(fields.Nested(PartySchema), required=True,
                          validate=validate.Length(2, MAX_PARTIES))


# ---- transitions -------------------------------------------------------------------------

class TransitionSchema(ma.Schema):
    """Fields every transition takes: the case version the sender saw and a note."""

    version = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_ID), metadata={
        "description": "The case version the sender last read; 409 if the case changed since"})
    reason = optional_text(2000, metadata={"description": "Note for the record"})


def transition_schema(trigger: str, **declared) -> type[ma.Schema]:
    name = "".join(part.title() for part in trigger.split("_")) + "Transition"
    return TransitionSchema.from_dict(declared, name=name)


def choice(vocabulary, **kwargs):
    return fields.String(required=True, validate=one_of(vocabulary), **kwargs)


def flag(description: str):
    return fields.Boolean(load_default=False, metadata={"description": description})


TRANSITION_SCHEMAS: dict[str, type[ma.Schema]] = {
    "accept": transition_schema("accept", mediation_type=choice(MEDIATION_TYPES)),
    "decline": transition_schema("decline", reason_code=choice(DECLINE_REASONS),
                                 redirect_channel=choice(REDIRECT_CHANNELS)),
    "transfer": transition_schema("transfer", to_centre=required_text(16, metadata={
        "description": "Short code of the receiving centre (same hierarchy)"})),
    "assign": transition_schema(
        "assign",
        mediator_id=fields.Integer(required=True, validate=validate.Range(1, MAX_ID)),
        chosen_by=choice(CHOSEN_BY),
        parties_waived=flag("All parties waive their choice of mediator"),
        mediator_accepted=flag("The mediator accepted the assignment"),
        conflict_declared=flag("The mediator declared no conflict of interest")),
    "change_mediator": transition_schema("change_mediator",
                                         reason_code=choice(CHANGE_MEDIATOR_REASONS)),
    "suspend": transition_schema("suspend", reason_code=choice(SUSPEND_REASONS)),
    "resume": transition_schema("resume"),
    "extend": transition_schema(
        "extend", days=fields.Integer(required=True, validate=validate.Range(1, 365)),
        all_parties_consent=flag("All parties consent to the extension")),
    "reach_agreement": transition_schema(
        "reach_agreement", facts=required_text(4000), disputed_matters=required_text(4000),
        responsibilities=required_text(4000), terms=required_text(4000),
        performance_method=required_text(4000),
        performance_deadline=fields.Date(required=True), effective_on=fields.Date(required=True)),
    "apply_confirmation": transition_schema(
        "apply_confirmation", court_name=required_text(128),
        joint=flag("Both parties apply jointly")),
    "confirm": transition_schema("confirm", court_name=required_text(128),
                                 ruling_number=required_text(64),
                                 ruling_date=fields.Date(required=True)),
    "reject_confirmation": transition_schema("reject_confirmation",
                                             ruling_number=required_text(64)),
    "terminate": transition_schema("terminate", reason_code=choice(TERMINATION_REASONS),
                                   failure_summary=required_text(4000)),
    "refer": transition_schema("refer", body_kind=choice(REFERRAL_BODIES),
                               receiving_body=required_text(128)),
    "withdraw": transition_schema("withdraw",
                                  by_applicant=flag("The applicant withdraws the application")),
    "follow_up": transition_schema("follow_up", performance=fields.String(
        allow_none=True, validate=one_of(PERFORMANCE_RESULTS), metadata={
            "description": "Required when the case has an agreement (agreed or confirmed)"})),
}
assert set(TRANSITION_SCHEMAS) == set(TRIGGERS)


# ---- answers -----------------------------------------------------------------------------

class CentreRefSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class MediatorRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class DueDatesSchema(ma.Schema):
    """The statutory clocks (法定期限); null when not running."""

    acceptance_due = fields.Date(allow_none=True)
    choice_due = fields.Date(allow_none=True)
    mediation_due = fields.Date(allow_none=True)
    confirmation_due = fields.Date(allow_none=True)
    performance_due = fields.Date(allow_none=True)
    follow_up_due = fields.Date(allow_none=True)
    next_due = fields.Date(allow_none=True, metadata={"description": "The date that matters next"})


class DocumentSchema(ma.Schema):
    """An issued document version (出具的文书); its content is not part of the API."""

    kind = fields.String(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the PDF"})
    issued_at = UtcDateTime(required=True)
    size = fields.Integer(required=True)


class OutcomeSchema(ma.Schema):
    """How the case ended or left mediation (null fields are not set)."""

    result = fields.String(allow_none=True, validate=validate.OneOf(
        ["settled", "not_settled", "withdrawn", "declined"]))
    reason_code = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    redirect_channel = fields.String(allow_none=True)
    referral_body_kind = fields.String(allow_none=True)
    referral_body = fields.String(allow_none=True)
    court_name = fields.String(allow_none=True)
    ruling_number = fields.String(allow_none=True)
    ruling_date = fields.Date(allow_none=True)
    performance_result = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class JudicialConfirmationSchema(ma.Schema):
    """司法确认: the court's ruling confirming the agreement."""

    court_name = fields.String(allow_none=True)
    ruling_number = fields.String(required=True)
    ruling_date = fields.Date(allow_none=True)


class CourtFeedbackSchema(ma.Schema):
    """调解结果反馈: the result of a court-delegated case (法院委派) for the court."""

    court_reference = fields.String(required=True, metadata={"description": "The court's reference"})
    status = fields.String(required=True, validate=one_of(STATES))
    outcome = fields.String(required=True, validate=validate.OneOf(
        ["settled", "not_settled", "withdrawn", "declined"]))
    agreement_fingerprint = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the latest issued agreement document (人民调解协议书)"})
    agreement_effective_on = fields.Date(allow_none=True)
    performance_deadline = fields.Date(allow_none=True)
    judicial_confirmation = fields.Nested(JudicialConfirmationSchema, allow_none=True)
    termination_reason = fields.String(allow_none=True, validate=one_of(TERMINATION_REASONS))
    termination_reason_text = fields.String(allow_none=True)
    failure_summary = fields.String(allow_none=True)
    performance_result = fields.String(allow_none=True)


class CaseSummarySchema(ma.Schema):
    """A case as listed by `GET /cases`."""

    number = fields.String(required=True, metadata={"description": "（2026）榕鼓调字第0001号"})
    status = fields.String(required=True, validate=one_of(STATES))
    source = fields.String(required=True)
    source_ref = fields.String(allow_none=True)
    centre = fields.Nested(CentreRefSchema, required=True)
    next_due = fields.Date(allow_none=True)
    version = fields.Integer(required=True)
    updated_at = UtcDateTime(required=True)


class CaseSchema(CaseSummarySchema):
    """A case with its clocks, mediator, outcome and issued documents."""

    category = fields.String(required=True)
    mediation_type = fields.String(allow_none=True)
    amount = fields.String(allow_none=True, metadata={
        "description": "Amount in dispute in yuan, as a decimal string (\"3000.00\")"})
    registered_on = fields.Date(required=True)
    due = fields.Nested(DueDatesSchema, required=True)
    mediator = fields.Nested(MediatorRefSchema, allow_none=True)
    outcome = fields.Nested(OutcomeSchema, allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema), required=True)
    allowed_triggers = fields.List(fields.String(), required=True, metadata={
        "description": "Transitions the state allows now (guards are checked when fired)"})
    court_feedback = fields.Nested(CourtFeedbackSchema, allow_none=True, metadata={
        "description": "For an ended court-delegated case; null otherwise"})


class CaseListArgsSchema(ma.Schema):
    updated_since = fields.AwareDateTime(load_default=None, allow_none=True,
                                         default_timezone=timezone.utc, metadata={
        "description": "Only cases changed at or after this time (ISO 8601; UTC if no offset)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page"})


class CaseListSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page"})


class MediatorArgsSchema(ma.Schema):
    specialty = fields.String(load_default=None, validate=one_of(CATEGORIES))
    kind = fields.String(load_default=None, validate=one_of(MEDIATOR_KINDS))
    centre = fields.String(load_default=None, validate=validate.Length(max=16), metadata={
        "description": "Short code of a centre: mediators serving its area"})
    available = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class PublicMediatorSchema(ma.Schema):
    """A mediator's public profile: no phone, no ID number, no conflicts."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    gender = fields.String(allow_none=True)
    kind = fields.String(required=True)
    organisation = fields.String(allow_none=True)
    centre_name = fields.String(required=True)
    served_centre_names = fields.List(fields.String(), required=True)
    specialties = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    years_experience = fields.Integer(required=True)
    credentials = fields.String(required=True)
    biography = fields.String(required=True)
    status = fields.String(required=True)
    available = fields.Boolean(required=True)
    cases_handled = fields.Integer(required=True)
    cases_settled = fields.Integer(required=True)
    settlement_rate = fields.Float(allow_none=True)
    median_days = fields.Float(allow_none=True)
    rating_count = fields.Integer(required=True)
    satisfaction = fields.Float(allow_none=True)


class MediatorPageSchema(ma.Schema):
    items = fields.List(fields.Nested(PublicMediatorSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class StatuteArgsSchema(ma.Schema):
    q = required_text(200, metadata={"description": "The question in plain words"})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))
    level = fields.String(load_default=None, validate=one_of(LAW_LEVELS))
    include_local = fields.Boolean(load_default=True)
    in_force_only = fields.Boolean(load_default=False)


class StatuteHitSchema(ma.Schema):
    law_id = fields.Integer(required=True)
    law_title = fields.String(required=True)
    book = fields.String(allow_none=True)
    short_title = fields.String(required=True)
    level = fields.String(required=True)
    status = fields.String(required=True)
    article_id = fields.Integer(required=True)
    article = fields.String(required=True)
    number = fields.Integer(required=True)
    suffix = fields.Integer(required=True, metadata={
        "description": "1 for an article inserted by amendment as 第X条之一, else 0"})
    score = fields.Float(required=True)
    text = fields.String(required=True)
    matched = fields.List(fields.String(), required=True)
    by_meaning = fields.Boolean(required=True, metadata={
        "description": "Among the articles closest in meaning to the question"})
    answers = fields.String(required=True, allow_none=True, metadata={
        "description": "The common question near this one that the article governs, if any"})


class StatuteResultSchema(ma.Schema):
    items = fields.List(fields.Nested(StatuteHitSchema), required=True)


class ErrorSchema(ma.Schema):
    """Every error answer: `errors` holds field-level messages for 422, by location
    ("json", "query") then field; a refused transition names the failed `condition`."""

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict(metadata={"description": "Field messages by location and field"})
    condition = fields.String(metadata={"description": "The failed condition (409)"})
    state = fields.String(metadata={"description": "The case's state (409)"})
    trigger = fields.String()
