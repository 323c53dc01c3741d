"""Mediator profiles (调解员档案): who may manage which, creating and editing them, status
changes, importing and exporting spreadsheets, and the public pool's search. Only services
commit."""
from __future__ import annotations

import math
from contextlib import contextmanager
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

from flask_babel import gettext
from sqlalchemy import Float, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Centre, User
from cases import validators
from cases.access import subtree_centre_ids
from cases.vocabulary import CATEGORIES, GENDERS
from mediators import importing
from mediators.figures import smoothed_rating, smoothed_settlement_rate
from mediators.importing import Problem
from mediators.models import (MEDIATOR_KINDS, MEDIATOR_STATUSES, Mediator, MediatorSpecialty,
                              mediator_centres)
from workflows.i18n import N_

MANAGER_ROLES = ("admin", "director")
CAPACITY_RANGE = (1, 50)
YEARS_RANGE = (0, 70)
LIMITS = {"name": 64, "external_id": 64, "organisation": 128, "languages": 255, "phone": 32,
          "credentials": 2000, "biography": 5000}
IMPORT_CHUNK = 500


class ProfileError(Exception):
    """A profile that cannot be saved; `problems` say which field is wrong and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.field}: {p.msgid}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ProfileData:
    """Everything an admin enters about a mediator (DESIGN §5), in normalised form."""

    name: str = ""
    centre_id: int | None = None
    external_id: str | None = None
    gender: str | None = None
    kind: str = "people_mediator"
    organisation: str | None = None
    served_centre_ids: tuple[int, ...] = ()
    specialties: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    years_experience: int | None = 0
    credentials: str = ""
    biography: str = ""
    capacity: int | None = 10
    status: str = "active"
    phone: str | None = None
    id_number: str | None = None

    def normalised(self) -> ProfileData:
        """Trimmed texts, empty values as None, lists in a canonical order; the home centre
        is always served, so it is not listed among the centres served."""
        def text(value):
            return importing.clean_text(value) if isinstance(value, str) else value

        phone = validators.normalise_phone(text(self.phone) or "") or None
        return replace(
            self, name=text(self.name) or "", external_id=text(self.external_id) or None,
            gender=self.gender or None, organisation=text(self.organisation) or None,
            served_centre_ids=tuple(sorted({int(i) for i in self.served_centre_ids}
                                           - {self.centre_id})),
            specialties=tuple(c for c in CATEGORIES if c in set(self.specialties))
            + tuple(sorted(set(self.specialties) - set(CATEGORIES))),
            languages=tuple(dict.fromkeys(text(x) for x in self.languages if text(x))),
            credentials=text(self.credentials) or "", biography=text(self.biography) or "",
            phone=phone, id_number=validators.normalise_id_number(self.id_number or "") or None)


def profile_of(mediator: Mediator) -> ProfileData:
    """A mediator's profile as ProfileData (to fill a form or compare with an import row)."""
    return ProfileData(
        name=mediator.name, centre_id=mediator.centre_id, external_id=mediator.external_id,
        gender=mediator.gender, kind=mediator.kind, organisation=mediator.organisation,
        served_centre_ids=tuple(c.id for c in mediator.served_centres),
        specialties=tuple(mediator.categories), languages=tuple(mediator.language_list),
        years_experience=mediator.years_experience, credentials=mediator.credentials or "",
        biography=mediator.biography or "", capacity=mediator.capacity, status=mediator.status,
        phone=mediator.phone, id_number=mediator.id_number).normalised()


def changed_fields(before: ProfileData, after: ProfileData) -> list[str]:
    return [f.name for f in fields(ProfileData) if getattr(before, f.name) != getattr(after, f.name)]


# ---- who manages which profiles --------------------------------------------------------

def can_manage(user: User) -> bool:
    return user.is_authenticated and user.role in MANAGER_ROLES


def managed_mediators(user: User) -> Select:
    """A select of the mediators whose home centre lies in the user's subtree."""
    return select(Mediator).where(Mediator.centre_id.in_(subtree_centre_ids(user.centre)))


def managed_centre_ids(user: User) -> set[int]:
    return set(db.session.scalars(subtree_centre_ids(user.centre)))


def may_manage(user: User, mediator: Mediator) -> bool:
    return can_manage(user) and mediator.centre.is_within(user.centre)


# ---- checking and saving a profile -----------------------------------------------------

def check_profile(data: ProfileData, allowed_centre_ids: set[int],
                  existing: Mediator | None = None, *, check_external_id: bool = True
                  ) -> list[Problem]:
    """Why the profile cannot be saved by a user who manages `allowed_centre_ids` (empty
    when it can). A centre served already stays allowed even when it lies outside."""
    problems = []

    def problem(key, msgid, **params):
        problems.append(Problem(key, msgid, params))

    if not data.name:
        problem("name", N_("Enter the mediator's name."))
    for key, limit in LIMITS.items():
        value = getattr(data, key)
        value = ",".join(value) if isinstance(value, tuple) else value
        if value and len(value) > limit:
            problem(key, N_("Write at most %(n)s characters."), n=limit)
    if data.external_id and check_external_id and external_id_taken(data.external_id, existing):
        problem("external_id", N_("Another mediator already has this external ID."))
    if data.centre_id is None:
        problem("centre_id", N_("Choose the mediator's home centre."))
    elif data.centre_id not in allowed_centre_ids and (
            existing is None or existing.centre_id != data.centre_id):
        problem("centre_id", N_("The home centre must be your centre or one below it."))
    already = {c.id for c in existing.served_centres} if existing else set()
    outside = set(data.served_centre_ids) - allowed_centre_ids - already
    if outside:
        problem("served_centre_ids", N_("Centres served must be your centre or ones below it."))
    for key, vocabulary in (("kind", MEDIATOR_KINDS), ("status", MEDIATOR_STATUSES),
                            ("gender", GENDERS)):
        value = getattr(data, key)
        if value is not None and value not in vocabulary:
            problem(key, N_("Choose one of the listed values."))
    if set(data.specialties) - set(CATEGORIES):
        problem("specialties", N_("Choose specialties from the dispute categories."))
    _check_number(problem, "capacity", data.capacity, CAPACITY_RANGE)
    _check_number(problem, "years_experience", data.years_experience, YEARS_RANGE)
    if data.phone and validators.phone_problem(data.phone):
        problem("phone", validators.phone_problem(data.phone))
    if data.id_number and validators.id_number_problem(data.id_number):
        problem("id_number", validators.id_number_problem(data.id_number))
    return problems


def _check_number(problem, key: str, value: int | None, bounds: tuple[int, int]) -> None:
    if value is None or not bounds[0] <= value <= bounds[1]:
        problem(key, N_("Enter a whole number from %(low)s to %(high)s."),
                low=bounds[0], high=bounds[1])


def external_id_taken(external_id: str, existing: Mediator | None) -> bool:
    other = db.session.scalar(select(Mediator.id).where(Mediator.external_id == external_id))
    return other is not None and (existing is None or other != existing.id)


def profile_problems(data: ProfileData, actor: User, existing: Mediator | None = None
                     ) -> list[Problem]:
    """What is wrong with the profile as `actor` entered it (empty when it can be saved)."""
    return check_profile(data.normalised(), managed_centre_ids(actor), existing)


def create_profile(data: ProfileData, actor: User) -> Mediator:
    """Add a mediator to the pool; ProfileError when a field is wrong (nothing saved)."""
    data = data.normalised()
    problems = check_profile(data, managed_centre_ids(actor))
    if problems:
        raise ProfileError(problems)
    mediator = Mediator()
    with _saving():
        write_profile(mediator, data)
        db.session.add(mediator)
        db.session.flush()
        if mediator.external_id is None:
            mediator.external_id = generated_external_id(mediator)
    return mediator


def update_profile(mediator: Mediator, data: ProfileData, actor: User) -> Mediator:
    """Change a mediator's profile; ProfileError when a field is wrong (nothing saved)."""
    data = data.normalised()
    problems = check_profile(data, managed_centre_ids(actor), mediator)
    if problems:
        raise ProfileError(problems)
    with _saving():
        write_profile(mediator, data)
        if mediator.external_id is None:
            mediator.external_id = generated_external_id(mediator)
    return mediator


def set_status(mediator: Mediator, status: str, actor: User) -> Mediator:
    """Mark a mediator active, on leave or retired; their open cases stay with them."""
    if status not in MEDIATOR_STATUSES:
        raise ProfileError([Problem("status", N_("Choose one of the listed values."))])
    with _saving():
        mediator.status = status
    return mediator


@contextmanager
def _saving():
    """One transaction: committed at the end, rolled back on any error."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def write_profile(mediator: Mediator, data: ProfileData) -> None:
    """Copy normalised profile data onto the mediator (no commit)."""
    for key in ("name", "gender", "kind", "organisation", "centre_id", "years_experience",
                "credentials", "biography", "capacity", "status", "phone", "id_number"):
        setattr(mediator, key, getattr(data, key))
    if data.external_id:
        mediator.external_id = data.external_id
    mediator.languages = ",".join(data.languages)
    wanted = set(data.specialties)
    for specialty in list(mediator.specialties):
        if specialty.category not in wanted:
            mediator.specialties.remove(specialty)
    for category in data.specialties:
        if category not in mediator.categories:
            mediator.specialties.append(MediatorSpecialty(category=category))
    if {c.id for c in mediator.served_centres} != set(data.served_centre_ids):
        mediator.served_centres = list(db.session.scalars(
            select(Centre).where(Centre.id.in_(data.served_centre_ids)).order_by(Centre.id)))


def generated_external_id(mediator: Mediator) -> str:
    """An external ID for a profile entered by hand, so that exports can be re-imported."""
    candidate = f"M{mediator.id:06d}"
    while external_id_taken(candidate, mediator):
        candidate += "-1"
    return candidate


def backfill_external_ids(user: User) -> None:
    """Give every managed profile without an external ID one (older profiles)."""
    missing = db.session.scalars(managed_mediators(user).where(
        Mediator.external_id.is_(None))).all()
    if missing:
        with _saving():
            for mediator in missing:
                mediator.external_id = generated_external_id(mediator)
                db.session.flush()


# ---- the admin list --------------------------------------------------------------------

@dataclass
class Page:
    """One page of results and the total behind it."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def paginate(query: Select, page: int, per_page: int) -> Page:
    total = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    items = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)


def managed_page(user: User, *, q: str | None, status: str | None, centre_id: int | None,
                 page: int, per_page: int) -> Page:
    """The admin's list: name, external ID or phone contains q; by status and home centre."""
    query = managed_mediators(user).options(selectinload(Mediator.centre),
                                            selectinload(Mediator.specialties))
    if q:
        query = query.where(or_(Mediator.name.icontains(q, autoescape=True),
                                Mediator.external_id.icontains(q, autoescape=True),
                                Mediator.phone.contains(q, autoescape=True)))
    if status:
        query = query.where(Mediator.status == status)
    if centre_id:
        query = query.where(Mediator.centre_id == centre_id)
    return paginate(query.order_by(Mediator.name, Mediator.id), page, per_page)


# ---- import ----------------------------------------------------------------------------

ROW_STATUSES = ("new", "update", "unchanged", "error")


@dataclass
class RowOutcome:
    """What one row of an import does (or would do): new, update, unchanged or error."""

    line: int
    status: str
    external_id: str
    name: str
    problems: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    data: ProfileData | None = None
    mediator_id: int | None = None


@dataclass
class ImportReport:
    """An import's rows with their outcome; `written` once the good rows were saved."""

    filename: str
    rows: list[RowOutcome]
    ignored_columns: list[str]
    written: bool = False

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in ROW_STATUSES}

    @property
    def errors(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status == "error"]

    @property
    def changes(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status in ("new", "update")]


def preview_import(content: bytes, filename: str, user: User) -> ImportReport:
    """What importing the file would do, row by row; writes nothing. FileProblem when the
    file as a whole cannot be read."""
    sheet = importing.read_sheet(filename, content)
    columns = importing.map_columns(sheet.headers)
    lookup = importing.Lookup(db.session.scalars(select(Centre)))
    allowed = managed_centre_ids(user)
    existing = _existing_by_external_id(sheet, columns)
    seen: dict[str, int] = {}
    rows = []
    for line, cells in sheet.rows:
        rows.append(_row_outcome(line, cells, columns, lookup, allowed, existing, seen))
    return ImportReport(filename, rows, columns.ignored)


def _existing_by_external_id(sheet: importing.Sheet, columns: importing.ColumnMap
                             ) -> dict[str, Mediator]:
    position = columns.index["external_id"]
    ids = sorted({importing.cell_text(cells[position]) for _, cells in sheet.rows
                  if position < len(cells)} - {""})
    found: dict[str, Mediator] = {}
    for start in range(0, len(ids), IMPORT_CHUNK):
        chunk = ids[start:start + IMPORT_CHUNK]
        for mediator in db.session.scalars(
                select(Mediator).where(Mediator.external_id.in_(chunk)).options(
                    selectinload(Mediator.specialties), selectinload(Mediator.served_centres),
                    selectinload(Mediator.centre))):
            found[mediator.external_id] = mediator
    return found


def _row_outcome(line, cells, columns, lookup, allowed, existing, seen) -> RowOutcome:
    values, problems = importing.parse_row(cells, columns, lookup)
    external_id = importing.clean_text(str(values.get("external_id") or ""))
    name_position = columns.index["name"]
    name = importing.cell_text(cells[name_position]) if name_position < len(cells) else ""
    outcome = RowOutcome(line, "error", external_id, name)
    if external_id and external_id in seen:
        problems.append(Problem("external_id", N_("This external ID is already on line %(line)s "
                                                  "of the file."), {"line": seen[external_id]}))
    elif external_id:
        seen[external_id] = line
    mediator = existing.get(external_id)
    if mediator is not None and mediator.centre_id not in allowed:
        problems.append(Problem("external_id", N_("This external ID belongs to a mediator of a "
                                                  "centre outside yours.")))
    base = profile_of(mediator) if mediator else ProfileData()
    outcome.data = replace(base, **values).normalised()
    reported = {p.field for p in problems}
    problems += [p for p in check_profile(outcome.data, allowed, mediator, check_external_id=False)
                 if p.field not in reported]
    if problems:
        outcome.problems, outcome.data = problems, None
        return outcome
    outcome.mediator_id = mediator.id if mediator else None
    if mediator is None:
        outcome.status = "new"
    else:
        outcome.changed = changed_fields(base, outcome.data)
        outcome.status = "update" if outcome.changed else "unchanged"
    return outcome


def apply_import(content: bytes, filename: str, user: User) -> ImportReport:
    """Check the stored file again against the database as it is now, then save every good
    row whole in one transaction; bad rows are skipped and reported."""
    report = preview_import(content, filename, user)
    changes = report.changes
    try:
        for start in range(0, len(changes), IMPORT_CHUNK):
            _write_chunk(changes[start:start + IMPORT_CHUNK])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.written = True
    return report


def _write_chunk(rows: list[RowOutcome]) -> None:
    """Write the rows together; if that fails, one by one so that only the bad row drops."""
    try:
        with db.session.begin_nested():
            for row in rows:
                _write_row(row)
        return
    except SQLAlchemyError:
        pass
    for row in rows:
        try:
            with db.session.begin_nested():
                _write_row(row)
        except SQLAlchemyError:
            row.status, row.data = "error", None
            row.problems = [Problem("", N_("The row could not be saved because the profile "
                                           "changed meanwhile; import the file again."))]


def _write_row(row: RowOutcome) -> None:
    mediator = db.session.get(Mediator, row.mediator_id) if row.mediator_id else Mediator()
    write_profile(mediator, row.data)
    if row.mediator_id is None:
        db.session.add(mediator)
    db.session.flush()
    row.mediator_id = mediator.id


# ---- export ----------------------------------------------------------------------------

def export_profiles(user: User) -> bytes:
    """Every profile the user manages as an XLSX with the import's headers: importing it
    again changes nothing."""
    backfill_external_ids(user)
    codes = {c.id: c.short_code for c in db.session.scalars(select(Centre))}
    query = managed_mediators(user).options(
        selectinload(Mediator.specialties), selectinload(Mediator.served_centres)
    ).order_by(Mediator.external_id, Mediator.id)
    rows = (export_row(profile_of(m), codes) for m in db.session.scalars(query))
    return importing.write_workbook(importing.export_headers(), rows, gettext("Mediators"))


def export_row(data: ProfileData, codes: dict[int, str]) -> list:
    """One profile as the export's cells, in the order of importing.COLUMNS."""
    def label(vocabulary, code):
        return gettext(vocabulary[code]) if code in vocabulary else (code or "")

    cells = {
        "external_id": data.external_id or "", "name": data.name,
        "gender": label(GENDERS, data.gender), "kind": label(MEDIATOR_KINDS, data.kind),
        "organisation": data.organisation or "", "centre_id": codes.get(data.centre_id, ""),
        "served_centre_ids": "、".join(codes[i] for i in data.served_centre_ids if i in codes),
        "specialties": "、".join(label(CATEGORIES, c) for c in data.specialties),
        "languages": "、".join(data.languages), "years_experience": data.years_experience,
        "credentials": data.credentials, "biography": data.biography,
        "capacity": data.capacity, "status": label(MEDIATOR_STATUSES, data.status),
        "phone": data.phone or "", "id_number": data.id_number or "",
    }
    return [cells[column.key] for column in importing.COLUMNS]


# ---- the public pool -------------------------------------------------------------------

POOL_SORTS = ("recommended", "settlement", "experience")
EXPERIENCE_CAP = 30


@dataclass
class PoolFilters:
    """What a visitor narrowed the pool by; None means "any"."""

    q: str | None = None
    category: str | None = None
    kind: str | None = None
    centre_id: int | None = None
    language: str | None = None
    available: bool = False
    sort: str = "recommended"


@dataclass(frozen=True)
class PublicProfile:
    """The public face of a mediator: no phone, no ID number, no conflicts."""

    id: int
    name: str
    gender: str | None
    kind: str
    organisation: str | None
    centre_name: str
    served_centre_names: tuple[str, ...]
    specialties: tuple[str, ...]
    languages: tuple[str, ...]
    years_experience: int
    credentials: str
    biography: str
    status: str
    available: bool
    cases_handled: int
    cases_settled: int
    median_days: float | None
    rating_count: int
    satisfaction: float | None

    @property
    def settlement_rate(self) -> float | None:
        return self.cases_settled / self.cases_handled if self.cases_handled else None


def public_profile_of(mediator: Mediator) -> PublicProfile:
    return PublicProfile(
        id=mediator.id, name=mediator.name, gender=mediator.gender, kind=mediator.kind,
        organisation=mediator.organisation, centre_name=mediator.centre.name,
        served_centre_names=tuple(c.name for c in mediator.served_centres
                                  if c.id != mediator.centre_id),
        specialties=tuple(mediator.categories), languages=tuple(mediator.language_list),
        years_experience=mediator.years_experience or 0, credentials=mediator.credentials or "",
        biography=mediator.biography or "", status=mediator.status,
        available=mediator.status == "active" and mediator.current_load < mediator.capacity,
        cases_handled=mediator.cases_handled or 0, cases_settled=mediator.cases_settled or 0,
        median_days=mediator.median_days, rating_count=mediator.rating_count or 0,
        satisfaction=(mediator.rating_sum / mediator.rating_count
                      if mediator.rating_count else None))


def recommendation_score():
    """A neutral order for visitors who did not say what they need: smoothed settlement rate,
    smoothed satisfaction and experience (so that 2 of 2 settled does not beat 190 of 200)."""
    satisfaction = smoothed_rating() / 5
    experience = case((Mediator.years_experience >= EXPERIENCE_CAP, literal(1.0)),
                      else_=cast(Mediator.years_experience, Float) / EXPERIENCE_CAP)
    return 0.5 * smoothed_settlement_rate() + 0.3 * satisfaction + 0.2 * experience


def available_condition():
    return and_(Mediator.status == "active", Mediator.current_load < Mediator.capacity)


def serving_area(centre: Centre):
    """Mediators who take cases in the area of `centre`: their home or a served centre is
    that centre, lies below it, or lies above it (a county mediator serves its villages)."""
    above = [int(part) for part in centre.path.strip("/").split("/") if part.isdigit()]
    area = select(Centre.id).where(or_(Centre.path.startswith(centre.path, autoescape=True),
                                       Centre.id.in_(above)))
    served = select(mediator_centres.c.mediator_id).where(mediator_centres.c.centre_id.in_(area))
    return or_(Mediator.centre_id.in_(area), Mediator.id.in_(served))


def pool_query(filters: PoolFilters) -> Select:
    """The public pool (retired mediators are not listed) narrowed and sorted."""
    query = select(Mediator).where(Mediator.status != "retired")
    if filters.q:
        query = query.where(Mediator.name.icontains(filters.q, autoescape=True))
    if filters.category:
        query = query.where(Mediator.id.in_(select(MediatorSpecialty.mediator_id).where(
            MediatorSpecialty.category == filters.category)))
    if filters.kind:
        query = query.where(Mediator.kind == filters.kind)
    if filters.centre_id:
        centre = db.session.get(Centre, filters.centre_id)
        if centre is not None:
            query = query.where(serving_area(centre))
    if filters.language:
        padded = literal(",") + Mediator.languages + literal(",")
        query = query.where(padded.contains(f",{filters.language},", autoescape=True))
    if filters.available:
        query = query.where(available_condition())
    return query.order_by(*pool_order(filters.sort), Mediator.id)


def pool_order(sort: str) -> Sequence:
    if sort == "settlement":
        return (smoothed_settlement_rate().desc(), Mediator.cases_handled.desc())
    if sort == "experience":
        return (Mediator.years_experience.desc(), Mediator.cases_handled.desc())
    return (case((available_condition(), 0), else_=1), recommendation_score().desc())


def pool_page(filters: PoolFilters, page: int, per_page: int) -> Page:
    query = pool_query(filters).options(selectinload(Mediator.centre),
                                        selectinload(Mediator.specialties),
                                        selectinload(Mediator.served_centres))
    result = paginate(query, page, per_page)
    result.items = [public_profile_of(m) for m in result.items]
    return result


def public_profile(mediator_id: int) -> PublicProfile | None:
    """A listed mediator's public profile, or None (unknown or retired)."""
    mediator = db.session.get(Mediator, mediator_id)
    if mediator is None or mediator.status == "retired":
        return None
    return public_profile_of(mediator)


def pool_languages() -> list[str]:
    """The languages and dialects of listed mediators, 普通话 (Mandarin) first."""
    found: set[str] = set()
    for value in db.session.scalars(select(Mediator.languages).distinct().where(
            Mediator.status != "retired")):
        found.update(part.strip() for part in (value or "").split(",") if part.strip())
    return sorted(found, key=lambda x: (x != "普通话", x))


def pool_centres() -> list[Centre]:
    return list(db.session.scalars(select(Centre).order_by(Centre.path)))


def upload_limits() -> dict[str, str]:
    return {"mb": str(importing.MAX_BYTES // (1024 * 1024)), "rows": f"{importing.MAX_ROWS:,}"}

