"""Bulk intake of cases (批量导入) from CSV and XLSX exports of the 12345 hotline, the grid
platform and other systems: reading the file, mapping its columns to case fields, checking
every row, and registering the good rows in chunks, each row whole (case, parties, number,
audit event) or not at all. Idempotent on (source channel, sender's reference).
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext
from sqlalchemy import JSON, insert, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.audit import SYSTEM_ACTOR
from app.extensions import db
from app.models import AuditEvent, Centre, User, utcnow
from app.workdays import clock_settings, today as centre_today, working_calendar
from cases import validators
from cases.bulk_models import CaseImportBatch
from cases.models import Case, CaseParty, Party
from cases.services import IntakeData, PartyData, format_case_number, next_sequences
from cases.vocabulary import CATEGORIES, PARTY_KINDS
from mediators.importing import (CONTROL_CHARS, TOKEN_PATTERN, FileProblem, Problem, Sheet,
                                 SheetLimits, cell_text, header_key, label_key, read_sheet,
                                 vocabulary_keys, write_workbook)
from workflows.i18n import N_

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024  # an XLSX is a zip: refuse "zip bombs"
MAX_TEXT = 20_000
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
CHUNK = 1000
STREAM_REFERENCES = 5000
SYNC_ROWS = 2000  # files up to this many rows import within the request
PREVIEW_ROWS = 50
MAX_CATEGORY_VALUES = 200
FILE_LIFETIME = timedelta(days=7)
STALE_AFTER = timedelta(minutes=3)  # a running import without a heartbeat for this long died
NAME_MAX, ADDRESS_MAX, REF_MAX = 128, 255, 128


# ---- fields of the file ------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """A Concord field a file column can fill, its label (an English msgid) and the headers of
    12345 / grid / court exports that usually hold it."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False


CASE_FIELDS = (
    Field("source_ref", N_("Sender's reference"),
          ("工单编号", "事件编号", "工单号", "事件号", "受理编号", "案件编号", "编号", "来源编号",
           "reference", "ref", "sourcereference", "ticket", "ticketno"), required=True),
    Field("category", N_("Category"),
          ("纠纷类型", "事件类型", "纠纷类别", "问题类型", "诉求类型", "事项类别", "事件类别",
           "问题分类", "类别", "类型", "category", "type"), required=True),
    Field("facts", N_("Facts"),
          ("事件描述", "诉求内容", "问题描述", "反映内容", "事件内容", "来电内容", "简要案情",
           "纠纷简要情况", "纠纷描述", "内容", "facts", "description"), required=True),
    Field("claims", N_("Claims"),
          ("诉求", "诉求事项", "具体诉求", "请求事项", "当事人诉求", "申请事项", "claims",
           "request"), required=True),
    Field("amount", N_("Amount in dispute (yuan)"),
          ("涉及金额", "涉案金额", "争议金额", "金额", "标的额", "amount")),
    Field("centre", N_("Centre"),
          ("调解中心", "承办中心", "中心编码", "中心", "centre", "center", "centrecode")),
)

PARTY_SLOTS = (
    ("applicant", "applicant", N_("Applicant")),
    ("respondent", "respondent", N_("Respondent")),
    ("applicant2", "applicant", N_("Second applicant")),
    ("respondent2", "respondent", N_("Second respondent")),
)
PARTY_PARTS = (
    ("name", N_("Name")),
    ("kind", N_("Person or organisation")),
    ("id", N_("ID number or credit code")),
    ("phone", N_("Phone")),
    ("address", N_("Address")),
)
PARTY_ALIASES = {
    "applicant.name": ("反映人", "诉求人", "来电人", "申请人", "投诉人", "反映人姓名", "诉求人姓名",
                       "申请人姓名", "当事人", "当事人姓名", "applicant", "applicantname"),
    "applicant.kind": ("申请人类型", "反映人类型", "applicantkind"),
    "applicant.id": ("身份证号", "身份证号码", "证件号码", "反映人身份证号", "申请人身份证号",
                     "诉求人身份证号", "申请人证件号码", "applicantid", "idnumber"),
    "applicant.phone": ("联系电话", "来电号码", "反映人电话", "诉求人电话", "申请人电话", "联系方式",
                        "手机号", "手机号码", "电话", "applicantphone", "phone"),
    "applicant.address": ("地址", "联系地址", "住址", "反映人地址", "申请人地址", "诉求人地址",
                          "applicantaddress", "address"),
    "respondent.name": ("被反映人", "被反映单位", "被反映对象", "对方当事人", "被申请人", "被投诉人",
                        "被投诉单位", "对方", "被申请人姓名", "respondent", "respondentname"),
    "respondent.kind": ("被申请人类型", "被反映人类型", "对方类型", "respondentkind"),
    "respondent.id": ("被反映人证件号", "被反映人身份证号", "被申请人身份证号", "对方证件号码",
                      "被申请人证件号码", "统一社会信用代码", "信用代码", "respondentid"),
    "respondent.phone": ("被反映人电话", "被申请人电话", "对方电话", "对方联系电话",
                         "respondentphone"),
    "respondent.address": ("被反映人地址", "被申请人地址", "对方地址", "respondentaddress"),
}

PERSON_WORDS = {"个人", "自然人", "公民", "person", "naturalperson", "individual"}
ORGANISATION_WORDS = {"单位", "企业", "公司", "组织", "法人", "机构", "organisation",
                      "organization", "company"}
ORGANISATION_ENDINGS = ("公司", "集团", "厂", "店", "物业", "中心", "委员会", "医院", "学校",
                        "银行", "合作社", "事务所", "超市", "商行", "酒店")

# Free-text types of 12345 and grid exports → categories; the first keyword found wins.
CATEGORY_KEYWORDS = (
    ("劳动", "labour"), ("欠薪", "labour"), ("工资", "labour"), ("劳务", "labour"),
    ("工伤", "labour"), ("讨薪", "labour"),
    ("交通", "traffic"), ("车祸", "traffic"),
    ("医疗", "medical"), ("医患", "medical"),
    ("物业", "property_mgmt"),
    ("征地", "land_acquisition"), ("拆迁", "land_acquisition"), ("征收", "land_acquisition"),
    ("婚姻", "marriage_family"), ("家庭", "marriage_family"), ("离婚", "marriage_family"),
    ("赡养", "marriage_family"), ("抚养", "marriage_family"), ("继承", "marriage_family"),
    ("邻里", "neighbour"), ("相邻", "neighbour"),
    ("租赁", "contract"),
    ("宅基地", "housing_land"), ("房屋", "housing_land"), ("住房", "housing_land"),
    ("山林", "forest_land"), ("林地", "forest_land"), ("土地", "forest_land"),
    ("环境", "environment"), ("污染", "environment"), ("噪音", "environment"),
    ("噪声", "environment"),
    ("消费", "consumer"), ("购物", "consumer"), ("退款", "consumer"),
    ("合同", "contract"), ("借贷", "contract"), ("借款", "contract"), ("买卖", "contract"),
    ("经营", "business"), ("生产", "business"),
    ("损害", "damages"), ("赔偿", "damages"), ("侵权", "damages"), ("人身", "damages"),
    ("村务", "village_affairs"),
    ("其他", "other"), ("其它", "other"),
)


def all_fields() -> list[Field]:
    fields = list(CASE_FIELDS)
    for slot, _role, _label in PARTY_SLOTS:
        for part, part_label in PARTY_PARTS:
            key = f"{slot}.{part}"
            fields.append(Field(key, part_label, PARTY_ALIASES.get(key, ()),
                                required=key in ("applicant.name", "respondent.name")))
    return fields


FIELDS = all_fields()
FIELD_BY_KEY = {f.key: f for f in FIELDS}
SLOT_LABELS = {slot: msgid for slot, _role, msgid in PARTY_SLOTS}


def field_label(key: str) -> str:
    """A field's name in the user's language ("Applicant — Phone" for a party's field)."""
    slot, _, part = key.partition(".")
    if part:
        return gettext("%(party)s: %(field)s", party=gettext(SLOT_LABELS[slot]),
                       field=gettext(FIELD_BY_KEY[key].label))
    return gettext(FIELD_BY_KEY[key].label)


# ---- reading files -----------------------------------------------------------------------

NO_CASES = N_("The file has a header row but no cases below it.")


def read_file(filename: str, content: bytes) -> Sheet:
    """Read a CSV (UTF-8 with or without BOM, UTF-16, GB18030) or XLSX export; FileProblem
    with the reason when it cannot be read or breaks a limit."""
    return read_sheet(filename, content, SheetLimits(MAX_BYTES, MAX_ROWS, MAX_COLUMNS,
                                                     MAX_UNZIPPED_BYTES, NO_CASES))


def column_names(headers: list[str]) -> list[str]:
    """Each column's header, or "Column N" when the header cell is blank."""
    return [h or gettext("Column %(n)s", n=i + 1) for i, h in enumerate(headers)]


# ---- mapping -----------------------------------------------------------------------------

def guess_columns(headers: list[str]) -> dict[str, int]:
    """Which column fills which field, recognised from the headers (Chinese or English)."""
    aliases: dict[str, str] = {}
    for f in FIELDS:
        for name in (*f.aliases, f.key):
            aliases.setdefault(header_key(name), f.key)
    columns: dict[str, int] = {}
    for position, header in enumerate(headers):
        key = aliases.get(header_key(header))
        if key and key not in columns:
            columns[key] = position
    if "claims" not in columns and "facts" in columns:
        columns["claims"] = columns["facts"]  # a hotline ticket states facts and claims together
    return columns


def guess_category(text: str) -> str | None:
    """The category a free-text dispute type means, or None when it is not recognised."""
    key = label_key(text)
    if not key:
        return None
    code = _category_labels().get(key)
    if code:
        return code
    for word, code in CATEGORY_KEYWORDS:
        if word in key:
            return code
    return None


_LABELS: dict[str, str] = {}


def _category_labels() -> dict[str, str]:
    if not _LABELS:
        _LABELS.update(vocabulary_keys(CATEGORIES))
    return _LABELS


def category_values(sheet: Sheet, column: int | None) -> list[tuple[str, int, str | None]]:
    """The distinct values of the category column, most frequent first: (value, rows, guess)."""
    if column is None:
        return []
    counts: Counter = Counter()
    first: dict[str, str] = {}
    for _line, cells in sheet.rows:
        text = cell_text(cells[column]) if column < len(cells) else ""
        key = label_key(text)
        counts[key] += 1
        first.setdefault(key, text)
    return [(first[key], count, guess_category(first[key]))
            for key, count in counts.most_common(MAX_CATEGORY_VALUES) if key]


def default_mapping(sheet: Sheet) -> dict:
    columns = guess_columns(sheet.headers)
    return {"columns": columns, "categories": {}}


def mapping_problems(mapping: dict, headers: list[str]) -> list[str]:
    """Required fields without a column, as messages in the user's language."""
    columns = mapping.get("columns", {})
    return [gettext("Choose the column that holds the %(field)s.", field=field_label(f.key))
            for f in FIELDS if f.required and columns.get(f.key) is None]


def mapping_from_form(form, headers: list[str]) -> dict:
    """The mapping a user chose: `col-<field>` = column index, `cat-<n>` / `catval-<n>` = a
    category for one of the file's values. Values that make no sense are dropped."""
    columns: dict[str, int] = {}
    for f in FIELDS:
        value = form.get(f"col-{f.key}", "")
        if value.isdigit() and int(value) < len(headers):
            columns[f.key] = int(value)
    categories: dict[str, str] = {}
    for name, value in form.items():
        if name.startswith("cat-") and name[4:].isdigit():
            raw = form.get(f"catval-{name[4:]}", "")
            if raw and (value in CATEGORIES or value == ""):
                categories[label_key(raw)[:200]] = value
    return {"columns": columns, "categories": categories}


def clean_mapping(mapping: dict, headers: list[str]) -> dict:
    """A stored or given mapping, with only known fields, columns and categories."""
    columns = {key: int(value) for key, value in (mapping.get("columns") or {}).items()
               if key in FIELD_BY_KEY and isinstance(value, int) and 0 <= value < len(headers)}
    categories = {str(k): v for k, v in (mapping.get("categories") or {}).items()
                  if v in CATEGORIES or v == ""}
    return {"columns": columns, "categories": categories}


def mapping_by_header(given: dict, headers: list[str]) -> dict:
    """A mapping written with header names (the CLI's --mapping): {"columns": {"facts":
    "诉求内容"}, "categories": {"欠薪": "labour"}}; unknown header → ValueError."""
    keys = [header_key(h) for h in headers]
    columns: dict[str, int] = {}
    for field_key, header in (given.get("columns") or {}).items():
        if field_key not in FIELD_BY_KEY:
            raise ValueError(f"unknown field {field_key!r}")
        if isinstance(header, int):
            columns[field_key] = header
        elif header_key(str(header)) in keys:
            columns[field_key] = keys.index(header_key(str(header)))
        else:
            raise ValueError(f"the file has no column {header!r}")
    categories = {label_key(str(k)): v for k, v in (given.get("categories") or {}).items()}
    return clean_mapping({"columns": columns, "categories": categories}, headers)


# ---- checking rows -----------------------------------------------------------------------

@dataclass
class RowResult:
    """What one row of the file does: `new` (registered on import), `imported` (a case with the
    same channel and reference exists: skipped) or `error` (skipped, with every reason)."""

    line: int
    status: str
    reference: str
    applicant: str
    cells: list
    problems: list[Problem] = field(default_factory=list)
    data: IntakeData | None = None


@dataclass
class RowContext:
    """What rows are checked against: the channel, the default centre, the centres allowed
    and the user's category choices for the file's values."""

    source: str
    centre_id: int
    centres: list[Centre]
    categories: dict[str, str]
    columns: dict[str, int]

    def __post_init__(self):
        mapped = {key.partition(".")[0] for key in self.columns}
        self.slots = [(slot, role) for slot, role, _label in PARTY_SLOTS
                      if slot in ("applicant", "respondent") or slot in mapped]
        self.by_code = {c.short_code: c.id for c in self.centres}
        self.by_name: dict[str, list[int]] = {}
        for c in self.centres:
            self.by_name.setdefault(c.name, []).append(c.id)


def check_rows(sheet: Sheet, context: RowContext) -> list[RowResult]:
    """Every row's outcome from the file alone (no database): fields, formats, checksums,
    duplicate references within the file."""
    seen: dict[str, int] = {}
    results = []
    for line, cells in sheet.rows:
        result = check_row(line, cells, context)
        ref = result.reference
        if ref:
            if ref in seen:
                result.problems.append(Problem("source_ref", N_(
                    "This reference is already on line %(line)s of the file."),
                    {"line": seen[ref]}))
            else:
                seen[ref] = line
        if result.problems:
            result.status, result.data = "error", None
        results.append(result)
    return results


def check_row(line: int, cells: list, context: RowContext) -> RowResult:
    columns = context.columns
    width = len(cells)
    texts = {key: _cell_text(cells[position]) for key, position in columns.items()
             if position < width}

    def text(key: str) -> str:
        return texts.get(key, "")

    def raw(key: str):
        position = columns.get(key)
        return cells[position] if position is not None and position < len(cells) else None

    problems: list[Problem] = []
    ref = text("source_ref")
    result = RowResult(line, "new", ref, text("applicant.name"), cells, problems)
    if not ref:
        problems.append(Problem("source_ref", N_(
            "The row has no reference: every case needs the sender's reference, so that "
            "importing again does not register it twice.")))
    elif len(ref) > REF_MAX:
        problems.append(_too_long("source_ref", REF_MAX))
    category = _category(text("category"), context, problems)
    facts, claims = text("facts"), text("claims")
    if not facts:
        problems.append(Problem("facts", N_("Describe what happened.")))
    elif len(facts) > MAX_TEXT:
        problems.append(_too_long("facts", MAX_TEXT))
    if not claims:
        problems.append(Problem("claims", N_("State what the applicant asks for.")))
    elif len(claims) > MAX_TEXT:
        problems.append(_too_long("claims", MAX_TEXT))
    amount = _amount(text("amount"), problems)
    centre_id = _centre(text("centre"), context, problems)
    parties = []
    for slot, role in context.slots:
        party = _party(slot, role, text, raw, problems)
        if party is not None:
            parties.append(party)
    if problems:
        return result
    data = IntakeData(centre_id=centre_id, source=context.source, category=category,
                      facts=facts, claims=claims, parties=parties, amount=amount,
                      source_ref=ref)
    problems += _same_party_twice(parties)
    if not problems:
        result.data = data
    return result


def _cell_text(value) -> str:
    """cell_text, with a quick path for the usual clean text cell."""
    if value.__class__ is str:
        if "\r" in value or CONTROL_CHARS.search(value):
            return cell_text(value)
        return value.strip()
    return cell_text(value)


def _same_party_twice(parties: list[PartyData]) -> list[Problem]:
    """The check of services.check_intake that the fields checked here leave: the same ID
    number or credit code on two parties of the case."""
    seen: set[str] = set()
    problems = []
    for index, party in enumerate(parties):
        key = party.id_number or party.credit_code
        if key:
            if key in seen:
                problems.append(Problem(_party_field(f"parties-{index}", parties), N_(
                    "The same person or organisation is entered twice.")))
            seen.add(key)
    return problems


def _too_long(key: str, limit: int) -> Problem:
    return Problem(key, N_("This is longer than %(max)s characters."), {"max": limit})


def _category(value: str, context: RowContext, problems: list[Problem]) -> str | None:
    if not value:
        problems.append(Problem("category", N_("Choose the category of the dispute.")))
        return None
    key = label_key(value)
    code = context.categories[key] if key in context.categories else guess_category(value)
    if not code:
        problems.append(Problem("category", N_(
            "Unknown category “%(value)s”: choose a category for this value on the column "
            "mapping page."), {"value": value}))
    return code or None


def _amount(value: str, problems: list[Problem]) -> Decimal | None:
    if not value:
        return None
    cleaned = re.sub(r"[,，\s元￥¥]", "", value).removeprefix("RMB")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        problems.append(Problem("amount", N_(
            "Enter an amount between 0 and 999,999,999,999.99 yuan.")))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        problems.append(Problem("amount", N_(
            "Enter the amount with at most two decimals, such as 3000.50.")))
        return None
    return amount


def _centre(value: str, context: RowContext, problems: list[Problem]) -> int:
    if not value:
        return context.centre_id
    if value in context.by_code:
        return context.by_code[value]
    found = context.by_name.get(value, [])
    if len(found) == 1:
        return found[0]
    problems.append(Problem("centre", N_(
        "No centre of yours has the short code or name “%(value)s”."), {"value": value}))
    return context.centre_id


def _party(slot: str, role: str, text, raw, problems: list[Problem]) -> PartyData | None:
    name, kind_text, key, phone, address = (text(part_key) for part_key in _part_keys(slot))
    if not name:
        if slot in ("applicant", "respondent") or kind_text or key or phone or address:
            problems.append(Problem(f"{slot}.name", N_("Enter the party's name.")))
        return None
    if len(name) > NAME_MAX:
        problems.append(_too_long(f"{slot}.name", NAME_MAX))
    if len(address) > ADDRESS_MAX:
        problems.append(_too_long(f"{slot}.address", ADDRESS_MAX))
    id_problem = validators.id_number_problem(key) if key else None
    kind = _kind(kind_text, name, key, id_problem)
    if kind is None:
        problems.append(Problem(f"{slot}.kind", N_(
            "Unknown value “%(value)s”: write one of %(choices)s."),
            {"value": kind_text, "choices": "、".join(gettext(m) for m in PARTY_KINDS.values())}))
        kind = "person"
    person = kind == "person"
    if key:
        cell = raw(f"{slot}.id")
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            problems.append(Problem(f"{slot}.id", N_(
                "The ID number is stored as a number, which loses digits: format the column "
                "as text and type it again.")))
        else:
            problem = id_problem if person else validators.credit_code_problem(key)
            if problem:
                problems.append(Problem(f"{slot}.id", problem))
    if phone:
        problem = validators.phone_problem(phone)
        if problem:
            problems.append(Problem(f"{slot}.phone", problem))
    return PartyData(
        role=role, kind=kind, name=name,
        id_number=validators.normalise_id_number(key) or None if person else None,
        credit_code=None if person else validators.normalise_credit_code(key) or None,
        phone=phone or None, address=address or None)


_PART_KEYS: dict[str, tuple[str, ...]] = {}


def _part_keys(slot: str) -> tuple[str, ...]:
    keys = _PART_KEYS.get(slot)
    if keys is None:
        keys = _PART_KEYS[slot] = tuple(f"{slot}.{part}" for part, _label in PARTY_PARTS)
    return keys


def _kind(value: str, name: str, key: str, id_problem: str | None) -> str | None:
    """person / organisation from the kind cell; when empty, from the number (a valid credit
    code that is no ID number) or the name (ending in 公司, 店, 物业…)."""
    if value:
        return _kind_words().get(label_key(value))
    if key and id_problem and not validators.credit_code_problem(key):
        return "organisation"
    return "organisation" if name.endswith(ORGANISATION_ENDINGS) else "person"


_KIND_WORDS: dict[str, str] = {}


def _kind_words() -> dict[str, str]:
    if not _KIND_WORDS:
        _KIND_WORDS.update(vocabulary_keys(PARTY_KINDS))
        _KIND_WORDS.update({word: "person" for word in PERSON_WORDS})
        _KIND_WORDS.update({word: "organisation" for word in ORGANISATION_WORDS})
    return _KIND_WORDS


def _party_field(key: str, parties: list[PartyData]) -> str:
    """The file field for an error of check_intake ("parties-1" → the respondent's name)."""
    if key.startswith("parties-") and key[8:].isdigit():
        index = int(key[8:])
        counts: Counter = Counter()
        for position, party in enumerate(parties):
            counts[party.role] += 1
            if position == index:
                slot = party.role if counts[party.role] == 1 else f"{party.role}2"
                return f"{slot}.name"
    return "applicant.name"


# ---- checks against the database ---------------------------------------------------------

def mark_imported(results: list[RowResult], source: str) -> None:
    """Rows whose reference already has a case from this channel: skipped, not an error."""
    refs = [r.reference for r in results if r.reference and len(r.reference) <= REF_MAX]
    taken = existing_references(source, refs)
    for result in results:
        if result.reference in taken:
            result.status, result.problems, result.data = "imported", [], None


def existing_references(source: str, refs: list[str]) -> set[str]:
    """Which of these references a case from the channel already carries. For many, one
    pass over the channel's references: PostgreSQL answers long IN lists on the second column
    of the (source, source_ref) index by reading every case of the channel, once per list."""
    if len(refs) > STREAM_REFERENCES:
        wanted = set(refs)
        rows = db.session.execute(select(Case.source_ref).where(Case.source == source)
                                  .execution_options(yield_per=10_000)).scalars()
        return {ref for ref in rows if ref in wanted}
    taken: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        taken.update(db.session.scalars(select(Case.source_ref).where(
            Case.source == source, Case.source_ref.in_(chunk))))
    return taken


def party_key(data: PartyData) -> tuple[str, str] | None:
    if data.kind == "person":
        key = validators.normalise_id_number(data.id_number or "")
        return ("id_number", key) if key else None
    key = validators.normalise_credit_code(data.credit_code or "")
    return ("credit_code", key) if key else None


def existing_parties(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Party]:
    """Parties already registered under these ID numbers / credit codes."""
    found: dict[tuple[str, str], Party] = {}
    for column_name in ("id_number", "credit_code"):
        values = sorted({value for column, value in keys if column == column_name})
        column = getattr(Party, column_name)
        for start in range(0, len(values), 500):
            for party in db.session.scalars(
                    select(Party).where(column.in_(values[start:start + 500]))):
                found[(column_name, getattr(party, column_name))] = party
    return found


def existing_party_names(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The names registered under these ID numbers / credit codes (no ORM objects: fast)."""
    found: dict[tuple[str, str], str] = {}
    for column_name in ("id_number", "credit_code"):
        values = sorted({value for column, value in keys if column == column_name})
        column = getattr(Party, column_name)
        for start in range(0, len(values), 500):
            for value, name in db.session.execute(select(column, Party.name).where(
                    column.in_(values[start:start + 500]))):
                found[(column_name, value)] = name
    return found


NAME_TAKEN = N_("This ID number or credit code is already registered under a different name.")


def mark_party_conflicts(results: list[RowResult]) -> None:
    """Rows naming a registered ID number or credit code under another name (as intake
    refuses), or a number given under another name on an earlier line of the file."""
    rows = [r for r in results if r.status == "new"]
    keys = {party_key(p) for r in rows for p in r.data.parties} - {None}
    names = existing_party_names(keys)
    for result in rows:
        problems = _conflicts(result.data.parties, names)
        if problems:
            result.status, result.problems, result.data = "error", problems, None


def _conflicts(parties: list[PartyData], names: dict) -> list[Problem]:
    problems = []
    keys = []
    for index, party in enumerate(parties):
        key = party_key(party)
        if key and key in names and names[key] != party.name.strip():
            problems.append(Problem(_party_field(f"parties-{index}", parties), NAME_TAKEN))
        keys.append(key)
    if not problems:
        for key, party in zip(keys, parties):
            if key:
                names.setdefault(key, party.name.strip())
    return problems


# ---- the report shown before and after importing -----------------------------------------

@dataclass
class Report:
    """The outcome of every row, with counts by status."""

    rows: list[RowResult]

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.rows)
        return {status: counts.get(status, 0)
                for status in ("new", "created", "imported", "error")}

    def of(self, status: str, limit: int = PREVIEW_ROWS) -> list[RowResult]:
        return [r for r in self.rows if r.status == status][:limit]

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "error"]


def allowed_centres(user: User | None, centre: Centre) -> list[Centre]:
    """The centres rows may name: the user's subtree (or, without a user, the chosen centre's)."""
    top = user.centre if user is not None else centre
    return list(db.session.scalars(select(Centre).where(
        Centre.path.startswith(top.path, autoescape=True)).order_by(Centre.path)))


def row_context(batch: CaseImportBatch, sheet: Sheet) -> RowContext:
    mapping = clean_mapping(batch.mapping or {}, sheet.headers)
    return RowContext(source=batch.source, centre_id=batch.centre_id,
                      centres=allowed_centres(batch.user, batch.centre),
                      categories=mapping["categories"], columns=mapping["columns"])


def preview(batch: CaseImportBatch, sheet: Sheet) -> Report:
    """What importing would do, row by row; writes nothing."""
    results = check_rows(sheet, row_context(batch, sheet))
    mark_imported(results, batch.source)
    mark_party_conflicts(results)
    return Report(results)


def error_workbook(sheet: Sheet, report: Report) -> bytes:
    """The rows with an error, as they were in the file, with their line and reasons first:
    correct them in this file and import it again."""
    headers = [gettext("Line"), gettext("Errors"), *column_names(sheet.headers)]
    rows = ([r.line, "；".join(problem_text(p) for p in r.problems),
             *[cell_text(c) for c in r.cells]] for r in report.errors)
    return write_workbook(headers, rows, gettext("Errors"))


def problem_text(problem: Problem) -> str:
    if problem.field in FIELD_BY_KEY:
        return gettext("%(column)s: %(problem)s", column=field_label(problem.field),
                       problem=problem.text())
    return problem.text()


# ---- registering rows in chunks ----------------------------------------------------------

PARTY_ATTRS = ("gender", "ethnicity", "birth_date", "address", "occupation",
               "legal_representative")


def party_changes(current: dict, data: PartyData, key: tuple[str, str] | None) -> dict:
    """The values intake sets on a party for these particulars (as services'
    _find_or_create_party does), given the party's current values."""
    values = dict(current)
    for attr in PARTY_ATTRS:
        value = getattr(data, attr)
        if value:
            values[attr] = value
    if data.phone:
        values["phone"] = validators.normalise_phone(data.phone)
    if key and data.kind == "person":
        values["id_number"] = key[1]
        values["birth_date"] = values.get("birth_date") or validators.birth_date_from_id(key[1])
        values["gender"] = values.get("gender") or validators.gender_from_id(key[1])
    elif key:
        values["credit_code"] = key[1]
    return values


NEW_PARTY_COLUMNS = ("kind", "name", "gender", "ethnicity", "birth_date", "id_number", "phone",
                     "address", "occupation", "credit_code", "legal_representative",
                     "created_at")


# What tells new parties apart; the other columns are derived from these or are timestamps.
PARTY_MATCH = ("kind", "name", "id_number", "credit_code", "phone", "address")


@dataclass
class Chunk:
    """The outcome of writing one chunk of rows."""

    created: int = 0
    skipped: int = 0
    failed: int = 0


def write_rows(rows: list[RowResult], actor: User | None, today: date,
               acceptance_due: date, codes: dict[int, str], recheck: bool = False) -> Chunk:
    """Register the rows' cases in the caller's transaction, each whole: numbers taken per
    centre in one statement, parties found or created in bulk, one audit event per case.
    Name clashes become errors. With `recheck`, rows whose reference was taken since the
    preview are skipped; without, the unique (source, source_ref) constraint refuses them."""
    outcome = Chunk()
    taken: set[tuple[str, str]] = set()
    if recheck:
        source_refs: dict[str, list[str]] = {}
        for row in rows:
            source_refs.setdefault(row.data.source, []).append(row.reference)
        taken = {(source, ref) for source, refs in source_refs.items()
                 for ref in existing_references(source, refs)}
    todo = []
    for row in rows:
        if (row.data.source, row.reference) in taken:
            row.status, row.data = "imported", None
            outcome.skipped += 1
        else:
            todo.append(row)
    keys = {party_key(p) for r in todo for p in r.data.parties} - {None}
    found = existing_parties(keys)
    names = {key: party.name for key, party in found.items()}
    ready = []
    for row in todo:
        problems = _conflicts(row.data.parties, names)
        if problems:
            row.status, row.problems, row.data = "error", problems, None
            outcome.failed += 1
        else:
            ready.append(row)
    if not ready:
        return outcome

    # numbers first, as register_case takes them before touching parties (same lock order)
    numbers: dict[int, Iterable[int]] = {}
    by_centre = Counter(row.data.centre_id for row in ready)
    for centre_id, count in sorted(by_centre.items()):
        numbers[centre_id] = iter(next_sequences(centre_id, today.year, count))

    new_keyed: dict[tuple[str, str], dict] = {}
    for row in ready:
        for party in row.data.parties:
            key = party_key(party)
            if key in found:
                _update_party(found[key], party, key)
            elif key:
                new_keyed[key] = party_changes(new_keyed.get(key) or _blank_party(party),
                                               party, key)

    # new parties: keyed ones once, unkeyed ones once per row, in one insert
    new_rows: list[dict] = list(new_keyed.values())
    slots: list[list] = []
    for row in ready:
        refs = []
        for party in row.data.parties:
            key = party_key(party)
            if key in found:
                refs.append(("id", found[key].id))
            elif key:
                refs.append(("keyed", key))
            else:
                refs.append(("new", len(new_rows)))
                new_rows.append(party_changes(_blank_party(party), party, None))
        slots.append(refs)
    keyed_index = {key: i for i, key in enumerate(new_keyed)}
    new_ids = _insert(Party, new_rows, PARTY_MATCH) if new_rows else []

    at_by_row = []
    case_rows = []
    for row in ready:
        data = row.data
        sequence = next(numbers[data.centre_id])
        at = utcnow()
        at_by_row.append(at)
        case_rows.append({
            "number": format_case_number(today.year, codes[data.centre_id], sequence),
            "year": today.year, "sequence": sequence, "centre_id": data.centre_id,
            "source": data.source, "source_ref": data.source_ref, "category": data.category,
            "mediation_type": None, "amount": data.amount, "facts": data.facts.strip(),
            "claims": data.claims.strip(), "status": "registered", "registered_at": at,
            "registered_on": today, "acceptance_due": acceptance_due,
            "next_due": acceptance_due, "suspended_days": 0,
            "created_by_id": actor.id if actor else None, "updated_at": at, "version": 1})
    case_ids = _insert(Case, case_rows, ("number",))

    link_rows, event_rows = [], []
    for row, refs, case_id, case_row, at in zip(ready, slots, case_ids, case_rows, at_by_row):
        for position, (party, (kind, ref)) in enumerate(zip(row.data.parties, refs)):
            party_id = (ref if kind == "id" else new_ids[keyed_index[ref]] if kind == "keyed"
                        else new_ids[ref])
            link_rows.append({"case_id": case_id, "party_id": party_id, "role": party.role,
                              "position": position,
                              "refuses_mediation": party.refuses_mediation,
                              "agent_name": None, "agent_id_number": None,
                              "agent_phone": None, "agent_relation": None})
        event_rows.append(_register_event(case_id, case_row, actor, at))
        row.status = "created"
    _insert(CaseParty, link_rows)
    _insert(AuditEvent, event_rows)
    outcome.created += len(ready)
    return outcome


def _blank_party(data: PartyData) -> dict:
    values = {column: None for column in NEW_PARTY_COLUMNS}
    values.update(kind=data.kind, name=data.name.strip(), created_at=utcnow())
    return values


def _update_party(party: Party, data: PartyData, key) -> None:
    current = {attr: getattr(party, attr) for attr in NEW_PARTY_COLUMNS}
    for attr, value in party_changes(current, data, key).items():
        if current[attr] != value:
            setattr(party, attr, value)


def _insert(model, rows: list[dict], match: tuple[str, ...] | None = None) -> list[int]:
    """Insert the rows; with `match`, return their new ids in the order of the rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _insert_postgresql(model.__table__, rows, returning=match is not None)
    if match is None:
        db.session.execute(insert(model.__table__), rows)
        return []
    return _insert_returning(model, rows, match)


def _insert_postgresql(table, rows: list[dict], returning: bool) -> list[int]:
    """psycopg's own executemany: one prepared statement, pipelined, results in order.
    (SQLAlchemy's multi-row VALUES statements are long and psycopg parses each of them in
    Python, which made PostgreSQL imports several times slower.)"""
    import psycopg
    from psycopg.types.json import Json
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(["%s"] * len(columns))
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({values})' \
        + (" RETURNING id" if returning else "")
    params = [tuple(Json(row[c]) if c in json_columns else row[c] for c in columns)
              for row in rows]
    ids: list[int] = []
    try:
        with db.session.connection().connection.driver_connection.cursor() as cursor:
            cursor.executemany(sql, params, returning=returning)
            if returning:
                while True:
                    ids.append(cursor.fetchone()[0])
                    if not cursor.nextset():
                        break
    except psycopg.Error as error:  # as SQLAlchemy would raise it (IntegrityError …)
        raise DBAPIError.instance(sql, None, error, psycopg.Error) from error
    return ids


def _insert_returning(model, rows: list[dict], match: tuple[str, ...]) -> list[int]:
    """Insert the rows (many per statement) and return their new ids in the order of the rows.

    RETURNING does not promise the order of the rows on every database, and asking SQLAlchemy
    for it falls back to one statement per row on SQLite; so the returned rows are matched to
    the given ones by the `match` columns instead. Rows equal in all of them are
    interchangeable, so which of their ids goes to which does not matter."""
    table = model.__table__
    statement = insert(table).returning(table.c.id, *(table.c[name] for name in match))
    waiting: dict[tuple, deque] = {}
    for returned in db.session.execute(statement, rows):
        waiting.setdefault(tuple(returned[1:]), deque()).append(returned[0])
    return [waiting[tuple(row[name] for name in match)].popleft() for row in rows]


def _register_event(case_id: int, case_row: dict, actor: User | None, at: datetime) -> dict:
    """The "register" audit event register_case writes, with its hash (first of the chain)."""
    values = {"case_id": case_id, "seq": 1, "actor_id": actor.id if actor else None,
              "actor_name": actor.display_name if actor else SYSTEM_ACTOR, "occurred_at": at,
              "trigger": "register", "from_state": None, "to_state": "registered",
              "reason": "", "data": {"number": case_row["number"], "source": case_row["source"]},
              "prev_hash": AuditEvent.GENESIS}
    # the model's own payload and hash code, on a plain object (no ORM instrumentation)
    event = SimpleNamespace(**values)
    event.payload = lambda: AuditEvent.payload(event)
    values["hash"] = AuditEvent.compute_hash(event)
    return values


# ---- the import as a whole ---------------------------------------------------------------

def run_import(batch: CaseImportBatch, sheet: Sheet, actor: User | None,
               today: date | None = None,
               progress: Callable[[int], None] | None = None) -> Report:
    """Check every row again against the database as it is now, then register the good rows
    chunk by chunk, each chunk (with the batch's counts) in one transaction. A chunk that
    fails is retried row by row, so that only the row at fault is skipped."""
    today = today or centre_today()
    acceptance_due = working_calendar().add_working_days(
        today, clock_settings().acceptance_working_days)
    codes = {c.id: c.short_code for c in db.session.scalars(select(Centre))}
    batch_id = batch.id
    report = preview(batch, sheet)
    counts = {"processed": 0, "created": 0, "skipped": 0, "failed": 0}
    _save_progress(batch_id, status="running", total=len(report.rows), started_at=utcnow(),
                   error=None, **counts)
    try:
        for start in range(0, len(report.rows), CHUNK):
            chunk = report.rows[start:start + CHUNK]
            outcome = _write_chunk([r for r in chunk if r.status == "new"], actor, today,
                                   acceptance_due, codes)
            counts["processed"] += len(chunk)
            counts["created"] += outcome.created
            counts["skipped"] += sum(r.status == "imported" for r in chunk)
            counts["failed"] += sum(r.status == "error" for r in chunk)
            _save_progress(batch_id, **counts)
            if progress:
                progress(len(chunk))
    except Exception as error:
        db.session.rollback()
        _save_progress(batch_id, status="failed", finished_at=utcnow(),
                       error=f"{type(error).__name__}: {error}"[:2000])
        raise
    _save_progress(batch_id, status="finished", finished_at=utcnow())
    return report


def _write_chunk(rows: list[RowResult], actor, today, acceptance_due, codes) -> Chunk:
    """Write the rows in the current transaction (committed with the progress); when that
    fails, roll back and write them one at a time."""
    if not rows:
        return Chunk()
    originals = [(row, row.data) for row in rows]
    try:
        with db.session.begin_nested():
            return write_rows(rows, actor, today, acceptance_due, codes)
    except SQLAlchemyError:
        pass
    outcome = Chunk()
    for row, data in originals:
        row.status, row.data, row.problems = "new", data, []
        try:
            with db.session.begin_nested():
                one = write_rows([row], actor, today, acceptance_due, codes, recheck=True)
        except SQLAlchemyError:
            row.status, row.data = "error", None
            row.problems = [Problem("", N_("The row could not be saved because the database "
                                           "refused it; import the file again."))]
            continue
        outcome.created += one.created
    return outcome


def _save_progress(batch_id: int, **values) -> None:
    """Record the batch's progress and commit (with the chunk written before it)."""
    batch = db.session.get(CaseImportBatch, batch_id)
    for key, value in values.items():
        setattr(batch, key, value)
    batch.heartbeat_at = utcnow()
    db.session.commit()


# ---- batches, stored files and the background thread ------------------------------------

def upload_dir() -> Path:
    configured = current_app.config.get("BULK_UPLOAD_DIR")
    return Path(configured) if configured else \
        Path(current_app.instance_path) / "uploads" / "case-imports"


def create_batch(content: bytes, filename: str, source: str, centre: Centre,
                 user: User | None) -> tuple[CaseImportBatch, Sheet]:
    """Keep the file under a random token and start a draft batch with the guessed mapping;
    FileProblem when the file cannot be read."""
    sheet = read_file(filename, content)
    token = secrets.token_urlsafe(32)
    if user is not None:
        directory = upload_dir()
        directory.mkdir(parents=True, exist_ok=True)
        _remove_old_files(directory)
        (directory / token).write_bytes(content)
        _write_rows_cache(directory / f"{token}.rows", sheet)
    batch = CaseImportBatch(user_id=user.id if user else None, centre_id=centre.id,
                            source=source, filename=(filename or "")[:255], token=token,
                            mapping=default_mapping(sheet), status="draft",
                            total=len(sheet.rows), processed=0, created=0, skipped=0, failed=0)
    db.session.add(batch)
    db.session.commit()
    return batch, sheet


def _remove_old_files(directory: Path) -> None:
    """Stored files are kept for the error report a while after their import, then removed."""
    cutoff = time.time() - FILE_LIFETIME.total_seconds()
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def load_sheet(batch: CaseImportBatch) -> Sheet:
    """The batch's stored file, read again; FileProblem when it is gone."""
    if not TOKEN_PATTERN.match(batch.token or ""):
        raise FileProblem(N_("The uploaded file is no longer available; upload it again."))
    cached = _read_rows_cache(upload_dir() / f"{batch.token}.rows")
    if cached is not None:
        return cached
    try:
        content = (upload_dir() / batch.token).read_bytes()
    except OSError:
        raise FileProblem(N_("The uploaded file is no longer available; upload it again.")) \
            from None
    return read_file(batch.filename, content)


def _write_rows_cache(path: Path, sheet: Sheet) -> None:
    """The rows as read, in JSON: reading a large workbook again takes many times longer. Numbers
    stay numbers (an ID number typed as a number is reported); other values become text."""
    def plain(value):
        return value if value is None or isinstance(value, str | int | float) \
            else cell_text(value)
    path.write_text(json.dumps({"headers": sheet.headers, "rows": [
        [line, [plain(v) for v in cells]] for line, cells in sheet.rows]}, ensure_ascii=False),
        encoding="utf-8")


def _read_rows_cache(path: Path) -> Sheet | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Sheet(data["headers"], [(line, cells) for line, cells in data["rows"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_mapping(batch: CaseImportBatch, mapping: dict) -> None:
    batch.mapping = mapping
    db.session.commit()


def is_stale(batch: CaseImportBatch) -> bool:
    """A queued or running import whose worker stopped sending heartbeats (the process died)."""
    last = batch.heartbeat_at or batch.created_at
    return batch.status in ("queued", "running") and utcnow() - last > STALE_AFTER


RUNNING: dict[int, threading.Thread] = {}


def start_import(batch: CaseImportBatch, actor: User, today: date | None = None) -> None:
    """Import now when the file is small, else in a background thread with its own app
    context; the batch row records the progress either way."""
    sheet = load_sheet(batch)
    batch.status, batch.total, batch.processed = "queued", len(sheet.rows), 0
    batch.created = batch.skipped = batch.failed = 0
    batch.heartbeat_at = utcnow()
    db.session.commit()
    if len(sheet.rows) <= current_app.config.get("BULK_SYNC_ROWS", SYNC_ROWS):
        try:
            run_import(batch, sheet, actor, today)
        except Exception:  # recorded on the batch, which the progress page shows
            current_app.logger.exception("case import %s failed", batch.id)
        return
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run_in_background, name=f"case-import-{batch.id}",
                              args=(app, batch.id, actor.id, today), daemon=True)
    RUNNING[batch.id] = thread
    thread.start()


def _run_in_background(app, batch_id: int, actor_id: int, today: date | None) -> None:
    with app.app_context():
        try:
            batch = db.session.get(CaseImportBatch, batch_id)
            actor = db.session.get(User, actor_id)
            run_import(batch, load_sheet(batch), actor, today)
        except Exception:  # recorded on the batch by run_import; logged here
            app.logger.exception("case import %s failed", batch_id)
            try:
                _mark_failed(batch_id)
            except SQLAlchemyError:
                db.session.rollback()
        finally:
            db.session.remove()
            RUNNING.pop(batch_id, None)


def _mark_failed(batch_id: int) -> None:
    db.session.rollback()
    batch = db.session.get(CaseImportBatch, batch_id)
    if batch is not None and batch.status != "failed":
        batch.status, batch.finished_at = "failed", utcnow()
        db.session.commit()


def status_of(batch: CaseImportBatch) -> dict:
    """The progress as the status endpoint answers it."""
    return {"id": batch.id, "status": "interrupted" if is_stale(batch) else batch.status,
            "total": batch.total, "processed": batch.processed, "created": batch.created,
            "skipped": batch.skipped, "failed": batch.failed, "percent": batch.percent,
            "done": batch.done or is_stale(batch)}


def csv_report(sheet: Sheet, report: Report) -> str:
    """The error rows as CSV text (for the CLI)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "reference", "errors"])
    for row in report.errors:
        writer.writerow([row.line, row.reference, "; ".join(problem_text(p) for p in row.problems)])
    return out.getvalue()
