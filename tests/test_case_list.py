"""The clerk's case list (filters, search, pages, sort) and the home page ("my work")."""
from __future__ import annotations

import html
import re
from datetime import date
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import User
from cases.queries import CaseFilters, case_list_query, my_work
from cases.services import PartyData, fire_transition
from conftest import PASSWORD, TODAY, person
from lifecycle_paths import valid_data


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Due dates are judged as on TODAY (Monday 2026-11-16), whatever day the suite runs."""
    monkeypatch.setattr("cases.queries.centre_today", lambda: TODAY)


def org(role, name):
    return PartyData(role=role, kind="organisation", name=name, phone="0591-87654321")


@pytest.fixture
def cases(world, make_case):
    """Cases at the county, the township and the other county, in various states and dates.

    Acceptance is due 3 working days after registration: registered on 11-10 it is overdue on
    TODAY (due 11-13), on 11-12 it is due soon (due 11-17, one working day after TODAY).
    """
    c = SimpleNamespace()
    c.fresh = make_case()  # due 11-19
    c.labour = make_case(category="labour", source="hotline_12345", parties=[
        person("applicant", "王五", None), org("respondent", "ABC Property 物业公司")])
    c.township_overdue = make_case(centre=world.township, today=date(2026, 11, 10), parties=[
        person("applicant", "赵六", None), person("respondent", "钱七", None)])
    c.soon = make_case(today=date(2026, 11, 12), parties=[
        person("applicant", "孙八", None), person("respondent", "周九", None)])
    c.elsewhere = make_case(centre=world.other, parties=[
        person("applicant", "吴十", None), person("respondent", "郑一", None)])
    c.mediating = make_case(category="contract", parties=[
        person("applicant", "冯二", None), person("respondent", "陈三", None)])
    for trigger in ("accept", "assign"):
        fire_transition(c.mediating, trigger, world.clerk, today=TODAY, data=valid_data(
            trigger, mediator_id=world.mediator.id, to_centre_id=world.city.id))
    return c


def listed(client, **args) -> list[int]:
    """The ids of the cases on the list page, in the order shown."""
    response = client.get("/cases/", query_string=args)
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'href="/cases/(\d+)"', response.get_data(as_text=True))]


def ids(*cases) -> set[int]:
    return {case.id for case in cases}


def test_the_list_shows_every_visible_case_with_a_total(world, login_en, cases):
    client = login_en(world.clerk)
    page = html.unescape(client.get("/cases/").get_data(as_text=True))
    assert set(listed(client)) == ids(cases.fresh, cases.labour, cases.township_overdue,
                                      cases.soon, cases.mediating)
    assert "5 cases" in page
    assert "王五" in page and "ABC Property 物业公司" in page  # applicant v. respondent
    assert cases.elsewhere.number not in page


@pytest.mark.parametrize("args, expected", [
    ({"state": "mediating"}, ["mediating"]),
    ({"state": "registered"}, ["fresh", "labour", "township_overdue", "soon"]),
    ({"state": "open"}, ["fresh", "labour", "township_overdue", "soon", "mediating"]),
    ({"state": "closed"}, []),
    ({"category": "labour"}, ["labour"]),
    ({"source": "hotline_12345"}, ["labour"]),
    ({"registered_from": "2026-11-11", "registered_to": "2026-11-12"}, ["soon"]),
    ({"registered_to": "2026-11-10"}, ["township_overdue"]),
    ({"due": "overdue"}, ["township_overdue"]),
    ({"due": "due_soon"}, ["soon"]),
    ({"category": "neighbour", "state": "registered", "registered_from": "2026-11-16"},
     ["fresh"]),
])
def test_each_filter_narrows_the_list(world, login_en, cases, args, expected):
    assert set(listed(login_en(world.clerk), **args)) == ids(*(getattr(cases, n) for n in expected))


def test_centre_and_mediator_filters(world, login_en, cases):
    client = login_en(world.clerk)
    assert set(listed(client, centre=world.township.id)) == ids(cases.township_overdue)
    assert set(listed(client, mediator=world.mediator.id)) == ids(cases.mediating)


@pytest.mark.parametrize("q, expected", [
    ("0002", ["labour"]),  # part of the case number （2026）榕鼓调字第0002号
    ("榕鼓东", ["township_overdue"]),
    ("王五", ["labour"]),
    ("abc property", ["labour"]),  # Latin letters match whatever their case
    ("钱七", ["township_overdue"]),
    ("11010519491231002x", ["fresh"]),  # a party's ID number
    ("%", []), ("_", []),  # wildcards are searched for literally
    ("吴十", []),  # a party of a case outside the clerk's centres
])
def test_text_search_by_number_and_party_name(world, login_en, cases, q, expected):
    assert set(listed(login_en(world.clerk), q=q)) == ids(*(getattr(cases, n) for n in expected))


def test_pagination(world, login_en, cases, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASES_PER_PAGE", 2)
    client = login_en(world.clerk)
    pages = [listed(client, page=n) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len(set(sum(pages, []))) == 5
    first = client.get("/cases/", query_string={"category": "neighbour"}).get_data(as_text=True)
    assert "page 1 of 2" in first and "3 cases" in first
    assert "category=neighbour" in first and "page=2" in first  # the pager keeps the filters
    assert listed(client, page=99) == pages[2]  # past the end: the last page


def test_sort_by_due_date_puts_overdue_first(world, login_en, cases):
    client = login_en(world.clerk)
    shown = listed(client)
    assert shown[:3] == [cases.township_overdue.id, cases.soon.id, cases.fresh.id]
    assert shown[-1] == cases.mediating.id  # mediation due in 30 days
    page = client.get("/cases/").get_data(as_text=True)
    assert page.index("Overdue") < page.index("Due soon")


def test_sort_by_registration_puts_the_newest_first(world, login_en, cases):
    shown = listed(login_en(world.clerk), sort="registered")
    assert shown[-1] == cases.township_overdue.id  # registered 11-10
    assert shown[-2] == cases.soon.id  # registered 11-12


def test_a_clerk_never_sees_another_countys_cases(world, login_en, cases):
    client = login_en(world.outsider)
    assert set(listed(client)) == ids(cases.elsewhere)
    assert listed(client, q="0001") == [cases.elsewhere.id]


def test_a_clerk_below_sees_only_their_subtree(world, login_en, cases):
    township_clerk = User(username="township", display_name="township clerk", role="clerk",
                          centre=world.township)
    township_clerk.set_password(PASSWORD)
    db.session.add(township_clerk)
    db.session.commit()
    client = login_en(township_clerk)
    assert set(listed(client)) == ids(cases.township_overdue)
    assert listed(client, centre=world.county.id) == listed(client)  # not a choice: ignored


def test_a_mediator_sees_only_their_assigned_cases(world, login_en, cases):
    client = login_en(world.users["mediator"])
    assert set(listed(client)) == ids(cases.mediating)
    assert set(listed(client, state="registered")) == set()
    home = client.get("/").get_data(as_text=True)
    assert cases.mediating.number in home and cases.fresh.number not in home


def test_case_list_query_is_a_reusable_select(world, cases, ctx):
    query = case_list_query(world.clerk, CaseFilters(centre_id=world.county.id,
                                                     state="registered"))
    found = db.session.scalars(query).all()
    assert [c.id for c in found] == [cases.soon.id, cases.fresh.id, cases.labour.id]


def test_home_lists_overdue_before_due_soon_before_the_rest(world, login_en, cases):
    response = login_en(world.clerk).get("/")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    positions = [page.index(case.number) for case in (
        cases.township_overdue, cases.soon, cases.fresh, cases.mediating)]
    assert positions == sorted(positions)
    assert page.index("badge-overdue") < page.index(cases.soon.number)
    assert cases.elsewhere.number not in page


def test_my_work_counts(world, cases, ctx):
    work = my_work(world.clerk, today=TODAY)
    assert work.counts == {"registered": 4, "mediating": 1}
    assert (work.overdue, work.due_soon, work.open_total) == (1, 1, 5)
    assert [row.case.id for row in work.rows][:2] == [cases.township_overdue.id, cases.soon.id]
    assert [row.due_status for row in work.rows][:3] == ["overdue", "due_soon", "ok"]
    assert (work.rows[0].applicant, work.rows[0].respondent) == ("赵六", "钱七")


def test_home_leaves_out_finished_cases(world, login_en, cases):
    fire_transition(cases.fresh, "decline", world.clerk, today=TODAY, data=valid_data(
        "decline", mediator_id=None, to_centre_id=None))
    page = login_en(world.clerk).get("/").get_data(as_text=True)
    assert cases.fresh.number not in page and cases.soon.number in page


def test_home_without_cases(world, login_en):
    page = login_en(world.clerk).get("/").get_data(as_text=True)
    assert "No open cases." in page


@pytest.mark.parametrize("args, ignored", [
    ({"registered_from": "2026-13-45"}, True),
    ({"registered_to": "yesterday"}, True),
    ({"page": "abc"}, True),
    ({"page": "-1"}, True),
    ({"page": "99999999999999999999"}, True),
    ({"state": "bogus"}, True),
    ({"category": "<script>"}, True),
    ({"centre": "abc"}, True),
    ({"centre": "999999"}, True),
    ({"mediator": "x"}, True),
    ({"sort": "drop table"}, True),
    ({"due": "tomorrow"}, True),
    ({"q": "x" * 500}, True),
    ({"q": "%_\\'\""}, False),
    ({"q": "\x00"}, False),
    ({"registered_from": "2026-11-20", "registered_to": "2026-11-01"}, False),
])
def test_bad_filter_values_never_give_a_500(world, login_en, cases, args, ignored):
    response = login_en(world.clerk).get("/cases/", query_string=args)
    assert response.status_code == 200
    assert ("Ignored the filter" in response.get_data(as_text=True)) == ignored


def test_a_bad_filter_is_dropped_and_the_others_kept(world, login_en, cases):
    client = login_en(world.clerk)
    assert set(listed(client, category="labour", registered_from="not-a-date")) == ids(
        cases.labour)


def test_signed_out_users_are_sent_to_sign_in(client, world):
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
