"""Guards of the case lifecycle: each checks the data, then returns the effects to apply.

A guard never changes the case. It returns {attribute: new value}, or raises GuardFailure
naming the failed condition; bad input is a failure, never an uncaught exception.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from workflows.clocks import ClockSettings, WorkingCalendar
from workflows.i18n import N_
from workflows.vocabulary import (
    AGREEMENT_ITEMS, CHANGE_MEDIATOR_REASONS, CHOSEN_BY, DECLINE_REASONS, MEDIATION_TYPES,
    PERFORMANCE_RESULTS, REDIRECT_CHANNELS, REFERRAL_BODIES, SUSPEND_REASONS, TERMINATION_REASONS,
)


class GuardFailure(Exception):
    """A failed guard condition: a short code, an English msgid and its parameters."""

    def __init__(self, condition: str, message: str, **params):
        super().__init__(condition)
        self.condition, self.message, self.params = condition, message, params


@dataclass
class Context:
    """Everything a guard may look at besides the case."""

    today: date
    calendar: WorkingCalendar
    settings: ClockSettings
    actor: Any
    reason: str
    data: dict
    clean: dict = field(default_factory=dict)  # normalised values, reported instead of the raw ones

    def get(self, key):
        return self.data.get(key)


def parse_date(value) -> date | None:
    """A date from a date or an ISO string; None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            return None
    return None


def _choice(ctx, key, vocabulary, condition, message):
    value = ctx.get(key)
    if not (isinstance(value, str) and value in vocabulary):
        raise GuardFailure(condition, message)
    return value


def _text(ctx, key, condition, message, fallback=None):
    value = ctx.get(key)
    if isinstance(value, str) and value.strip():
        ctx.clean[key] = value.strip()
        return value.strip()
    if isinstance(fallback, str) and fallback.strip():
        return fallback
    raise GuardFailure(condition, message)


def _flag(ctx, key, condition, message):
    if ctx.get(key) is not True:
        raise GuardFailure(condition, message)


def _identifier(ctx, key, condition, message):
    value = ctx.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise GuardFailure(condition, message)


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def accept(case, ctx: Context) -> dict:
    mediation_type = ctx.get("mediation_type") or case.mediation_type
    if not mediation_type:
        raise GuardFailure("mediation_type_missing", N_("the mediation type is not set"))
    if not (isinstance(mediation_type, str) and mediation_type in MEDIATION_TYPES):
        raise GuardFailure("mediation_type_invalid", N_("'%(value)s' is not a mediation type"),
                           value=str(mediation_type))
    refusing = ctx.get("refusing_parties") or []
    if isinstance(refusing, str):
        refusing = [refusing]
    if not isinstance(refusing, (list, tuple, set, frozenset)):
        raise GuardFailure("refusing_parties_invalid",
                           N_("the list of parties refusing mediation is invalid"))
    names = [str(n).strip() for n in refusing if str(n).strip()]
    if names:
        raise GuardFailure(
            "party_refuses_mediation",
            N_("%(parties)s refused mediation; a case cannot be accepted when a party refuses "
               "(People's Mediation Law, art. 17)"),
            parties=", ".join(names), names=names)
    ctx.clean.update(mediation_type=mediation_type, refusing_parties=names)
    return {"mediation_type": mediation_type, "accepted_on": ctx.today,
            "choice_due": ctx.calendar.add_working_days(ctx.today, ctx.settings.choice_window_working_days)}


def decline(case, ctx: Context) -> dict:
    code = _choice(ctx, "reason_code", DECLINE_REASONS, "decline_reason_invalid",
                   N_("a reason for declining must be chosen"))
    channel = _choice(ctx, "redirect_channel", REDIRECT_CHANNELS, "redirect_channel_invalid",
                      N_("the channel the parties are pointed to must be chosen"))
    return {"outcome_code": code, "outcome_detail": ctx.reason, "redirect_channel": channel,
            "closed_on": ctx.today}


def transfer(case, ctx: Context) -> dict:
    centre = _identifier(ctx, "to_centre_id", "to_centre_missing", N_("the receiving centre must be chosen"))
    if centre == case.centre_id:
        raise GuardFailure("same_centre", N_("the case is already at this centre"))
    return {"centre_id": centre, "registered_on": ctx.today,
            "acceptance_due": ctx.calendar.add_working_days(ctx.today, ctx.settings.acceptance_working_days),
            "accepted_on": None, "choice_due": None}


def assign(case, ctx: Context) -> dict:
    mediator = _identifier(ctx, "mediator_id", "mediator_missing", N_("a mediator must be chosen"))
    chosen_by = _choice(ctx, "chosen_by", CHOSEN_BY, "chosen_by_invalid",
                        N_("say whether the parties chose the mediator or the centre designated one"))
    window_open = case.choice_due is not None and ctx.today <= case.choice_due
    if chosen_by == "centre" and window_open and ctx.get("parties_waived") is not True:
        raise GuardFailure(
            "choice_window_open",
            N_("the parties may choose a mediator until %(choice_due)s; the centre may designate one "
               "only after that or when the parties waive their choice"),
            choice_due=case.choice_due.isoformat())
    _flag(ctx, "mediator_accepted", "mediator_not_accepted", N_("the mediator has not accepted the case"))
    if ctx.get("has_conflict") is True:
        raise GuardFailure("mediator_has_conflict", N_("the mediator has declared a conflict of interest"))
    if ctx.get("conflict_declared") is not True or ctx.get("has_conflict") is not False:
        raise GuardFailure("conflict_not_declared", N_("the mediator has not declared conflicts of interest"))
    load, capacity = _int(ctx.get("mediator_load")), _int(ctx.get("mediator_capacity"))
    if load is None or capacity is None:
        raise GuardFailure("capacity_unknown", N_("the mediator's current load and capacity are required"))
    if load >= capacity:
        raise GuardFailure("over_capacity",
                           N_("the mediator already has %(load)s cases, the capacity is %(capacity)s"),
                           load=load, capacity=capacity)
    ctx.clean.update(mediator_load=load, mediator_capacity=capacity)
    return {"mediator_id": mediator, "assigned_on": ctx.today,
            "mediation_due": ctx.today + _days(ctx.settings.mediation_days), "suspended_days": 0}


def change_mediator(case, ctx: Context) -> dict:
    _choice(ctx, "reason_code", CHANGE_MEDIATOR_REASONS, "change_reason_invalid",
            N_("a reason for changing the mediator must be chosen"))
    return {"mediator_id": None, "assigned_on": None, "mediation_due": None,
            "choice_due": ctx.calendar.add_working_days(ctx.today, ctx.settings.choice_window_working_days)}


def suspend(case, ctx: Context) -> dict:
    _choice(ctx, "reason_code", SUSPEND_REASONS, "suspend_reason_invalid",
            N_("a reason for suspending must be chosen"))
    return {"suspended_on": ctx.today}


def resume(case, ctx: Context) -> dict:
    since = case.suspended_on or ctx.today
    paused = (ctx.today - since).days
    if paused < 0:
        raise GuardFailure("resume_before_suspension",
                           N_("the case was suspended on %(suspended_on)s, after today"),
                           suspended_on=since.isoformat())
    ctx.clean["paused_days"] = paused
    due = case.mediation_due + _days(paused) if case.mediation_due else None
    return {"mediation_due": due, "suspended_days": (case.suspended_days or 0) + paused, "suspended_on": None}


def extend(case, ctx: Context) -> dict:
    _flag(ctx, "all_parties_consent", "parties_not_consenting",
          N_("all parties must consent to an extension"))
    days = _int(ctx.get("days"))
    if days is None or not 1 <= days <= 365:
        raise GuardFailure("extension_days_invalid", N_("the extension must be from 1 to 365 days"))
    ctx.clean["days"] = days
    return {"mediation_due": (case.mediation_due or ctx.today) + _days(days)}


def _agreement(ctx: Context) -> dict:
    agreement = ctx.get("agreement")
    if not isinstance(agreement, Mapping):
        raise GuardFailure("agreement_missing", N_("the agreement's terms are required"))
    terms, missing = {}, []
    for key in AGREEMENT_ITEMS:
        value = agreement.get(key)
        if key in ("performance_deadline", "effective_on"):
            value = parse_date(value)
        elif not (isinstance(value, str) and value.strip()):
            value = None
        if value is None:
            missing.append(key)
        terms[key] = value
    if missing:
        raise GuardFailure("agreement_incomplete",
                           N_("the agreement lacks %(items)s (People's Mediation Law, art. 29)"),
                           items=", ".join(AGREEMENT_ITEMS[k] for k in missing), missing=missing)
    return terms


def reach_agreement(case, ctx: Context) -> dict:
    terms = _agreement(ctx)
    effective, deadline = terms["effective_on"], terms["performance_deadline"]
    if effective > ctx.today:
        raise GuardFailure("agreement_not_yet_effective",
                           N_("the agreement cannot take effect on %(effective_on)s, after today"),
                           effective_on=effective.isoformat())
    if deadline < effective:
        raise GuardFailure("performance_before_effective",
                           N_("the performance deadline %(deadline)s is before the agreement takes effect "
                              "on %(effective_on)s"),
                           deadline=deadline.isoformat(), effective_on=effective.isoformat())
    ctx.clean["agreement"] = terms
    return {"agreement_effective_on": effective,
            "confirmation_due": effective + _days(ctx.settings.confirmation_days),
            "performance_due": deadline, "follow_up_due": deadline + _days(ctx.settings.follow_up_days)}


def apply_confirmation(case, ctx: Context) -> dict:
    _flag(ctx, "joint", "not_joint_application", N_("both parties must apply jointly"))
    court = _text(ctx, "court_name", "court_name_missing", N_("the court must be named"))
    if case.confirmation_due is not None and ctx.today > case.confirmation_due:
        raise GuardFailure("confirmation_window_closed",
                           N_("the application was due by %(due)s, within %(days)s days of the agreement "
                              "taking effect (People's Mediation Law, art. 33)"),
                           due=case.confirmation_due.isoformat(), days=ctx.settings.confirmation_days)
    return {"confirmation_applied_on": ctx.today, "court_name": court}


def confirm(case, ctx: Context) -> dict:
    court = _text(ctx, "court_name", "court_name_missing", N_("the court must be named"),
                  fallback=case.court_name)
    number = _text(ctx, "ruling_number", "ruling_number_missing", N_("the ruling number is required"))
    ruling_date = parse_date(ctx.get("ruling_date"))
    if ruling_date is None:
        raise GuardFailure("ruling_date_invalid", N_("the ruling date is required"))
    if ruling_date > ctx.today:
        raise GuardFailure("ruling_date_in_future", N_("the ruling date %(ruling_date)s is after today"),
                           ruling_date=ruling_date.isoformat())
    ctx.clean["ruling_date"] = ruling_date
    return {"court_name": court, "ruling_number": number, "ruling_date": ruling_date}


def reject_confirmation(case, ctx: Context) -> dict:
    _text(ctx, "ruling_number", "ruling_number_missing", N_("the ruling number is required"))
    return {"agreement_effective_on": None, "confirmation_due": None, "performance_due": None,
            "follow_up_due": None, "mediation_due": ctx.today + _days(ctx.settings.mediation_days)}


def terminate(case, ctx: Context) -> dict:
    code = _choice(ctx, "reason_code", TERMINATION_REASONS, "termination_reason_invalid",
                   N_("a reason for termination must be chosen"))
    summary = _text(ctx, "failure_summary", "failure_summary_missing",
                    N_("a summary of why mediation failed is required"))
    return {"outcome_code": code, "outcome_detail": summary, "suspended_on": None}


def refer(case, ctx: Context) -> dict:
    kind = _choice(ctx, "body_kind", REFERRAL_BODIES, "referral_body_kind_invalid",
                   N_("the kind of receiving body must be chosen"))
    body = _text(ctx, "receiving_body", "receiving_body_missing", N_("the receiving body must be named"))
    return {"referral_body_kind": kind, "referral_body": body}


def withdraw(case, ctx: Context) -> dict:
    _flag(ctx, "by_applicant", "not_by_applicant", N_("only the applicant can withdraw the case"))
    return {"outcome_detail": ctx.reason, "closed_on": ctx.today}


def follow_up(case, ctx: Context) -> dict:
    if case.status not in ("agreed", "confirmed"):
        return {"closed_on": ctx.today}
    result = _choice(ctx, "performance", PERFORMANCE_RESULTS, "performance_invalid",
                     N_("the follow-up must record whether the agreement was performed"))
    return {"performance_result": result, "closed_on": ctx.today}


GUARDS = {
    "accept": accept, "decline": decline, "transfer": transfer, "assign": assign,
    "change_mediator": change_mediator, "suspend": suspend, "resume": resume, "extend": extend,
    "reach_agreement": reach_agreement, "apply_confirmation": apply_confirmation, "confirm": confirm,
    "reject_confirmation": reject_confirmation, "terminate": terminate, "refer": refer,
    "withdraw": withdraw, "follow_up": follow_up,
}
