"""Benchmark: render the demo agreement (人民调解协议书, 4 pages, three parties, rare
characters in names, fonts embedded, PDF/A-3b) as `flask documents demo` does.

Wall-clock times suffer when other processes share the CPU: cpu_median_ms (process CPU
time per render) is the figure to compare on a busy machine. The first render in the process
is timed apart (cold_ms: fonts loaded into fontconfig and
Pango, templates compiled; the subset faces under instance/fonts/ are built beforehand and
their build time is reported as fonts_build_ms, 0 when they were already there). Then N warm
renders are timed. Prints JSON on its last line.

    .venv/bin/python benchmarks/bench_pdf.py --runs 20
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="warm renders to time")
    parser.add_argument("--font-dir", default=None,
                        help="where the subset faces live (default: instance/fonts)")
    parser.add_argument("--out", default=None, help="also write the PDF here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/bench.sqlite3"}
        if args.font_dir:
            overrides["DOCUMENTS_FONT_DIR"] = args.font_dir
        app = create_app("test", **overrides)
        with app.app_context():
            from cases import documents
            from cases.document_demo import DEMO_ISSUED_AT, demo_agreement

            started = time.perf_counter()
            documents.ensure_fonts()
            fonts_ms = (time.perf_counter() - started) * 1000

            started = time.perf_counter()
            pdf = documents.render(demo_agreement(), issued_at=DEMO_ISSUED_AT)
            cold_ms = (time.perf_counter() - started) * 1000

            timings, cpu = [], []
            for _ in range(args.runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                again = documents.render(demo_agreement(), issued_at=DEMO_ISSUED_AT)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            deterministic = again.content == pdf.content
    if args.out:
        Path(args.out).write_bytes(pdf.content)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(json.dumps({
        "benchmark": "agreement_pdf", "runs": args.runs,
        "median_ms": round(statistics.median(timings), 1), "p95_ms": round(p95, 1),
        "cpu_median_ms": round(statistics.median(cpu), 1), "cold_ms": round(cold_ms, 1), "fonts_build_ms": round(fonts_ms, 1),
        "bytes": len(pdf.content), "pages": pdf.pages, "deterministic": deterministic,
        "target": {"median_ms": 300, "bytes": 200_000}}))


if __name__ == "__main__":
    main()
