"""Error pages in the user's language."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError


def init_app(app: Flask) -> None:
    messages = {
        400: lambda: gettext("The request could not be understood."),
        403: lambda: gettext("You do not have permission to do this."),
        404: lambda: gettext("The page or case was not found, or it lies outside your centre."),
        405: lambda: gettext("This action is not available here."),
        409: lambda: gettext("The case was changed by someone else. Reload it and try again."),
        413: lambda: gettext("The file is too large: send at most 5 MB."),
        500: lambda: gettext("Something went wrong on our side. Nothing was saved; please try again."),
    }

    def render(code: int, message: str | None = None):
        return render_template("errors/error.html", code=code,
                               message=message or messages[code]()), code

    for code in messages:
        app.register_error_handler(code, lambda e, code=code: render(code))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render(400, gettext("The form expired or was sent from elsewhere. "
                                   "Reload the page and submit it again."))
