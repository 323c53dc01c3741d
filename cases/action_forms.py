"""One form per lifecycle trigger, plus the session record form.

Forms check the shape of what was typed (required fields, dates, numbers, choices); the
domain conditions (consent, capacity, statutory windows) are the guards' job in workflows,
so each rule has one home and one message. Every form carries the case version it was
filled in against (optimistic locking) and an optional note for the audit log.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, DateField, DateTimeLocalField, IntegerField, RadioField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.extensions import db
from app.i18n import choices
from app.models import Centre, User
from cases.models import Case
from cases.vocabulary import SESSION_MODES
from mediators.models import Mediator
from mediators.ranking import eligible_ids
from workflows.i18n import N_
from workflows.vocabulary import (CHANGE_MEDIATOR_REASONS, CHOSEN_BY, DECLINE_REASONS,
                                  MEDIATION_TYPES, PERFORMANCE_RESULTS, REDIRECT_CHANNELS,
                                  REFERRAL_BODIES, SUSPEND_REASONS, TERMINATION_REASONS)

CHOOSE = N_("— choose —")


def _required_text(max_length: int = 4000):
    return [DataRequired(), Length(max=max_length)]


class VersionedForm(FlaskForm):
    """A form tied to the case version the user saw; `failure` holds a message for the form."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    failure: str | None = None  # a refusal or conflict message shown at the top of the form
    unavailable = False  # kept after a conflict although the case no longer allows it

    def keep_version(self, version: int) -> None:
        """Point the hidden field at `version` while keeping everything else typed."""
        self.version.data = version
        self.version.raw_data = [str(version)]


class ActionForm(VersionedForm):
    """Fields shared by every action: the version and a note for the record."""

    reason = TextAreaField(_l("Note for the record"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})

    trigger = ""

    @classmethod
    def initial(cls, case: Case, today: date) -> dict:
        """Values to prefill when the form is first shown."""
        return {}

    def setup(self, case: Case, user: User) -> None:
        """Fill the choices that depend on the request's language or on the case."""

    def trigger_data(self) -> dict:
        """The data keywords the trigger's guard expects."""
        return {}


class AcceptForm(ActionForm):
    """受理: accept the case for mediation."""

    mediation_type = SelectField(_l("Mediation type"), validators=[DataRequired()])

    @classmethod
    def initial(cls, case, today):
        return {"mediation_type": case.mediation_type or ""}

    def setup(self, case, user):
        self.mediation_type.choices = choices(MEDIATION_TYPES, blank=_(CHOOSE))

    def trigger_data(self):
        return {"mediation_type": self.mediation_type.data}


class DeclineForm(ActionForm):
    """不予受理: decline the case and point the parties elsewhere."""

    reason_code = SelectField(_l("Reason for declining"), validators=[DataRequired()])
    redirect_channel = SelectField(_l("Parties are pointed to"), validators=[DataRequired()])

    def setup(self, case, user):
        self.reason_code.choices = choices(DECLINE_REASONS, blank=_(CHOOSE))
        self.redirect_channel.choices = choices(REDIRECT_CHANNELS, blank=_(CHOOSE))

    def trigger_data(self):
        return {"reason_code": self.reason_code.data,
                "redirect_channel": self.redirect_channel.data}


class TransferForm(ActionForm):
    """移送: hand the case to another centre of the same hierarchy (usually up one level)."""

    to_centre_id = SelectField(_l("Receiving centre"), coerce=int, validators=[InputRequired()])

    @classmethod
    def initial(cls, case, today):
        return {"to_centre_id": case.centre.parent_id}

    def setup(self, case, user):
        self.to_centre_id.choices = [(c.id, _centre_option(c)) for c in transfer_targets(case)]

    def trigger_data(self):
        return {"to_centre_id": self.to_centre_id.data}


def transfer_targets(case: Case) -> list[Centre]:
    """Every centre in the case's hierarchy except its current one, in hierarchy order."""
    root_path = "/" + case.centre.path.strip("/").split("/")[0] + "/"
    return list(db.session.scalars(
        select(Centre).where(Centre.path.startswith(root_path, autoescape=True),
                             Centre.id != case.centre_id)
        .order_by(Centre.path)))


def _centre_option(centre: Centre) -> str:
    depth = centre.path.strip("/").count("/")
    return "\u3000" * depth + centre.name


class AssignForm(ActionForm):
    """指派调解员: the mediator the parties chose, or the centre designated."""

    mediator_id = SelectField(_l("Mediator"), coerce=int, validators=[InputRequired()])
    chosen_by = RadioField(_l("The mediator was"), validators=[DataRequired()])
    parties_waived = BooleanField(_l("All parties waive their choice of mediator"))
    mediator_accepted = BooleanField(_l("The mediator accepted the assignment"))
    conflict_declared = BooleanField(
        _l("The mediator declared no conflict of interest with any party"))

    @classmethod
    def initial(cls, case, today):
        return {"chosen_by": "parties"}

    def setup(self, case, user):
        self.mediator_id.choices = [(m.id, f"{m.name} ({load}/{m.capacity})")
                                    for m, load in assignable_mediators(case)]
        self.chosen_by.choices = choices(CHOSEN_BY)

    def trigger_data(self):
        return {"mediator_id": self.mediator_id.data, "chosen_by": self.chosen_by.data,
                "parties_waived": self.parties_waived.data,
                "mediator_accepted": self.mediator_accepted.data,
                "conflict_declared": self.conflict_declared.data, "has_conflict": False}


def assignable_mediators(case: Case, limit: int = 100) -> list[tuple[Mediator, int]]:
    """The eligible mediators in ranking order (active, serving the case's centre, with free
    capacity, no conflict with a party), with their current load."""
    ids = eligible_ids(case)[:limit]
    by_id = {m.id: m for m in db.session.scalars(select(Mediator).where(Mediator.id.in_(ids)))}
    return [(by_id[i], by_id[i].current_load) for i in ids]


class ChangeMediatorForm(ActionForm):
    """更换调解员: at a party's request or on the mediator's recusal."""

    reason_code = SelectField(_l("Reason for the change"), validators=[DataRequired()])

    def setup(self, case, user):
        self.reason_code.choices = choices(CHANGE_MEDIATOR_REASONS, blank=_(CHOOSE))

    def trigger_data(self):
        return {"reason_code": self.reason_code.data}


class SuspendForm(ActionForm):
    """中止调解: the time suspended does not count against the mediation period."""

    reason_code = SelectField(_l("Reason for suspending"), validators=[DataRequired()])

    def setup(self, case, user):
        self.reason_code.choices = choices(SUSPEND_REASONS, blank=_(CHOOSE))

    def trigger_data(self):
        return {"reason_code": self.reason_code.data}


class ResumeForm(ActionForm):
    """恢复调解."""


class ExtendForm(ActionForm):
    """延长调解期限: only with every party's consent."""

    days = IntegerField(_l("Extend by (days)"), validators=[InputRequired(), NumberRange(1, 365)],
                        default=15)
    all_parties_consent = BooleanField(_l("All parties consent to the extension"))

    def trigger_data(self):
        return {"days": self.days.data, "all_parties_consent": self.all_parties_consent.data}


class ReachAgreementForm(ActionForm):
    """达成调解协议: the items of 人民调解法 第二十九条."""

    facts = TextAreaField(_l("Main facts of the dispute"), validators=_required_text())
    disputed_matters = TextAreaField(_l("Matters in dispute"), validators=_required_text())
    responsibilities = TextAreaField(_l("Each party's responsibilities"),
                                     validators=_required_text())
    terms = TextAreaField(_l("Agreed terms"), validators=_required_text())
    performance_method = TextAreaField(_l("Manner of performance"), validators=_required_text(),
                                       render_kw={"rows": 2})
    performance_deadline = DateField(_l("Performance deadline"), validators=[InputRequired()])
    effective_on = DateField(_l("Agreement takes effect on"), validators=[InputRequired()])

    AGREEMENT_FIELDS = ("facts", "disputed_matters", "responsibilities", "terms",
                        "performance_method", "performance_deadline", "effective_on")

    @classmethod
    def initial(cls, case, today):
        return {"facts": case.facts, "effective_on": today}

    def trigger_data(self):
        return {"agreement": {name: _stripped(getattr(self, name).data)
                              for name in self.AGREEMENT_FIELDS}}


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ApplyConfirmationForm(ActionForm):
    """申请司法确认: both parties apply jointly to the court."""

    court_name = StringField(_l("Court"), validators=_required_text(128))
    joint = BooleanField(_l("Both parties apply jointly"))

    def trigger_data(self):
        return {"court_name": self.court_name.data.strip(), "joint": self.joint.data}


class ConfirmForm(ActionForm):
    """司法确认: the court's ruling confirming the agreement."""

    court_name = StringField(_l("Court"), validators=_required_text(128))
    ruling_number = StringField(_l("Ruling number"), validators=_required_text(64))
    ruling_date = DateField(_l("Ruling date"), validators=[InputRequired()])

    @classmethod
    def initial(cls, case, today):
        return {"court_name": case.court_name or ""}

    def trigger_data(self):
        return {"court_name": self.court_name.data.strip(),
                "ruling_number": self.ruling_number.data.strip(),
                "ruling_date": self.ruling_date.data}


class RejectConfirmationForm(ActionForm):
    """驳回司法确认申请: the case returns to mediation."""

    ruling_number = StringField(_l("Ruling number"), validators=_required_text(64))

    def trigger_data(self):
        return {"ruling_number": self.ruling_number.data.strip()}


class TerminateForm(ActionForm):
    """调解终止 (在线调解规则 第二十五条)."""

    reason_code = SelectField(_l("Reason for termination"), validators=[DataRequired()])
    failure_summary = TextAreaField(_l("Why mediation failed"), validators=_required_text())

    def setup(self, case, user):
        self.reason_code.choices = choices(TERMINATION_REASONS, blank=_(CHOOSE))

    def trigger_data(self):
        return {"reason_code": self.reason_code.data,
                "failure_summary": self.failure_summary.data.strip()}


class ReferForm(ActionForm):
    """移交: to a court, an arbitration commission or an administrative body."""

    body_kind = SelectField(_l("Kind of body"), validators=[DataRequired()])
    receiving_body = StringField(_l("Receiving body"), validators=_required_text(128))

    def setup(self, case, user):
        self.body_kind.choices = choices(REFERRAL_BODIES, blank=_(CHOOSE))

    def trigger_data(self):
        return {"body_kind": self.body_kind.data,
                "receiving_body": self.receiving_body.data.strip()}


class WithdrawForm(ActionForm):
    """撤回申请: the applicant withdraws."""

    by_applicant = BooleanField(_l("The applicant withdraws the application"))

    def trigger_data(self):
        return {"by_applicant": self.by_applicant.data}


class FollowUpForm(ActionForm):
    """回访并结案: after an agreement, the visit records whether it was performed."""

    reason = TextAreaField(_l("Follow-up visit notes"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 3})
    performance = SelectField(_l("Was the agreement performed?"), validators=[DataRequired()])

    def setup(self, case, user):
        if case.status in ("agreed", "confirmed"):
            self.performance.choices = choices(PERFORMANCE_RESULTS, blank=_(CHOOSE))
        else:
            del self.performance

    def trigger_data(self):
        return {"performance": self.performance.data} if "performance" in self else {}


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "accept": AcceptForm,
    "decline": DeclineForm,
    "transfer": TransferForm,
    "assign": AssignForm,
    "change_mediator": ChangeMediatorForm,
    "suspend": SuspendForm,
    "resume": ResumeForm,
    "extend": ExtendForm,
    "reach_agreement": ReachAgreementForm,
    "apply_confirmation": ApplyConfirmationForm,
    "confirm": ConfirmForm,
    "reject_confirmation": RejectConfirmationForm,
    "terminate": TerminateForm,
    "refer": ReferForm,
    "withdraw": WithdrawForm,
    "follow_up": FollowUpForm,
}


def action_form(trigger: str, case: Case, user: User, today: date, formdata=None) -> ActionForm:
    """The trigger's form: blank and prefilled from the case, or bound to what was posted.

    Field names carry the trigger as a prefix ("accept-mediation_type") so that the page can
    show several forms at once with unique ids; a post with plain names is read too.
    """
    cls = ACTION_FORMS[trigger]
    if formdata is None:
        form = cls(formdata=None, prefix=trigger,
                   data={"version": case.version, **cls.initial(case, today)})
    else:
        form = cls(formdata=formdata, prefix=posted_prefix(formdata, trigger))
    form.trigger = trigger
    form.setup(case, user)
    return form


def posted_prefix(formdata, prefix: str) -> str:
    """The prefix the posted field names use: the page's own, or none (scripts, API clients)."""
    return prefix if f"{prefix}-version" in formdata else ""


class SessionForm(VersionedForm):
    """调解记录: one mediation session."""

    held_at = DateTimeLocalField(_l("Held at"), validators=[InputRequired()],
                                 format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    mode = SelectField(_l("Mode"), validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=128)])
    attendees = TextAreaField(_l("Attendees"), validators=_required_text(),
                              render_kw={"rows": 2})
    minutes = TextAreaField(_l("Minutes"), validators=_required_text(20000),
                            render_kw={"rows": 6})

    def setup(self) -> None:
        self.mode.choices = choices(SESSION_MODES)


def session_form(case: Case, now: datetime, formdata=None) -> SessionForm:
    """The session form, blank (held now, in person) or bound to what was posted."""
    if formdata is None:
        form = SessionForm(formdata=None, prefix="session", data={
            "version": case.version, "held_at": now.replace(second=0, microsecond=0),
            "mode": "in_person"})
    else:
        form = SessionForm(formdata=formdata, prefix=posted_prefix(formdata, "session"))
    form.setup()
    return form
