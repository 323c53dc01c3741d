"""Migrations: an empty database upgrades to exactly the models' schema, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from app import create_app
from app.extensions import db
from conftest import TEST_DB


@pytest.fixture
def empty_database_url(tmp_path):
    if TEST_DB == "postgresql":
        import pgserver
        server = pgserver.find_or_start()
        url = pgserver.create_database(server.admin_url)
        yield url
        pgserver.drop_database(server.admin_url, url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def migrated(empty_database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_matches_the_models(migrated):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_audit_log_is_append_only_in_the_database(migrated):
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO centres (id, name, short_code, level, path) "
                          "VALUES (1, 'c', 'C', 'city', '/1/')"))
        conn.execute(text(
            "INSERT INTO cases (id, number, year, sequence, centre_id, source, category, facts, "
            "claims, status, registered_at, registered_on, suspended_days, updated_at, version) "
            "VALUES (1, 'n', 2026, 1, 1, 'walk_in', 'other', 'f', 'c', 'registered', "
            "'2026-01-05 09:00:00', '2026-01-05', 0, '2026-01-05 09:00:00', 1)"))
        conn.execute(text(
            "INSERT INTO audit_events (id, case_id, seq, actor_name, occurred_at, trigger, reason, "
            "data, prev_hash, hash) VALUES (1, 1, 1, 'x', '2026-01-05 09:00:00', 'register', '', "
            "'{}', 'p', 'h')"))
    for statement in ("UPDATE audit_events SET reason = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT reason FROM audit_events")).scalar() == ""


def test_downgrade_to_empty_and_up_again(migrated):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "cases" in inspect(db.engine).get_table_names()
