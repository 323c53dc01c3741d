"""Bulk intake of cases from CSV and XLSX exports: upload, column mapping, preview, import
with a progress page, and the error report."""
from __future__ import annotations

from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import SelectField, SubmitField
from wtforms.validators import InputRequired

from app.extensions import csrf, db
from app.i18n import options
from cases import bulk_intake
from cases.access import can_register, require, visible_centres
from cases.bulk_intake import FileProblem
from cases.bulk_models import CaseImportBatch
from cases.forms import centre_choices, vocabulary_choices
from cases.vocabulary import CATEGORIES, SOURCES
from workflows.i18n import N_

bp = Blueprint("bulk", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_SOURCES = ("hotline_12345", "grid", "court_delegated", "police_referral", "petition",
                  "department", "online", "screening", "phone", "walk_in")


class UploadForm(FlaskForm):
    """The export to import, the channel it came from and the centre its cases go to."""

    file = FileField(_l("CSV or XLSX file"))
    source = SelectField(_l("Source"), validators=[InputRequired()], default="hotline_12345",
                         choices=vocabulary_choices({k: SOURCES[k] for k in UPLOAD_SOURCES}))
    centre_id = SelectField(_l("Centre"), coerce=int, validators=[InputRequired()])

    def __init__(self, centres, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre_id.choices = options(centre_choices(centres))


class StartForm(FlaskForm):
    """Confirms the import after the preview (the file stays on the server)."""

    submit = SubmitField(_l("Import the good rows"))


@bp.before_request
@login_required
def managers_only():
    require(can_register(current_user))


@bp.route("/cases/import", methods=["GET", "POST"])
@csrf.exempt  # a large file must not be refused before the limit below applies; the form
def upload():  # checks its own CSRF token
    request.max_content_length = bulk_intake.MAX_BYTES + 1024 * 1024
    centres = visible_centres(current_user)
    form = UploadForm(centres, centre_id=current_user.centre_id)
    if form.validate_on_submit():
        centre = next((c for c in centres if c.id == form.centre_id.data), None)
        file = form.file.data
        try:
            if centre is None:
                abort(400)
            if not file or not getattr(file, "filename", None):
                raise FileProblem(N_("Choose a CSV or XLSX file to upload."))
            content = file.stream.read(bulk_intake.MAX_BYTES + 1)
            batch, _sheet = bulk_intake.create_batch(content, file.filename, form.source.data,
                                                     centre, current_user)
        except FileProblem as err:
            form.file.errors = [err.problem.text()]
        else:
            return redirect(url_for(".mapping", batch_id=batch.id))
    recent = db.session.scalars(select(CaseImportBatch).where(
        CaseImportBatch.user_id == current_user.id).order_by(
        CaseImportBatch.id.desc()).limit(10)).all()
    return render_template("bulk/upload.html", form=form, recent=recent,
                           max_mb=bulk_intake.MAX_BYTES // (1024 * 1024),
                           max_rows=f"{bulk_intake.MAX_ROWS:,}")


def owned(batch_id: int) -> CaseImportBatch:
    """The user's own batch, or 404."""
    batch = db.session.get(CaseImportBatch, batch_id)
    if batch is None or batch.user_id != current_user.id:
        abort(404)
    return batch


def stored_sheet(batch: CaseImportBatch):
    try:
        return bulk_intake.load_sheet(batch)
    except FileProblem as err:
        flash(err.problem.text(), "error")
        return None


@bp.route("/cases/import/<int:batch_id>/mapping", methods=["GET", "POST"])
def mapping(batch_id: int):
    batch = owned(batch_id)
    if batch.status != "draft":
        return redirect(url_for(".progress", batch_id=batch.id))
    sheet = stored_sheet(batch)
    if sheet is None:
        return redirect(url_for(".upload"))
    problems: list[str] = []
    if request.method == "POST":
        form = FlaskForm()
        if not form.validate_on_submit():
            abort(400)
        chosen = bulk_intake.mapping_from_form(request.form, sheet.headers)
        bulk_intake.save_mapping(batch, chosen)
        if "show_values" not in request.form:
            problems = bulk_intake.mapping_problems(chosen, sheet.headers)
            if not problems:
                return redirect(url_for(".preview", batch_id=batch.id))
    current = bulk_intake.clean_mapping(batch.mapping, sheet.headers)
    values = bulk_intake.category_values(sheet, current["columns"].get("category"))
    chosen_categories = current["categories"]
    category_rows = [(value, rows, chosen_categories.get(bulk_intake.label_key(value), guess or ""))
                     for value, rows, guess in values]
    samples = {i: next((bulk_intake.cell_text(cells[i]) for _line, cells in sheet.rows
                        if i < len(cells) and bulk_intake.cell_text(cells[i])), "")
               for i in range(len(sheet.headers))}
    return render_template(
        "bulk/mapping.html", batch=batch, columns=bulk_intake.column_names(sheet.headers),
        samples=samples, mapping=current["columns"], problems=problems,
        case_fields=bulk_intake.CASE_FIELDS, slots=bulk_intake.PARTY_SLOTS,
        parts=bulk_intake.PARTY_PARTS, category_rows=category_rows, categories=CATEGORIES,
        field_label=bulk_intake.field_label, rows=len(sheet.rows))


@bp.route("/cases/import/<int:batch_id>/preview", methods=["GET", "POST"])
def preview(batch_id: int):
    batch = owned(batch_id)
    if batch.status != "draft":
        return redirect(url_for(".progress", batch_id=batch.id))
    sheet = stored_sheet(batch)
    if sheet is None:
        return redirect(url_for(".upload"))
    if bulk_intake.mapping_problems(batch.mapping, sheet.headers):
        return redirect(url_for(".mapping", batch_id=batch.id))
    form = StartForm()
    if form.validate_on_submit():
        bulk_intake.start_import(batch, current_user)
        return redirect(url_for(".progress", batch_id=batch.id))
    report = bulk_intake.preview(batch, sheet)
    return render_template("bulk/preview.html", batch=batch, report=report, form=form,
                           problem_text=bulk_intake.problem_text,
                           limit=bulk_intake.PREVIEW_ROWS)


@bp.route("/cases/import/<int:batch_id>")
def progress(batch_id: int):
    batch = owned(batch_id)
    if batch.status == "draft":
        return redirect(url_for(".mapping", batch_id=batch.id))
    status = bulk_intake.status_of(batch)
    errors = []
    if status["done"] and batch.failed:
        sheet = stored_sheet(batch)
        if sheet is not None:
            errors = bulk_intake.preview(batch, sheet).of("error", bulk_intake.PREVIEW_ROWS)
    return render_template("bulk/progress.html", batch=batch, status=status, errors=errors,
                           problem_text=bulk_intake.problem_text,
                           limit=bulk_intake.PREVIEW_ROWS)


@bp.route("/cases/import/<int:batch_id>/status.json")
def status(batch_id: int):
    return jsonify(bulk_intake.status_of(owned(batch_id)))


@bp.route("/cases/import/<int:batch_id>/errors.xlsx")
def error_report(batch_id: int):
    batch = owned(batch_id)
    sheet = stored_sheet(batch)
    if sheet is None:
        return redirect(url_for(".upload"))
    content = bulk_intake.error_workbook(sheet, bulk_intake.preview(batch, sheet))
    name = f"errors-{batch.filename.rsplit('.', 1)[0] or 'import'}.xlsx"
    return Response(content, mimetype=XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"errors.xlsx\"; "
                               f"filename*=UTF-8''{quote(name)}"})

