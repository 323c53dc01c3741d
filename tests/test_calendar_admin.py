"""Admin-entered holidays override the built-in calendar and end the provisional marking."""
from datetime import date

from app.workdays import forget_calendar, parse_days, working_calendar
from cases.services import IntakeData, register_case
from conftest import person


def test_parse_days_reads_dates_and_ranges():
    days = parse_days("2027-01-01 元旦\n\n2027-02-05..2027-02-07 春节", 2027)
    assert list(days) == [date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7)]
    assert days[date(2027, 2, 6)] == "春节"


def test_admin_enters_a_year_and_due_dates_follow(world, login):
    client = login(world.users["admin"])
    assert working_calendar().is_provisional(date(2027, 1, 4))
    response = client.post("/admin/calendar/?year=2027", data={
        "year": "2027", "holidays": "2027-01-01 元旦\n2027-01-04..2027-01-05 调整",
        "workdays": "2027-01-09 补班"}, follow_redirects=True)
    assert response.status_code == 200
    assert "2027" in response.get_data(as_text=True)
    forget_calendar()
    calendar = working_calendar()
    assert not calendar.is_provisional(date(2027, 1, 4))
    assert not calendar.is_working_day(date(2027, 1, 4))
    assert calendar.is_working_day(date(2027, 1, 9))
    # Registered Thursday 2026-12-31: Fri 1st holiday, Mon 4th and Tue 5th off, so
    # working days are Wed 6th, Thu 7th, Fri 8th.
    data = IntakeData(centre_id=world.county.id, source="walk_in", category="neighbour",
                      facts="f", claims="c",
                      parties=[person(), person("respondent", "李四", "110105198001010032")])
    case = register_case(data, world.clerk, today=date(2026, 12, 31))
    assert case.acceptance_due == date(2027, 1, 8)


def test_bad_lines_are_refused_and_nothing_changes(world, login):
    client = login(world.users["admin"])
    response = client.post("/admin/calendar/?year=2027", data={
        "year": "2027", "holidays": "2027-01-01\nnot a date", "workdays": ""})
    assert response.status_code == 200
    assert "not a date" in response.get_data(as_text=True)
    forget_calendar()
    assert working_calendar().is_provisional(date(2027, 1, 4))


def test_only_admins(world, login):
    assert login(world.clerk).get("/admin/calendar/").status_code == 403
