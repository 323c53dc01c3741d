"""Pages around the API: the human-readable docs (rendered on the server from the OpenAPI
document, nothing fetched from elsewhere) and the admin's token list (create, revoke)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.api import tokens
from app.extensions import db
from app.i18n import choices
from app.models import Centre
from cases.vocabulary import SOURCES

bp = Blueprint("api_pages", __name__)


# ---- docs --------------------------------------------------------------------------------

@bp.route("/api/v1/docs")
def docs():
    spec = current_app.extensions["concord-api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, operations=operations(spec),
                           schemas=spec.get("components", {}).get("schemas", {}))


METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict) -> list[dict]:
    """Each operation with its parameters, body schema and answers, in path order."""
    found = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (op.get("requestBody", {}).get("content", {})
                    .get("application/json", {}).get("schema"))
            found.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": shared + op.get("parameters", []),
                "body": schema_name(body), "anchor": f"{method}-{path}",
                "responses": sorted(answer_rows(op.get("responses", {}), spec)),
            })
    return found


def schema_name(schema: dict | None) -> str | None:
    if not schema:
        return None
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else schema.get("type")


def answer_rows(responses: dict, spec: dict) -> list[tuple[str, str, str | None]]:
    """(status code, description, body schema) of each documented answer."""
    rows = []
    for code, answer in responses.items():
        if "$ref" in answer:
            name = answer["$ref"].rsplit("/", 1)[-1]
            answer = spec.get("components", {}).get("responses", {}).get(name, {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        rows.append((str(code), answer.get("description", ""), schema_name(schema)))
    return rows


# ---- the admin's tokens ------------------------------------------------------------------

class TokenForm(FlaskForm):
    """A new integration token."""

    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=64)])
    centre_id = SelectField(_l("Centre"), coerce=int)
    source = SelectField(_l("Source channel"))


class RevokeForm(FlaskForm):
    """Revoking a token (CSRF only)."""


@bp.before_request
def admins_only():
    from flask import request
    if request.path.startswith("/admin/"):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.role != "admin":
            abort(403)


def token_form() -> TokenForm:
    form = TokenForm()
    centres = list(db.session.scalars(select(Centre).order_by(Centre.path)))
    form.centre_id.choices = [(c.id, "\u3000" * (c.path.count("/") - 2) + c.name)
                              for c in centres]
    form.source.choices = choices(SOURCES, blank=gettext("Every source"))
    return form


@bp.route("/admin/api-tokens/", methods=["GET", "POST"])
@login_required
def token_list():
    form = token_form()
    created = None
    if form.validate_on_submit():
        centre = db.session.get(Centre, form.centre_id.data)
        try:
            row, secret = tokens.create_token(form.name.data, centre, form.source.data or None,
                                              created_by=current_user)
        except tokens.TokenError:
            form.name.errors.append(gettext("Give the token a name of 1 to 64 characters."))
        else:
            created = {"row": row, "token": secret}
            form = token_form()
            form.name.data = ""
    return render_template("api/tokens.html", form=form, created=created,
                           tokens=tokens.all_tokens(), revoke_form=RevokeForm()), \
        (200 if created or not form.errors else 422)


@bp.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    row = db.session.get(tokens.ApiToken, token_id)
    if row is None:
        abort(404)
    if RevokeForm().validate_on_submit():
        tokens.revoke_token(row)
        flash(gettext("The token “%(name)s” is revoked: it no longer opens the API.",
                      name=row.name), "success")
    return redirect(url_for("api_pages.token_list"))
