"""Tests of tests/pgserver.py, the PostgreSQL finder/starter. They need no Flask app."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also without conftest
import pgserver  # noqa: E402

psycopg = pytest.importorskip("psycopg")


def _exists(admin_url, name):
    with psycopg.connect(admin_url, connect_timeout=5) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@pytest.mark.postgres_only
def test_create_and_drop_database():
    if os.environ.get("CONCORD_TEST_DB") != "postgresql":
        pytest.skip("PostgreSQL run only (CONCORD_TEST_DB=postgresql)")
    server = pgserver.find_or_start()
    try:
        url = pgserver.create_database(server.admin_url)
        name = url.rsplit("/", 1)[1]
        assert url.startswith("postgresql+psycopg://")
        assert name.startswith("concord_test_")
        try:
            assert _exists(server.admin_url, name)
            # The returned URL itself connects (as libpq URL, minus the driver).
            with psycopg.connect(pgserver._libpq_url(url), connect_timeout=5) as conn:
                assert conn.execute("SELECT current_database()").fetchone()[0] == name
        finally:
            pgserver.drop_database(server.admin_url, url)
        assert not _exists(server.admin_url, name)
    finally:
        server.stop()


def test_drop_database_refuses_other_names():
    for url in ("postgresql+psycopg://postgres@127.0.0.1:1/postgres",
                "postgresql+psycopg://postgres@127.0.0.1:1/test",
                "postgresql+psycopg://postgres@127.0.0.1:1/concord_test_; DROP"):
        with pytest.raises(ValueError):
            pgserver.drop_database("postgresql://postgres@127.0.0.1:1/postgres", url)


@pytest.mark.skipif(pgserver.find_pg_bindir() is None,
                    reason="no initdb under /usr/lib/postgresql/*/bin or on PATH")
def test_throwaway_cluster_starts_and_is_removed():
    server = pgserver.find_or_start(prefer_existing=False)
    try:
        assert server.started
        assert os.path.isdir(server.datadir)
        with psycopg.connect(server.admin_url, connect_timeout=5) as conn:
            assert conn.execute("SHOW fsync").fetchone()[0] == "off"
        url = server.create_database()
        name = url.rsplit("/", 1)[1]
        assert _exists(server.admin_url, name)
        server.drop_database(url)
        assert not _exists(server.admin_url, name)
    finally:
        server.stop()
    assert not os.path.exists(server.tmpdir)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.admin_url, connect_timeout=2).close()
    server.stop()  # idempotent
