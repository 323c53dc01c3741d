"""Benchmark: the clerk's case list page (filter by centre + state, sort by due date).

Builds a fresh database with N synthetic cases (two parties each) spread over a city's
centres, then requests the list page as a signed-in director of the city through the Flask
test client: the whole request (query, count, parties, template). The target figures filter by
one centre and a state; the city-wide figures (a state over all 22 centres) are for comparison.
Prints JSON on its last line.

    .venv/bin/python benchmarks/bench_case_list.py --cases 1000000
    .venv/bin/python benchmarks/bench_case_list.py --cases 100000 --database-url postgresql+psycopg://...
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, inspect, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Centre, User  # noqa: E402
from cases.models import Case, CaseParty, Party  # noqa: E402
from cases.vocabulary import CATEGORIES, SOURCES  # noqa: E402

PASSWORD = "bench-password"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅晓东海燕"
STATE_WEIGHTS = {"registered": 4, "matching": 4, "mediating": 10, "suspended": 2, "agreed": 6,
                 "confirming": 1, "confirmed": 3, "terminated": 3, "referred": 3, "declined": 3,
                 "withdrawn": 3, "closed": 57}


def build_centres() -> list[Centre]:
    """City → 3 counties → 2 townships each → 2 villages each (22 centres)."""
    centres = []

    def add(name, code, level, parent):
        centre = Centre(name=name, short_code=code, level=level, parent=parent)
        db.session.add(centre)
        db.session.flush()
        centre.path = (parent.path if parent else "/") + f"{centre.id}/"
        centres.append(centre)
        return centre

    city = add("市中心", "市", "city", None)
    for c in range(3):
        county = add(f"第{c + 1}区中心", f"区{c}", "county", city)
        for t in range(2):
            town = add(f"第{c + 1}区第{t + 1}街道", f"区{c}街{t}", "township", county)
            for v in range(2):
                add(f"第{c + 1}区第{t + 1}街道第{v + 1}社区", f"区{c}街{t}村{v}", "village", town)
    db.session.commit()
    return centres


def generate(n_cases: int, seed: int = 20261123) -> None:
    rng = random.Random(seed)
    centres = build_centres()
    director = User(username="director", display_name="主任", role="director",
                    centre=centres[0])
    director.set_password(PASSWORD)
    db.session.add(director)
    db.session.commit()
    today = date.today()
    states, weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    categories, sources = list(CATEGORIES), list(SOURCES)
    sequences: dict[int, int] = {}
    batch = 20_000
    party_id = case_id = link_id = 0
    for start in range(0, n_cases, batch):
        cases, parties, links = [], [], []
        for _ in range(min(batch, n_cases - start)):
            case_id += 1
            centre = rng.choice(centres)
            seq = sequences[centre.id] = sequences.get(centre.id, 0) + 1
            status = rng.choices(states, weights)[0]
            registered = today - timedelta(days=rng.randint(0, 720))
            open_case = status not in ("declined", "withdrawn", "closed", "suspended",
                                       "confirming", "terminated", "referred")
            cases.append(dict(
                id=case_id, number=f"（{registered.year}）{centre.short_code}调字第{seq:06d}号",
                year=registered.year, sequence=seq, centre_id=centre.id,
                source=rng.choice(sources), category=rng.choice(categories),
                mediation_type="people", facts="邻里纠纷。", claims="赔偿损失。", status=status,
                registered_at=datetime.combine(registered, datetime.min.time()),
                registered_on=registered, suspended_days=0,
                next_due=(today + timedelta(days=rng.randint(-20, 30))) if open_case else None,
                updated_at=datetime.now(), version=1))
            for role in ("applicant", "respondent"):
                party_id += 1
                link_id += 1
                parties.append(dict(id=party_id, kind="person",
                                    name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                                    created_at=datetime.now()))
                links.append(dict(id=link_id, case_id=case_id, party_id=party_id, role=role,
                                  position=0 if role == "applicant" else 1,
                                  refuses_mediation=False))
        db.session.execute(insert(Case), cases)
        db.session.execute(insert(Party), parties)
        db.session.execute(insert(CaseParty), links)
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


FILTERED_STATES = ["registered", "matching", "mediating", "agreed", "closed"]


def measure(app, requests: int, with_centre: bool, seed: int = 7) -> dict:
    """Timings of list pages filtered by state, and by one centre when `with_centre`."""
    rng = random.Random(seed)
    client = app.test_client()
    response = client.post("/login", data={"username": "director", "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    with app.app_context():
        centres = list(db.session.scalars(select(Centre.id)))
    timings = []
    for i in range(requests + 10):
        centre = f"centre={rng.choice(centres)}&" if with_centre else ""
        url = (f"/cases/?{centre}state={rng.choice(FILTERED_STATES)}"
               f"&sort=due&page={rng.choice([1, 1, 1, 2, 3])}")
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if i >= 10:  # the first requests warm caches
            timings.append(elapsed)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2), "n": len(timings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a database this benchmark built before, without rebuilding")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="concord-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        started = time.perf_counter()
        if args.reuse:
            args.cases = db.session.scalar(select(func.count(Case.id)))
        elif inspect(db.engine).get_table_names():
            raise SystemExit(f"{url} is not empty: give the benchmark a database of its own")
        else:
            db.create_all()
            generate(args.cases)
        build_s = time.perf_counter() - started
        dialect = db.engine.dialect.name
    figures = measure(app, args.requests, with_centre=True)
    citywide = measure(app, args.requests // 4, with_centre=False)
    print(json.dumps({"benchmark": "case_list_page", "database": dialect, "cases": args.cases,
                      "build_s": round(build_s, 1), **figures, "target_p95_ms": 60,
                      "citywide_state_p50_ms": citywide["p50_ms"],
                      "citywide_state_p95_ms": citywide["p95_ms"]}))


if __name__ == "__main__":
    main()
