"""Benchmark: bulk intake of a 12345-hotline export (CSV or XLSX) into a fresh migrated database.

Generates a realistic export of N rows (about 3% of them with an error: a wrong ID check digit,
no facts, an unknown type, a reference repeated in the file; about 10% of applicants appearing
on several rows), then times what the web import does: read the file, check every row against
the database, register the good rows in chunks (numbers, parties, audit events). Then imports
the same file again (idempotent: nothing new) and checks every audit chain. Prints JSON on its
last line.

    .venv/bin/python benchmarks/bench_bulk_intake.py --rows 100000
    .venv/bin/python benchmarks/bench_bulk_intake.py --rows 100000 --format xlsx
    .venv/bin/python benchmarks/bench_bulk_intake.py --database-url postgresql+psycopg://...
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, inspect, select  # noqa: E402

from app import create_app  # noqa: E402
from app.audit import verify_chains  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Centre, User  # noqa: E402
from cases import bulk_intake  # noqa: E402
from cases.models import Case  # noqa: E402
from cases.validators import credit_check_char, id_check_char  # noqa: E402

HEADERS = ["工单编号", "受理时间", "事件类型", "诉求内容", "反映人", "联系电话", "身份证号", "联系地址",
           "被反映人", "被反映人电话", "统一社会信用代码", "涉及金额", "承办单位"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅晓东海燕"
TYPES = ["劳动争议", "欠薪", "拖欠农民工工资", "邻里纠纷", "物业服务纠纷", "婚姻家庭", "交通事故",
         "消费纠纷", "房屋租赁", "噪音扰民", "合同纠纷", "医疗纠纷", "宅基地纠纷", "其他"]
FACTS = ["{name}反映{other}拖欠其{months}个月工资共计{amount}元，多次催讨未果，请求协调解决。",
         "{name}反映楼上住户{other}家中漏水，导致其天花板及墙面受损，协商赔偿未果。",
         "{name}反映{other}提供的物业服务不到位，小区电梯多次故障，要求减免物业费。",
         "{name}反映在{other}购买的商品存在质量问题，要求退货退款，商家拒绝。",
         "{name}反映其与{other}因宅基地界址发生争执，双方多次发生口角，请求调解。"]
STREETS = ["东街", "南街", "温泉", "华大", "鼓东", "鼓西", "安泰", "五凤"]


def id_number(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    first = f"350102{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first + id_check_char(first)


def credit_code(n: int) -> str:
    first = f"91350100MA{n:07d}"
    return first + credit_check_char(first)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def generate_rows(n: int, seed: int = 20261123) -> list[list[str]]:
    rng = random.Random(seed)
    people: list[tuple[str, str]] = []
    rows = []
    for i in range(n):
        if people and rng.random() < 0.10:
            person_name, person_id = rng.choice(people)
        else:
            person_name, person_id = name(rng), (id_number(rng) if rng.random() < 0.8 else "")
            if person_id:
                people.append((person_name, person_id))
        company = rng.random() < 0.4
        other = (f"福州{rng.choice(STREETS)}{rng.randrange(1000)}号商贸有限公司" if company
                 else name(rng))
        amount = rng.randrange(500, 200000)
        facts = rng.choice(FACTS).format(name=person_name, other=other, months=rng.randrange(1, 9),
                                         amount=amount)
        row = [f"FZ12345-2026-{i + 1:07d}", f"2026-11-{rng.randrange(1, 16):02d} 09:30",
               rng.choice(TYPES), facts, person_name, f"13{rng.randrange(10 ** 9):09d}", person_id,
               f"福州市鼓楼区{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
               other, f"0591-8{rng.randrange(10 ** 6):06d}" if rng.random() < 0.5 else "",
               credit_code(rng.randrange(10 ** 6)) if company and rng.random() < 0.5 else "",
               str(amount) if rng.random() < 0.5 else "", ""]
        flaw = rng.random()
        if flaw < 0.01 and row[6]:
            row[6] = row[6][:17] + ("0" if row[6][17] != "0" else "1")  # wrong check digit
        elif flaw < 0.02:
            row[3] = ""
        elif flaw < 0.025:
            row[2] = "城市管理"
        elif flaw < 0.03 and i:
            row[0] = rows[-1][0]
        rows.append(row)
    return rows


def file_bytes(rows: list[list[str]], fmt: str) -> bytes:
    if fmt == "xlsx":
        import openpyxl
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("工单")
        sheet.append(HEADERS)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def setup() -> tuple[Centre, User]:
    city = Centre(name="福州市矛盾纠纷调解中心", short_code="榕", level="city")
    db.session.add(city)
    db.session.flush()
    city.path = f"/{city.id}/"
    county = Centre(name="鼓楼区矛盾纠纷调解中心", short_code="榕鼓", level="county", parent=city)
    db.session.add(county)
    db.session.flush()
    county.path = f"{city.path}{county.id}/"
    clerk = User(username="clerk", display_name="受理员", role="clerk", centre=county,
                 password_hash="x")
    db.session.add(clerk)
    db.session.commit()
    return county, clerk


def timed_import(content: bytes, fmt: str, centre: Centre, clerk: User) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    batch, sheet = bulk_intake.create_batch(content, f"export.{fmt}", "hotline_12345", centre,
                                            None)
    read_s = time.perf_counter() - started
    batch.user_id = clerk.id
    db.session.commit()
    report = bulk_intake.run_import(batch, sheet, clerk)
    seconds = time.perf_counter() - started
    counts = report.counts
    return {"seconds": round(seconds, 2), "read_s": round(read_s, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "created": counts["created"], "skipped": counts["imported"],
            "failed": counts["error"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="concord-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    started = time.perf_counter()
    content = file_bytes(generate_rows(args.rows), args.format)
    generate_s = time.perf_counter() - started
    with app.test_request_context():
        if inspect(db.engine).get_table_names():
            raise SystemExit(f"{url} is not empty: give the benchmark a database of its own")
        from flask_migrate import upgrade
        upgrade()
        centre, clerk = setup()
        first = timed_import(content, args.format, centre, clerk)
        again = timed_import(content, args.format, centre, clerk)
        started = time.perf_counter()
        cases, _events, broken = verify_chains()
        verify_s = time.perf_counter() - started
        total = db.session.scalar(select(func.count(Case.id)))
        dialect = db.engine.dialect.name
    print(json.dumps({
        "benchmark": "bulk_intake", "database": dialect, "format": args.format,
        "rows": args.rows, "file_mb": round(len(content) / 2 ** 20, 1),
        "generate_s": round(generate_s, 1), "seconds": first["seconds"],
        "rows_per_s": round(args.rows / first["seconds"]), "read_s": first["read_s"],
        "cpu_s": first["cpu_s"],
        "created": first["created"], "skipped": first["skipped"], "failed": first["failed"],
        "reimport_seconds": again["seconds"], "reimport_cpu_s": again["cpu_s"], "reimport_created": again["created"],
        "reimport_skipped": again["skipped"], "reimport_failed": again["failed"],
        "cases_in_db": total, "audit_verify_s": round(verify_s, 1),
        "audit_broken": len(broken), "target_s": 60}))


if __name__ == "__main__":
    main()
