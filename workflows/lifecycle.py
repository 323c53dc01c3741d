"""The case lifecycle (案件流程): one `transitions` machine definition, bound per call to an adapter."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from transitions import Machine, MachineError

from workflows.clocks import ClockSettings, WorkingCalendar
from workflows.errors import TransitionError
from workflows.guards import GUARDS, Context, GuardFailure
from workflows.i18n import N_
from workflows.vocabulary import STATES, TRIGGERS

TRANSITION_TABLE: list[tuple[str, tuple[str, ...], str]] = [
    ("accept", ("registered",), "matching"),
    ("decline", ("registered",), "declined"),
    ("transfer", ("registered", "matching"), "registered"),
    ("assign", ("matching",), "mediating"),
    ("change_mediator", ("mediating",), "matching"),
    ("suspend", ("mediating",), "suspended"),
    ("resume", ("suspended",), "mediating"),
    ("extend", ("mediating",), "mediating"),
    ("reach_agreement", ("mediating",), "agreed"),
    ("apply_confirmation", ("agreed",), "confirming"),
    ("confirm", ("confirming",), "confirmed"),
    ("reject_confirmation", ("confirming",), "mediating"),
    ("terminate", ("matching", "mediating", "suspended"), "terminated"),
    ("refer", ("terminated",), "referred"),
    ("withdraw", ("registered", "matching", "mediating", "suspended"), "withdrawn"),
    ("follow_up", ("agreed", "confirmed", "referred", "terminated"), "closed"),
]

# The clock whose date is the case's next due date in each state.
NEXT_DUE_FIELDS = {
    "registered": "acceptance_due",
    "matching": "choice_due",
    "mediating": "mediation_due",
    "agreed": "follow_up_due",
    "confirmed": "follow_up_due",
}


def next_due_for(case) -> date | None:
    """The due date that matters next for the case in its current state, or None."""
    field = NEXT_DUE_FIELDS.get(case.status)
    return getattr(case, field) if field else None


def allowed_triggers(case) -> list[str]:
    """Triggers the case's state allows, in TRIGGERS order (guards are not evaluated)."""
    return [trigger for trigger, sources, _ in TRANSITION_TABLE if case.status in sources]


@dataclass(frozen=True)
class TransitionResult:
    """One transition that happened: what the audit log records."""

    trigger: str
    source: str
    dest: str
    reason: str
    data: dict


class _Adapter:
    """The model bound to the machine, so no trigger methods land on the case."""

    def __init__(self, case):
        self.case = case
        self.failure: GuardFailure | None = None
        self.changes: dict = {}

    @property
    def status(self):
        return self.case.status

    @status.setter
    def status(self, value):
        if self.case.status != value:
            self.case.status = value


def _condition(check):
    """Wrap a guard as a `transitions` condition that records its failure or its effects."""

    def condition(event) -> bool:
        adapter, ctx = event.model, event.kwargs["ctx"]
        try:
            changes = check(adapter.case, ctx)
        except GuardFailure as failure:
            adapter.failure, adapter.changes = failure, {}
            return False
        field = NEXT_DUE_FIELDS.get(event.transition.dest)
        changes["next_due"] = changes.get(field, getattr(adapter.case, field)) if field else None
        adapter.failure, adapter.changes = None, changes
        return True

    return condition


def _apply_changes(event) -> None:
    for name, value in event.model.changes.items():
        setattr(event.model.case, name, value)


MACHINE_DEFINITION = dict(
    model=None,
    states=list(STATES),
    initial=None,
    transitions=[
        {"trigger": trigger, "source": list(sources), "dest": dest,
         "conditions": [_condition(GUARDS[trigger])], "before": [_apply_changes]}
        for trigger, sources, dest in TRANSITION_TABLE
    ],
    auto_transitions=False,
    model_attribute="status",
    send_event=True,
    ignore_invalid_triggers=False,
)

_local = threading.local()


def _machine() -> Machine:
    """This thread's machine: adding and removing models is not thread-safe."""
    machine = getattr(_local, "machine", None)
    if machine is None:
        machine = _local.machine = Machine(**MACHINE_DEFINITION)
    return machine


_DROP = object()


def _jsonable(value):
    """A JSON-safe copy of `value`: dates as ISO strings, Decimals as str; other objects dropped."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        items = ((str(k), _jsonable(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not _DROP}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in map(_jsonable, value) if v is not _DROP]
    return _DROP


def fire(case, trigger: str, *, today: date, calendar: WorkingCalendar, settings: ClockSettings,
         actor=None, reason: str = "", **data) -> TransitionResult:
    """Move `case` by `trigger`, or raise TransitionError and leave it exactly as it was."""
    if not isinstance(today, date) or isinstance(today, datetime):
        raise TypeError("today must be a datetime.date")
    state = case.status
    if state not in STATES:
        raise TransitionError(state, trigger, "unknown_state", N_("the case's state is unknown"))
    if trigger not in TRIGGERS:
        raise TransitionError(state, trigger, "unknown_trigger", N_("there is no such action"))
    if trigger not in allowed_triggers(case):
        raise TransitionError(state, trigger, "not_allowed_in_state",
                              N_("the trigger is not allowed in this state"))
    ctx = Context(today, calendar, settings, actor, reason or "", data)
    adapter, machine = _Adapter(case), _machine()
    machine.add_model(adapter, initial=state)
    try:
        moved = adapter.trigger(trigger, ctx=ctx)
    except MachineError:
        raise TransitionError(state, trigger, "not_allowed_in_state",
                              N_("the trigger is not allowed in this state")) from None
    finally:
        machine.remove_model(adapter)
    if not moved:
        failure = adapter.failure
        raise TransitionError(state, trigger, failure.condition, failure.message, failure.params)
    return TransitionResult(trigger, state, case.status, ctx.reason, _jsonable({**data, **ctx.clean}))
