"""What the statute benchmarks share: a database to import the corpus into, and the plain
BM25 baseline (jieba words, OR-ed, ranked by the database alone) they compare search with."""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from statutes import search as statute_search  # noqa: E402


def arguments(description: str, database_help: str) -> argparse.Namespace:
    """--corpus (default: the full collection beside the project) and --database-url."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "statutes-full")
    parser.add_argument("--database-url", default=None, help=database_help)
    return parser.parse_args()


@contextmanager
def corpus_database(database_url: str | None) -> Iterator[None]:
    """An app context on the given database (default: SQLite in a temporary folder), with the
    models' tables created; the connections are closed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'statutes-bench.sqlite3'}"
        app = create_app(None, SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            db.create_all()
            try:
                yield
            finally:
                db.session.remove()
                db.engine.dispose()


def embed_core_laws() -> int:
    """Give the core laws' articles and the common questions their meaning vectors
    (statutes.semantic), from the cache where it has them; reports on stderr. Returns how
    many articles were missing."""
    from statutes import semantic
    if not semantic.available():
        print("semantic search unavailable: measuring search by words only", file=sys.stderr)
        return 0
    semantic.renew_if_stale()                  # vectors made by an earlier release
    missing = semantic.missing_articles()
    if missing:
        print(f"embedding {len(missing)} articles (cached for later runs)…", file=sys.stderr)
        semantic.embed_articles(missing)
    semantic.embed_bank()                      # the common questions (cached likewise)
    return len(missing)


def plain_bm25(question: str, limit: int = 10) -> list[tuple[int, float]]:
    """The baseline: (article id, score) of the database's BM25 top `limit` for the
    question's jieba search-mode words, OR-ed."""
    words = [w for w in statute_search._clean(statute_search._jieba().cut_for_search(question))
             if w not in statute_search.STOP_WORDS]
    concepts = [statute_search.Concept(w, [(w, [w])]) for w in dict.fromkeys(words)]
    return statute_search._candidates(concepts, limit) if concepts else []
