"""The signed-in home page (my work) and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.users import set_locale

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    from cases.queries import my_work
    return render_template("main/home.html", work=my_work(current_user))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            set_locale(current_user, code)
    return redirect(_local_path(request.referrer) or url_for("main.home"))


def _local_path(url: str | None) -> str | None:
    """The path and query of a URL, so that the redirect never leaves the site."""
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path.startswith("/") else None
