"""Jinja globals and filters shared by every template."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

from app.i18n import label
from app.models import CENTRE_LEVELS, ROLES
from cases import vocabulary as case_vocabulary
from mediators.models import MEDIATOR_KINDS, MEDIATOR_STATUSES
from workflows import vocabulary as flow_vocabulary


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    return format_date(value, "yyyy-MM-dd")


def init_app(app: Flask) -> None:
    vocabularies = {
        "STATES": flow_vocabulary.STATES,
        "TRIGGERS": flow_vocabulary.TRIGGERS,
        "MEDIATION_TYPES": flow_vocabulary.MEDIATION_TYPES,
        "DECLINE_REASONS": flow_vocabulary.DECLINE_REASONS,
        "REDIRECT_CHANNELS": flow_vocabulary.REDIRECT_CHANNELS,
        "SUSPEND_REASONS": flow_vocabulary.SUSPEND_REASONS,
        "TERMINATION_REASONS": flow_vocabulary.TERMINATION_REASONS,
        "REFERRAL_BODIES": flow_vocabulary.REFERRAL_BODIES,
        "PERFORMANCE_RESULTS": flow_vocabulary.PERFORMANCE_RESULTS,
        "CHANGE_MEDIATOR_REASONS": flow_vocabulary.CHANGE_MEDIATOR_REASONS,
        "SOURCES": case_vocabulary.SOURCES,
        "CATEGORIES": case_vocabulary.CATEGORIES,
        "PARTY_ROLES": case_vocabulary.PARTY_ROLES,
        "PARTY_KINDS": case_vocabulary.PARTY_KINDS,
        "GENDERS": case_vocabulary.GENDERS,
        "AGENT_RELATIONS": case_vocabulary.AGENT_RELATIONS,
        "SESSION_MODES": case_vocabulary.SESSION_MODES,
        "CENTRE_LEVELS": CENTRE_LEVELS,
        "ROLES": ROLES,
        "MEDIATOR_STATUSES": MEDIATOR_STATUSES,
        "MEDIATOR_KINDS": MEDIATOR_KINDS,
    }
    app.jinja_env.globals.update(vocabularies)
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.filters["short_date"] = short_date
