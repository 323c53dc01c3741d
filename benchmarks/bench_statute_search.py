"""Benchmark: search the whole statute corpus with questions in plain Chinese.

Imports the corpus into a fresh SQLite database (or --database-url; importing into a database
that already holds the corpus skips every unchanged file), which also indexes every article for
search, and gives the core laws' articles their meaning vectors (minutes the first time, then
from the cache), then times 200 searches (after one untimed pass over the questions, as a running
server would have made: jieba and the model loaded, the words' article counts remembered; each
question's vector is made anew, as for a question never asked), and in the same run the plain
BM25 query of the same words as a baseline. Prints JSON on its last line; the target is
p95 ≤ 50 ms over ../shared/statutes-full.

    .venv/bin/python benchmarks/bench_statute_search.py
    .venv/bin/python benchmarks/bench_statute_search.py --corpus ../shared/statutes
"""
from __future__ import annotations

import json
import statistics
import time

from statute_bench import arguments, corpus_database, embed_core_laws, plain_bm25  # sets sys.path

from app.extensions import db
from statutes import semantic
from statutes.importer import import_corpus
from statutes.search import search

TARGET_P95_MS = 50
RUNS = 200
QUESTIONS = [
    "公司拖欠工资两个月不发", "邻居家的狗咬伤了我", "楼上扔东西砸坏了车", "一方拒绝调解怎么办",
    "调解协议司法确认", "出了车祸对方要我赔偿", "医院手术出了医疗事故要求赔偿", "业主不交物业费",
    "分手了要求退还彩礼", "子女不赡养老人", "离婚后孩子的抚养费谁出", "父亲去世没有遗嘱遗产怎么分",
    "上下班路上被车撞了算工伤吗", "公司无故辞退我要赔偿", "加班不给加班费", "朋友借钱不还",
    "楼上漏水到我家", "买到假货要求退一赔三", "被人打伤了医药费误工费怎么算", "房租到期不交",
    "老公打我家暴", "宅基地被邻居占了", "邻居装修噪音太大", "没签劳动合同能要双倍工资吗",
    "试用期被辞退", "网购退货商家不同意", "土地承包合同纠纷", "房屋征收补偿太低",
    "交通事故保险公司不赔", "精神损失费能要多少",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "a database to import into (default: SQLite "
                     "in a temporary folder); one holding the corpus already is re-used")
    with corpus_database(args.database_url):
        report = import_corpus(args.corpus)
        embedded = embed_core_laws()
        for question in QUESTIONS:      # warm: jieba loaded, word counts remembered
            search(question)
            db.session.rollback()
        timings, baseline = [], []
        for run in range(RUNS):
            question = QUESTIONS[run % len(QUESTIONS)]
            semantic.forget_questions()
            started = time.perf_counter()
            search(question, 10)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            started = time.perf_counter()
            plain_bm25(question)
            baseline.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        result = {
            "benchmark": "statute_search", "database": db.engine.dialect.name,
            "corpus": str(args.corpus), "articles": report.articles,
            "indexed": report.indexed, "import_seconds": round(report.seconds, 1),
            "index_seconds": round(report.index_seconds, 1),
            "semantic": semantic.available(), "vectors": semantic.vector_count(),
            "embedded_now": embedded,
            "queries": RUNS, "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
            "baseline_bm25_p50_ms": round(statistics.median(baseline), 1),
            "baseline_bm25_p95_ms": round(percentile(baseline, 0.95), 1),
            "target_p95_ms": TARGET_P95_MS,
            "ok": percentile(timings, 0.95) <= TARGET_P95_MS,
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
