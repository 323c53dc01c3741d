"""Issued documents (出具的文书): immutable PDF versions with their fingerprints."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import User, utcnow
from cases.models import Case, CaseParty

DOCUMENT_KINDS = ("agreement", "confirmation_application", "termination_notice",
                  "acceptance_notice")


class IssuedDocument(db.Model):
    """One issued version of a printed document; never changed once stored.

    `sha256` fingerprints the PDF bytes (an uploaded copy is checked against it);
    `fingerprint` is the SHA-256 of the document's content, printed on the document itself
    (a file cannot carry its own hash), and `short_code` keys the short verification link.
    """

    __tablename__ = "issued_documents"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "case_party_id", "version",
                         name="uq_issued_documents_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Acceptance notices are issued per party (each carries that party's access code).
    case_party_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_parties.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    case: Mapped[Case] = relationship()
    link: Mapped[CaseParty | None] = relationship()
    issued_by: Mapped[User | None] = relationship()

    @property
    def verification_path(self) -> str:
        """The short verification link's path, as printed under the QR code."""
        return f"/v/{self.short_code}"

    @property
    def filename(self) -> str:
        suffix = f"-{self.case_party_id}" if self.case_party_id else ""
        return f"{self.kind}-{self.case_id}{suffix}-v{self.version}.pdf"

    def __repr__(self) -> str:
        return f"<IssuedDocument {self.case_id} {self.kind} v{self.version}>"
