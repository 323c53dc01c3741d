"""Spreadsheets of mediator profiles: reading CSV and XLSX files safely, mapping their columns
by header (Chinese or English), parsing each cell, and writing the export workbook.

Nothing here writes to the database; mediators.services decides what a row does.
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext

from app.models import Centre
from cases.vocabulary import CATEGORIES, GENDERS
from mediators.models import MEDIATOR_KINDS, MEDIATOR_STATUSES
from workflows.i18n import N_

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 100
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # an XLSX is a zip: refuse "zip bombs"
UPLOAD_LIFETIME_SECONDS = 24 * 3600
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LIST_SEPARATORS = re.compile(r"[、,，;；/|\n]+")
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Problem:
    """Why a value (or a whole file) cannot be used: a field key, an English msgid and its
    parameters, translated when shown."""

    field: str
    msgid: str
    params: Mapping = field(default_factory=dict)

    def text(self) -> str:
        return gettext(self.msgid, **self.params)


class FileProblem(Exception):
    """The file as a whole cannot be read; nothing was imported."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.problem = Problem("file", msgid, params)


@dataclass(frozen=True)
class Column:
    """A column of the profile spreadsheet: the ProfileData field it fills, its header in the
    export (an English msgid, translated) and the other headers that mean it."""

    key: str
    header: str
    aliases: tuple[str, ...]


COLUMNS = (
    Column("external_id", N_("External ID"), ("外部编号", "编号", "external_id", "externalid")),
    Column("name", N_("Full name"), ("姓名", "name", "名字")),
    Column("gender", N_("Gender"), ("性别", "gender", "sex")),
    Column("kind", N_("Type of mediator"), ("类别", "类型", "kind", "type")),
    Column("organisation", N_("Employer or organisation"),
           ("单位", "工作单位", "所属单位", "organisation", "organization")),
    Column("centre_id", N_("Home centre"),
           ("所属中心", "centre", "center", "home centre", "home center")),
    Column("served_centre_ids", N_("Centres served"),
           ("服务中心", "served centres", "served centers", "served")),
    Column("specialties", N_("Specialties"),
           ("专长", "擅长领域", "specialties", "specialities", "specialty")),
    Column("languages", N_("Languages and dialects"), ("语言", "语言方言", "languages", "language")),
    Column("years_experience", N_("Years of experience"),
           ("从业年限", "years", "years experience", "experience")),
    Column("credentials", N_("Credentials"), ("资质", "credentials")),
    Column("biography", N_("Biography"), ("简介", "biography", "bio")),
    Column("capacity", N_("Maximum concurrent cases"), ("最大案件数", "capacity")),
    Column("status", N_("Status"), ("状态", "status")),
    Column("phone", N_("Phone"), ("电话", "手机", "phone", "mobile")),
    Column("id_number", N_("ID number"), ("身份证号", "身份证号码", "id number", "id_number")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
OTHER_LOCALES = ("zh_Hans_CN", "en")

KIND_SYNONYMS = {"人民调解员": "people_mediator", "调解员": "people_mediator",
                 "退休法官": "retired_judge", "退休检察官": "retired_judge",
                 "心理咨询师": "psychologist", "行业专家": "industry_expert",
                 "乡贤": "village_elder", "网格员": "grid_worker"}
STATUS_SYNONYMS = {"在职": "active", "正常": "active", "请假": "on_leave", "退休": "retired",
                   "停用": "retired", "离职": "retired"}
GENDER_SYNONYMS = {"m": "male", "f": "female", "男性": "male", "女性": "female"}


# ---- values ----------------------------------------------------------------------------

def clean_text(value: str) -> str:
    """Strip spaces and control characters; one kind of line break."""
    return CONTROL_CHARS.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def split_list(text: str) -> list[str]:
    """Items of a list written with 、 , ， ; or new lines, without blanks or repeats."""
    items: list[str] = []
    for part in LIST_SEPARATORS.split(clean_text(text or "")):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return items


def cell_text(value) -> str:
    """A cell's value as the text a person sees (12.0 is "12")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return clean_text(str(value))


def header_key(text: str) -> str:
    """A header reduced to compare: lower case, no spaces, underscores or notes in brackets."""
    text = re.sub(r"[（(\[【].*?[）)\]】]", "", cell_text(text))
    return re.sub(r"[\s_\-*：:]+", "", text).lower()


# ---- reading files ---------------------------------------------------------------------

@dataclass
class Sheet:
    """The rows of an uploaded file: its header and each later non-empty row with its line."""

    headers: list[str]
    rows: list[tuple[int, list]]


@dataclass(frozen=True)
class SheetLimits:
    """What an uploaded spreadsheet may hold, and what to say when it has no data rows."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_unzipped_bytes: int          # an XLSX is a zip: refuse "zip bombs"
    no_rows: str                     # msgid


NO_MEDIATORS = N_("The file has a header row but no mediators below it.")


def read_sheet(filename: str, content: bytes, limits: SheetLimits | None = None) -> Sheet:
    """Read a CSV (UTF-8 with or without BOM, UTF-16, or GB18030) or XLSX file; FileProblem
    with the reason when it cannot be read or breaks a limit (by default, a mediator list's)."""
    limits = limits or SheetLimits(MAX_BYTES, MAX_ROWS, MAX_COLUMNS, MAX_UNZIPPED_BYTES,
                                   NO_MEDIATORS)
    if not content:
        raise FileProblem(N_("The file is empty."))
    if len(content) > limits.max_bytes:
        raise FileProblem(N_("The file is larger than %(mb)s MB; split it into smaller files."),
                          mb=limits.max_bytes // (1024 * 1024))
    suffix = Path(filename or "").suffix.lower()
    if content.startswith(OLD_EXCEL_MAGIC):
        raise FileProblem(N_("This is an old Excel file (.xls); save it as .xlsx or CSV and "
                             "upload that."))
    if content.startswith(ZIP_MAGIC):
        rows = _xlsx_rows(content, limits)
    elif suffix in (".csv", ".txt", ""):
        rows = _csv_rows(content)
    elif suffix == ".xlsx":
        raise FileProblem(N_("This file is not a valid XLSX workbook."))
    else:
        raise FileProblem(N_("Choose a CSV or XLSX file (this one is %(suffix)s)."),
                          suffix=suffix)
    return _sheet(rows, limits)


def read_upload(file) -> tuple[bytes, str]:
    """An uploaded file's bytes and name, once it can be read and has the required columns;
    FileProblem otherwise. Reads at most one byte more than the size limit."""
    if not file or not getattr(file, "filename", None):
        raise FileProblem(N_("Choose a CSV or XLSX file to upload."))
    content = file.stream.read(MAX_BYTES + 1)
    map_columns(read_sheet(file.filename, content).headers)
    return content, file.filename


def _sheet(rows: Iterable[list], limits: SheetLimits) -> Sheet:
    headers: list[str] | None = None
    data: list[tuple[int, list]] = []
    for line, row in enumerate(rows, start=1):
        row = list(row[:limits.max_columns])
        if not any(cell_text(v) for v in row):
            continue
        if headers is None:
            headers = [cell_text(v) for v in row]
            continue
        if len(data) >= limits.max_rows:
            raise FileProblem(N_("The file has more than %(max)s rows; split it into smaller "
                                 "files."), max=f"{limits.max_rows:,}")
        data.append((line, row))
    if headers is None:
        raise FileProblem(N_("The file is empty."))
    if not data:
        raise FileProblem(limits.no_rows)
    return Sheet(headers, data)


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise FileProblem(N_("The file is not readable text in UTF-8 or GB18030 (GBK): save it "
                         "as CSV UTF-8 or as XLSX."))


def _csv_rows(content: bytes) -> list[list[str]]:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise FileProblem(N_("The CSV file is malformed (for example an unclosed quote or a "
                             "cell that is too long).")) from None


def _xlsx_rows(content: bytes, limits: SheetLimits) -> list[list]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileProblem(N_("This file is not a valid XLSX workbook.")) from None
    if unzipped > limits.max_unzipped_bytes:
        raise FileProblem(N_("This workbook is too large once unpacked."))
    import openpyxl
    rows: list[list] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles of other programs
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                for row in sheet.iter_rows(values_only=True):
                    rows.append(list(row[:limits.max_columns]))
                    if len(rows) > limits.max_rows + 100:
                        break
            finally:
                book.close()
    except FileProblem:
        raise
    except Exception:  # openpyxl raises many kinds of error on a damaged or foreign file
        raise FileProblem(N_("This file is not a valid XLSX workbook.")) from None
    return rows


# ---- columns ---------------------------------------------------------------------------

@dataclass
class ColumnMap:
    """Which file column fills which field, and the headers nobody understood."""

    index: dict[str, int]
    ignored: list[str]


def map_columns(headers: list[str]) -> ColumnMap:
    """Match headers to columns; FileProblem when a required column is missing or doubled."""
    known = _header_aliases()
    index: dict[str, int] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        key = known.get(header_key(header))
        if key is None:
            if header:
                ignored.append(header)
            continue
        if key in index:
            raise FileProblem(N_("Two columns (“%(first)s” and “%(second)s”) both give the "
                                 "%(column)s."), first=headers[index[key]], second=header,
                              column=column_header(key))
        index[key] = position
    if "name" not in index:
        raise FileProblem(N_("The file has no name column: the first row must hold the column "
                             "headers, one of them “%(header)s”."),
                          header=column_header("name"))
    if "external_id" not in index:
        raise FileProblem(N_("The file has no “%(header)s” column: every mediator needs an "
                             "external ID, so that importing again updates profiles instead "
                             "of adding duplicates."),
                          header=column_header("external_id"))
    return ColumnMap(index, ignored)


def column_header(key: str) -> str:
    """A column's header in the user's language."""
    return gettext(COLUMN_BY_KEY[key].header)


def _header_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for column in COLUMNS:
        names = [column.header, column.key, *column.aliases, *_translations(column.header)]
        for name in names:
            aliases.setdefault(header_key(name), column.key)
    return aliases


def _translations(msgid: str) -> list[str]:
    texts = []
    for locale in OTHER_LOCALES:
        with force_locale(locale):
            texts.append(gettext(msgid))
    return texts


def export_headers() -> list[str]:
    """The export's header row, in the user's language (both languages import)."""
    return [column_header(c.key) for c in COLUMNS]


# ---- cells -----------------------------------------------------------------------------

class Lookup:
    """What cells are matched against: centres by short code or name, vocabulary labels in
    either language."""

    def __init__(self, centres: Iterable[Centre]):
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.codes: dict[int, str] = {}
        for centre in centres:
            self.by_code[centre.short_code] = centre.id
            self.by_name.setdefault(centre.name, []).append(centre.id)
            self.codes[centre.id] = centre.short_code
        self.kinds = vocabulary_keys(MEDIATOR_KINDS, KIND_SYNONYMS)
        self.statuses = vocabulary_keys(MEDIATOR_STATUSES, STATUS_SYNONYMS)
        self.genders = vocabulary_keys(GENDERS, GENDER_SYNONYMS)
        self.categories = vocabulary_keys(CATEGORIES)

    def centre(self, text: str) -> int | Problem:
        if text in self.by_code:
            return self.by_code[text]
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if found:
            return Problem("centre", N_("Several centres are named “%(value)s”; write the "
                                        "centre's short code instead."), {"value": text})
        return Problem("centre", N_("No centre has the short code or name “%(value)s”."),
                       {"value": text})


def label_key(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def vocabulary_keys(vocabulary: Mapping[str, str], synonyms: Mapping[str, str] = {}
                    ) -> dict[str, str]:
    """Every way of writing a code: the code, its English label, its Chinese label, synonyms."""
    keys = {label_key(k): v for k, v in synonyms.items()}
    for code, msgid in vocabulary.items():
        for text in (code, msgid, *_translations(msgid)):
            keys.setdefault(label_key(text), code)
    return keys


def parse_row(row: list, columns: ColumnMap, lookup: Lookup) -> tuple[dict, list[Problem]]:
    """The field values the row gives (only for columns present; an empty kind, centre,
    status, years or capacity cell keeps the current value) and the cells it cannot use."""
    values: dict = {}
    problems: list[Problem] = []
    for key, position in columns.index.items():
        raw = row[position] if position < len(row) else None
        text = cell_text(raw)
        parser = CELL_PARSERS.get(key, _text)
        result = parser(text, raw, lookup)
        if isinstance(result, Problem):
            problems.append(Problem(key, result.msgid, result.params))
        elif isinstance(result, list) and any(isinstance(r, Problem) for r in result):
            problems += [Problem(key, r.msgid, r.params) for r in result
                         if isinstance(r, Problem)]
        elif result is not KEEP:
            values[key] = result
    return values, problems


KEEP = object()  # "this cell is empty: leave the value as it is"


def _text(text, raw, lookup):
    return text


def _optional_text(text, raw, lookup):
    return text or None


def _external_id(text, raw, lookup):
    if not text:
        return Problem("", N_("The row has no external ID: every row needs one, so that a "
                              "later import updates this mediator instead of adding a "
                              "duplicate."))
    return text


def _choice(attribute: str, vocabulary: Mapping[str, str]):
    def parse(text, raw, lookup):
        if not text:
            return KEEP
        code = getattr(lookup, attribute).get(label_key(text))
        return code if code else unknown_value(text, vocabulary)
    return parse


def unknown_value(text: str, vocabulary: Mapping[str, str]) -> Problem:
    return Problem("", N_("Unknown value “%(value)s”: write one of %(choices)s."),
                   {"value": text, "choices": "、".join(gettext(m) for m in vocabulary.values())})


def _gender(text, raw, lookup):
    if not text:
        return None
    return lookup.genders.get(label_key(text)) or unknown_value(text, GENDERS)


def _centre(text, raw, lookup):
    return lookup.centre(text) if text else KEEP


def _centres(text, raw, lookup):
    return [lookup.centre(item) for item in split_list(text)]


def _specialties(text, raw, lookup):
    codes = []
    for item in split_list(text):
        code = (lookup.categories.get(label_key(item))
                or lookup.categories.get(label_key(item.removesuffix("纠纷"))))
        codes.append(code or Problem("", N_("Unknown specialty “%(value)s”: use the dispute "
                                            "categories of the case register."),
                                     {"value": item}))
    return codes


def _languages(text, raw, lookup):
    return split_list(text)


def _whole_number(text, raw, lookup):
    if not text:
        return KEEP
    digits = text.removesuffix("年").removesuffix("件").strip()
    if not re.fullmatch(r"-?\d{1,6}", digits):
        return Problem("", N_("“%(value)s” is not a whole number."), {"value": text})
    return int(digits)


def _id_number(text, raw, lookup):
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Problem("", N_("The ID number is stored as a number, which loses digits: format "
                              "the column as text and type it again."))
    return text.upper() or None


CELL_PARSERS = {
    "external_id": _external_id,
    "gender": _gender,
    "kind": _choice("kinds", MEDIATOR_KINDS),
    "status": _choice("statuses", MEDIATOR_STATUSES),
    "organisation": _optional_text,
    "centre_id": _centre,
    "served_centre_ids": _centres,
    "specialties": _specialties,
    "languages": _languages,
    "years_experience": _whole_number,
    "capacity": _whole_number,
    "phone": _optional_text,
    "id_number": _id_number,
}


# ---- the export workbook ---------------------------------------------------------------

def write_workbook(headers: list[str], rows: Iterable[list], title: str) -> bytes:
    """An XLSX file of the rows; every text cell stays text (never a formula)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for position, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = max(12, 2 * len(header) + 2)
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a biography starting with "=" is not a formula
            cells.append(cell)
        sheet.append(cells)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


# ---- the uploaded file between preview and confirmation --------------------------------

def upload_dir() -> Path:
    configured = current_app.config.get("MEDIATOR_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def store_upload(content: bytes, filename: str, user_id: int) -> str:
    """Keep the file server-side under a random token until it is confirmed or expires."""
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _remove_expired(directory)
    token = secrets.token_urlsafe(32)
    (directory / token).write_bytes(content)
    (directory / f"{token}.json").write_text(json.dumps(
        {"user_id": user_id, "filename": filename, "stored_at": time.time()}))
    return token


def load_upload(token: str, user_id: int) -> tuple[bytes, str] | None:
    """The stored file and its name, or None when the token is unknown, expired or another
    user's."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    directory = upload_dir()
    try:
        meta = json.loads((directory / f"{token}.json").read_text())
        content = (directory / token).read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id or \
            time.time() - meta.get("stored_at", 0) > UPLOAD_LIFETIME_SECONDS:
        return None
    return content, meta.get("filename") or ""


def discard_upload(token: str) -> None:
    if TOKEN_PATTERN.match(token or ""):
        for path in (upload_dir() / token, upload_dir() / f"{token}.json"):
            path.unlink(missing_ok=True)


def _remove_expired(directory: Path) -> None:
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue
