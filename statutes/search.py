"""Search the statute library with a question in plain Chinese.

Every article gets one row in `article_search` whose `tokens` are the jieba search-mode words of
the law's short title, its heading path and its text. SQLite ranks candidates with an FTS5 table
(bm25), PostgreSQL with a GIN index on to_tsvector('simple', tokens) (ts_rank_cd). The question's
words, minus stop words and each widened by `SYNONYMS`, are OR-ed; the best candidates are then
re-ranked here: how many of the question's concepts an article covers, the database score, the
level of the law (national law first) and its status (in force first).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, text

from app.extensions import db
from statutes.models import Article, ArticleSearch, Law, StatuteNode
from statutes.synonyms import SYNONYMS

FTS_TABLE = "article_search_fts"
PG_INDEX = "ix_article_search_tsv"
CANDIDATES = 200
BATCH = 2000
STOP_WORDS = frozenset("""
的 了 是 我 你 他 她 它 我们 你们 他们 她们 怎么 怎么办 怎样 如何 吗 呢 吧 啊 呀 什么 可以 能 能否 能不能
会 要 想 请问 请 问 一下 应该 应当 有 没有 没 不 和 与 及 或 或者 在 被 把 给 对 向 从 就 都 也 还 又 很 太
这 那 这个 那个 这样 那样 个 两个 一个 些 一些 之 其 所 为 为了 因为 所以 如果 但是 但 而 并 等 上 下 里 中
哪 哪些 哪里 谁 多少 几 已经 现在 时候 一直 自己 家 人 事 办 该 让 用 说 得 地 着 过 到 去 来 后 前 多 少 月 年 天
出 算 对方 朋友 一方 别人 结果 情况 问题 发生 出了 找 弄 搞
""".split())
# Level and status boosts (added to a score whose other parts are within about 0..3).
LEVEL_BOOST = {"constitution": 0.2, "law": 0.6, "administrative_regulation": 0.4,
               "judicial_interpretation": 0.35, "departmental_rule": 0.15,
               "local_regulation": 0.0, "case": 0.0, "other": 0.0}
STATUS_BOOST = {"in_force": 0.5, "unknown": 0.3, "superseded": 0.0, "repealed": -0.2}
WORD = re.compile(r"\w", re.UNICODE)


search_t = ArticleSearch.__table__


# ---- tokens ----------------------------------------------------------------------------

_JIEBA = None


def _jieba():
    """jieba, with every colloquial word and legal term of SYNONYMS in its dictionary (so the
    question and the articles split them the same way)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)
        for word, terms in SYNONYMS.items():
            for phrase in (word, *terms):
                if len(phrase) > 1 and "的" not in phrase:
                    jieba.add_word(phrase, freq=20000)
        _JIEBA = jieba
    return _JIEBA


def _clean(words: Iterable[str]) -> list[str]:
    return [w.lower() for w in (w.strip() for w in words) if w and WORD.search(w)]


def index_tokens(text_: str) -> str:
    """The space-separated, lower-cased search-mode words of a text."""
    return " ".join(_clean(_jieba().cut_for_search(text_)))


@dataclass
class Concept:
    """One word of the question and the alternatives it may be found as (each a word list)."""

    word: str
    alternatives: list[tuple[str, list[str]]]   # (phrase as written, its words)


def query_concepts(question: str) -> list[Concept]:
    """The question's content words, each with its synonyms, in order, without duplicates."""
    jieba = _jieba()
    concepts: list[Concept] = []
    seen: set[str] = set()
    words = _clean(jieba.cut(question))
    for word in words + [w for w in _clean(jieba.cut_for_search(question)) if w not in words]:
        if word in STOP_WORDS or word in seen:
            continue
        seen.add(word)
        phrases = list(dict.fromkeys((word,) + SYNONYMS.get(word, ())))
        alternatives = []
        for phrase in phrases:
            parts = [p for p in _clean(jieba.cut(phrase)) if p not in STOP_WORDS]
            if parts and parts not in [a[1] for a in alternatives]:
                alternatives.append((phrase, parts))
        if alternatives:
            concepts.append(Concept(word, alternatives))
    return concepts


# ---- the index -------------------------------------------------------------------------

_ENSURED: set[str] = set()


def ensure_search_index(force: bool = False) -> None:
    """Create the database's full-text structure if missing (migrations or create_all made the
    table itself); checked once per database unless forced."""
    key = db.engine.url.render_as_string(hide_password=True)
    if key in _ENSURED and not force:
        return
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
                              "USING fts5(tokens)"))
        elif conn.dialect.name == "postgresql":
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON article_search "
                              "USING gin (to_tsvector('simple', tokens))"))
    _ENSURED.add(key)


def _heading_paths(conn, law_ids: list[int]) -> dict[int, str]:
    nodes = conn.execute(select(StatuteNode.id, StatuteNode.parent_id, StatuteNode.title)
                         .where(StatuteNode.law_id.in_(law_ids))).all()
    parent = {n.id: n.parent_id for n in nodes}
    title = {n.id: n.title for n in nodes}
    paths = {}
    for node_id in parent:
        names, current = [], node_id
        while current is not None and current in title:
            names.append(title[current])
            current = parent[current]
        paths[node_id] = " ".join(reversed(names))
    return paths


def index_articles(law_ids: Iterable[int] | None = None) -> int:
    """(Re)build the search rows of the given laws (all laws when None); returns the count."""
    ensure_search_index(force=True)
    with db.engine.begin() as conn:
        if law_ids is None:
            law_ids = list(conn.scalars(select(Law.id)))
        law_ids = sorted(set(law_ids))
        if conn.dialect.name == "sqlite":      # rows whose article_search row was deleted
            conn.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN "
                              "(SELECT article_id FROM article_search)"))
        count = 0
        for start in range(0, len(law_ids), 200):
            count += _index_chunk(conn, law_ids[start:start + 200])
    return count


def _index_chunk(conn, law_ids: list[int]) -> int:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT article_id FROM "
                          "article_search WHERE law_id IN :ids)")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": law_ids})
    conn.execute(delete(search_t).where(search_t.c.law_id.in_(law_ids)))
    titles = dict(conn.execute(select(Law.id, Law.short_title).where(Law.id.in_(law_ids))).all())
    paths = _heading_paths(conn, law_ids)
    rows = []
    for art in conn.execute(select(Article.id, Article.law_id, Article.node_id, Article.text)
                            .where(Article.law_id.in_(law_ids))):
        source = f"{titles.get(art.law_id, '')} {paths.get(art.node_id, '')} {art.text}"
        rows.append({"article_id": art.id, "law_id": art.law_id,
                     "tokens": index_tokens(source)})
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        conn.execute(insert(search_t), chunk)
        if sqlite:
            conn.execute(text(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (:r, :t)"),
                         [{"r": r["article_id"], "t": r["tokens"]} for r in chunk])
    return len(rows)


# ---- the query -------------------------------------------------------------------------

def _fts_query(concepts: list[Concept]) -> str:
    def quote(word):
        return '"' + word.replace('"', '""') + '"'
    ors = []
    for concept in concepts:
        for _, parts in concept.alternatives:
            ors.append("(" + " AND ".join(quote(p) for p in parts) + ")")
    return " OR ".join(ors)


def _ts_query(concepts: list[Concept]) -> str:
    def quote(word):
        return "'" + word.replace("'", "''").replace("\\", "") + "'"
    ors = []
    for concept in concepts:
        for _, parts in concept.alternatives:
            ors.append("(" + " & ".join(quote(p) for p in parts) + ")")
    return " | ".join(ors)


def _law_filter(level: str | None, include_local: bool, in_force_only: bool,
                column: str) -> tuple[str, dict]:
    """An SQL condition on `column` (an article id) for the narrowing options, and its params."""
    conditions, params = [], {}
    if level:
        conditions.append("l.level = :level")
        params["level"] = level
    if not include_local:
        conditions.append("l.level <> 'local_regulation'")
    if in_force_only:
        conditions.append("l.status = 'in_force'")
    if not conditions:
        return "", params
    return (f" AND {column} IN (SELECT s.article_id FROM article_search s "
            f"JOIN laws l ON l.id = s.law_id WHERE {' AND '.join(conditions)})", params)


def _candidates(concepts: list[Concept], limit: int, level: str | None = None,
                include_local: bool = True,
                in_force_only: bool = False) -> list[tuple[int, float]]:
    """(article id, database score, larger is better) for the best `limit` matches."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        ensure_search_index()
        narrow, params = _law_filter(level, include_local, in_force_only, f"{FTS_TABLE}.rowid")
        rows = db.session.execute(
            text(f"SELECT rowid, -bm25({FTS_TABLE}) AS s FROM {FTS_TABLE} "
                 f"WHERE {FTS_TABLE} MATCH :q{narrow} ORDER BY bm25({FTS_TABLE}) LIMIT :n"),
            {"q": _fts_query(concepts), "n": limit, **params}).all()
    else:
        narrow, params = _law_filter(level, include_local, in_force_only,
                                     "article_search.article_id")
        rows = db.session.execute(
            text("SELECT article_id, ts_rank_cd(to_tsvector('simple', tokens), q) AS s "
                 "FROM article_search, to_tsquery('simple', :q) q "
                 f"WHERE to_tsvector('simple', tokens) @@ q{narrow} ORDER BY s DESC LIMIT :n"),
            {"q": _ts_query(concepts), "n": limit, **params}).all()
    return [(row[0], float(row[1])) for row in rows]


@dataclass
class Hit:
    law_id: int
    law_title: str
    book: str | None
    short_title: str
    law_level: str
    law_status: str
    article_id: int
    article: str                 # 第X条
    number: int
    text: str
    score: float
    matched: list[str] = field(default_factory=list)   # words to highlight

    def as_dict(self) -> dict:
        return {"law_id": self.law_id, "law_title": self.law_title,
                "book": self.book,
                "short_title": self.short_title, "level": self.law_level,
                "status": self.law_status, "article_id": self.article_id,
                "article": self.article, "number": self.number,
                "score": round(self.score, 4), "text": self.text, "matched": self.matched}


def search(question: str, limit: int = 10, *, level: str | None = None,
           include_local: bool = True, in_force_only: bool = False) -> list[Hit]:
    """The articles that best answer the question, best first."""
    concepts = query_concepts(question)
    if not concepts:
        return []
    found = _candidates(concepts, CANDIDATES, level, include_local, in_force_only)
    if not found:
        return []
    db_score = dict(found)
    rows = db.session.execute(
        select(Article.id, Article.label, Article.number, Article.text, Article.law_id,
               Law.title, Law.short_title, Law.book, Law.level, Law.status)
        .join(Law, Law.id == Article.law_id)
        .where(Article.id.in_(list(db_score)))).all()
    best = max(db_score.values()) or 1.0
    hits = []
    for row in rows:
        if level and row.level != level:
            continue
        if not include_local and row.level == "local_regulation":
            continue
        if in_force_only and row.status != "in_force":
            continue
        haystack = f"{row.short_title}{row.book or ''}{row.text}".lower()
        matched, covered = _matches(concepts, haystack)
        coverage = covered / len(concepts)
        score = (2.0 * coverage + db_score[row.id] / best
                 + LEVEL_BOOST.get(row.level, 0.0) + STATUS_BOOST.get(row.status, 0.0))
        hits.append(Hit(row.law_id, row.title, row.book, row.short_title, row.level,
                        row.status, row.id, row.label, row.number, row.text, score, matched))
    hits.sort(key=lambda h: (-h.score, h.article_id))
    return hits[:limit]


def _matches(concepts: list[Concept], haystack: str) -> tuple[list[str], float]:
    """The phrases found in the text, and how many concepts it covers (a synonym counts a
    little less than the word itself)."""
    matched: list[str] = []
    covered = 0.0
    for concept in concepts:
        weight = 0.0
        for i, (phrase, parts) in enumerate(concept.alternatives):
            if phrase.lower() in haystack or all(p in haystack for p in parts):
                matched.append(phrase)
                weight = max(weight, 1.0 if i == 0 else 0.9)
        covered += weight
    return list(dict.fromkeys(matched)), covered

