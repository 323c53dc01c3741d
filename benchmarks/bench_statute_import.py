"""Benchmark: import a whole statute corpus into a fresh database.

Creates an empty SQLite database in a temporary folder (or uses --database-url, which must
point to an empty database), imports the corpus with the same code as
`flask statutes import`, then imports it again (every file unchanged). Prints JSON on its last
line; the target is the first import of ../shared/statutes-full in 90 s or less.

    .venv/bin/python benchmarks/bench_statute_import.py
    .venv/bin/python benchmarks/bench_statute_import.py --corpus ../shared/statutes
"""
from __future__ import annotations

import json
import sys
import time

from statute_bench import arguments, corpus_database  # also puts the project on sys.path

from app.extensions import db
from statutes.importer import import_corpus

TARGET_S = 90


def main() -> None:
    args = arguments(__doc__.splitlines()[0],
                     "an empty database (default: SQLite in a temporary folder)")
    with corpus_database(args.database_url):
        started = time.perf_counter()
        report = import_corpus(args.corpus)
        seconds = time.perf_counter() - started
        again = import_corpus(args.corpus)
        for relative, reason in report.skipped:
            print(f"skipped {relative}: {reason}", file=sys.stderr)
        result = {
            "benchmark": "statute_import", "database": db.engine.dialect.name,
            "corpus": str(args.corpus), "seconds": round(seconds, 2),
            "index_seconds": round(report.index_seconds, 2), "indexed": report.indexed,
            "files": report.files, "imported": report.imported,
            "skipped": len(report.skipped), "laws": report.laws,
            "articles": report.articles, "reimport_seconds": round(again.seconds, 2),
            "reimport_unchanged": again.unchanged, "target_s": TARGET_S,
            "ok": seconds <= TARGET_S,
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
