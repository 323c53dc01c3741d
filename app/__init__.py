"""The application factory: create_app() builds everything; nothing happens at import time."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import DEFAULT_SECRET_KEY, Config, config_from_env

BASE_DIR = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | str | None = None, **overrides) -> Flask:
    """Build the Flask app from a config class (or its name) plus keyword overrides."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    config_class = config if isinstance(config, type) else config_from_env(config)
    app.config.from_object(config_class)
    app.config.update(overrides)
    _refuse_insecure_production(app, config_class)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from app import extensions
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(BASE_DIR / "migrations"))
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)

    from app import i18n
    i18n.init_app(app)

    _import_models()
    from app import auth, calendar_views, cli, errors, main, templating
    from app import api
    from cases import bulk_views, document_views
    from cases import views as case_views
    from mediators import views as mediator_views
    from mediators import clerk_choice_views, party_views
    from statutes import citation_views
    from statutes import views as statute_views
    templating.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    for blueprint in (auth.bp, main.bp, case_views.bp, calendar_views.bp, party_views.bp,
                      clerk_choice_views.bp, mediator_views.pool, mediator_views.admin,
                      statute_views.bp, document_views.bp, bulk_views.bp,
                      citation_views.bp):
        app.register_blueprint(blueprint)
    api.init_app(app)
    return app


def _refuse_insecure_production(app: Flask, config_class: type[Config]) -> None:
    from config import ProductionConfig
    if issubclass(config_class, ProductionConfig):
        key = app.config.get("SECRET_KEY") or ""
        if not key.strip() or key == DEFAULT_SECRET_KEY:
            raise RuntimeError(
                "Refusing to start in production without a SECRET_KEY: set the SECRET_KEY "
                "environment variable to a long random value.")


def _import_models() -> None:
    """Import every model module so that SQLAlchemy and Alembic see all tables."""
    import app.models  # noqa: F401
    import app.api.models  # noqa: F401
    import cases.models  # noqa: F401
    import cases.document_models  # noqa: F401
    import cases.bulk_models  # noqa: F401
    import mediators.models  # noqa: F401
    import mediators.choice_models  # noqa: F401
    import statutes.models  # noqa: F401
    import statutes.citation_models  # noqa: F401

