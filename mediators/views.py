"""The expert pool's pages: the public pool (`pool`, no sign-in) and the profile management of
admins and directors (`mediators_admin`: list, form, status, import, export)."""
from __future__ import annotations

from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.i18n import label
from app.workdays import today
from cases.access import visible_centres
from mediators import importing, services
from mediators.forms import (ConfirmForm, ManagedFilterForm, PoolFilterForm, ProfileForm,
                             StatusForm, UploadForm)
from mediators.importing import FileProblem
from mediators.models import MEDIATOR_STATUSES, Mediator
from mediators.services import PoolFilters, ProfileError

pool = Blueprint("pool", __name__, url_prefix="/pool")
admin = Blueprint("mediators_admin", __name__, url_prefix="/admin/mediators")

POOL_PER_PAGE = 20
ADMIN_PER_PAGE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- the public pool -------------------------------------------------------------------

@pool.route("/")
def index():
    form = PoolFilterForm(request.args, services.pool_centres(), services.pool_languages())
    centre = form.value(form.centre)
    filters = PoolFilters(q=form.value(form.q), category=form.value(form.category),
                          kind=form.value(form.kind), centre_id=int(centre) if centre else None,
                          language=form.value(form.language), available=bool(form.available.data),
                          sort=form.sort_value())
    page = services.pool_page(filters, form.page_number(), POOL_PER_PAGE)
    return render_template("mediators/pool_index.html", form=form, page=page, args=form.args())


@pool.route("/<int:mediator_id>")
def profile(mediator_id: int):
    mediator = services.public_profile(mediator_id)
    if mediator is None:
        abort(404)
    return render_template("mediators/pool_profile.html", m=mediator)


# ---- profile management ----------------------------------------------------------------

@admin.before_request
@login_required
def managers_only():
    if not services.can_manage(current_user):
        abort(403)


def managed(mediator_id: int) -> Mediator:
    """The mediator, or 404 when unknown or homed outside the user's centres."""
    mediator = db.session.get(Mediator, mediator_id)
    if mediator is None or not services.may_manage(current_user, mediator):
        abort(404)
    return mediator


@admin.route("/")
def list_profiles():
    centres = visible_centres(current_user)
    form = ManagedFilterForm(request.args, centres)
    centre = form.value(form.centre)
    page = services.managed_page(current_user, q=form.value(form.q),
                                 status=form.value(form.status),
                                 centre_id=int(centre) if centre else None,
                                 page=form.page_number(), per_page=ADMIN_PER_PAGE)
    return render_template("mediators/admin_index.html", form=form, page=page, args=form.args(),
                           many_centres=len(centres) > 1)


@admin.route("/new", methods=["GET", "POST"])
def new():
    centres = visible_centres(current_user)
    form = ProfileForm(centres, centre_id=current_user.centre_id)
    if submitted_and_valid(form):
        try:
            mediator = services.create_profile(form.profile_data(), current_user)
        except ProfileError as err:
            form.show_problems(err.problems)
        else:
            flash(_("Added %(name)s to the expert pool.", name=mediator.name), "success")
            return redirect(url_for(".edit", mediator_id=mediator.id))
    return render_template("mediators/admin_form.html", form=form, mediator=None,
                           focus=form.first_error_id())


def submitted_and_valid(form: ProfileForm, mediator: Mediator | None = None,
                        kept: tuple[int, ...] = ()) -> bool:
    """Validate a submitted profile form; when it has errors, add the service's findings on
    the other fields too, so that every wrong field is named at once."""
    if not form.is_submitted():
        return False
    if form.validate():
        return True
    form.show_problems(services.profile_problems(form.profile_data(kept), current_user, mediator))
    return False


@admin.route("/<int:mediator_id>/edit", methods=["GET", "POST"])
def edit(mediator_id: int):
    mediator = managed(mediator_id)
    centres = visible_centres(current_user)
    shown = {c.id for c in centres}
    kept = tuple(c.id for c in mediator.served_centres if c.id not in shown)
    if request.method == "POST":
        form = ProfileForm(centres)
    else:
        form = ProfileForm.from_profile(centres, services.profile_of(mediator))
    if submitted_and_valid(form, mediator, kept):
        try:
            services.update_profile(mediator, form.profile_data(kept), current_user)
        except ProfileError as err:
            form.show_problems(err.problems)
        else:
            flash(_("Saved the profile of %(name)s.", name=mediator.name), "success")
            return redirect(url_for(".edit", mediator_id=mediator.id))
    return render_template("mediators/admin_form.html", form=form, mediator=mediator,
                           status_form=StatusForm(status=mediator.status),
                           kept=[c for c in mediator.served_centres if c.id in kept],
                           focus=form.first_error_id())


@admin.route("/<int:mediator_id>/status", methods=["POST"])
def change_status(mediator_id: int):
    mediator = managed(mediator_id)
    form = StatusForm()
    if form.validate_on_submit():
        services.set_status(mediator, form.status.data, current_user)
        flash(_("%(name)s is now marked “%(status)s”.", name=mediator.name,
                status=label(MEDIATOR_STATUSES, mediator.status)), "success")
    else:
        flash(_("Choose one of the listed values."), "error")
    return redirect(url_for(".edit", mediator_id=mediator.id))


@admin.route("/export.xlsx")
def export():
    content = services.export_profiles(current_user)
    filename = f"mediators-{current_user.centre.short_code}-{today():%Y%m%d}.xlsx"
    return Response(content, mimetype=XLSX_TYPE, headers={
        "Content-Disposition": _attachment(filename)})


def _attachment(filename: str) -> str:
    return f"attachment; filename=\"mediators.xlsx\"; filename*=UTF-8''{quote(filename)}"


# ---- import: upload, preview, confirm --------------------------------------------------

@admin.route("/import", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            content, filename = importing.read_upload(form.file.data)
        except FileProblem as err:
            form.file.errors = [err.problem.text()]
        else:
            token = importing.store_upload(content, filename, current_user.id)
            return redirect(url_for(".preview", token=token))
    return render_template("mediators/import_upload.html", form=form,
                           limits=services.upload_limits())


def stored_upload(token: str) -> tuple[bytes, str]:
    stored = importing.load_upload(token, current_user.id)
    if stored is None:
        abort(404)
    return stored


@admin.route("/import/<token>", methods=["GET", "POST"])
def preview(token: str):
    content, filename = stored_upload(token)
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            report = services.apply_import(content, filename, current_user)
            importing.discard_upload(token)
            return render_template("mediators/import_summary.html", report=report,
                                   columns=importing.COLUMN_BY_KEY)
        report = services.preview_import(content, filename, current_user)
    except FileProblem as err:
        importing.discard_upload(token)
        flash(err.problem.text(), "error")
        return redirect(url_for(".upload"))
    return render_template("mediators/import_preview.html", report=report, form=form,
                           token=token, columns=importing.COLUMN_BY_KEY)
