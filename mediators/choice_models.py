"""Parties choosing their mediator: access codes, ranked choices, proposals to mediators,
consent after a disclosed conflict, sign-in failure counters and ratings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import utcnow
from cases.models import Case, CaseParty
from mediators.models import Mediator
from workflows.i18n import N_

PROPOSAL_STATUSES = {
    "pending": N_("Waiting for the mediator"),
    "disclosed": N_("Waiting for the parties' consent"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined by the mediator"),
    "refused": N_("Another mediator requested"),
    "lapsed": N_("Lapsed"),
}
OPEN_PROPOSAL = ("pending", "disclosed")


class AccessCode(db.Model):
    """A party's access code (查询码) for the party page; only its keyed hash is stored."""

    __tablename__ = "access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_party_id: Mapped[int] = mapped_column(
        ForeignKey("case_parties.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    link: Mapped[CaseParty] = relationship()


class AccessFailure(db.Model):
    """Failed sign-ins counted per bucket (a client address, or a code prefix) for lock-outs."""

    __tablename__ = "access_failures"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class MediatorChoice(db.Model):
    """One mediator a party ranks (1 = first choice) in a round of the choice (选择调解员)."""

    __tablename__ = "mediator_choices"
    __table_args__ = (
        UniqueConstraint("case_party_id", "round", "rank", name="uq_mediator_choices_rank"),
        UniqueConstraint("case_party_id", "round", "mediator_id",
                         name="uq_mediator_choices_mediator"),
        CheckConstraint("rank BETWEEN 1 AND 3", name="rank_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_party_id: Mapped[int] = mapped_column(ForeignKey("case_parties.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id"))
    rank: Mapped[int] = mapped_column(Integer)
    chosen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    mediator: Mapped[Mediator] = relationship()


class MediatorProposal(db.Model):
    """A mediator proposed for a case, by the parties' common choice or the centre's designation,
    and the mediator's answer with their conflict declaration."""

    __tablename__ = "mediator_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id"), index=True)
    chosen_by: Mapped[str] = mapped_column(String(16))  # parties | centre
    status: Mapped[str] = mapped_column(String(16), default="pending")
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disclosure: Mapped[str | None] = mapped_column(Text)  # the relationship the mediator declared
    note: Mapped[str | None] = mapped_column(Text)  # why declined or refused

    case: Mapped[Case] = relationship()
    mediator: Mapped[Mediator] = relationship()
    consents: Mapped[list[ConflictConsent]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ConflictConsent.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PROPOSAL


class ConflictConsent(db.Model):
    """A party's consent to a mediator after a disclosed conflict (在线调解规则 第十三条)."""

    __tablename__ = "conflict_consents"
    __table_args__ = (UniqueConstraint("proposal_id", "case_party_id",
                                       name="uq_conflict_consents_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("mediator_proposals.id", ondelete="CASCADE"), index=True)
    case_party_id: Mapped[int] = mapped_column(ForeignKey("case_parties.id", ondelete="CASCADE"))
    consented_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    proposal: Mapped[MediatorProposal] = relationship(back_populates="consents")


class MediatorRating(db.Model):
    """A party's rating of the mediator after the case closed: 1–5 and a comment, once."""

    __tablename__ = "mediator_ratings"
    __table_args__ = (
        UniqueConstraint("case_id", "case_party_id", name="uq_mediator_ratings_party"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_party_id: Mapped[int] = mapped_column(ForeignKey("case_parties.id", ondelete="CASCADE"))
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
