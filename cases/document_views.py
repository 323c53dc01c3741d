"""Documents: issuing and downloads for case staff, downloads for parties (by access code),
and the public verification page (/verify/, short links /v/<code>)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.extensions import db
from cases import documents
from cases.access import case_for_user, can_view, require
from cases.document_models import IssuedDocument

bp = Blueprint("documents", __name__)

MAX_UPLOAD = 6 * 1024 * 1024  # the app refuses larger requests anyway (413)


class VerifyForm(FlaskForm):
    """A PDF to check, or a fingerprint typed from a printed copy."""

    document = FileField(_l("PDF file"))
    fingerprint = StringField(_l("Fingerprint (64 hexadecimal digits)"),
                              validators=[Optional(), Length(max=200)])


def can_issue(user, case) -> bool:
    """Clerks, directors and admins on the cases they see, the mediator on theirs;
    supervisors only read."""
    return can_view(user, case) and user.role in ("admin", "director", "clerk", "mediator")


@bp.app_context_processor
def document_helpers():
    return {"case_documents": case_documents, "document_kind_label": kind_label,
            "party_documents": party_documents}


def party_documents(link) -> list[IssuedDocument]:
    """The documents a party may download: newest version of each, theirs only."""
    newest = {}
    for document in documents.for_party(link.case_id, link.id):
        newest[(document.kind, document.case_party_id)] = document
    return list(newest.values())


def kind_label(kind: str) -> str:
    return _(documents.KIND_LABELS.get(kind, kind))


def case_documents(case) -> dict:
    """What the case page's documents panel shows for the signed-in user."""
    if not current_user.is_authenticated or not can_view(current_user, case):
        return {"issued": [], "kinds": [], "can_issue": False}
    return {"issued": documents.issued_for_case(case.id),
            "kinds": documents.kinds_allowed(case) if can_issue(current_user, case) else [],
            "can_issue": can_issue(current_user, case), "form": FlaskForm()}


def pdf_response(document: IssuedDocument):
    response = send_file(io.BytesIO(document.content), mimetype="application/pdf",
                         as_attachment=request.args.get("inline") is None,
                         download_name=document.filename, etag=document.sha256,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/cases/<int:case_id>/documents/<kind>", methods=["POST"])
@login_required
def issue(case_id: int, kind: str):
    case = case_for_user(case_id, current_user)
    require(can_issue(current_user, case))
    if kind not in documents.KIND_LABELS or kind == "acceptance_notice":
        abort(404)
    FlaskForm().validate_on_submit() or abort(400)
    try:
        document, created = documents.issue(case, kind, current_user)
    except documents.DocumentError as err:
        flash(_(err.message, **err.params), "error")
        return redirect(url_for("cases.show", case_id=case.id) + "#documents")
    if created:
        flash(_("%(kind)s issued: version %(version)s.", kind=kind_label(kind),
                version=document.version), "success")
    else:
        flash(_("Nothing changed since version %(version)s: no new version was issued.",
                version=document.version), "info")
    return redirect(url_for("cases.show", case_id=case.id) + "#documents")


@bp.route("/cases/<int:case_id>/documents/<int:document_id>.pdf")
@login_required
def download(case_id: int, document_id: int):
    case = case_for_user(case_id, current_user)
    document = db.session.get(IssuedDocument, document_id)
    if document is None or document.case_id != case.id:
        abort(404)
    return pdf_response(document)


@bp.route("/party/documents/<int:document_id>.pdf")
def party_download(document_id: int):
    """A party signed in with their access code downloads their case's documents; an
    acceptance notice only if it is theirs (it carries their code)."""
    from mediators.party_views import require_party
    link = require_party()
    document = db.session.get(IssuedDocument, document_id)
    if document is None or document.case_id != link.case_id or \
            document.case_party_id not in (None, link.id):
        abort(404)
    return pdf_response(document)


@bp.route("/verify/", methods=["GET", "POST"])
def verify():
    """Public: does a PDF or a fingerprint match an issued document? (no particulars)"""
    form = VerifyForm()
    result, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = form.document.data
        if upload and getattr(upload, "filename", ""):
            content = upload.read(MAX_UPLOAD + 1)
            if len(content) > MAX_UPLOAD:
                abort(413)
            result = documents.verify_bytes(content)
        elif (form.fingerprint.data or "").strip():
            result = documents.verify_fingerprint(form.fingerprint.data)
            if result is None:
                form.fingerprint.errors.append(
                    _("A fingerprint is 64 hexadecimal digits (0-9, a-f)."))
                status = 422
        else:
            form.fingerprint.errors.append(_("Choose a PDF file or type a fingerprint."))
            status = 422
    return render_template("documents/verify.html", form=form, result=result), status


@bp.route("/v/<short>")
def short_link(short: str):
    """The link printed under the QR code."""
    result = documents.verify_short_code(short)
    return render_template("documents/verify.html", form=VerifyForm(), result=result,
                           from_link=True), (200 if result.valid else 404)
