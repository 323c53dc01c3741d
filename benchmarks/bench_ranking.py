"""Benchmark: rank the expert pool for a case (top 20 with explanations).

Builds, in a fresh database, a deterministic synthetic city: a city centre, counties,
townships and villages (more of each as the pool grows), and N mediators spread over them as
a real pool is: most at township or village level serving a neighbouring centre or two, a
minority at the county or the city, whose mediators are eligible for every case below them.
Specialties, kinds, languages, loads, track records, ratings and a few conflicts vary
realistically. Then it registers 200 different cases (with parties, some of them organisations,
some with agents, some conflicted with a mediator) across centres and categories, and times
`rank_mediators` for each after a warm-up. Prints JSON on its last line.

    .venv/bin/python benchmarks/bench_ranking.py --mediators 21225
    .venv/bin/python benchmarks/bench_ranking.py --mediators 320000 \
        --database-url postgresql+psycopg://user@host/empty_database
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, inspect, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Centre  # noqa: E402
from cases.models import Case, CaseParty, Party  # noqa: E402
from mediators.models import (Mediator, MediatorConflict, MediatorSpecialty,  # noqa: E402
                              mediator_centres)
from mediators.ranking import eligible_ids, make_needs, rank_mediators  # noqa: E402

TARGETS_P95_MS = {21_225: 20, 320_000: 150}
SURNAMES = "陈林黄张吴王郑李刘杨许蔡何郭罗周游高江魏谢翁卓庄余叶朱邱潘肖"
GIVEN = "建国明华伟强军勇杰涛斌辉秀英芳丽娟敏静燕玲婷霞红梅兰琴雪萍颖慧佳"
# Category weights: how often each kind of dispute comes in (and so how often it is a specialty).
CATEGORY_WEIGHTS = {
    "neighbour": 20, "marriage_family": 15, "labour": 10, "contract": 8, "damages": 8,
    "housing_land": 8, "property_mgmt": 6, "traffic": 6, "consumer": 4, "medical": 3,
    "business": 3, "land_acquisition": 3, "forest_land": 2, "village_affairs": 2,
    "environment": 1, "other": 1,
}
# Where mediators sit (share of the pool) and what kind they mostly are at each level.
LEVEL_SHARES = {"city": 0.03, "county": 0.12, "township": 0.30, "village": 0.55}
LEVEL_KINDS = {
    "city": {"lawyer": 4, "retired_judge": 3, "psychologist": 2, "industry_expert": 3},
    "county": {"lawyer": 3, "retired_judge": 1, "industry_expert": 2, "people_mediator": 4},
    "township": {"people_mediator": 6, "village_elder": 2, "lawyer": 1, "grid_worker": 1},
    "village": {"people_mediator": 4, "village_elder": 4, "grid_worker": 3},
}
# Share of mediators at each level who also serve a neighbouring centre of the same level.
SERVES_NEIGHBOUR = {"city": 0.0, "county": 0.1, "township": 0.3, "village": 0.7}
DIALECTS = (("福州话", 0.5), ("闽南话", 0.15), ("客家话", 0.05), ("英语", 0.03))
CASE_LEVELS = {"city": 5, "county": 20, "township": 35, "village": 40}
ORGANISATION_NAMES = [f"福州{word}{i}有限公司" for i in range(40)
                      for word in ("物业服务", "建设工程", "商贸")] + [
                      f"福建{w}律师事务所" for w in "闽海榕信诚正和泰安达"]


@dataclass
class City:
    """The synthetic city's centres by level, with each centre's neighbours and path."""

    levels: dict[str, list[int]] = field(default_factory=dict)
    siblings: dict[int, list[int]] = field(default_factory=dict)  # neighbours, same parent


def city_shape(n: int) -> tuple[int, int, int]:
    """Counties, townships per county and villages per township for a pool of n mediators."""
    root = n ** 0.5

    def clamp(value, low, high):
        return max(low, min(high, round(value)))
    return clamp(root / 25, 3, 10), clamp(root / 12, 4, 15), clamp(root / 10, 4, 20)


def build_city(n: int) -> City:
    """Insert the centres (ids assigned here) and return their layout."""
    counties, townships, villages = city_shape(n)
    rows, city = [], City(levels={level: [] for level in LEVEL_SHARES})

    def add(level, parent_path, children_of, name):
        centre_id = len(rows) + 1
        path = f"{parent_path}{centre_id}/"
        rows.append(dict(id=centre_id, name=name, short_code=f"C{centre_id}", level=level,
                         parent_id=int(parent_path.strip("/").split("/")[-1]) if parent_path != "/"
                         else None, path=path))
        city.levels[level].append(centre_id)
        children_of.append(centre_id)
        return centre_id, path

    root_id, root_path = add("city", "/", [], "市矛盾纠纷调解中心")
    county_ids: list[int] = []
    for c in range(counties):
        _, county_path = add("county", root_path, county_ids, f"第{c + 1}区中心")
        town_ids: list[int] = []
        for t in range(townships):
            _, town_path = add("township", county_path, town_ids, f"第{c + 1}区{t + 1}街道")
            village_ids: list[int] = []
            for v in range(villages):
                add("village", town_path, village_ids, f"第{c + 1}区{t + 1}街道{v + 1}社区")
            _link_siblings(city, village_ids)
        _link_siblings(city, town_ids)
    _link_siblings(city, county_ids)
    db.session.execute(insert(Centre), rows)
    return city


def _link_siblings(city: City, ids: list[int]) -> None:
    for index, centre_id in enumerate(ids):
        city.siblings[centre_id] = [ids[(index + step) % len(ids)] for step in (-1, 1)
                                    if len(ids) > 1]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


def id_number(serial: int) -> str:
    """A mediator's distinct 18-character identity string (no checksum needed here)."""
    return f"35{serial:016d}"


def mediator_row(rng: random.Random, serial: int, level: str, centre_id: int) -> dict:
    """One synthetic mediator: profile, load and track record."""
    capacity = rng.randint(5, 15)
    load = capacity if rng.random() < 0.08 else rng.randint(0, capacity - 1)
    handled = int(rng.expovariate(1 / 40)) if rng.random() < 0.9 else 0
    settled = round(handled * rng.betavariate(8, 2))
    ratings = int(handled * rng.uniform(0.1, 0.5))
    languages = ["普通话"] + [d for d, share in DIALECTS if rng.random() < share]
    return dict(
        id=serial, external_id=f"M{serial:07d}",
        name=person_name(rng),
        gender=rng.choice(("male", "female")), kind=weighted(rng, LEVEL_KINDS[level]),
        organisation=rng.choice(ORGANISATION_NAMES) if rng.random() < 0.1 else None,
        centre_id=centre_id, languages=",".join(languages),
        years_experience=rng.randint(0, 35), credentials="", biography="", capacity=capacity,
        status=weighted(rng, {"active": 90, "on_leave": 7, "retired": 3}),
        phone=None, id_number=id_number(serial), current_load=load, cases_handled=handled,
        cases_settled=settled, median_days=round(rng.uniform(5, 40), 1) if handled else None,
        rating_count=ratings, rating_sum=round(ratings * rng.uniform(3.2, 5.0)),
        updated_at=datetime(2026, 11, 1))


def build_pool(rng: random.Random, n: int, city: City) -> None:
    """Insert n mediators with their specialties, centres served and a few conflicts."""
    levels = list(LEVEL_SHARES)
    batch: dict[str, list] = {"mediators": [], "specialties": [], "serves": [], "conflicts": []}
    for serial in range(1, n + 1):
        level = rng.choices(levels, list(LEVEL_SHARES.values()))[0]
        centre_id = rng.choice(city.levels[level])
        batch["mediators"].append(mediator_row(rng, serial, level, centre_id))
        categories = {weighted(rng, CATEGORY_WEIGHTS) for _ in range(rng.randint(1, 4))}
        batch["specialties"] += [dict(mediator_id=serial, category=c) for c in sorted(categories)]
        if rng.random() < SERVES_NEIGHBOUR[level]:
            served = rng.sample(city.siblings[centre_id], k=min(len(city.siblings[centre_id]),
                                                                 rng.randint(1, 2)))
            batch["serves"] += [dict(mediator_id=serial, centre_id=c) for c in served]
        if rng.random() < 0.02:
            batch["conflicts"].append(dict(
                mediator_id=serial, name=conflict_name(serial), id_number=conflict_id(serial),
                relation=rng.choice(("亲属", "同事", "邻居")), declared_at=datetime(2026, 1, 1)))
        if len(batch["mediators"]) >= 20_000 or serial == n:
            flush_pool(batch)


def conflict_name(serial: int) -> str:
    return f"冲突人{serial}"


def conflict_id(serial: int) -> str:
    return f"C{serial:017d}"


def flush_pool(batch: dict[str, list]) -> None:
    tables = {"mediators": Mediator.__table__, "specialties": MediatorSpecialty.__table__,
              "serves": mediator_centres, "conflicts": MediatorConflict.__table__}
    for key, table in tables.items():
        if batch[key]:
            db.session.execute(insert(table), batch[key])
            batch[key].clear()
    db.session.commit()


def build_cases(rng: random.Random, n_cases: int, n_mediators: int, city: City) -> list[int]:
    """Insert n_cases open cases (plus an earlier case for some parties); returns their ids."""
    cases, parties, links = [], [], []
    registered = date(2026, 11, 16)
    declared = db.session.execute(select(MediatorConflict.name, MediatorConflict.id_number)).all()
    conflicted = iter(rng.sample(declared, k=min(len(declared), n_cases // 10 + 1)))

    def party(kind="person", name=None, key=None):
        pid = len(parties) + 1
        parties.append(dict(id=pid, kind=kind,
                            name=name or person_name(rng),
                            id_number=(key or f"P{pid:017d}") if kind == "person" else None,
                            credit_code=f"O{pid:017d}" if kind == "organisation" else None,
                            created_at=datetime(2026, 1, 1)))
        return pid

    def case(centre_id, category, status, party_ids, agent=None):
        cid = len(cases) + 1
        cases.append(dict(
            id=cid, number=f"（2026）C{centre_id}调字第{cid:06d}号", year=2026, sequence=cid,
            centre_id=centre_id, source="walk_in", category=category, mediation_type="people",
            facts="纠纷。", claims="请求调解。", status=status,
            registered_at=datetime.combine(registered, datetime.min.time()),
            registered_on=registered, suspended_days=0, updated_at=datetime(2026, 11, 16),
            version=1))
        for position, pid in enumerate(party_ids):
            links.append(dict(case_id=cid, party_id=pid, position=position,
                              role="applicant" if position == 0 else "respondent",
                              refuses_mediation=False,
                              agent_id_number=agent if position == 0 else None))
        return cid

    ranked = []
    for index in range(n_cases):
        level = weighted(rng, CASE_LEVELS)
        centre_id = rng.choice(city.levels[level])
        category = weighted(rng, CATEGORY_WEIGHTS)
        applicant = party()
        conflict = next(conflicted, None) if index % 10 == 3 else None
        if conflict:  # a party a mediator declared a conflict with
            respondent = party(name=conflict.name, key=conflict.id_number)
        elif index % 7 == 2:  # an organisation, sometimes a mediator's employer
            respondent = party("organisation", rng.choice(ORGANISATION_NAMES))
        else:
            respondent = party()
        if index % 5 == 1:  # the applicant had a mediator as agent in an earlier case
            case(centre_id, category, "closed", [applicant, party()],
                 agent=id_number(rng.randint(1, n_mediators)))
        ranked.append(case(centre_id, category, "matching", [applicant, respondent]))
    db.session.execute(insert(Party), parties)
    db.session.execute(insert(Case), cases)
    db.session.execute(insert(CaseParty), links)
    db.session.commit()
    return ranked


def needs_for(rng: random.Random, index: int) -> dict:
    """The parties' stated languages and preferences for the index-th ranking."""
    kwargs: dict = {}
    if index % 3 == 0:
        kwargs["languages"] = rng.sample(["福州话", "闽南话", "客家话"], k=rng.randint(1, 2))
    if index % 4 == 1:
        kwargs["preferences"] = {"gender": rng.choice(("male", "female"))}
    if index % 8 == 5:
        kwargs["preferences"] = {"kinds": ["lawyer", "retired_judge"]}
    return kwargs


def measure(case_ids: list[int], warmup: int = 20) -> dict:
    """Time rank_mediators for every case, after an untimed warm-up: `warmup` cases and one
    case of each kind of needs (each builds and compiles its statement once per process)."""
    rng = random.Random(11)
    plans = [(db.session.get(Case, cid), needs_for(rng, i)) for i, cid in enumerate(case_ids)]
    shapes = {make_needs(k.get("languages", ()), k.get("preferences")).shape: (c, k)
              for c, k in reversed(plans)}
    for case, kwargs in plans[:warmup] + list(shapes.values()):
        rank_mediators(case, **kwargs)
    timings, shown = [], []
    for case, kwargs in plans:
        started = time.perf_counter()
        top = rank_mediators(case, limit=20, **kwargs)
        timings.append((time.perf_counter() - started) * 1000)
        assert all(r.parts for r in top)
        shown.append(len(top))
    timings.sort()
    eligible = [len(eligible_ids(case)) for case, _ in plans]
    return {"p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2), "n": len(timings),
            "eligible_median": int(statistics.median(eligible)), "eligible_max": max(eligible),
            "shown_min": min(shown)}


def generate(n_mediators: int, n_cases: int, seed: int = 20261123) -> list[int]:
    """Build the city, the pool and the cases; returns the ids of the cases to rank."""
    rng = random.Random(seed)
    city = build_city(n_mediators)
    build_pool(rng, n_mediators, city)
    case_ids = build_cases(rng, n_cases, n_mediators, city)
    db.session.commit()
    refresh_statistics()
    return case_ids


def refresh_statistics() -> None:
    """What the database does by itself after a bulk load: planner statistics, and on
    PostgreSQL the visibility map (autovacuum) that lets index-only scans skip the heap."""
    command = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(command))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediators", type=int, default=21_225)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="concord-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            if inspect(db.engine).get_table_names():
                raise SystemExit(f"{url} is not empty: give the benchmark a database of its own")
            started = time.perf_counter()
            db.create_all()
            case_ids = generate(args.mediators, args.cases)
            build_s = time.perf_counter() - started
            figures = measure(case_ids)
            dialect = db.engine.dialect.name
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    target = TARGETS_P95_MS.get(args.mediators)
    print(json.dumps({"benchmark": "rank_mediators", "database": dialect,
                      "mediators": args.mediators, "cases": args.cases,
                      "build_s": round(build_s, 1), **figures,
                      "target_p95_ms": target, "targets_p95_ms": TARGETS_P95_MS,
                      "met": None if target is None else figures["p95_ms"] <= target}))


if __name__ == "__main__":
    main()
