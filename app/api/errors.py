"""JSON error answers for the API: {"code", "status", "message", "errors", …}, never the
HTML error pages (those stay for every other path)."""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException, default_exceptions

API_PATH = "/api/"
EXTRA_KEYS = ("condition", "state", "trigger")
VALIDATION_MESSAGE = "The request's data is not valid: see `errors`, by location and field."


def error_answer(error: HTTPException):
    """The JSON body, status and headers for an HTTP error raised inside the API."""
    data = getattr(error, "data", None) or {}
    payload = {"code": error.code, "status": error.name}
    errors = data.get("errors") or data.get("messages")
    if "message" in data:
        payload["message"] = str(data["message"])
    elif errors:
        payload["message"] = VALIDATION_MESSAGE
    else:
        payload["message"] = error.description or error.name
    if errors:
        payload["errors"] = errors
    for key in EXTRA_KEYS:
        if key in data:
            payload[key] = data[key]
    headers = dict(data.get("headers") or {})
    if error.code == 405:
        headers.update(dict(error.get_headers()))
        headers.pop("Content-Type", None)
    return payload, error.code or 500, headers


def install_on_blueprint(bp) -> None:
    """Every HTTP error of the API's own views answers in JSON (per code, so that these win
    over the application's HTML pages, which are registered per code too)."""
    for code in default_exceptions:
        bp.register_error_handler(code, error_answer)
    bp.register_error_handler(HTTPException, error_answer)


def install_on_app(app: Flask) -> None:
    """404 and 405 raised by routing (no view matched, so no blueprint): JSON for /api/
    paths, the existing page handler for the others."""
    for code in (404, 405):
        exc_class = default_exceptions[code]
        original = app.error_handler_spec[None][code].get(exc_class)

        def handler(error, original=original):
            if request.path.startswith(API_PATH):
                return error_answer(error)
            return original(error) if original is not None else error

        app.register_error_handler(code, handler)
