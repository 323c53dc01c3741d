"""Statutory clocks on the Chinese working-day calendar (法定节假日与调休)."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta

import chinese_calendar

import config
from workflows.i18n import N_


@dataclass(frozen=True)
class ClockSettings:
    """Lengths of the statutory clocks (config.Config.STATUTORY_CLOCKS)."""

    acceptance_working_days: int
    choice_window_working_days: int
    mediation_days: int
    confirmation_days: int
    follow_up_days: int
    due_soon_working_days: int

    @classmethod
    def from_mapping(cls, d: Mapping) -> ClockSettings:
        """Build from a mapping holding every field; extra keys are ignored."""
        return cls(**{f.name: int(d[f.name]) for f in fields(cls)})


def default_settings() -> ClockSettings:
    """The settings in config.Config.STATUTORY_CLOCKS."""
    return ClockSettings.from_mapping(config.Config.STATUTORY_CLOCKS)


@functools.lru_cache(maxsize=None)
def library_has_year(year: int) -> bool:
    """Whether chinese_calendar has holiday data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkingCalendar:
    """Working days: admin overrides, else chinese_calendar, else Monday-Friday (provisional)."""

    def __init__(self, overrides: Mapping[date, bool] | None = None, override_years: Iterable[int] = ()):
        self.overrides = dict(overrides or {})
        self.override_years = frozenset(override_years)

    def is_working_day(self, d: date) -> bool:
        if d in self.overrides:
            return bool(self.overrides[d])
        if library_has_year(d.year):
            return chinese_calendar.is_workday(d)
        return d.weekday() < 5

    def is_provisional(self, d: date) -> bool:
        """True when `d` is counted Monday-Friday for want of the year's official holidays."""
        return not library_has_year(d.year) and d.year not in self.override_years

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself not counted; n=0 gives start)."""
        if n < 0:
            raise ValueError("n must not be negative")
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self.add_working_days(d, 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (negative when b is before a)."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def due_status(due: date | None, today: date, calendar: WorkingCalendar,
               settings: ClockSettings) -> str | None:
    """None without a due date; "overdue" (超期), "due_soon" (临期) or "ok"."""
    if due is None:
        return None
    if today > due:
        return "overdue"
    if due <= calendar.add_working_days(today, settings.due_soon_working_days):
        return "due_soon"
    return "ok"


@dataclass(frozen=True)
class Clock:
    """One statutory clock as shown on a case page."""

    key: str
    label: str
    due: date
    status: str | None
    provisional: bool
    paused: bool = False


CLOCK_LABELS = {
    "acceptance_due": N_("Acceptance due"),
    "choice_due": N_("Mediator choice window closes"),
    "mediation_due": N_("Mediation period ends"),
    "confirmation_due": N_("Judicial confirmation application due"),
    "follow_up_due": N_("Follow-up visit due"),
}
WORKING_DAY_CLOCKS = frozenset({"acceptance_due", "choice_due"})
CLOCKS_BY_STATE = {
    "registered": ("acceptance_due",),
    "matching": ("choice_due",),
    "mediating": ("mediation_due",),
    "suspended": ("mediation_due",),
    "agreed": ("confirmation_due", "follow_up_due"),
    "confirming": ("follow_up_due",),
    "confirmed": ("follow_up_due",),
}


def clocks_for(case, today: date, calendar: WorkingCalendar, settings: ClockSettings) -> list[Clock]:
    """The clocks set on `case` that run in its state; the mediation clock pauses while suspended."""
    clocks = []
    for key in CLOCKS_BY_STATE.get(case.status, ()):
        due = getattr(case, key, None)
        if due is None:
            continue
        paused = key == "mediation_due" and case.status == "suspended"
        status = None if paused else due_status(due, today, calendar, settings)
        provisional = key in WORKING_DAY_CLOCKS and calendar.is_provisional(due)
        clocks.append(Clock(key, CLOCK_LABELS[key], due, status, provisional, paused))
    return clocks
