"""The choice of mediator from the centre's side: print or re-issue access codes, record a
party's choice at the counter, answer a proposal for the mediator (or as the mediator), and
record consent or a request for another mediator on a party's behalf."""
from __future__ import annotations

import click
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.workdays import today
from cases import documents
from cases.access import can_fire, case_for_user, require
from cases.models import Case, CaseParty
from mediators import choice, conflicts
from mediators.choice import ChoiceError
from mediators.choice_models import PROPOSAL_STATUSES, MediatorProposal
from mediators.models import Mediator
from mediators.party_views import problem_text
from workflows import CHOSEN_BY, TransitionError

bp = Blueprint("choice", __name__, cli_group="choices")


class CounterChoiceForm(FlaskForm):
    """A party's ranked choice, entered by the clerk at the counter."""

    first = SelectField(_l("First choice"), coerce=int, validators=[DataRequired()])
    second = SelectField(_l("Second choice"), coerce=int, validators=[Optional()])
    third = SelectField(_l("Third choice"), coerce=int, validators=[Optional()])

    def ranked_ids(self) -> list[int]:
        return [value for value in (self.first.data, self.second.data, self.third.data) if value]


class AnswerForm(FlaskForm):
    """The mediator's answer to a proposal with their conflict declaration."""

    declaration = RadioField(_l("Conflict of interest declaration"), validators=[DataRequired()],
                             choices=[SelectChoice("none", _l(
                                 "I have no relationship with any party that could affect my "
                                 "impartiality.")),
                                      SelectChoice("disclose", _l(
                                 "I disclose the relationship below; the parties decide whether "
                                 "to consent."))])
    disclosure = TextAreaField(_l("Relationship disclosed"),
                               validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)],
                         render_kw={"rows": 2})


@bp.route("/cases/<int:case_id>/choice")
@login_required
def overview(case_id: int):
    case = case_for_user(case_id, current_user)
    choice.settle(case, today())
    return render_overview(case)


@bp.route("/cases/<int:case_id>/choice/codes", methods=["POST"])
@login_required
def issue_codes(case_id: int):
    """Issue new access codes (all parties, or one) and show them once for printing."""
    case = managed_case(case_id)
    FlaskForm().validate_on_submit() or abort(400)
    link_id = request.form.get("party", type=int)
    links = [link for link in case.links if link_id in (None, link.id)] or abort(404)
    codes = choice.issue_access_codes(case, current_user, links)
    notices = documents.issue_acceptance_notices(case, current_user, codes)
    response = make_response(render_template(
        "mediators/choice/codes.html", case=case, links=links, codes=codes, notices=notices,
        format_code=choice.format_code, party_url=url_for("party.sign_in", _external=True)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/cases/<int:case_id>/choice/parties/<int:link_id>", methods=["POST"])
@login_required
def record_choice(case_id: int, link_id: int):
    case = managed_case(case_id)
    link = party_link(case, link_id)
    form = counter_form(case)
    if not form.validate_on_submit():
        return render_overview(case, forms={link.id: form}, status=422)
    try:
        proposal = choice.record_choices(case, link, form.ranked_ids(), current_user,
                                         today=today())
    except ChoiceError as err:
        flash(_(err.message, **err.params), "error")
        return redirect(url_for("choice.overview", case_id=case.id))
    flash(_("The choice of %(party)s is recorded.", party=link.party.name), "success")
    if proposal is not None:
        flash(_("Proposed: %(name)s.", name=proposal.mediator.name), "info")
    return redirect(url_for("choice.overview", case_id=case.id))


@bp.route("/choice/proposals")
@login_required
def my_proposals():
    """A mediator's proposals waiting for their answer."""
    if current_user.role != "mediator" or not current_user.mediator_id:
        abort(403)
    return render_template("mediators/choice/proposals.html",
                           proposals=choice.proposals_for_mediator(current_user.mediator_id),
                           answer_form=AnswerForm(), note_form=NoteForm(), CHOSEN_BY=CHOSEN_BY)


@bp.route("/choice/proposals/<int:proposal_id>/<answer>", methods=["POST"])
@login_required
def answer_proposal(proposal_id: int, answer: str):
    proposal = db.session.get(MediatorProposal, proposal_id) or abort(404)
    require(may_answer(proposal))
    if answer == "accept":
        form = AnswerForm()
        disclose = form.declaration.data == "disclose"
        if not form.validate_on_submit() or (disclose and not (form.disclosure.data or "").strip()):
            flash(_("Declare whether you have a relationship with a party, and describe it "
                    "if you do."), "error")
            return back_from_proposal(proposal)
        try:
            outcome = choice.accept_proposal(proposal, current_user,
                                             disclosure=form.disclosure.data if disclose else "",
                                             today=today())
        except (ChoiceError, TransitionError) as err:
            flash(problem_text(err), "error")
            return back_from_proposal(proposal)
        flash(_("Accepted. The parties are asked to consent to the disclosed relationship.")
              if outcome == "disclosed" else _("Accepted: the mediator is assigned."), "success")
    elif answer == "decline":
        form = NoteForm()
        form.validate_on_submit() or abort(400)
        try:
            following = choice.decline_proposal(proposal, current_user, note=form.note.data or "",
                                                today=today())
        except ChoiceError as err:
            flash(_(err.message, **err.params), "error")
            return back_from_proposal(proposal)
        flash(_("Declined.") + (" " + _("Proposed next: %(name)s.", name=following.mediator.name)
                                if following else ""), "success")
    else:
        abort(404)
    return back_from_proposal(proposal)


@bp.route("/cases/<int:case_id>/choice/parties/<int:link_id>/<answer>", methods=["POST"])
@login_required
def party_answer(case_id: int, link_id: int, answer: str):
    """Consent, refusal after a disclosure, or a request for another mediator, for a party."""
    case = managed_case(case_id)
    link = party_link(case, link_id)
    form = NoteForm()
    form.validate_on_submit() or abort(400)
    try:
        if answer == "consent":
            proposal = conflicts.waiting_disclosure(case) or abort(409)
            conflicts.consent_to_mediator(proposal, link, current_user, today=today())
        elif answer == "refuse":
            proposal = conflicts.waiting_disclosure(case) or abort(409)
            conflicts.refuse_mediator(proposal, link, current_user, note=form.note.data or "",
                                      today=today())
        elif answer == "another":
            conflicts.request_another_mediator(case, link, current_user,
                                               reason=form.note.data or "", today=today())
        else:
            abort(404)
    except (ChoiceError, TransitionError) as err:
        flash(problem_text(err), "error")
    else:
        flash(_("Recorded for %(party)s.", party=link.party.name), "success")
    return redirect(url_for("choice.overview", case_id=case.id))


@bp.cli.command("settle")
@click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
def settle_command(on):
    """Propose mediators for every case whose choice is complete or whose window has closed."""
    made = choice.settle_all(on.date() if on else None)
    click.echo(f"{made} mediator(s) proposed")


def managed_case(case_id: int) -> Case:
    case = case_for_user(case_id, current_user)
    require(can_fire(current_user, case, "assign"))
    return case


def party_link(case: Case, link_id: int) -> CaseParty:
    for link in case.links:
        if link.id == link_id:
            return link
    abort(404)


def may_answer(proposal: MediatorProposal) -> bool:
    """The proposed mediator themselves, or the centre's staff for them."""
    if current_user.role == "mediator":
        return current_user.mediator_id == proposal.mediator_id
    return can_fire(current_user, proposal.case, "assign")


def back_from_proposal(proposal: MediatorProposal):
    if current_user.role == "mediator":
        return redirect(url_for("choice.my_proposals"))
    return redirect(url_for("choice.overview", case_id=proposal.case_id))


def counter_form(case: Case, **kwargs) -> CounterChoiceForm:
    form = CounterChoiceForm(**kwargs)
    ids = choice.choosable_ids(case)
    names = dict(db.session.query(Mediator.id, Mediator.name).filter(Mediator.id.in_(ids)))
    options = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(mid, f"{names[mid]} (#{mid})") for mid in ids]
    for field in (form.first, form.second, form.third):
        field.choices = options
    return form


def render_overview(case: Case, *, forms: dict | None = None, status: int = 200):
    saved = choice.choices_by_party(case)
    forms = dict(forms or {})
    manage = can_fire(current_user, case, "assign")
    if manage and case.status == "matching":
        for link in case.links:
            if link.id not in forms:
                form = counter_form(case, formdata=None)
                ranked = saved.get(link.id, [])
                for field, value in zip((form.first, form.second, form.third), ranked):
                    field.data = value
                forms[link.id] = form
    mediators = {m.id: m for m in db.session.query(Mediator).filter(
        Mediator.id.in_({mid for ids in saved.values() for mid in ids}))}
    proposal = choice.open_proposal(case)
    return render_template(
        "mediators/choice/overview.html", case=case, saved=saved, mediators=mediators,
        forms=forms, manage=manage, codes=choice.codes_issued(case),
        proposals=choice.proposals(case), proposal=proposal, answer_form=AnswerForm(),
        note_form=NoteForm(), code_form=FlaskForm(), statuses=PROPOSAL_STATUSES,
        consented=conflicts.consented_party_ids(proposal) if proposal else set(),
        today=today(), CHOSEN_BY=CHOSEN_BY), status
