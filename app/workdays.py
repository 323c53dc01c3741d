"""The working-day calendar and clock settings the app uses, with admin overrides from the database."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import delete, select

from app.extensions import db
from app.models import CalendarDay, CalendarYear
from workflows.clocks import ClockSettings, WorkingCalendar


def working_calendar() -> WorkingCalendar:
    """The calendar with every admin-entered override, built once per request."""
    if "working_calendar" not in g:
        overrides = {row.day: row.is_working for row in db.session.scalars(select(CalendarDay))}
        years = set(db.session.scalars(select(CalendarYear.year)))
        g.working_calendar = WorkingCalendar(overrides=overrides, override_years=years)
    return g.working_calendar


def clock_settings() -> ClockSettings:
    return ClockSettings.from_mapping(current_app.config["STATUTORY_CLOCKS"])


def today() -> date:
    """Today's date in the centres' time zone (Asia/Shanghai by default)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def forget_calendar() -> None:
    g.pop("working_calendar", None)


class CalendarEntryError(ValueError):
    """A line of a holiday schedule that cannot be read; `line` is 1-based."""

    def __init__(self, line: int, text: str):
        super().__init__(f"line {line}: {text!r}")
        self.line = line
        self.text = text


def parse_days(text: str, year: int) -> dict[date, str]:
    """Read lines of `YYYY-MM-DD [note]` or `YYYY-MM-DD..YYYY-MM-DD [note]` within `year`."""
    days: dict[date, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        span, _, note = line.partition(" ")
        first, _, last = span.partition("..")
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if last else start
        except ValueError:
            raise CalendarEntryError(number, raw) from None
        if start.year != year or end.year != year or end < start or (end - start).days > 31:
            raise CalendarEntryError(number, raw)
        day = start
        while day <= end:
            days[day] = note.strip()
            day = date.fromordinal(day.toordinal() + 1)
    return days


def save_year(year: int, holidays: dict[date, str], workdays: dict[date, str], actor) -> None:
    """Replace a year's official schedule: holidays, make-up working days, and mark it entered."""
    overlap = set(holidays) & set(workdays)
    if overlap:
        raise CalendarEntryError(0, min(overlap).isoformat())
    try:
        db.session.execute(delete(CalendarDay).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))
        db.session.execute(delete(CalendarYear).where(CalendarYear.year == year))
        for day, note in holidays.items():
            db.session.add(CalendarDay(day=day, is_working=False, note=note))
        for day, note in workdays.items():
            db.session.add(CalendarDay(day=day, is_working=True, note=note))
        db.session.add(CalendarYear(year=year, entered_by_id=actor.id if actor else None))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    forget_calendar()


def year_entries(year: int) -> tuple[list[CalendarDay], bool]:
    rows = list(db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)))
    return rows, db.session.get(CalendarYear, year) is not None
