"""The admin page for a year's official holidays and make-up working days (调休)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, NumberRange

from app.workdays import CalendarEntryError, parse_days, save_year, today, working_calendar, year_entries

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")


class YearForm(FlaskForm):
    """A year's schedule as published by the State Council."""

    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2100)])
    holidays = TextAreaField(_l("Public holidays (days off)"))
    workdays = TextAreaField(_l("Make-up working days (weekend days worked)"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def edit():
    if current_user.role != "admin":
        abort(403)
    year = request.args.get("year", type=int) or today().year + 1
    form = YearForm(year=year)
    if form.validate_on_submit():
        year = form.year.data
        try:
            holidays = parse_days(form.holidays.data or "", year)
            workdays = parse_days(form.workdays.data or "", year)
            save_year(year, holidays, workdays, current_user)
        except CalendarEntryError as err:
            form.holidays.errors.append(gettext(
                "Cannot read %(text)s: write one date (YYYY-MM-DD) or range "
                "(YYYY-MM-DD..YYYY-MM-DD) of %(year)s per line, then an optional note; "
                "a day cannot be both a holiday and a working day.", text=err.text, year=year))
        else:
            flash(gettext("The %(year)s calendar is saved; due dates in %(year)s are no longer "
                          "provisional.", year=year), "success")
            return redirect(url_for("calendar.edit", year=year))
    rows, entered = year_entries(year)
    if request.method == "GET" and rows:
        form.holidays.data = "\n".join(f"{r.day.isoformat()} {r.note}".strip()
                                       for r in rows if not r.is_working)
        form.workdays.data = "\n".join(f"{r.day.isoformat()} {r.note}".strip()
                                       for r in rows if r.is_working)
    provisional = working_calendar().is_provisional(date(year, 6, 1))
    return render_template("admin/calendar.html", form=form, year=year, entered=entered,
                           provisional=provisional)
