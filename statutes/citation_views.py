"""Citations on the case page: suggestions and pinned articles.

The case page includes statutes/_case_citations.html, which asks `case_citations(case)` for its
data; the routes below pin and unpin (POST only) and come back to the case page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from cases.access import case_for_user, require
from cases.models import Case
from statutes import citations as service
from statutes.citations import CitationError, ResolvedCitation
from statutes.models import Article
from statutes.parser import article_reference
from workflows.i18n import N_

bp = Blueprint("citations", __name__)


@dataclass
class CitationPanel:
    """What the case page shows of the case's citations."""

    pinned: list[ResolvedCitation]
    on: date                              # the date whose versions print
    by_agreement: bool                    # `on` is the agreement's date (not today)
    can_edit: bool
    is_open: bool
    suggestions: list = field(default_factory=list)
    entry: dict = field(default_factory=dict)     # a typed citation kept after an error


@bp.app_template_global()
def case_citations(case: Case) -> CitationPanel:
    on = service.citation_date(case)
    by_agreement = bool(case.agreements) or case.agreement_effective_on is not None
    can_edit = current_user.is_authenticated and service.can_cite(current_user, case)
    is_open = service.citations_open(case)
    panel = CitationPanel(service.resolved_citations(case, on), on, by_agreement,
                          can_edit, is_open, entry=g.get("citation_entry") or {})
    if can_edit and is_open:
        panel.suggestions = service.suggest_articles(case)
    return panel


def _editable_case(case_id: int) -> Case:
    case = case_for_user(case_id, current_user)
    require(service.can_cite(current_user, case))
    return case


def _back(case: Case):
    return redirect(url_for("cases.show", case_id=case.id, _anchor="citations"), code=303)


def _refused(case: Case, err: CitationError, status: int, entry: dict | None = None):
    """The case page again with the reason, nothing changed (and the typed entry kept)."""
    from cases.views_case import render_case
    message = gettext(err.message, **err.params)
    if entry is not None:
        g.citation_entry = dict(entry, error=message)
    return render_case(case, alert=message, status=status)


@bp.route("/cases/<int:case_id>/citations", methods=["POST"])
@login_required
def pin(case_id: int):
    """Pin a suggested article (by id) to the case."""
    case = _editable_case(case_id)
    article_id = request.form.get("article_id", "")
    article = db.session.get(Article, int(article_id)) if article_id.isdigit() else None
    if article is None:
        abort(400)
    return _pin(case, article, request.form.get("note", ""))


@bp.route("/cases/<int:case_id>/citations/typed", methods=["POST"])
@login_required
def pin_typed(case_id: int):
    """Pin an article typed as law title + article number (第1179条, 1179, 第一千一百七十九条;
    第二百九十一条之二 or 291之2 for an article inserted by amendment)."""
    case = _editable_case(case_id)
    entry = {key: request.form.get(key, "").strip()[:limit]
             for key, limit in (("law", 255), ("number", 32), ("note", service.NOTE_CHARS))}
    try:
        if not entry["law"]:
            raise CitationError(N_("Enter the title of the law, e.g. 民法典."))
        reference = article_reference(entry["number"])
        if reference is None:
            raise CitationError(N_("Enter the article number, e.g. 1179, 第1179条 or "
                                           "第一千一百七十九条."))
        article = service.article_in_force(entry["law"], *reference)
    except CitationError as err:
        return _refused(case, err, 422, entry)
    return _pin(case, article, entry["note"], entry)


def _pin(case: Case, article: Article, note: str, entry: dict | None = None):
    try:
        citation = service.pin_citation(case, article, current_user, note)
    except CitationError as err:
        return _refused(case, err, 409, entry)
    flash(gettext("Cited: %(citation)s.",
                  citation=f"《{citation.law_title}》{citation.article_label}"), "success")
    return _back(case)


@bp.route("/cases/<int:case_id>/citations/<int:citation_id>/remove", methods=["POST"])
@login_required
def unpin(case_id: int, citation_id: int):
    case = _editable_case(case_id)
    try:
        service.unpin_citation(case, citation_id, current_user)
    except CitationError as err:
        return _refused(case, err, 409)
    flash(gettext("The citation is removed."), "success")
    return _back(case)
