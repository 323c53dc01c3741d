"""The signed-in home page (my work) and the language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.extensions import db

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
            current_user.locale = code
            db.session.commit()
    target = request.referrer or url_for("main.home")
    return redirect(target)
