"""Statutory clocks: the Chinese working-day calendar, provisional years, due status."""
from dataclasses import FrozenInstanceError
from datetime import date
from types import SimpleNamespace

import pytest

import config
from workflows.clocks import (
    ClockSettings, WorkingCalendar, clocks_for, default_settings, due_status, library_has_year,
)

SETTINGS = default_settings()
CAL = WorkingCalendar()


def test_settings_come_from_config():
    assert SETTINGS == ClockSettings.from_mapping(config.Config.STATUTORY_CLOCKS)
    assert SETTINGS.acceptance_working_days == 3 and SETTINGS.mediation_days == 30
    with pytest.raises(FrozenInstanceError):
        SETTINGS.mediation_days = 60
    with pytest.raises(KeyError):
        ClockSettings.from_mapping({"mediation_days": 30})


def test_library_range_is_detected_not_hard_coded():
    assert library_has_year(2026) and library_has_year(2004)
    assert not library_has_year(2027) and not library_has_year(2003)


def test_national_day_2026_and_make_up_days():
    # 2026: Oct 1-7 off; Sunday Sep 20 and Saturday Oct 10 are make-up working days (调休).
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2026, 9, 20)) and CAL.is_working_day(date(2026, 10, 10))
    assert not CAL.is_working_day(date(2026, 10, 11))
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)  # the make-up Saturday
    assert CAL.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert CAL.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert not CAL.is_provisional(date(2026, 10, 8))


def test_working_days_between_agrees_with_add_working_days():
    start = date(2026, 9, 18)
    for n in range(12):
        assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n
    assert CAL.working_days_between(date(2026, 10, 9), date(2026, 9, 30)) == -2


def test_new_year_into_2027_counts_monday_to_friday_provisionally():
    # 2026-12-30 is a Wednesday; Friday 2027-01-01 counts as working for want of data.
    due = CAL.add_working_days(date(2026, 12, 30), 3)
    assert due == date(2027, 1, 4)
    assert CAL.is_provisional(due) and not CAL.is_provisional(date(2026, 12, 31))
    assert CAL.is_working_day(date(2027, 1, 1)) and not CAL.is_working_day(date(2027, 1, 2))


def test_entered_holidays_for_2027_override_and_are_not_provisional():
    cal = WorkingCalendar(
        overrides={date(2027, 1, 1): False, date(2027, 1, 2): True, date(2026, 12, 31): False},
        override_years=[2027],
    )
    assert not cal.is_provisional(date(2027, 1, 4))
    assert not cal.is_working_day(date(2027, 1, 1)) and cal.is_working_day(date(2027, 1, 2))
    assert not cal.is_working_day(date(2026, 12, 31))  # an override wins over the library too
    assert cal.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert WorkingCalendar(override_years=[2028]).is_provisional(date(2027, 6, 1))


@pytest.mark.parametrize("today, due, expected", [
    (date(2026, 3, 10), None, None),
    (date(2026, 3, 10), date(2026, 3, 9), "overdue"),
    (date(2026, 3, 10), date(2026, 3, 10), "due_soon"),   # due today
    (date(2026, 3, 10), date(2026, 3, 11), "due_soon"),   # next working day
    (date(2026, 3, 10), date(2026, 3, 12), "ok"),
    (date(2026, 3, 13), date(2026, 3, 14), "due_soon"),   # Friday -> Saturday
    (date(2026, 3, 13), date(2026, 3, 16), "due_soon"),   # Friday -> Monday, across the weekend
    (date(2026, 3, 13), date(2026, 3, 17), "ok"),
    (date(2026, 9, 30), date(2026, 10, 8), "due_soon"),   # across the National Day holiday
    (date(2026, 9, 30), date(2026, 10, 9), "ok"),
])
def test_due_status(today, due, expected):
    assert due_status(due, today, CAL, SETTINGS) == expected


def _case(status, **dates):
    names = ("acceptance_due", "choice_due", "mediation_due", "confirmation_due", "follow_up_due")
    return SimpleNamespace(status=status, **{n: dates.get(n) for n in names})


def test_clocks_for_shows_the_running_clocks():
    today = date(2026, 3, 10)
    registered = clocks_for(_case("registered", acceptance_due=date(2026, 3, 9)), today, CAL, SETTINGS)
    assert [(c.key, c.status, c.paused) for c in registered] == [("acceptance_due", "overdue", False)]
    agreed = _case("agreed", confirmation_due=date(2026, 4, 8), follow_up_due=date(2026, 4, 30),
                   mediation_due=date(2026, 3, 1))
    assert [c.key for c in clocks_for(agreed, today, CAL, SETTINGS)] == ["confirmation_due", "follow_up_due"]
    assert clocks_for(_case("matching"), today, CAL, SETTINGS) == []


def test_mediation_clock_pauses_while_suspended():
    case = _case("suspended", mediation_due=date(2026, 3, 9))
    [clock] = clocks_for(case, date(2026, 3, 10), CAL, SETTINGS)
    assert clock.paused and clock.status is None and clock.due == date(2026, 3, 9)


def test_terminal_states_show_no_clocks():
    case = _case("closed", follow_up_due=date(2026, 3, 9))
    assert clocks_for(case, date(2026, 3, 10), CAL, SETTINGS) == []


def test_working_day_clock_beyond_library_data_is_provisional():
    case = _case("registered", acceptance_due=date(2027, 1, 4))
    [clock] = clocks_for(case, date(2026, 12, 30), CAL, SETTINGS)
    assert clock.provisional and clock.status == "ok"
