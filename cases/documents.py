"""Printed documents (文书): render, issue immutable versions, verify and list.

A document is rendered from a context of plain values (`DocumentData`) built from the case.
Its content fingerprint is the SHA-256 of that context in canonical JSON (with the kind, the
case number and the version, without the issue date), printed on the document, and the first
12 hex digits key the short verification link. The PDF bytes get their own SHA-256 (`sha256`),
which checks an uploaded copy. Issuing an unchanged document returns the latest version;
any change issues version n+1 and the earlier versions stay downloadable.
"""
from __future__ import annotations

import base64
import hashlib
import io
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import record_event
from app.extensions import db
from app.i18n import label
from app.models import User, utcnow
from cases.document_models import DOCUMENT_KINDS, IssuedDocument
from cases.models import Case, CaseParty
from cases.pdf_fonts import RenderedPdf, engine, ensure_faces
from cases.vocabulary import AGENT_RELATIONS, CATEGORIES, GENDERS, PARTY_ROLES
from mediators.choice import format_code
from statutes.citations import cited_articles
from workflows import vocabulary as flow_vocabulary
from workflows.i18n import N_

KIND_TITLES = {
    "agreement": "人民调解协议书",
    "confirmation_application": "司法确认申请书",
    "termination_notice": "调解终止告知书",
    "acceptance_notice": "受理通知书",
}
KIND_LABELS = {
    "agreement": N_("Mediation agreement"),
    "confirmation_application": N_("Application for judicial confirmation"),
    "termination_notice": N_("Notice of termination of mediation"),
    "acceptance_notice": N_("Notice of acceptance"),
}
# Titles of the events issuing writes into a case's history (for the case timeline).
DOCUMENT_EVENT_TITLES = {"issue_document": N_("Document issued")}
AGREEMENT_STATES = ("agreed", "confirming", "confirmed", "closed")
CONFIRMATION_STATES = ("agreed", "confirming")
TERMINATION_STATES = ("terminated", "referred", "closed")
NOT_ACCEPTED_STATES = ("registered", "declined", "withdrawn")
SHORT_LENGTH = 12
PDF_LOCALE = "zh_Hans_CN"  # official documents are printed in Chinese whatever the UI language


class DocumentError(Exception):
    """A document that cannot be issued in the case's state; `message` is an English msgid."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


# --- listing (used by the case page and the API) -------------------------------------------

def issued_for_case(case_id: int) -> list[IssuedDocument]:
    """Every issued version of every document of a case, by kind then version."""
    return list(db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.case_id == case_id)
        .order_by(IssuedDocument.kind, IssuedDocument.case_party_id.nullsfirst(),
                  IssuedDocument.version)))


def latest_fingerprint(case_id: int, kind: str) -> str | None:
    """Hex SHA-256 of the PDF bytes of the newest issued version of `kind`, None if none."""
    return db.session.scalar(
        select(IssuedDocument.sha256)
        .where(IssuedDocument.case_id == case_id, IssuedDocument.kind == kind)
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc()).limit(1))


def latest(case_id: int, kind: str, case_party_id: int | None = None) -> IssuedDocument | None:
    query = select(IssuedDocument).where(IssuedDocument.case_id == case_id,
                                         IssuedDocument.kind == kind)
    query = query.where(IssuedDocument.case_party_id.is_(None) if case_party_id is None
                        else IssuedDocument.case_party_id == case_party_id)
    return db.session.scalar(query.order_by(IssuedDocument.version.desc()).limit(1))


def for_party(case_id: int, case_party_id: int) -> list[IssuedDocument]:
    """What a party may download: the case's documents and only their own acceptance notice."""
    return [doc for doc in issued_for_case(case_id)
            if doc.case_party_id is None or doc.case_party_id == case_party_id]


def kinds_allowed(case: Case) -> list[str]:
    """The kinds (other than acceptance notices, issued with access codes) issuable now."""
    return [kind for kind in ("agreement", "confirmation_application", "termination_notice")
            if refusal(case, kind) is None]


def refusal(case: Case, kind: str) -> str | None:
    """Why `kind` cannot be issued for the case now (an English msgid), or None."""
    if kind not in DOCUMENT_KINDS:
        return N_("Unknown kind of document.")
    # A court's refusal to confirm clears agreement_effective_on: the old agreement is void.
    in_force = case.current_agreement is not None and case.agreement_effective_on is not None
    if kind == "agreement":
        if case.status not in AGREEMENT_STATES or not in_force:
            return N_("A mediation agreement can be issued only once the parties have reached "
                      "an agreement.")
    elif kind == "confirmation_application":
        if case.status not in CONFIRMATION_STATES or not in_force:
            return N_("An application for judicial confirmation can be issued only for an "
                      "agreement not yet confirmed by a court.")
    elif kind == "termination_notice":
        if case.status not in TERMINATION_STATES or \
                case.outcome_code not in flow_vocabulary.TERMINATION_REASONS:
            return N_("A notice of termination can be issued only after mediation was "
                      "terminated.")
    elif case.status in NOT_ACCEPTED_STATES:
        return N_("A notice of acceptance can be issued only for an accepted case.")
    return None


# --- the data printed ----------------------------------------------------------------------

def cn_date(value: date | None) -> str:
    """2026年11月16日"""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for 0-99 (一, 十二, 二十)."""
    if n < 10:
        return _DIGITS[n]
    tens, units = divmod(n, 10)
    return (_DIGITS[tens] if tens > 1 else "") + "十" + (_DIGITS[units] if units else "")


def cn_money(amount) -> str:
    """人民币3,000.00元（¥3,000.00）"""
    return f"人民币{amount:,.2f}元（¥{amount:,.2f}）"


def local_date(moment: datetime) -> date:
    """The centres' calendar date of a stored (naive UTC) time."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).date()


def paragraphs(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def numbered_terms(text: str) -> list[str]:
    """The agreed terms, one per line, without numbering the clerk may have typed."""
    return [re.sub(r"^(\d+|[一二三四五六七八九十]+)[、.．)）]\s*", "", line)
            for line in paragraphs(text)]


@dataclass
class DocumentData:
    """Everything a printed document shows, as plain values (the fingerprinted content)."""

    kind: str
    title: str
    number: str
    committee: str
    committee_address: str
    version: int
    date: str
    parties: list[dict]
    mediator: str = ""
    category: str = ""
    accepted_on: str = ""
    facts: list[str] = field(default_factory=list)
    disputed_matters: list[str] = field(default_factory=list)
    responsibilities: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    performance_method: str = ""
    performance_deadline: str = ""
    effective_on: str = ""
    citations: list[dict] = field(default_factory=list)
    copies_text: str = ""
    court_name: str = ""
    termination_reason: str = ""
    termination_detail: list[str] = field(default_factory=list)
    recipient: dict | None = None
    others: list[dict] = field(default_factory=list)
    access_code: str = ""
    party_url: str = ""

    def canonical(self, secret: bytes) -> bytes:
        values = dict(self.__dict__)
        if values["access_code"]:  # the fingerprint must not let anyone recover a code
            values["access_code"] = hmac.new(secret, values["access_code"].encode(),
                                             hashlib.sha256).hexdigest()
        return json.dumps(values, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()


def party_particulars(link: CaseParty) -> dict:
    """One party's particulars as printed (人民调解法 第二十九条 第一项)."""
    party = link.party
    role = label(PARTY_ROLES, link.role)
    if party.kind == "organisation":
        bits = [party.name]
        if party.address:
            bits.append(f"住所地{party.address}")
        if party.credit_code:
            bits.append(f"统一社会信用代码{party.credit_code}")
        if party.phone:
            bits.append(f"联系电话{party.phone}")
        representative = (f"法定代表人：{party.legal_representative}"
                          if party.legal_representative else "")
    else:
        bits = [party.name]
        if party.gender:
            bits.append(label(GENDERS, party.gender))
        if party.ethnicity:
            bits.append(party.ethnicity)
        if party.birth_date:
            bits.append(f"{cn_date(party.birth_date)}出生")
        if party.id_number:
            bits.append(f"公民身份号码{party.id_number}")
        if party.occupation:
            bits.append(party.occupation)
        if party.address:
            bits.append(f"住{party.address}")
        if party.phone:
            bits.append(f"联系电话{party.phone}")
        representative = ""
    agent = ""
    if link.agent_name:
        agent = f"委托代理人：{link.agent_name}"
        if link.agent_relation:
            agent += f"，{label(AGENT_RELATIONS, link.agent_relation)}"
        if link.agent_phone:
            agent += f"，联系电话{link.agent_phone}"
    return {"role_label": role, "name": party.name, "particulars": "，".join(bits) + "。",
            "representative": representative, "agent": agent}


def document_data(case: Case, kind: str, *, version: int, on: date,
                  link: CaseParty | None = None, code: str = "") -> DocumentData:
    """The printed content of `kind` for the case, in Chinese."""
    with force_locale(PDF_LOCALE):
        parties = [party_particulars(item) for item in case.links]
        data = DocumentData(
            kind=kind, title=KIND_TITLES[kind], number=case.number,
            committee=case.centre.name, committee_address=case.centre.address or "",
            version=version, date=cn_date(on), parties=parties,
            mediator=case.mediator.name if case.mediator else "",
            category=label(CATEGORIES, case.category),
            accepted_on=cn_date(case.accepted_on))
        agreement = case.current_agreement
        if kind in ("agreement", "confirmation_application") and agreement is not None:
            data.facts = paragraphs(agreement.facts)
            data.disputed_matters = paragraphs(agreement.disputed_matters)
            if case.amount is not None:
                data.disputed_matters.append(f"争议标的额：{cn_money(case.amount)}。")
            data.responsibilities = paragraphs(agreement.responsibilities)
            data.terms = numbered_terms(agreement.terms)
            data.performance_method = agreement.performance_method.strip()
            data.performance_deadline = cn_date(agreement.performance_deadline)
            data.effective_on = cn_date(agreement.effective_on)
            data.citations = [{"citation_text": item.citation_text, "text": item.text}
                              for item in cited_articles(case)]
            data.copies_text = (f"本协议书一式{cn_number(len(case.links) + 1)}份，"
                                "当事人各执一份，调解委员会留存一份。")
            data.court_name = case.court_name or ""
        if kind == "termination_notice":
            data.termination_reason = label(flow_vocabulary.TERMINATION_REASONS,
                                            case.outcome_code)
            data.termination_detail = paragraphs(case.outcome_detail)
        if kind == "acceptance_notice" and link is not None:
            data.recipient = party_particulars(link)
            data.others = [party_particulars(item) for item in case.links if item.id != link.id]
            data.access_code = format_code(code)
            data.party_url = public_base_url() + "/party/"
    return data


# --- rendering -----------------------------------------------------------------------------

def public_base_url() -> str:
    """Where the printed links point: DOCUMENTS_BASE_URL, else the current request's host."""
    configured = current_app.config.get("DOCUMENTS_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def fingerprint_of(data: DocumentData) -> str:
    secret = (current_app.config.get("SECRET_KEY") or "").encode()
    return hashlib.sha256(data.canonical(secret)).hexdigest()


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as a one-pixel-per-module PNG (a data: URI): drawn once as a
    shared image, it is far cheaper to lay out and paint on every page than SVG paths."""
    import segno
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=1, border=0)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def font_dir() -> Path:
    return Path(current_app.config.get("DOCUMENTS_FONT_DIR")
                or Path(current_app.instance_path) / "fonts")


def template_text() -> str:
    """The text of the printed documents' templates (the words that may be set in bold)."""
    folder = Path(current_app.root_path) / current_app.template_folder / "pdf"
    return "".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.html")))


def pdf_engine():
    return engine(font_dir(), template_text())


def ensure_fonts():
    """Build the document faces now (otherwise done by the first render)."""
    return ensure_faces(font_dir(), template_text())


def render(data: DocumentData, *, issued_at: datetime, fingerprint: str | None = None) -> RenderedPdf:
    """The PDF of a document; the same data and issue time give the same bytes."""
    fingerprint = fingerprint or fingerprint_of(data)
    verify_url = f"{public_base_url()}/v/{fingerprint[:SHORT_LENGTH]}"
    html = render_template(f"pdf/{data.kind}.html", doc={
        **data.__dict__, "fingerprint": fingerprint, "verify_url": verify_url,
        "qr": qr_data_uri(verify_url), "issued_on": cn_date(local_date(issued_at))})
    return pdf_engine().render(html, created=issued_at)


def render_case(case: Case, kind: str) -> RenderedPdf:
    """A preview of the next version of `kind` (rendered, not stored)."""
    problem = refusal(case, kind)
    if problem:
        raise DocumentError(problem)
    previous = latest(case.id, kind)
    now = utcnow()
    data = document_data(case, kind, version=(previous.version + 1) if previous else 1,
                         on=_document_date(case, kind, None, now))
    return render(data, issued_at=now)


# --- issuing -------------------------------------------------------------------------------

def issue(case: Case, kind: str, actor: User | None, *, link: CaseParty | None = None,
          code: str = "", now: datetime | None = None) -> tuple[IssuedDocument, bool]:
    """Issue `kind` for the case: (document, created). An unchanged document returns the
    latest version (created False); otherwise a new version is rendered, stored and audited."""
    problem = refusal(case, kind)
    if problem:
        raise DocumentError(problem)
    if kind == "acceptance_notice" and (link is None or link.case_id != case.id or not code):
        raise DocumentError(N_("A notice of acceptance is issued to one party with their "
                               "access code."))
    party_id = link.id if kind == "acceptance_notice" else None
    now = now or utcnow()
    previous = latest(case.id, kind, party_id)
    on = _document_date(case, kind, party_id, now)
    if previous is not None:
        same = document_data(case, kind, version=previous.version, on=on, link=link, code=code)
        if fingerprint_of(same) == previous.fingerprint:
            return previous, False
    version = (previous.version + 1) if previous else 1
    data = document_data(case, kind, version=version, on=on, link=link, code=code)
    fingerprint = fingerprint_of(data)
    pdf = render(data, issued_at=now, fingerprint=fingerprint)
    document = IssuedDocument(
        case_id=case.id, kind=kind, case_party_id=party_id, version=version,
        sha256=hashlib.sha256(pdf.content).hexdigest(), fingerprint=fingerprint,
        short_code=fingerprint[:SHORT_LENGTH], size=len(pdf.content), pages=pdf.pages,
        issued_at=now, issued_by_id=actor.id if actor else None, content=pdf.content)
    try:
        db.session.add(document)
        record_event(case, "issue_document", case.status, case.status, actor,
                     data={"kind": kind, "version": version, "party": party_id,
                           "sha256": document.sha256, "fingerprint": fingerprint})
        db.session.commit()
    except IntegrityError:
        # Someone issued the same version at the same moment: theirs stands.
        db.session.rollback()
        same = db.session.scalar(select(IssuedDocument).where(
            IssuedDocument.fingerprint == fingerprint))
        if same is None:
            raise
        return same, False
    except Exception:
        db.session.rollback()
        raise
    return document, True


def issue_acceptance_notices(case: Case, actor: User | None,
                             codes: dict[int, str]) -> dict[int, IssuedDocument]:
    """One notice of acceptance per party, each with only that party's new access code:
    {case_party id: document}. Nothing when the case is not accepted."""
    if refusal(case, "acceptance_notice") is not None:
        return {}
    links = {link.id: link for link in case.links}
    return {link_id: issue(case, "acceptance_notice", actor, link=links[link_id], code=code)[0]
            for link_id, code in codes.items() if link_id in links}


def _document_date(case: Case, kind: str, party_id: int | None, now: datetime) -> date:
    """The date printed at the foot: the agreement's date for agreements, otherwise the date
    the first version was issued, so that re-issuing an unchanged document changes nothing."""
    agreement = case.current_agreement
    if kind == "agreement" and agreement is not None:
        return agreement.effective_on
    first = db.session.scalar(
        select(IssuedDocument.issued_at).where(
            IssuedDocument.case_id == case.id, IssuedDocument.kind == kind,
            IssuedDocument.case_party_id.is_(None) if party_id is None
            else IssuedDocument.case_party_id == party_id)
        .order_by(IssuedDocument.version).limit(1))
    return local_date(first or now)


# --- verification --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """What the public page may tell about a document: nothing particular."""

    valid: bool
    case_number: str = ""
    kind: str = ""
    version: int = 0
    issued_on: date | None = None
    latest_version: int = 0


def _answer(document: IssuedDocument | None) -> Verification:
    if document is None:
        return Verification(False)
    newest = latest(document.case_id, document.kind, document.case_party_id)
    return Verification(True, document.case.number, document.kind, document.version,
                        local_date(document.issued_at), newest.version if newest else 0)


def verify_bytes(content: bytes) -> Verification:
    digest = hashlib.sha256(content).hexdigest()
    return _answer(db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.sha256 == digest).limit(1)))


HEX = re.compile(r"[0-9a-f]+")


def verify_fingerprint(text: str) -> Verification | None:
    """Check a typed fingerprint (the printed one, or the file's SHA-256; spaces ignored).
    None when the text is not 64 hexadecimal digits."""
    value = re.sub(r"[\s:-]", "", text or "").lower()
    if len(value) != 64 or not HEX.fullmatch(value):
        return None
    return _answer(db.session.scalar(
        select(IssuedDocument).where((IssuedDocument.fingerprint == value)
                                     | (IssuedDocument.sha256 == value)).limit(1)))


def by_short_code(short: str) -> IssuedDocument | None:
    value = (short or "").lower()
    if len(value) != SHORT_LENGTH or not HEX.fullmatch(value):
        return None
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.short_code == value))


def verify_short_code(short: str) -> Verification:
    return _answer(by_short_code(short))
