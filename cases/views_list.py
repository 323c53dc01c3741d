"""The clerk's case list (filters, search, pages) and the intake form (纠纷登记)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cases.access import can_register, require, visible_centres
from cases.forms import NEW_PARTIES, CaseFilterForm, IntakeForm
from cases.queries import case_page, filter_mediators
from cases.services import IntakeError, register_case
from cases.views import bp


@bp.route("/")
@login_required
def index():
    centres = visible_centres(current_user)
    mediators = [] if current_user.role == "mediator" else filter_mediators(current_user)
    form = CaseFilterForm(request.args, centres, mediators)
    page = case_page(current_user, form.filters(), form.page_number(),
                     current_app.config["CASES_PER_PAGE"])
    return render_template("cases/index.html", form=form, page=page, args=form.args(),
                           many_centres=len(centres) > 1, show_mediator_filter=bool(mediators))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require(can_register(current_user))
    centres = visible_centres(current_user)
    if request.method == "POST":
        form = IntakeForm(centres)
    else:
        form = IntakeForm(centres, centre_id=current_user.centre_id, parties=NEW_PARTIES)
    focus = None
    if request.method == "POST":
        if form.edit_parties(request.form.get("add_party")):
            focus = form.parties.entries[-1].form.name.id if form.add_party.data else None
        elif form.validate():
            try:
                case = register_case(form.intake_data(), current_user)
            except IntakeError as err:
                form.show_service_errors(err.errors)
            else:
                flash(_("Registered the dispute as case %(number)s.", number=case.number),
                      "success")
                return redirect(url_for("cases.show", case_id=case.id))
        focus = focus or form.first_error_id()
    return render_template("cases/new.html", form=form, focus=focus)
