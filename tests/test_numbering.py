"""Case numbers: （year）<centre code>调字第NNNN号, one sequence per centre per year, no gaps or
duplicates, also under concurrent intake."""
import threading
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from cases.models import Case
from cases.services import IntakeData, IntakeError, format_case_number, register_case
from conftest import TEST_DB, person


def intake(centre_id, parties=None):
    return IntakeData(centre_id=centre_id, source="walk_in", category="neighbour",
                      facts="噪音扰民。", claims="停止侵害。",
                      parties=parties or [person(id_number=None),
                                          person("respondent", "李四", id_number=None)])


def test_format():
    assert format_case_number(2026, "榕鼓", 7) == "（2026）榕鼓调字第0007号"


def test_one_sequence_per_centre_per_year(world):
    numbers = [register_case(intake(c.id), world.clerk, today=d).number for c, d in [
        (world.county, date(2026, 3, 2)), (world.county, date(2026, 3, 3)),
        (world.township, date(2026, 3, 3)), (world.county, date(2027, 1, 4))]]
    assert numbers == ["（2026）榕鼓调字第0001号", "（2026）榕鼓调字第0002号",
                       "（2026）榕鼓东调字第0001号", "（2027）榕鼓调字第0001号"]


def test_failed_intake_gives_its_number_back(world):
    other_side = person("respondent", "李四", id_number=None)
    register_case(intake(world.county.id, [person(), other_side]), world.clerk,
                  today=date(2026, 3, 2))
    # The same ID number under another name is found only after the number was taken.
    clash = intake(world.county.id, [person(name="王五"), other_side])
    with pytest.raises(IntakeError) as raised:
        register_case(clash, world.clerk, today=date(2026, 3, 2))
    assert "different name" in raised.value.errors["parties"]
    assert register_case(intake(world.county.id), world.clerk,
                         today=date(2026, 3, 2)).number.endswith("第0002号")


def test_concurrent_intake_has_no_gaps_or_duplicates(app, world):
    if TEST_DB != "postgresql":
        pytest.skip("concurrency is tested against PostgreSQL (SQLite serialises all writers)")
    threads, per_thread, centre_id, clerk_id = 8, 5, world.county.id, world.clerk.id
    errors, barrier = [], threading.Barrier(threads)

    def work():
        with app.app_context():
            from app.models import User
            clerk = db.session.get(User, clerk_id)
            barrier.wait()
            try:
                for _ in range(per_thread):
                    register_case(intake(centre_id), clerk, today=date(2026, 5, 6))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    sequences = sorted(db.session.scalars(select(Case.sequence).where(Case.centre_id == centre_id)))
    assert sequences == list(range(1, threads * per_thread + 1))
