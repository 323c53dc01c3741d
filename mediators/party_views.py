"""The party page (/party): sign in with an access code, follow the case, choose mediators,
answer a disclosure, ask for another mediator, rate the mediator. No user account needed."""
from __future__ import annotations

from math import ceil

from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.extensions import db
from app.workdays import clock_settings, today, working_calendar
from cases.models import Case, CaseParty
from mediators import choice, conflicts
from mediators.choice import AccessDenied, AccessLocked, ChoiceError
from mediators.models import MEDIATOR_KINDS, Mediator
from workflows import TransitionError, clocks_for

bp = Blueprint("party", __name__, url_prefix="/party")

SESSION_KEY, DRAFT_KEY = "party_access_id", "party_choice_draft"
POOL_PAGE_SIZE = 10
RECOMMENDED = 5


class CodeForm(FlaskForm):
    code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false", "inputmode": "text"})


class RatingForm(FlaskForm):
    score = RadioField(_l("Your rating"), choices=[SelectChoice(str(n), str(n)) for n in range(5, 0, -1)],
                       validators=[InputRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=1000)],
                            render_kw={"rows": 3})


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=1000)],
                         render_kw={"rows": 2})


@bp.route("/", methods=["GET", "POST"])
def sign_in():
    form = CodeForm()
    if request.method == "GET" and signed_in_link() is not None:
        return redirect(url_for("party.home"))
    status = 200
    if form.validate_on_submit():
        try:
            access = choice.sign_in_with_code(form.code.data, request.remote_addr or "unknown")
        except AccessLocked:
            form.code.errors = [_("Too many wrong codes. Please wait 15 minutes and try again, "
                                  "or ask the centre's staff for help.")]
            status = 429
        except AccessDenied:
            form.code.errors = [_("This code is not valid. Check it and try again.")]
            status = 401
        else:
            session.clear()
            session[SESSION_KEY] = access.id
            return redirect(url_for("party.home"))
    return render_template("party/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    session.pop(SESSION_KEY, None)
    session.pop(DRAFT_KEY, None)
    return redirect(url_for("party.sign_in"))


@bp.route("/case")
def home():
    link = require_party()
    case = link.case
    choice.settle(case, today())
    return render_template("party/case.html", **page_context(link, case))


@bp.route("/case/choices/<action>/<int:mediator_id>", methods=["POST"])
def edit_draft(action: str, mediator_id: int):
    """Add, remove or move up a mediator in the party's draft list (kept until sent)."""
    require_party()
    draft = [mid for mid in session.get(DRAFT_KEY, []) if isinstance(mid, int)]
    if action == "add" and mediator_id not in draft:
        if len(draft) >= choice.MAX_CHOICES:
            flash(_("You can choose up to three mediators. Remove one first."), "error")
        else:
            draft.append(mediator_id)
    elif action == "remove" and mediator_id in draft:
        draft.remove(mediator_id)
    elif action == "up" and mediator_id in draft and draft.index(mediator_id) > 0:
        i = draft.index(mediator_id)
        draft[i - 1], draft[i] = draft[i], draft[i - 1]
    elif action not in ("add", "remove", "up"):
        abort(404)
    session[DRAFT_KEY] = draft
    return redirect(url_for("party.home", page=request.args.get("page", type=int),
                            _anchor="my-choices"))


@bp.route("/case/choices", methods=["POST"])
def send_choices():
    link = require_party()
    FlaskForm().validate_on_submit() or abort(400)
    draft = session.get(DRAFT_KEY, [])
    try:
        proposal = choice.record_choices(link.case, link, draft, conflicts.actor_for(link, None),
                                         today=today())
    except ChoiceError as err:
        flash(_(err.message, **err.params), "error")
    else:
        session.pop(DRAFT_KEY, None)
        flash(_("Your choice is saved."), "success")
        if proposal is not None:
            flash(_("A mediator has been proposed: %(name)s.", name=proposal.mediator.name),
                  "info")
    return redirect(url_for("party.home"))


@bp.route("/case/disclosure/<answer>", methods=["POST"])
def answer_disclosure(answer: str):
    link = require_party()
    form = NoteForm()
    proposal = conflicts.waiting_disclosure(link.case)
    if proposal is None or answer not in ("consent", "refuse") or not form.validate_on_submit():
        abort(404 if answer not in ("consent", "refuse") else 409)
    try:
        if answer == "consent":
            conflicts.consent_to_mediator(proposal, link, today=today())
            flash(_("Your consent is recorded."), "success")
        else:
            conflicts.refuse_mediator(proposal, link, note=form.note.data, today=today())
            flash(_("Your request for another mediator is recorded."), "success")
    except (ChoiceError, TransitionError) as err:
        flash(problem_text(err), "error")
    return redirect(url_for("party.home"))


@bp.route("/case/another-mediator", methods=["POST"])
def another_mediator():
    link = require_party()
    form = NoteForm()
    form.validate_on_submit() or abort(400)
    try:
        conflicts.request_another_mediator(link.case, link, reason=form.note.data or "",
                                           today=today())
    except (ChoiceError, TransitionError) as err:
        flash(problem_text(err), "error")
    else:
        flash(_("Your request is recorded. Please choose mediators again."), "success")
    return redirect(url_for("party.home"))


@bp.route("/case/rating", methods=["POST"])
def rate():
    link = require_party()
    form = RatingForm()
    if not form.validate_on_submit():
        flash(_("Choose from 1 to 5 stars."), "error")
        return redirect(url_for("party.home", _anchor="rating"))
    try:
        choice.rate_mediator(link.case, link, int(form.score.data), form.comment.data or "")
    except ChoiceError as err:
        flash(_(err.message, **err.params), "error")
    else:
        flash(_("Thank you for your rating."), "success")
    return redirect(url_for("party.home"))


def signed_in_link() -> CaseParty | None:
    access = choice.current_access(session.get(SESSION_KEY))
    return access.link if access is not None else None


def require_party() -> CaseParty:
    """The signed-in party's link to their case; back to the sign-in page otherwise."""
    link = signed_in_link()
    if link is None:
        session.pop(SESSION_KEY, None)
        abort(redirect(url_for("party.sign_in")))
    return link


def problem_text(err: Exception) -> str:
    if isinstance(err, TransitionError):
        return _("Not done: %(detail)s.", detail=_(err.message, **err.params))
    return _(err.message, **err.params)


def page_context(link: CaseParty, case: Case) -> dict:
    on = today()
    context = dict(link=link, case=case, today=on, kinds=MEDIATOR_KINDS,
                   clocks=clocks_for(case, on, working_calendar(), clock_settings()),
                   proposal=choice.open_proposal(case), note_form=NoteForm(),
                   rating_form=RatingForm(), send_form=FlaskForm())
    if case.status == "matching":
        context.update(choosing_context(link, case))
    if choice.can_rate(case):
        context["rating"] = choice.rating_of(case, link)
    if context["proposal"] is not None and context["proposal"].status == "disclosed":
        context["consented"] = link.id in conflicts.consented_party_ids(context["proposal"])
    return context


def choosing_context(link: CaseParty, case: Case) -> dict:
    """Recommendations with reasons, the eligible pool (one page) and the party's lists."""
    pool_ids = choice.choosable_ids(case)
    allowed = set(pool_ids)
    from mediators.ranking import rank_mediators
    recommended = [rec for rec in rank_mediators(case, limit=RECOMMENDED + len(choice.excluded_ids(case)))
                   if rec.mediator_id in allowed][:RECOMMENDED]
    pages = max(1, ceil(len(pool_ids) / POOL_PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    page_ids = pool_ids[(page - 1) * POOL_PAGE_SIZE: page * POOL_PAGE_SIZE]
    saved = choice.choices_by_party(case)
    draft = [mid for mid in session.get(DRAFT_KEY, []) if mid in allowed]
    if not draft and link.id in saved:
        draft = list(saved[link.id])
    shown = set(page_ids) | set(draft) | {rec.mediator_id for rec in recommended}
    mediators = {m.id: m for m in db.session.query(Mediator).filter(Mediator.id.in_(shown))}
    return dict(recommended=recommended, pool=[mediators[mid] for mid in page_ids],
                mediators=mediators, page=page, pages=pages, pool_size=len(pool_ids),
                draft=draft, saved=saved.get(link.id, []),
                chosen_count=sum(1 for other in case.links if other.id in saved),
                party_count=len(case.links), max_choices=choice.MAX_CHOICES)
