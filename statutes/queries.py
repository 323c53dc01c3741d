"""Read-only queries behind the statute library's pages: the catalogue of laws, a law with its
structure and articles, one article with its neighbours, and versions of the same law."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from statutes.models import LAW_LEVELS, Article, Law, StatuteNode
from statutes.parser import article_reference

LEVEL_ORDER = {code: i for i, code in enumerate(LAW_LEVELS)}
LOCAL = "local_regulation"


# ---- the catalogue ---------------------------------------------------------------------

def _representatives():
    """One row per document (title + book): the version in force, else the newest version."""
    rank = func.row_number().over(
        partition_by=(Law.title, Law.book),
        order_by=(case((Law.status == "in_force", 0), else_=1),
                  case((Law.version_date.is_(None), 1), else_=0),
                  Law.version_date.desc(), Law.id.desc()),
    ).label("rank")
    ranked = select(Law.id, rank).subquery()
    return select(ranked.c.id).where(ranked.c.rank == 1)


def _catalogue_filter(in_force_only: bool, q: str):
    conditions = [Law.id.in_(_representatives())]
    if in_force_only:
        conditions.append(Law.status == "in_force")
    if q:
        pattern = f"%{q}%"
        conditions.append(or_(Law.title.like(pattern), Law.short_title.like(pattern),
                              Law.book.like(pattern)))
    return and_(*conditions)


@dataclass
class Group:
    """A category (or, for local rules, a jurisdiction) within a level, with its count."""

    level: str
    name: str
    count: int


@dataclass
class LevelGroups:
    level: str
    count: int = 0
    groups: list[Group] = field(default_factory=list)


def _group_column():
    return case((Law.level == LOCAL, func.coalesce(Law.jurisdiction, Law.category)),
                else_=Law.category)


def catalogue_groups(in_force_only: bool, q: str = "") -> list[LevelGroups]:
    """Counts of documents by level (national law first) and category or jurisdiction."""
    group = _group_column().label("name")
    rows = db.session.execute(
        select(Law.level, group, func.count(Law.id))
        .where(_catalogue_filter(in_force_only, q))
        .group_by(Law.level, group)).all()
    levels: dict[str, LevelGroups] = {}
    for level, name, count in rows:
        entry = levels.setdefault(level, LevelGroups(level))
        entry.count += count
        entry.groups.append(Group(level, name, count))
    for entry in levels.values():
        entry.groups.sort(key=lambda g: (-g.count, g.name))
    return sorted(levels.values(), key=lambda e: LEVEL_ORDER.get(e.level, len(LEVEL_ORDER)))


@dataclass
class Page:
    items: list[Law]
    total: int
    page: int
    pages: int


def catalogue_page(in_force_only: bool, q: str = "", level: str = "", group: str = "",
                   page: int = 1, per_page: int = 50) -> Page:
    """One page of documents (one row each), optionally within a level and category."""
    condition = _catalogue_filter(in_force_only, q)
    if level:
        condition = and_(condition, Law.level == level)
    if group:
        condition = and_(condition, _group_column() == group)
    total = db.session.scalar(select(func.count(Law.id)).where(condition)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    level_rank = case(*((Law.level == code, i) for code, i in LEVEL_ORDER.items()),
                      else_=len(LEVEL_ORDER))
    items = db.session.scalars(
        select(Law).where(condition)
        .order_by(level_rank, Law.title, Law.book, Law.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, pages)


# ---- one law ---------------------------------------------------------------------------

@dataclass
class TocEntry:
    """A heading of the table of contents with its depth and the articles directly under it."""

    node: StatuteNode
    depth: int
    articles: list[Article] = field(default_factory=list)
    first_number: int | None = None
    last_number: int | None = None


@dataclass
class LawText:
    law: Law
    preamble: list[Article]            # articles before the first heading (or all, if none)
    entries: list[TocEntry]            # every heading in document order
    article_count: int = 0


def law_text(law: Law) -> LawText:
    """The law's headings and articles, in two queries however long the law is."""
    nodes = db.session.scalars(
        select(StatuteNode).where(StatuteNode.law_id == law.id)
        .order_by(StatuteNode.position)).all()
    articles = db.session.scalars(
        select(Article).where(Article.law_id == law.id).order_by(Article.position)).all()
    depth: dict[int, int] = {}
    entries: dict[int, TocEntry] = {}
    for node in nodes:
        depth[node.id] = depth.get(node.parent_id, -1) + 1 if node.parent_id else 0
        entries[node.id] = TocEntry(node, depth[node.id])
    preamble: list[Article] = []
    for article in articles:
        entry = entries.get(article.node_id) if article.node_id else None
        (entry.articles if entry else preamble).append(article)
    parents = {node.id: node.parent_id for node in nodes}
    for article in articles:
        node_id = article.node_id
        while node_id in entries:
            entry = entries[node_id]
            entry.first_number = entry.first_number or article.number
            entry.last_number = article.number
            node_id = parents[node_id]
    return LawText(law, preamble, list(entries.values()), len(articles))


def versions_of(law: Law) -> list[Law]:
    """Every version of the same document (title and book), oldest first."""
    same_book = Law.book.is_(None) if law.book is None else Law.book == law.book
    return list(db.session.scalars(
        select(Law).where(Law.title == law.title, same_book)
        .order_by(case((Law.version_date.is_(None), 0), else_=1), Law.version_date, Law.id)))


def current_version(versions: list[Law]) -> Law | None:
    """The version in force, if any (the newest, should the data hold several)."""
    in_force = [v for v in versions if v.status == "in_force"]
    return in_force[-1] if in_force else None


# ---- one article -----------------------------------------------------------------------

def article_of(law: Law, number: int, suffix: int = 0) -> Article | None:
    """第{number}条 (第{number}条之{suffix} with a suffix) of the law."""
    return db.session.scalar(
        select(Article).where(Article.law_id == law.id, Article.number == number,
                              Article.suffix == suffix)
        .order_by(Article.position).limit(1))


def neighbours(article: Article) -> tuple[Article | None, Article | None]:
    """The previous and next article of the same law version."""
    before = db.session.scalar(
        select(Article).where(Article.law_id == article.law_id,
                              Article.position < article.position)
        .order_by(Article.position.desc()).limit(1))
    after = db.session.scalar(
        select(Article).where(Article.law_id == article.law_id,
                              Article.position > article.position)
        .order_by(Article.position).limit(1))
    return before, after


def heading_path(article: Article) -> list[StatuteNode]:
    """The headings above the article, outermost first."""
    if article.node_id is None:
        return []
    nodes = {n.id: n for n in db.session.scalars(
        select(StatuteNode).where(StatuteNode.law_id == article.law_id))}
    path: list[StatuteNode] = []
    node = nodes.get(article.node_id)
    while node is not None:
        path.append(node)
        node = nodes.get(node.parent_id) if node.parent_id else None
    return list(reversed(path))


def find_article(law: Law, reference: str) -> Article | None:
    """An article as a person writes it: 17, 第17条, 第十七条 or 十七; 17-1, 17之1 or
    第十七条之一 for an article inserted after it."""
    found = article_reference(reference)
    return article_of(law, *found) if found else None


def cited_article(name: str, reference: str) -> tuple[Article | None, bool]:
    """The article of the version in force of the law named by its short or full title.
    Returns (article or None, whether any version of a law of that name exists)."""
    name = name.strip()
    named = or_(Law.short_title == name, Law.title == name,
                Law.title == f"中华人民共和国{name}")
    laws = db.session.scalars(
        select(Law).where(named)
        .order_by(case((Law.status == "in_force", 0), else_=1),
                  Law.version_date.desc().nulls_last(), Law.id)).all()
    for law in laws:
        if law.status != "in_force":
            break
        article = find_article(law, reference)
        if article is not None:
            return article, True
    return None, bool(laws)


def citation(law: Law, article: Article) -> str:
    """The text a clerk pastes into an agreement: 依据《…》第X条."""
    return f"依据《{law.title}》{article.label}"
