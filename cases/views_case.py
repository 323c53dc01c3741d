"""One case: the case page, its lifecycle actions and its session records."""
from __future__ import annotations

from datetime import date, datetime

from babel.lists import format_list
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale, gettext, to_user_timezone, to_utc
from flask_login import current_user, login_required
from sqlalchemy import select

from app.audit import SYSTEM_ACTOR
from app.extensions import db
from app.i18n import label
from app.models import AuditEvent, Centre, utcnow
from app.templating import short_date
from app.workdays import clock_settings, today, working_calendar
from cases import vocabulary as case_vocabulary
from cases.access import can_fire, can_record_session, can_view, case_for_user, require
from cases.documents import DOCUMENT_EVENT_TITLES
from cases.action_forms import (ACTION_FORMS, ActionForm, SessionForm, VersionedForm,
                                action_form, session_form)
from cases.lifecycle import lifecycle_svg
from cases.models import Case
from cases.services import SessionNotAllowed, StaleCaseError, fire_transition, record_session
from cases.views import bp
from mediators.choice import CHOICE_EVENT_TITLES, settle as settle_choice
from mediators.models import Mediator
from statutes.citations import CITATION_EVENT_DETAILS, CITATION_EVENT_TITLES
from workflows import (AGREEMENT_ITEMS, STATES, TERMINAL_STATES, TRIGGERS, TransitionError,
                       allowed_triggers, clocks_for)
from workflows import vocabulary as flow_vocabulary
from workflows.i18n import N_

# The order of the actions on the page: the step forward first, the ways out last.
ACTION_ORDER = ["accept", "assign", "reach_agreement", "apply_confirmation", "confirm",
                "follow_up", "refer", "resume", "extend", "suspend", "change_mediator",
                "transfer", "reject_confirmation", "decline", "terminate", "withdraw"]

EVENT_TITLES = {"register": N_("Registered"), "record_session": N_("Session recorded"),
                **CHOICE_EVENT_TITLES, **CITATION_EVENT_TITLES,
                **DOCUMENT_EVENT_TITLES}

# What the timeline shows of each event's data: (key, label msgid, how to show the value),
# where the value is shown through a vocabulary, or as a centre, mediator, date or plain text.
EVENT_DETAILS: dict[str, tuple[tuple[str, str, object], ...]] = {
    "register": (("number", N_("Case number"), "text"),
                 ("source", N_("Source"), case_vocabulary.SOURCES)),
    "accept": (("mediation_type", N_("Mediation type"), flow_vocabulary.MEDIATION_TYPES),),
    "decline": (("reason_code", N_("Reason"), flow_vocabulary.DECLINE_REASONS),
                ("redirect_channel", N_("Parties pointed to"), flow_vocabulary.REDIRECT_CHANNELS)),
    "transfer": (("to_centre_id", N_("Transferred to"), "centre"),),
    "assign": (("mediator_id", N_("Mediator"), "mediator"),
               ("chosen_by", N_("How chosen"), flow_vocabulary.CHOSEN_BY)),
    "change_mediator": (("reason_code", N_("Reason"), flow_vocabulary.CHANGE_MEDIATOR_REASONS),),
    "suspend": (("reason_code", N_("Reason"), flow_vocabulary.SUSPEND_REASONS),),
    "resume": (("paused_days", N_("Days suspended"), "text"),),
    "extend": (("days", N_("Extended by (days)"), "text"),),
    "reach_agreement": (("agreement.performance_deadline", N_("Performance deadline"), "date"),),
    "apply_confirmation": (("court_name", N_("Court"), "text"),),
    "confirm": (("court_name", N_("Court"), "text"),
                ("ruling_number", N_("Ruling number"), "text"),
                ("ruling_date", N_("Ruling date"), "date")),
    "reject_confirmation": (("ruling_number", N_("Ruling number"), "text"),),
    "terminate": (("reason_code", N_("Reason"), flow_vocabulary.TERMINATION_REASONS),
                  ("failure_summary", N_("Why mediation failed"), "text")),
    "refer": (("body_kind", N_("Kind of body"), flow_vocabulary.REFERRAL_BODIES),
              ("receiving_body", N_("Receiving body"), "text")),
    "follow_up": (("performance", N_("Performance"), flow_vocabulary.PERFORMANCE_RESULTS),),
    "record_session": (("held_at", N_("Held at"), "datetime"),
                       ("mode", N_("Mode"), case_vocabulary.SESSION_MODES)),
    **CITATION_EVENT_DETAILS,
}


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    case = case_for_user(case_id, current_user)
    settle_choice(case, today())  # the choice window may have closed since the last visit
    return render_case(case)


@bp.route("/<int:case_id>/transitions/<trigger>", methods=["POST"])
@login_required
def transition(case_id: int, trigger: str):
    if trigger not in ACTION_FORMS:
        abort(404)
    case = case_for_user(case_id, current_user)
    require(can_fire(current_user, case, trigger))
    form = action_form(trigger, case, current_user, today(), formdata=request.form)
    valid = form.validate()
    if form.version.data is not None and form.version.data != case.version:
        return render_stale(case, form)
    if trigger not in allowed_triggers(case):
        return render_case(case, alert=not_allowed_message(case, trigger), status=409)
    if not valid:
        return render_case(case, kept=form, status=422)
    try:
        fire_transition(case, trigger, current_user, expected_version=form.version.data,
                        reason=(form.reason.data or "").strip(), data=form.trigger_data())
    except StaleCaseError:
        return render_stale(case, form)
    except TransitionError as err:
        form.failure = refusal_message(err)
        return render_case(case, kept=form, status=409)
    flash(gettext("Done: %(action)s. The case is now “%(state)s”.",
                  action=label(TRIGGERS, trigger), state=label(STATES, case.status)), "success")
    if not can_view(current_user, case):  # e.g. transferred up to a centre above the user's
        flash(gettext("The case is now at %(centre)s, outside your centre.",
                      centre=case.centre.name), "info")
        return redirect(url_for("cases.index"))
    if trigger == "accept":  # next: hand each party the access code to choose mediators with
        flash(gettext("Print each party's access code now: with it they choose their mediators "
                      "until %(date)s.", date=short_date(case.choice_due)), "info")
        return redirect(url_for("choice.overview", case_id=case.id))
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/<int:case_id>/sessions", methods=["POST"])
@login_required
def add_session(case_id: int):
    case = case_for_user(case_id, current_user)
    require(can_record_session(current_user, case))
    form = session_form(case, local_now(), formdata=request.form)
    valid = form.validate()
    if form.version.data is not None and form.version.data != case.version:
        return render_stale(case, form)
    if case.status != "mediating":
        return render_case(case, alert=session_refused_message(case), status=409)
    if not valid:
        return render_case(case, kept_session=form, status=422)
    try:
        record_session(case, current_user, held_at=to_utc(form.held_at.data),
                       mode=form.mode.data, place=(form.place.data or "").strip(),
                       attendees=form.attendees.data.strip(), minutes=form.minutes.data.strip(),
                       expected_version=form.version.data)
    except StaleCaseError:
        return render_stale(case, form)
    except SessionNotAllowed:
        return render_case(case, alert=session_refused_message(case), status=409)
    flash(gettext("The session record is saved."), "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="sessions"))


def render_case(case: Case, *, kept: ActionForm | None = None,
                kept_session: SessionForm | None = None, alert: str | None = None,
                status: int = 200):
    """The case page; `kept` / `kept_session` is a form to show open with what was typed."""
    on = today()
    entry = kept if kept is not None else kept_session
    if alert is None and entry is not None:
        alert = entry.failure or gettext("Not done: please correct the marked fields.")
    context = dict(
        case=case, forms=page_forms(case, kept, on), alert=alert,
        session_form=page_session_form(case, kept_session), session_open=kept_session is not None,
        open_action=kept.trigger if kept is not None else None,
        clocks=clocks_for(case, on, working_calendar(), clock_settings()),
        timeline=[timeline_entry(event) for event in case.events],
        lifecycle=lifecycle_svg(case.status, gettext), outcome=outcome_of(case),
        agreement=case.current_agreement, mask_id=mask_id,
        is_terminal=case.status in TERMINAL_STATES)
    return render_template("cases/show.html", **context), status


def page_forms(case: Case, kept: ActionForm | None, on: date) -> dict[str, ActionForm]:
    """A form for each action the case allows now and the user may take, plus a kept entry."""
    triggers = sorted(allowed_triggers(case), key=action_rank)
    forms = {trigger: action_form(trigger, case, current_user, on)
             for trigger in triggers if can_fire(current_user, case, trigger)}
    if kept is not None:
        kept.unavailable = kept.trigger not in forms
        forms[kept.trigger] = kept
    return forms


def page_session_form(case: Case, kept: SessionForm | None) -> SessionForm | None:
    allowed = case.status == "mediating" and can_record_session(current_user, case)
    if kept is not None:
        kept.unavailable = not allowed
        return kept
    return session_form(case, local_now()) if allowed else None


def action_rank(trigger: str) -> int:
    return ACTION_ORDER.index(trigger) if trigger in ACTION_ORDER else len(ACTION_ORDER)


def render_stale(case: Case, form: VersionedForm):
    """409: someone else changed the case; show it fresh with the user's entry kept open."""
    db.session.refresh(case)
    form.keep_version(case.version)
    form.failure = changed_by_message(case)
    if isinstance(form, SessionForm):
        return render_case(case, kept_session=form, status=409)
    return render_case(case, kept=form, status=409)


def changed_by_message(case: Case) -> str:
    last = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id)
                             .order_by(AuditEvent.seq.desc()).limit(1))
    who = last.actor_name if last else gettext("someone else")
    at = format_datetime(last.occurred_at if last else case.updated_at, "HH:mm")
    return gettext("This case was changed by %(who)s at %(time)s while you were working; "
                   "your entry is kept below — check the case and submit again.",
                   who=who, time=at)


def refusal_message(err: TransitionError) -> str:
    """A guard's refusal in the user's language, naming the condition that failed."""
    params = dict(err.params)
    if err.condition == "agreement_incomplete":
        params["items"] = format_list([gettext(AGREEMENT_ITEMS[key]) for key in params["missing"]],
                                      locale=get_locale())
    elif err.condition == "party_refuses_mediation":
        params["parties"] = format_list(params["names"], locale=get_locale())
    return gettext("Not done: %(detail)s.", detail=gettext(err.message, **params))


def not_allowed_message(case: Case, trigger: str) -> str:
    err = TransitionError(case.status, trigger, "not_allowed_in_state",
                          N_("the trigger is not allowed in this state"))
    return gettext("%(action)s — not done: %(detail)s (the case is “%(state)s”).",
                   action=label(TRIGGERS, trigger), detail=gettext(err.message),
                   state=label(STATES, case.status))


def session_refused_message(case: Case) -> str:
    return gettext("Sessions can be recorded only while the case is in mediation; "
                   "the case is “%(state)s”.", state=label(STATES, case.status))


def local_now() -> datetime:
    """Now as a naive wall-clock time in the centre's time zone (what the user types)."""
    return to_user_timezone(utcnow()).replace(tzinfo=None)


def mask_id(value: str | None) -> str:
    """An ID number with its middle hidden: 110105********002X."""
    if not value:
        return ""
    if len(value) < 10:
        return value[:2] + "*" * (len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def outcome_of(case: Case) -> dict[str, str]:
    """How the case ended or left the centre, as label -> text (only what is set)."""
    rows: dict[str, str] = {}
    if case.redirect_channel:
        rows[gettext("Reason for declining")] = label(flow_vocabulary.DECLINE_REASONS,
                                                      case.outcome_code)
        rows[gettext("Parties pointed to")] = label(flow_vocabulary.REDIRECT_CHANNELS,
                                                    case.redirect_channel)
        detail_label = gettext("Note on declining")
    elif case.outcome_code:
        rows[gettext("Reason for termination")] = label(flow_vocabulary.TERMINATION_REASONS,
                                                        case.outcome_code)
        detail_label = gettext("Why mediation failed")
    else:
        detail_label = gettext("Note on withdrawal")
    if case.outcome_detail:
        rows[detail_label] = case.outcome_detail
    if case.referral_body:
        kind = label(flow_vocabulary.REFERRAL_BODIES, case.referral_body_kind)
        rows[gettext("Referred to")] = f"{case.referral_body} ({kind})"
    if case.court_name:
        rows[gettext("Court")] = case.court_name
    if case.ruling_number:
        rows[gettext("Ruling")] = " ".join(filter(None, (case.ruling_number,
                                                          short_date(case.ruling_date))))
    if case.performance_result:
        rows[gettext("Performance")] = label(flow_vocabulary.PERFORMANCE_RESULTS,
                                             case.performance_result)
    return rows


def timeline_entry(event: AuditEvent) -> dict:
    """One line of the case's history: when, who, what, from where to where, and the key data."""
    title = EVENT_TITLES.get(event.trigger) or TRIGGERS.get(event.trigger) or event.trigger
    details = []
    for key, msgid, kind in EVENT_DETAILS.get(event.trigger, ()):
        value = _lookup(event.data or {}, key)
        if value not in (None, ""):
            details.append((gettext(msgid), _show(value, kind)))
    who = gettext("System") if event.actor_name == SYSTEM_ACTOR and not event.actor_id \
        else event.actor_name
    return dict(when=event.occurred_at, who=who, title=gettext(title),
                from_state=event.from_state, to_state=event.to_state,
                reason=event.reason, details=details)


def _lookup(data: dict, dotted: str):
    value = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _show(value, kind) -> str:
    if isinstance(kind, dict):
        return label(kind, str(value))
    if kind == "centre":
        centre = db.session.get(Centre, int(value))
        return centre.name if centre else str(value)
    if kind == "mediator":
        mediator = db.session.get(Mediator, int(value))
        return mediator.name if mediator else str(value)
    if kind == "date":
        return short_date(date.fromisoformat(str(value)[:10]))
    if kind == "datetime":
        return short_date(datetime.fromisoformat(str(value)))
    return str(value)
