"""The integration JSON API under /api/v1, its OpenAPI document and docs page, and the
admin's token pages."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

API_PREFIX = "/api/v1"
DESCRIPTION = (
    "Other systems (the 12345 hotline, the grid platform, courts, police) hand disputes over "
    "and follow them. Every call carries an integration token: "
    "`Authorization: Bearer <token>` (an administrator creates it; it is shown once). "
    "A token sees the cases of its centre and the centres below it, and only cases of its "
    "source channel when it has one; a case outside that scope answers 404. Errors are JSON: "
    "`{\"code\", \"status\", \"message\", \"errors\"}`, where `errors` holds field-level "
    "messages for 422 (`{\"json\": {\"field\": [\"message\"]}}`). Messages are in English; "
    "field and condition codes are stable. Case numbers such as （2026）榕鼓调字第0001号 are "
    "URL-encoded in paths.")


class ConcordApi(Api):
    """flask-smorest's Api with our error schema, every error documented per operation
    (no catch-all "default" answer) and JSON errors only under /api/ (see errors.py)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        from app.api import errors
        errors.install_on_app(self._app)


def init_app(app: Flask) -> None:
    """Register the API on the app."""
    from app.api import pages, schemas, views
    from app.extensions import csrf
    ConcordApi.ERROR_SCHEMA = schemas.ErrorSchema
    for key, value in {
        "API_TITLE": "Concord integration API",
        "API_VERSION": "1.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {"info": {"description": DESCRIPTION},
                             "security": [{"bearerAuth": []}]},
    }.items():
        app.config.setdefault(key, value)
    api = ConcordApi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An integration token from `flask api-token create` or the admin page"})
    api.register_blueprint(views.bp)
    csrf.exempt(views.bp)
    app.register_blueprint(pages.bp)
    app.extensions["concord-api"] = api
