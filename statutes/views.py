"""The statute library's public pages: the catalogue, a law with its table of contents, an
article's permalink, and a stable citation link to the version in force. No sign-in: this is
public law, and parties look it up too."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.extensions import db
from statutes import queries, search as statute_search
from statutes.models import LAW_LEVELS, LAW_STATUSES, Law

bp = Blueprint("statutes", __name__, url_prefix="/statutes")

PER_PAGE = 50
ARTICLE_REF = re.compile(r"(\d{1,5})(?:-(\d{1,2}))?")     # Article.ref: 17, 17-1


@bp.app_context_processor
def vocabularies():
    return {"LAW_LEVELS": LAW_LEVELS, "LAW_STATUSES": LAW_STATUSES}


def _law_or_404(law_id: int) -> Law:
    law = db.session.get(Law, law_id)
    if law is None:
        abort(404)
    return law


@bp.app_template_filter("highlight")
def highlight(text: str, words) -> Markup:
    """The text, escaped, with every occurrence of the given words marked."""
    words = sorted({w for w in words or () if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    lowered = text.lower()
    marks = [False] * len(text)
    for word in words:
        start = lowered.find(word.lower())
        while start >= 0:
            marks[start:start + len(word)] = [True] * len(word)
            start = lowered.find(word.lower(), start + len(word))
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marks[j] == marks[i]:
            j += 1
        chunk = escape(text[i:j])
        out.append(Markup("<mark>%s</mark>") % chunk if marks[i] else chunk)
        i = j
    return Markup("").join(out)


@bp.route("/search")
def search():
    """Search the articles with a question in everyday words."""
    q = " ".join(request.args.get("q", "").split())[:200]
    level = request.args.get("level", "")
    level = level if level in LAW_LEVELS else ""
    national_only = request.args.get("national") == "1"
    in_force_only = request.args.get("in_force") == "1"
    hits, failed = [], False
    if q:
        try:
            hits = statute_search.search(q, 20, level=level or None,
                                         include_local=not national_only,
                                         in_force_only=in_force_only)
        except Exception:   # noqa: BLE001 - a missing index must not break the page
            db.session.rollback()
            failed = True
    return render_template("statutes/search.html", q=q, level=level, hits=hits,
                           national_only=national_only, in_force_only=in_force_only,
                           failed=failed)


@bp.route("/")
def index():
    q = request.args.get("q", "").strip()[:100]
    in_force_only = request.args.get("all") != "1"
    level = request.args.get("level", "")
    level = level if level in LAW_LEVELS else ""
    group = request.args.get("group", "").strip()[:128]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() else 1
    args = {k: v for k, v in {"q": q, "all": "" if in_force_only else "1",
                              "level": level, "group": group}.items() if v}
    listing = None
    if q or level or group:
        listing = queries.catalogue_page(in_force_only, q, level, group, page, PER_PAGE)
    return render_template("statutes/index.html", q=q, in_force_only=in_force_only,
                           level=level, group=group, args=args, listing=listing,
                           levels=queries.catalogue_groups(in_force_only, q))


@bp.route("/law/<int:law_id>")
def law(law_id: int):
    law = _law_or_404(law_id)
    versions = queries.versions_of(law)
    return render_template("statutes/law.html", law=law, text=queries.law_text(law),
                           versions=versions, current=queries.current_version(versions))


@bp.route("/law/<int:law_id>/jump")
def jump(law_id: int):
    """The "go to article" box: the law page scrolled to the article asked for."""
    law = _law_or_404(law_id)
    reference = request.args.get("number", "")
    article = queries.find_article(law, reference)
    if article is None:
        flash(_("This law has no article %(number)s.", number=reference[:20]), "warning")
        return redirect(url_for("statutes.law", law_id=law.id))
    return redirect(url_for("statutes.law", law_id=law.id, _anchor=f"a{article.ref}"))


@bp.route("/law/<int:law_id>/article/<number>")
def article(law_id: int, number: str):
    """An article's permalink: /article/17, or /article/17-1 for 第十七条之一."""
    law = _law_or_404(law_id)
    match = ARTICLE_REF.fullmatch(number)
    found = match and queries.article_of(law, int(match[1]), int(match[2] or 0))
    if not found:
        abort(404)
    previous, following = queries.neighbours(found)
    versions = queries.versions_of(law)
    return render_template("statutes/article.html", law=law, article=found,
                           path=queries.heading_path(found), previous=previous,
                           following=following, citation=queries.citation(law, found),
                           current=queries.current_version(versions))


@bp.route("/cite/<path:name>/<reference>")
def cite(name: str, reference: str):
    """A stable link by title: the article in the version in force, whatever its id."""
    found, known = queries.cited_article(name, reference)
    if found is None:
        message = (_("%(name)s has no version in force with article %(number)s.",
                     name=name, number=reference) if known else
                   _("No law titled %(name)s is in the library.", name=name))
        return render_template("statutes/not_found.html", message=message), 404
    return redirect(url_for("statutes.article", law_id=found.law_id, number=found.ref))
