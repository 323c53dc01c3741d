"""The case lifecycle: states, transitions, guards and statutory clocks (pure Python + transitions)."""
from workflows.clocks import (
    Clock, ClockSettings, WorkingCalendar, clocks_for, default_settings, due_status,
)
from workflows.errors import TransitionError
from workflows.i18n import N_
from workflows.lifecycle import (
    TRANSITION_TABLE, TransitionResult, allowed_triggers, fire, next_due_for,
)
from workflows.vocabulary import (
    AGREEMENT_ITEMS, CHANGE_MEDIATOR_REASONS, CHOSEN_BY, DECLINE_REASONS, MEDIATION_TYPES,
    PERFORMANCE_RESULTS, REDIRECT_CHANNELS, REFERRAL_BODIES, STATES, SUSPEND_REASONS,
    TERMINAL_STATES, TERMINATION_REASONS, TRIGGERS,
)

__all__ = [
    "AGREEMENT_ITEMS", "CHANGE_MEDIATOR_REASONS", "CHOSEN_BY", "Clock", "ClockSettings",
    "DECLINE_REASONS", "MEDIATION_TYPES", "N_", "PERFORMANCE_RESULTS", "REDIRECT_CHANNELS",
    "REFERRAL_BODIES", "STATES", "SUSPEND_REASONS", "TERMINAL_STATES", "TERMINATION_REASONS",
    "TRANSITION_TABLE", "TRIGGERS", "TransitionError", "TransitionResult", "WorkingCalendar",
    "allowed_triggers", "clocks_for", "default_settings", "due_status", "fire", "next_due_for",
]
