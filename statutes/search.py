"""Search the statute library with a question in plain Chinese.

Every article gets one row in `article_search` whose `tokens` are the jieba search-mode words of
the law's short title, its heading path and its text. SQLite ranks candidates with an FTS5 table
(bm25), PostgreSQL with a stored tsvector under a GIN index (ts_rank); both structures live
outside the models and are created by ensure_search_index(). The question's
words, minus stop words and each widened by `SYNONYMS`, are OR-ed; the best candidates are then
re-ranked here: how many of the question's concepts an article covers, the database score, the
level of the law (national law first) and its status (in force first). Where the articles have
vectors (statutes/semantic.py), the articles nearest the question in meaning join the candidates
and their closeness adds to the score, for questions that share no word with their answer; so do
the articles governing the common questions (statutes/question_bank.py) nearest the question.
"""
from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, text

from app.extensions import db
from statutes import semantic
from statutes.models import Article, ArticleSearch, Law, StatuteNode, article_ref
from statutes.synonyms import SYNONYMS

FTS_TABLE = "article_search_fts"
PG_TABLE = "article_search_tsv"
FTS_VOCAB = "article_search_vocab"
META_TABLE = "article_search_meta"        # name → value: how the index and vectors were made
COMMON_DF = 10000            # articles: a word in more of them is too common to look for
PG_COMMON_DF = 1000          # the same, on PostgreSQL over the whole library (see _candidates)
PG_INDEX = "ix_article_search_tsv_gin"
CANDIDATES = 80
BATCH = 2000
INDEX_LAWS_PER_CHUNK = 1000
PARALLEL_FROM = 20000        # articles; fewer are cut in this process
STOP_WORDS = frozenset("""
的 了 是 我 你 他 她 它 我们 你们 他们 她们 怎么 怎么办 怎样 如何 吗 呢 吧 啊 呀 什么 可以 能 能否 能不能
会 要 想 请问 请 问 一下 应该 应当 有 没有 没 不 和 与 及 或 或者 在 被 把 给 对 向 从 就 都 也 还 又 很 太
这 那 这个 那个 这样 那样 个 两个 一个 些 一些 之 其 所 为 为了 因为 所以 如果 但是 但 而 并 等 上 下 里 中
哪 哪些 哪里 谁 多少 几 已经 现在 时候 一直 自己 家 人 事 办 该 让 用 说 得 地 着 过 到 去 来 后 前 多 少 月 年 天
出 算 对方 朋友 一方 别人 结果 情况 问题 发生 出了 找 弄 搞 合法 有效 多久 能要 只 做 时 不管 交了 谁来 找谁
要求 是不是 能不能 合理 吗 么 需要 我家 他家 她家 小哥 东西 有人 往 老是 总是 天天
""".split())
# Level and status boosts (added to a score whose other parts are within about 0..3).
LEVEL_BOOST = {"constitution": 0.2, "law": 0.6, "administrative_regulation": 0.4,
               "judicial_interpretation": 0.35, "departmental_rule": 0.15,
               "local_regulation": 0.0, "case": 0.0, "other": 0.0}
STATUS_BOOST = {"in_force": 0.5, "unknown": 0.3, "superseded": 0.0, "repealed": -0.2}
# The laws that govern most disputes brought to a mediation centre: civil, family, labour,
# consumer, traffic, property-management and land matters. They rank first among equals.
CORE_LAWS = frozenset("""
民法典 劳动合同法 劳动法 劳动争议调解仲裁法 人民调解法 道路交通安全法 消费者权益保护法 物业管理条例
工伤保险条例 社会保险法 土地管理法 农村土地承包法 农村土地承包经营纠纷调解仲裁法 反家庭暴力法
妇女权益保障法 未成年人保护法 老年人权益保障法 食品安全法 产品质量法 治安管理处罚法 民事诉讼法
医疗纠纷预防和处理条例 保障农民工工资支付条例 职工带薪年休假条例 村民委员会组织法 电子商务法
机动车交通事故责任强制保险条例 法律援助法 噪声污染防治法 个人信息保护法 女职工劳动保护特别规定
""".split())
CORE_BOOST = 0.5
CORE_CANDIDATES = 50
# Of two articles covering the question equally, the shorter one is usually the rule itself.
LENGTH_PENALTY = 0.08
SHORT_ARTICLE = 80
# How much covering all of the question's concepts (or their synonyms) counts in the score.
COVERAGE_WEIGHT = 2.0
# The articles nearest the question in meaning (statutes.semantic): how many join the
# candidates, and the weight of their closeness (0 to 1) in the score.
SEMANTIC_CANDIDATES = 10
SEMANTIC_WEIGHT = 0.75
# The weight of governing the common questions near the question (times semantic.answered:
# 0 to 1 for the nearest that an article governs, more where further ones agree).
BANK_WEIGHT = 2.0
# Indexed with the articles of CORE_LAWS, so that the database can narrow to them cheaply.
CORE_TOKEN = "zzcorelaw"
WORD = re.compile(r"\w", re.UNICODE)


search_t = ArticleSearch.__table__


# ---- tokens ----------------------------------------------------------------------------

_JIEBA = None


def _custom_words() -> list[str]:
    """The colloquial words and legal terms of SYNONYMS that jieba is taught."""
    return sorted({phrase for word, terms in SYNONYMS.items() for phrase in (word, *terms)
                   if len(phrase) > 1 and "的" not in phrase})


def _jieba():
    """jieba, with every colloquial word and legal term of SYNONYMS in its dictionary (so the
    question and the articles split them the same way)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)
        for phrase in _custom_words():
            jieba.add_word(phrase, freq=20000)
        _JIEBA = jieba
    return _JIEBA


def tokenizer_fingerprint() -> str:
    """What the index's words depend on besides the texts: jieba and the words it is taught,
    and which laws are marked core. An index built under another fingerprint is rebuilt by
    the next import (see index_is_current)."""
    import jieba
    source = "\n".join([jieba.__version__, CORE_TOKEN, " ".join(sorted(CORE_LAWS)),
                        *_custom_words()])
    return hashlib.sha256(source.encode()).hexdigest()[:16]


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


# One-character words that keep their meaning inside longer ones (宠物狗, 偷走); others do not
# (告 in 广告, 分 in 部分, 退 in 退休).
SAFE_INSIDE = frozenset("狗猫树偷砸撞扔咬伤修租")


def _synonyms_within(word: str) -> list[str]:
    """The SYNONYMS keys found inside a word jieba kept whole (邻居家 → 邻居, 宠物狗 → 宠物 + 狗),
    longest first and without overlaps."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(word)
    for key in sorted((k for k in SYNONYMS if len(k) < len(word) and k in word
                       and (len(k) > 1 or k in SAFE_INSIDE)),
                      key=len, reverse=True):
        start = word.find(key)
        while start >= 0 and any(taken[start:start + len(key)]):
            start = word.find(key, start + 1)
        if start >= 0:
            taken[start:start + len(key)] = [True] * len(key)
            found.append((start, key))
    return [key for _, key in sorted(found)]


def query_concepts(question: str) -> list[Concept]:
    """The question's content words, each with its synonyms, in order, without duplicates.

    A word jieba keeps whole is searched as itself, its synonyms and those of the known words
    inside it; a long word nobody listed may also be found as all of its shorter parts."""
    jieba = _jieba()
    concepts: list[Concept] = []
    seen: set[str] = set()
    for word in _clean(jieba.cut(question)):
        if word in STOP_WORDS or word in seen:
            continue
        seen.add(word)
        phrases = [word, *SYNONYMS.get(word, ())]
        if word not in SYNONYMS:
            for key in _synonyms_within(word):
                phrases += [key, *SYNONYMS[key]]
        alternatives: list[tuple[str, list[str]]] = []
        for phrase in dict.fromkeys(phrases):
            parts = [p for p in _clean(jieba.cut(phrase)) if p not in STOP_WORDS]
            if parts and parts not in [a[1] for a in alternatives]:
                alternatives.append((phrase, parts))
        if len(word) >= 3 and len(alternatives) == 1:
            parts = [p for p in _clean(jieba.cut_for_search(word))
                     if p != word and len(p) > 1 and p not in STOP_WORDS]
            if parts:
                alternatives.append((word, parts))
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
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name varchar(32) "
                          "PRIMARY KEY, value varchar(128) NOT NULL)"))
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
                              "USING fts5(tokens)"))
            conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_VOCAB} "
                              f"USING fts5vocab({FTS_TABLE}, 'row')"))
        elif conn.dialect.name == "postgresql":
            # The tsvector is stored: ranking recomputed from text would cost a parse of
            # every matching article.
            conn.execute(text("DROP INDEX IF EXISTS ix_article_search_tsv"))
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (article_id integer "
                              "PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE, "
                              "tsv tsvector NOT NULL)"))
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {PG_TABLE} "
                              "USING gin (tsv)"))
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


def index_articles(law_ids: Iterable[int] | None = None, workers: int | None = None) -> int:
    """(Re)build the search rows of the given laws (every law when None); returns the count.

    Cutting the texts into words takes most of the time: a large batch is shared out among
    the machine's cores."""
    ensure_search_index(force=True)
    _DF_CACHE.clear()
    semantic.forget_answers()
    with db.engine.begin() as conn:
        everything = law_ids is None
        if everything:
            _drop_every_search_row(conn)
            law_ids = list(conn.scalars(select(Law.id)))
        law_ids = sorted(set(law_ids))
        count = 0
        for start in range(0, len(law_ids), INDEX_LAWS_PER_CHUNK):
            count += _index_chunk(conn, law_ids[start:start + INDEX_LAWS_PER_CHUNK], workers)
        if everything:
            write_meta(conn, "tokenizer", tokenizer_fingerprint())
    return count


def read_meta(name: str) -> str | None:
    """A value of META_TABLE (how the index or the vectors were made), or None."""
    ensure_search_index()
    return db.session.execute(text(f"SELECT value FROM {META_TABLE} WHERE name = :n"),
                              {"n": name}).scalar()


def write_meta(conn, name: str, value: str) -> None:
    """Set a value of META_TABLE, on the given connection or session (its transaction)."""
    conn.execute(text(f"DELETE FROM {META_TABLE} WHERE name = :n"), {"n": name})
    conn.execute(text(f"INSERT INTO {META_TABLE} (name, value) VALUES (:n, :v)"),
                 {"n": name, "v": value})


def index_is_current() -> bool:
    """Whether the index was built under today's tokenizer_fingerprint()."""
    return read_meta("tokenizer") == tokenizer_fingerprint()


def drop_search_rows(conn, law_ids: list[int]) -> None:
    """Remove the search rows of these laws (before their articles are replaced)."""
    if not law_ids:
        return
    if _full_text_exists(conn):
        table, column = ((FTS_TABLE, "rowid") if conn.dialect.name == "sqlite"
                         else (PG_TABLE, "article_id"))
        conn.execute(text(f"DELETE FROM {table} WHERE {column} IN (SELECT article_id FROM "
                          "article_search WHERE law_id IN :ids)")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": law_ids})
    conn.execute(delete(search_t).where(search_t.c.law_id.in_(law_ids)))


def _drop_every_search_row(conn) -> None:
    conn.execute(text(f"DELETE FROM {FTS_TABLE if conn.dialect.name == 'sqlite' else PG_TABLE}"))
    conn.execute(delete(search_t))


def _full_text_exists(conn) -> bool:
    if conn.dialect.name == "sqlite":
        return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"),
                            {"n": FTS_TABLE}).first() is not None
    return conn.execute(text("SELECT to_regclass(:n)"), {"n": PG_TABLE}).scalar() is not None


def _index_chunk(conn, law_ids: list[int], workers: int | None) -> int:
    sqlite = conn.dialect.name == "sqlite"
    drop_search_rows(conn, law_ids)
    titles = dict(conn.execute(select(Law.id, Law.short_title).where(Law.id.in_(law_ids))).all())
    paths = _heading_paths(conn, law_ids)
    articles = conn.execute(select(Article.id, Article.law_id, Article.node_id, Article.text)
                            .where(Article.law_id.in_(law_ids))).all()
    sources = [f"{titles.get(a.law_id, '')} {paths.get(a.node_id, '')} {a.text}"
               for a in articles]
    rows = []
    for art, tokens in zip(articles, _tokenize(sources, workers)):
        if titles.get(art.law_id, "") in CORE_LAWS:
            tokens += f" {CORE_TOKEN}"
        rows.append({"article_id": art.id, "law_id": art.law_id, "tokens": tokens})
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        conn.execute(insert(search_t), chunk)
        if sqlite:
            conn.execute(text(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (:r, :t)"),
                         [{"r": r["article_id"], "t": r["tokens"]} for r in chunk])
    if not sqlite:
        conn.execute(text(f"INSERT INTO {PG_TABLE} (article_id, tsv) SELECT article_id, "
                          "to_tsvector('simple', tokens) FROM article_search "
                          "WHERE law_id IN :ids")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": law_ids})
    return len(rows)


def _tokenize(sources: list[str], workers: int | None) -> list[str]:
    """index_tokens() of every source, on several processes when there are many."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or len(sources) < PARALLEL_FROM:
        return [index_tokens(source) for source in sources]
    _jieba()                       # loaded once here, shared with the forked workers
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(index_tokens, sources, chunksize=500)


# ---- the query -------------------------------------------------------------------------

def _fts_query(concepts: list[Concept]) -> str:
    def quote(word):
        return '"' + word.replace('"', '""') + '"'
    return " OR ".join("(" + " AND ".join(quote(p) for p in parts) + ")"
                       for parts in _telling_alternatives(concepts))


def _ts_query(concepts: list[Concept], common: int = COMMON_DF) -> str:
    return " | ".join("(" + " & ".join(_ts_word(p) for p in parts) + ")"
                      for parts in _telling_alternatives(concepts, common))


def _ts_word(word: str) -> str:
    """A word as a PostgreSQL tsquery lexeme."""
    return "'" + word.replace("'", "''").replace("\\", "") + "'"


def _telling_alternatives(concepts: list[Concept],
                          common: int = COMMON_DF) -> list[list[str]]:
    """The alternatives worth asking the database for. One made only of words found in a
    large share of the library (工作, 管理, 责任 …) would have it rank most articles for little
    gain; such words still count when the candidates are re-ranked."""
    alternatives = list(dict.fromkeys(tuple(parts) for c in concepts
                                      for _, parts in c.alternatives))
    frequencies = document_frequencies({p for parts in alternatives for p in parts})
    telling = [list(parts) for parts in alternatives
               if not all(frequencies.get(p, 0) > common for p in parts)]
    return telling or [list(parts) for parts in alternatives]


_DF_CACHE: dict[tuple[str, str], int] = {}


def document_frequencies(words: set[str]) -> dict[str, int]:
    """How many articles contain each word (on PostgreSQL, up to COMMON_DF + 1), remembered by
    this process and forgotten when it indexes."""
    key = db.engine.url.render_as_string(hide_password=True)
    missing = sorted(w for w in words if (key, w) not in _DF_CACHE)
    if missing:
        if db.engine.dialect.name == "sqlite":
            found = dict(db.session.execute(
                text(f"SELECT term, doc FROM {FTS_VOCAB} WHERE term IN :w")
                .bindparams(bindparam("w", expanding=True)), {"w": missing}).all())
        else:
            # Counted up to just past COMMON_DF: all the query needs to know.
            found = {w: db.session.execute(
                text(f"SELECT count(*) FROM (SELECT 1 FROM {PG_TABLE} WHERE tsv @@ "
                     "to_tsquery('simple', :q) LIMIT :n) AS matches"),
                {"q": _ts_word(w), "n": COMMON_DF + 1}).scalar()
                for w in missing}
        for word in missing:
            _DF_CACHE[(key, word)] = found.get(word, 0)
    return {w: _DF_CACHE[(key, w)] for w in words}


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
                include_local: bool = True, in_force_only: bool = False,
                core_only: bool = False) -> list[tuple[int, float]]:
    """(article id, database score, larger is better) for the best `limit` matches."""
    ensure_search_index()
    if db.engine.dialect.name == "sqlite":
        narrow, params = _law_filter(level, include_local, in_force_only, f"{FTS_TABLE}.rowid")
        query = _fts_query(concepts)
        if core_only:
            query = f"({query}) AND {CORE_TOKEN}"
        rows = db.session.execute(
            text(f"SELECT rowid, -bm25({FTS_TABLE}) AS s FROM {FTS_TABLE} "
                 f"WHERE {FTS_TABLE} MATCH :q{narrow} "
                 f"ORDER BY bm25({FTS_TABLE}), rowid LIMIT :n"),   # ties in a fixed order
            {"q": query, "n": limit, **params}).all()
    else:
        narrow, params = _law_filter(level, include_local, in_force_only,
                                     f"{PG_TABLE}.article_id")
        # ts_rank scores every match: over the whole library, words found in thousands of
        # articles are left to the re-ranking (and to the core laws' query, which keeps them).
        query = _ts_query(concepts, COMMON_DF if core_only else PG_COMMON_DF)
        if core_only:
            query = f"({query}) & {CORE_TOKEN}"
        rows = db.session.execute(
            text(f"SELECT article_id, ts_rank(tsv, q) AS s "
                 f"FROM {PG_TABLE}, to_tsquery('simple', :q) q "
                 f"WHERE tsv @@ q{narrow} ORDER BY s DESC, article_id LIMIT :n"),
            {"q": query, "n": limit, **params}).all()
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
    article: str                 # 第X条 (第X条之一)
    number: int
    suffix: int                  # 1 for 第X条之一
    text: str
    score: float
    matched: list[str] = field(default_factory=list)   # words to highlight
    by_meaning: bool = False     # among the articles nearest the question in meaning
    answers: str | None = None   # the common question near this one that the article governs

    @property
    def ref(self) -> str:
        return article_ref(self.number, self.suffix)

    def as_dict(self) -> dict:
        return {"law_id": self.law_id, "law_title": self.law_title,
                "book": self.book,
                "short_title": self.short_title, "level": self.law_level,
                "status": self.law_status, "article_id": self.article_id,
                "article": self.article, "number": self.number, "suffix": self.suffix,
                "score": round(self.score, 4), "text": self.text, "matched": self.matched,
                "by_meaning": self.by_meaning, "answers": self.answers}


def search(question: str, limit: int = 10, *, level: str | None = None,
           include_local: bool = True, in_force_only: bool = False) -> list[Hit]:
    """The articles that best answer the question, best first."""
    concepts = query_concepts(question)
    if not concepts:
        return []
    # The whole library, and separately the laws most disputes turn on, so that a crowd of
    # local rules sharing the question's everyday words cannot push those out of reach.
    national = not level or level in {"law", "administrative_regulation"}
    # (The articles with vectors are national laws and judicial interpretations.)
    pending = (semantic.prepare(question)               # made while the database works
               if national or level == "judicial_interpretation" else None)
    found = _candidates(concepts, CANDIDATES, level, include_local, in_force_only)
    if national:
        found += _candidates(concepts, CORE_CANDIDATES, level, include_local, in_force_only,
                             core_only=True)
    near = semantic.nearest(pending)
    answers = semantic.answered(pending)
    known = {article_id for article_id, _ in found}
    found += [(article_id, 0.0)
              for article_id in dict.fromkeys([*list(near)[:SEMANTIC_CANDIDATES], *answers])
              if article_id not in known]
    if not found:
        return []
    db_score = dict(found)
    rows = db.session.execute(
        select(Article.id, Article.label, Article.number, Article.suffix, Article.text,
               Article.law_id, Law.title, Law.short_title, Law.book, Law.level, Law.status)
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
        score = (COVERAGE_WEIGHT * coverage + db_score[row.id] / best
                 + LEVEL_BOOST.get(row.level, 0.0) + STATUS_BOOST.get(row.status, 0.0)
                 + (CORE_BOOST if row.short_title in CORE_LAWS else 0.0)
                 + SEMANTIC_WEIGHT * near.get(row.id, 0.0)
                 + BANK_WEIGHT * answers.get(row.id, (0.0, None))[0]
                 - LENGTH_PENALTY * math.log(max(len(row.text), SHORT_ARTICLE) / SHORT_ARTICLE))
        hits.append(Hit(row.law_id, row.title, row.book, row.short_title, row.level,
                        row.status, row.id, row.label, row.number, row.suffix, row.text, score,
                        matched, row.id in near, answers.get(row.id, (0.0, None))[1]))
    hits.sort(key=lambda h: (-h.score, h.article_id))
    # The same text filed twice (one law under two categories, or an unchanged article in
    # two versions) is shown once, as its best-ranked copy.
    unique, seen = [], set()
    for hit in hits:
        key = (hit.law_title, hit.book, hit.article, hit.text)
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique[:limit]


def _matches(concepts: list[Concept], haystack: str) -> tuple[list[str], float]:
    """The words to highlight in the text (a phrase, or the parts of one found apart), and
    how many concepts it covers (a synonym counts a little less than the word itself)."""
    matched: list[str] = []
    covered = 0.0
    for concept in concepts:
        weight = 0.0
        for i, (phrase, parts) in enumerate(concept.alternatives):
            if phrase.lower() in haystack:
                matched.append(phrase)
            elif all(p in haystack for p in parts):
                matched.extend(parts)
            else:
                continue
            weight = max(weight, 1.0 if i == 0 else 0.9)
        covered += weight
    return list(dict.fromkeys(matched)), covered

