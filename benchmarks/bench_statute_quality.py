"""Benchmark: how well statute search answers questions in plain Chinese, against plain BM25.

Imports the corpus into a database (a fresh SQLite file by default; an existing database is
re-used, since importing again skips unchanged files) and gives the core laws' articles their
meaning vectors (minutes the first time, then from the cache), then asks fourteen sets of
questions: the relevance set of tests/test_statute_search.py and the thirteen sets of
benchmarks/statute_questions.py. For each set it prints recall@5 (the governing article among the
first five) and MRR@10, for Concord's search, for the same search without the common questions
(statutes/question_bank.py), by words only (semantic search off), and for a baseline of jieba
words ranked by BM25 alone; then the mean of each over the sets. JSON on the last line.

    .venv/bin/python benchmarks/bench_statute_quality.py
    .venv/bin/python benchmarks/bench_statute_quality.py --database-url sqlite:////tmp/full.sqlite3
"""
from __future__ import annotations

import json
import sys

from statute_bench import (PROJECT, arguments, corpus_database, embed_core_laws,  # sets sys.path
                           plain_bm25)

sys.path.insert(0, str(PROJECT / "tests"))

from flask import current_app  # noqa: E402
from sqlalchemy import select  # noqa: E402

import statute_questions  # noqa: E402
from app.extensions import db  # noqa: E402
from statutes import search as statute_search  # noqa: E402
from statutes.importer import import_corpus  # noqa: E402
from statutes.models import Article, Law  # noqa: E402


class Found:
    """A hit of either engine, as the relevance sets see it."""

    def __init__(self, law_title: str, short_title: str, book: str | None, article: str):
        self.law_title, self.short_title, self.book, self.article = (
            law_title, short_title, book, article)


def concord(question: str) -> list[Found]:
    return [Found(h.law_title, h.short_title, h.book, h.article)
            for h in statute_search.search(question, 10)]


def without_bank(question: str) -> list[Found]:
    """Concord's search without the common questions (statutes/question_bank.py)."""
    entries = statute_search.semantic.bank_entries
    statute_search.semantic.bank_entries = lambda: []
    try:
        return concord(question)
    finally:
        statute_search.semantic.bank_entries = entries


def words_only(question: str) -> list[Found]:
    """Concord's search with semantic search turned off."""
    current_app.config["STATUTE_SEMANTIC"] = False
    try:
        return concord(question)
    finally:
        current_app.config["STATUTE_SEMANTIC"] = True


def baseline(question: str) -> list[Found]:
    """jieba search-mode words, OR-ed, ranked by the database's BM25 alone."""
    ranked = plain_bm25(question)
    rows = {r.id: r for r in db.session.execute(
        select(Article.id, Article.label, Law.title, Law.short_title, Law.book)
        .join(Law, Law.id == Article.law_id)
        .where(Article.id.in_([i for i, _ in ranked])))}
    return [Found(rows[i].title, rows[i].short_title, rows[i].book, rows[i].label)
            for i, _ in ranked if i in rows]


def by_title_fragment(hit: Found, expected: dict) -> bool:
    return any(fragment in hit.law_title and (not labels or hit.article in labels)
               for fragment, labels in expected.items())


def by_short_title_and_book(hit: Found, expected: dict) -> bool:
    labels = expected.get(f"{hit.short_title}{hit.book or ''}")
    return labels is not None and (not labels or hit.article in labels)


def measure(engine, questions, governs) -> dict:
    recall, reciprocal = 0, 0.0
    for question, expected in questions:
        hits = engine(question)
        rank = next((n for n, hit in enumerate(hits, 1) if governs(hit, expected)), None)
        recall += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0.0
        db.session.rollback()
    return {"questions": len(questions), "recall_at_5": round(recall / len(questions), 3),
            "mrr_at_10": round(reciprocal / len(questions), 3)}


def main() -> None:
    args = arguments(__doc__.splitlines()[0],
                     "a database to import into (default: SQLite in a temporary folder)")
    import test_statute_search as relevance
    sets = {"relevance_set": (relevance.RELEVANCE, by_short_title_and_book),
            "fresh": (statute_questions.FRESH, by_title_fragment),
            "unseen": (statute_questions.UNSEEN, by_title_fragment),
            "late": (statute_questions.LATE, by_title_fragment),
            "final": (statute_questions.FINAL, by_title_fragment),
            "closing": (statute_questions.CLOSING, by_title_fragment),
            "after": (statute_questions.AFTER, by_title_fragment),
            "independent_a": (statute_questions.INDEPENDENT_A, by_title_fragment),
            "independent_b": (statute_questions.INDEPENDENT_B, by_title_fragment),
            "independent_c": (statute_questions.INDEPENDENT_C, by_title_fragment),
            "independent_d": (statute_questions.INDEPENDENT_D, by_title_fragment),
            "independent_e": (statute_questions.INDEPENDENT_E, by_title_fragment),
            "independent_f": (statute_questions.INDEPENDENT_F, by_title_fragment),
            "independent_g": (statute_questions.INDEPENDENT_G, by_title_fragment)}
    with corpus_database(args.database_url):
        report = import_corpus(args.corpus)
        embed_core_laws()
        result = {"benchmark": "statute_quality", "database": db.engine.dialect.name,
                  "corpus": str(args.corpus), "articles": report.articles,
                  "semantic": statute_search.semantic.available(),
                  "vectors": statute_search.semantic.vector_count()}
        for name, (questions, governs) in sets.items():
            result[name] = {"concord": measure(concord, questions, governs),
                            "without_bank": measure(without_bank, questions, governs),
                            "words_only": measure(words_only, questions, governs),
                            "baseline_bm25": measure(baseline, questions, governs)}
            print(name, result[name], file=sys.stderr)
        result["mean"] = {engine: {metric: round(sum(result[name][engine][metric] for name in sets)
                                                 / len(sets), 3)
                                   for metric in ("recall_at_5", "mrr_at_10")}
                          for engine in ("concord", "without_bank", "words_only",
                                         "baseline_bm25")}
        result["target"] = {"recall_at_5": 0.90, "mrr_at_10": 0.75}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
