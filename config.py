"""Configuration classes, read from environment variables.

Imports nothing of ours. Select a class with CONCORD_CONFIG (development, test, production).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEFAULT_SECRET_KEY = "dev-only-insecure-key"


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'concord.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = os.environ.get("CONCORD_LOCALE", "zh_Hans_CN")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("CONCORD_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    CASES_PER_PAGE = int(os.environ.get("CONCORD_CASES_PER_PAGE", "25"))
    # Public address printed in documents' verification links (else the request's host).
    DOCUMENTS_BASE_URL = os.environ.get("CONCORD_DOCUMENTS_BASE_URL") or None
    STATUTES_DIR = os.environ.get("CONCORD_STATUTES_DIR", str(BASE_DIR.parent / "shared" / "statutes"))
    # Semantic statute search (statutes/semantic.py): on where its model is installed; the
    # vectors made are cached in this file, keyed by their text (empty: no cache).
    STATUTE_SEMANTIC = os.environ.get("CONCORD_STATUTE_SEMANTIC", "1") != "0"
    STATUTE_VECTOR_CACHE = os.environ.get("CONCORD_STATUTE_VECTOR_CACHE",
                                          str(INSTANCE_DIR / "statute-vectors.sqlite3"))
    MAX_CONTENT_LENGTH = 6 * 1024 * 1024  # uploads (mediator lists) are refused above this
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    # Statutory clocks (DESIGN section 4): the one place they are set.
    # *_working_days count on the Chinese working-day calendar; *_days are calendar days.
    STATUTORY_CLOCKS = {
        "acceptance_working_days": 3,     # confirm acceptance within 3 working days
        "choice_window_working_days": 3,  # parties choose mediators, then the centre designates
        "mediation_days": 30,             # mediation before filing lasts 30 days
        "confirmation_days": 30,          # 人民调解法 第三十三条: apply within 30 days
        "follow_up_days": 15,             # follow-up visit after the agreed performance date
        "due_soon_working_days": 1,       # 临期: within this many working days of the due date
    }


class DevelopmentConfig(Config):
    """Local use with `make run`."""

    DEBUG = False


class TestConfig(Config):
    """The test suite: its own database, no CSRF unless a test turns it on."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False


class ProductionConfig(Config):
    """A centre's server: PostgreSQL and a real secret key."""

    SESSION_COOKIE_SECURE = os.environ.get("CONCORD_INSECURE_COOKIES") != "1"


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env(name: str | None = None) -> type[Config]:
    """Return the config class named by `name` or CONCORD_CONFIG (default development)."""
    name = name or os.environ.get("CONCORD_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown CONCORD_CONFIG {name!r}; use one of {sorted(CONFIGS)}") from None
