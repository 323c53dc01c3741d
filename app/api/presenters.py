"""Cases as the API shows them: plain dicts for the answer schemas."""
from __future__ import annotations

from cases.documents import issued_for_case, latest_fingerprint
from cases.models import Case
from workflows import TERMINATION_REASONS, allowed_triggers

DUE_FIELDS = ("acceptance_due", "choice_due", "mediation_due", "confirmation_due",
              "performance_due", "follow_up_due", "next_due")
# States in which mediation is over (with or without an agreement).
ENDED_STATES = frozenset({"agreed", "confirming", "confirmed", "terminated", "referred",
                          "declined", "withdrawn", "closed"})


def case_dict(case: Case, full: bool = True) -> dict:
    summary = {
        "number": case.number, "status": case.status, "source": case.source,
        "source_ref": case.source_ref,
        "centre": {"code": case.centre.short_code, "name": case.centre.name},
        "next_due": case.next_due, "version": case.version, "updated_at": case.updated_at,
    }
    if not full:
        return summary
    return {
        **summary,
        "category": case.category, "mediation_type": case.mediation_type,
        "amount": str(case.amount) if case.amount is not None else None,
        "registered_on": case.registered_on,
        "due": {name: getattr(case, name) for name in DUE_FIELDS},
        "mediator": ({"id": case.mediator.id, "name": case.mediator.name}
                     if case.mediator is not None else None),
        "outcome": outcome_of(case),
        "documents": [{"kind": d.kind, "version": d.version, "sha256": d.sha256,
                       "issued_at": d.issued_at, "size": d.size}
                      for d in issued_for_case(case.id)],
        "allowed_triggers": allowed_triggers(case),
        "court_feedback": (court_feedback_of(case)
                           if case.source == "court_delegated" and ended(case) else None),
    }


def ended(case: Case) -> bool:
    return case.status in ENDED_STATES


def result_of(case: Case) -> str | None:
    """settled / not_settled / withdrawn / declined, or None while mediation goes on."""
    if case.status == "declined":
        return "declined"
    if case.status == "withdrawn":
        return "withdrawn"
    if case.agreement_effective_on is not None and case.status in (
            "agreed", "confirming", "confirmed", "closed"):
        return "settled"
    if case.status in ("terminated", "referred", "closed"):
        return "not_settled"
    return None


def outcome_of(case: Case) -> dict | None:
    result = result_of(case)
    if result is None and not case.outcome_code:
        return None
    return {
        "result": result, "reason_code": case.outcome_code, "detail": case.outcome_detail,
        "redirect_channel": case.redirect_channel,
        "referral_body_kind": case.referral_body_kind, "referral_body": case.referral_body,
        "court_name": case.court_name, "ruling_number": case.ruling_number,
        "ruling_date": case.ruling_date, "performance_result": case.performance_result,
        "closed_on": case.closed_on,
    }


def court_feedback_of(case: Case) -> dict:
    """调解结果反馈 for an ended court-delegated case."""
    result = result_of(case)
    settled = result == "settled"
    agreement = case.current_agreement if settled else None
    terminated = result == "not_settled" and case.outcome_code in TERMINATION_REASONS
    confirmation = None
    if settled and case.ruling_number:
        confirmation = {"court_name": case.court_name, "ruling_number": case.ruling_number,
                        "ruling_date": case.ruling_date}
    return {
        "court_reference": case.source_ref or "",
        "status": case.status,
        "outcome": result,
        "agreement_fingerprint": latest_fingerprint(case.id, "agreement") if settled else None,
        "agreement_effective_on": case.agreement_effective_on if settled else None,
        "performance_deadline": agreement.performance_deadline if agreement else None,
        "judicial_confirmation": confirmation,
        "termination_reason": case.outcome_code if terminated else None,
        "termination_reason_text": TERMINATION_REASONS[case.outcome_code] if terminated else None,
        "failure_summary": case.outcome_detail if terminated else None,
        "performance_result": case.performance_result,
    }
