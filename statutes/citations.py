"""Citations of statute articles pinned to cases (援引条文).

A clerk pins an article to a case, from the suggestions on the case page or by typing the law
and the article number. A citation names the law by its full official title and the article by
its number; the text that prints is that of the version in force on the agreement's effective
date (the pinned version if that version lacks the article). Pinning and unpinning write an
event into the case's audit chain and commit; they are possible while the agreement can still
be printed or changed, that is until the case goes to judicial confirmation or ends.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case as sql_case, func, select
from sqlalchemy.exc import IntegrityError

from app.audit import record_event
from app.extensions import db
from app.models import User
from app.workdays import today as centre_today
from cases.access import CASE_MANAGERS, can_view
from cases.models import Agreement, Case
from statutes.citation_models import CaseCitation
from statutes.models import Article, Law, article_ref
from statutes.queries import cited_article
from workflows.i18n import N_

log = logging.getLogger(__name__)

# While the agreement may still be drafted or printed; from judicial confirmation on (or once
# the case ended without one) the citations are part of the record and stay as they are.
OPEN_STATES = frozenset({"registered", "matching", "mediating", "suspended", "agreed"})
SUGGESTIONS = 6
CANDIDATES = 30           # hits asked of the search, re-ranked by the category's key laws
QUERY_CHARS = 300         # facts and claims beyond this add noise, not precision
NOTE_CHARS = 500
CATEGORY_BONUS = 0.6

# Titles of the events written into the case's history, and the data the timeline shows.
CITATION_EVENT_TITLES = {
    "pin_citation": N_("Article cited"),
    "unpin_citation": N_("Citation removed"),
}
CITATION_EVENT_DETAILS = {
    "pin_citation": (("citation", N_("Citation"), "text"),),
    "unpin_citation": (("citation", N_("Citation"), "text"),),
}

# The laws that usually govern a category's disputes: (short title, book or None). Search hits
# from them rank a little higher among the suggestions.
CATEGORY_LAWS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "marriage_family": (("民法典", "婚姻家庭编"), ("民法典", "继承编"), ("反家庭暴力法", None),
                        ("最高人民法院关于适用《民法典》婚姻家庭编的解释（一）", None)),
    "neighbour": (("民法典", "物权编"), ("民法典", "侵权责任编"), ("噪声污染防治法", None)),
    "housing_land": (("民法典", "物权编"), ("土地管理法", None), ("农村土地承包法", None),
                     ("城市房地产管理法", None)),
    "contract": (("民法典", "合同编"),
                 ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", None)),
    "damages": (("民法典", "侵权责任编"),
                ("最高人民法院关于审理人身损害赔偿案件适用法律若干问题的解释", None),
                ("最高人民法院关于确定民事侵权精神损害赔偿责任若干问题的解释", None)),
    "business": (("民法典", "合同编"), ("产品质量法", None)),
    "labour": (("劳动合同法", None), ("劳动法", None), ("劳动争议调解仲裁法", None),
               ("保障农民工工资支付条例", None), ("劳动合同法实施条例", None),
               ("工伤保险条例", None), ("社会保险法", None),
               ("最高人民法院关于审理劳动争议案件适用法律问题的解释（一）", None)),
    "medical": (("民法典", "侵权责任编"), ("医疗纠纷预防和处理条例", None),
                ("医疗事故处理条例", None),
                ("最高人民法院关于审理医疗损害责任纠纷案件适用法律若干问题的解释", None)),
    "property_mgmt": (("物业管理条例", None), ("民法典", "合同编"), ("民法典", "物权编"),
                      ("最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释", None)),
    "traffic": (("道路交通安全法", None), ("道路交通安全法实施条例", None),
                ("机动车交通事故责任强制保险条例", None), ("民法典", "侵权责任编"),
                ("最高人民法院关于审理道路交通事故损害赔偿案件适用法律若干问题的解释", None)),
    "land_acquisition": (("土地管理法", None), ("土地管理法实施条例", None),
                         ("国有土地上房屋征收与补偿条例", None)),
    "environment": (("民法典", "侵权责任编"), ("噪声污染防治法", None)),
    "forest_land": (("农村土地承包法", None), ("农村土地承包经营纠纷调解仲裁法", None),
                    ("土地管理法", None)),
    "consumer": (("消费者权益保护法", None), ("产品质量法", None), ("电子商务法", None),
                 ("食品安全法", None)),
    "village_affairs": (("村民委员会组织法", None), ("农村集体经济组织法", None)),
}


@dataclass(frozen=True)
class CitedArticle:
    law_title: str        # full official title, e.g. 中华人民共和国民法典
    article_label: str    # e.g. 第一千一百七十九条
    text: str             # the article's text in the pinned version

    @property
    def citation_text(self) -> str:
        return f"《{self.law_title}》{self.article_label}"


class CitationError(Exception):
    """A citation that cannot be pinned or removed; `message` is an English msgid."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params


# ---- who and when ----------------------------------------------------------------------

def can_cite(user: User, case: Case) -> bool:
    """Staff who act on the case (clerk, director, admin in scope; its mediator)."""
    return can_view(user, case) and (user.role in CASE_MANAGERS or user.role == "mediator")


def citations_open(case: Case) -> bool:
    return case.status in OPEN_STATES


def citation_date(case: Case, today: date | None = None) -> date:
    """The date whose law applies: the latest agreement's effective date, else the case's
    recorded agreement date, else today."""
    agreement = db.session.scalar(
        select(Agreement).where(Agreement.case_id == case.id)
        .order_by(Agreement.id.desc()).limit(1))
    if agreement is not None and agreement.effective_on:
        return agreement.effective_on
    if case.agreement_effective_on:
        return case.agreement_effective_on
    return today or centre_today()


# ---- reading what the clerk typed ------------------------------------------------------

def law_name(name: str) -> str:
    return name.strip().strip("《》<>").strip()


def article_in_force(name: str, number: int, suffix: int = 0) -> Article:
    """The article (第{number}条, or 第{number}条之{suffix}) of the version in force of the law
    named by its short or full title. Raises CitationError (the law unknown, or no such article
    in force)."""
    name = law_name(name)
    article, known = cited_article(name, article_ref(number, suffix))
    if not known:
        raise CitationError(N_("No law titled “%(name)s” is in the statute library."),
                            name=name)
    if article is None:
        raise CitationError(N_("%(name)s has no article %(number)s in force."),
                            name=name, number=f"{number}之{suffix}" if suffix else number)
    return article


# ---- pinning ---------------------------------------------------------------------------

def pin_citation(case: Case, article: Article, actor: User, note: str = "") -> CaseCitation:
    """Pin the article to the case and record it in the case's history; commits."""
    if not citations_open(case):
        raise CitationError(N_("Citations can no longer be changed: the case is past the "
                               "agreement stage."))
    law = article.law
    if already_pinned(case, law.title, article.number, article.suffix):
        raise CitationError(N_("%(citation)s is already cited in this case."),
                            citation=f"《{law.title}》{article.label}")
    last = db.session.scalar(select(func.max(CaseCitation.position))
                             .where(CaseCitation.case_id == case.id))
    citation = CaseCitation(case_id=case.id, law_title=law.title,
                            article_number=article.number, article_suffix=article.suffix,
                            article_label=article.label,
                            article_id=article.id, pinned_by_id=actor.id,
                            note=note.strip()[:NOTE_CHARS], position=(last or 0) + 1)
    try:
        db.session.add(citation)
        db.session.flush()
        record_event(case, "pin_citation", case.status, case.status, actor,
                     data={"citation": f"《{law.title}》{article.label}",
                           "article_id": article.id})
        db.session.commit()
    except IntegrityError:          # pinned at the same moment by someone else
        db.session.rollback()
        raise CitationError(N_("%(citation)s is already cited in this case."),
                            citation=f"《{law.title}》{article.label}") from None
    except Exception:
        db.session.rollback()
        raise
    return citation


def already_pinned(case: Case, law_title: str, number: int, suffix: int = 0) -> bool:
    return db.session.scalar(
        select(CaseCitation.id).where(CaseCitation.case_id == case.id,
                                      CaseCitation.law_title == law_title,
                                      CaseCitation.article_number == number,
                                      CaseCitation.article_suffix == suffix)) is not None


def unpin_citation(case: Case, citation_id: int, actor: User) -> None:
    """Remove a citation from the case and record it in the case's history; commits."""
    if not citations_open(case):
        raise CitationError(N_("Citations can no longer be changed: the case is past the "
                               "agreement stage."))
    citation = db.session.get(CaseCitation, citation_id)
    if citation is None or citation.case_id != case.id:
        raise CitationError(N_("That citation is no longer on this case."))
    try:
        text = f"《{citation.law_title}》{citation.article_label}"
        db.session.delete(citation)
        record_event(case, "unpin_citation", case.status, case.status, actor,
                     data={"citation": text})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# ---- which version prints --------------------------------------------------------------

@dataclass
class ResolvedCitation:
    """A pinned citation with the article that prints on `on`, and what the clerk should check:
    `problem` is "missing" (the version in effect on that date lacks the article, so the pinned
    version prints), "gone" (the article is no longer in the library) or "repealed"."""

    citation: CaseCitation
    article: Article | None
    law: Law | None
    on: date
    problem: str | None = None

    @property
    def cited(self) -> CitedArticle:
        if self.article is None:
            return CitedArticle(self.citation.law_title, self.citation.article_label, "")
        return CitedArticle(self.citation.law_title, self.article.label, self.article.text)


def _start(law: Law) -> date:
    """When a version took effect: its 施行 date, else its version date, else always."""
    return law.effective_date or law.version_date or date.min


def version_in_force(versions: list[Law], on: date) -> Law | None:
    """The latest version in effect on `on` (of one document: title and book)."""
    started = [v for v in versions if _start(v) <= on]
    if not started:
        return None
    return max(started, key=lambda v: (_start(v), v.status == "in_force", v.id))


def same_article(citation: CaseCitation) -> tuple:
    """Conditions on Article: the cited article (its number and suffix) in any version."""
    return (Article.number == citation.article_number,
            Article.suffix == citation.article_suffix)


def resolve(citation: CaseCitation, on: date) -> ResolvedCitation:
    pinned = citation.article
    if pinned is not None and ((pinned.number, pinned.suffix)
                               != (citation.article_number, citation.article_suffix)
                               or pinned.law.title != citation.law_title):
        pinned = None           # a re-import reused the id (SQLite does not null it)
    if pinned is not None:
        book = pinned.law.book
    else:                       # the pinned row was replaced by a re-import: find its book
        book = db.session.scalar(
            select(Law.book).join(Article, Article.law_id == Law.id)
            .where(Law.title == citation.law_title, *same_article(citation))
            .order_by(Law.version_date.desc().nulls_last()).limit(1))
    same_book = Law.book.is_(None) if book is None else Law.book == book
    versions = list(db.session.scalars(
        select(Law).where(Law.title == citation.law_title, same_book)))
    law = version_in_force(versions, on)
    article = None
    if law is not None:
        article = db.session.scalar(
            select(Article).where(Article.law_id == law.id, *same_article(citation))
            .order_by(Article.position).limit(1))
    if article is not None:
        return ResolvedCitation(citation, article, law, on,
                                "repealed" if law.status == "repealed" else None)
    if pinned is not None:
        return ResolvedCitation(citation, pinned, pinned.law, on, "missing")
    # Neither: the newest version that has the article, if any (a re-imported text).
    article = db.session.scalar(
        select(Article).join(Law, Law.id == Article.law_id)
        .where(Law.title == citation.law_title, *same_article(citation))
        .order_by(sql_case((Law.status == "in_force", 0), else_=1),
                  Law.version_date.desc().nulls_last()).limit(1))
    if article is not None:
        return ResolvedCitation(citation, article, article.law, on, "missing")
    return ResolvedCitation(citation, None, None, on, "gone")


def pinned_citations(case: Case) -> list[CaseCitation]:
    return list(db.session.scalars(
        select(CaseCitation).where(CaseCitation.case_id == case.id)
        .order_by(CaseCitation.position, CaseCitation.id)))


def resolved_citations(case: Case, on: date | None = None) -> list[ResolvedCitation]:
    """Every citation of the case with the article that prints on `on` (default: the
    agreement's date), in the order they were pinned."""
    on = on or citation_date(case)
    return [resolve(citation, on) for citation in pinned_citations(case)]


def cited_articles(case) -> list[CitedArticle]:
    """The articles cited in a case, in the order the clerk pinned them."""
    return [resolved.cited for resolved in resolved_citations(case)]


# ---- suggestions -----------------------------------------------------------------------

def suggestion_query(case: Case) -> str:
    return " ".join(filter(None, (case.facts, case.claims)))[:QUERY_CHARS]


def suggest_articles(case: Case, limit: int = SUGGESTIONS) -> list:
    """Search hits for the case's facts and claims, the category's key laws first, without the
    articles already pinned. Empty if the search fails (e.g. the index is missing)."""
    question = suggestion_query(case)
    if not question.strip():
        return []
    from statutes.search import search
    try:
        hits = search(question, CANDIDATES, include_local=True)
    except Exception:           # the case page must not fail because of the statute index
        log.exception("statute suggestions failed for case %s", case.id)
        db.session.rollback()
        return []
    pinned = {(c.law_title, c.article_number, c.article_suffix) for c in pinned_citations(case)}
    key_laws = CATEGORY_LAWS.get(case.category, ())

    def bonus(hit) -> float:
        for short_title, book in key_laws:
            if hit.short_title == short_title and (book is None or hit.book == book):
                return CATEGORY_BONUS
        return 0.0

    ranked = sorted(hits, key=lambda h: (-(h.score + bonus(h)), h.article_id))
    chosen = []
    for hit in ranked:              # one hit per article, whatever its version
        key = (hit.law_title, hit.number, hit.suffix)
        if hit.law_status != "repealed" and key not in pinned:
            pinned.add(key)
            chosen.append(hit)
    return chosen[:limit]
