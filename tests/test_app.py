"""The application factory, configuration and sign-in."""
import pytest

from app import create_app
from config import DEFAULT_SECRET_KEY, ProductionConfig
from conftest import PASSWORD


def test_production_refuses_a_default_or_empty_secret_key():
    for key in (DEFAULT_SECRET_KEY, "", "   "):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(ProductionConfig, SECRET_KEY=key, SQLALCHEMY_DATABASE_URI="sqlite://")
    app = create_app(ProductionConfig, SECRET_KEY="a-long-random-production-key",
                     SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_configuration_is_read_from_the_environment(monkeypatch):
    import importlib
    import config
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/from-env.sqlite3")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    reloaded = importlib.reload(config)
    try:
        assert reloaded.Config.SQLALCHEMY_DATABASE_URI == "sqlite:////tmp/from-env.sqlite3"
        assert reloaded.Config.SECRET_KEY == "from-env"
        assert reloaded.config_from_env("production") is reloaded.ProductionConfig
        with pytest.raises(RuntimeError, match="CONCORD_CONFIG"):
            reloaded.config_from_env("staging")
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_passwords_are_hashed(world):
    assert PASSWORD not in world.clerk.password_hash
    assert world.clerk.check_password(PASSWORD)
    assert not world.clerk.check_password("wrong")


def test_sign_in_and_out(client, world):
    bad = client.post("/login?lang=en", data={"username": "clerk", "password": "wrong"})
    assert bad.status_code == 200
    assert "Wrong username or password" in bad.get_data(as_text=True)
    assert client.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_refuses_an_offsite_next(client, world):
    response = client.post("/login?next=https://evil.example/", data={
        "username": "clerk", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_csrf_protects_every_form(app, world, make_case):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in page
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
