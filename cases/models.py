"""Cases, parties and their links, mediation sessions, agreements and case numbering."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import AuditEvent, Centre, User, utcnow
from mediators.models import Mediator


class Case(db.Model):
    """A dispute (纠纷案件) from registration to closure; `status` is moved only by workflows."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_centre_status_due", "centre_id", "status", "next_due"),
        Index("ix_cases_next_due", "next_due"),
        Index("ix_cases_status_due", "status", "next_due"),  # a state across many centres
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_registered_on", "registered_on"),
        UniqueConstraint("source", "source_ref", name="uq_cases_source_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32), index=True)
    mediation_type: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    facts: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="registered")

    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    registered_on: Mapped[date] = mapped_column(Date)
    acceptance_due: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    choice_due: Mapped[date | None] = mapped_column(Date)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id"), index=True)
    assigned_on: Mapped[date | None] = mapped_column(Date)
    mediation_due: Mapped[date | None] = mapped_column(Date)
    suspended_on: Mapped[date | None] = mapped_column(Date)
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    agreement_effective_on: Mapped[date | None] = mapped_column(Date)
    confirmation_due: Mapped[date | None] = mapped_column(Date)
    confirmation_applied_on: Mapped[date | None] = mapped_column(Date)
    performance_due: Mapped[date | None] = mapped_column(Date)
    follow_up_due: Mapped[date | None] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    outcome_code: Mapped[str | None] = mapped_column(String(32))
    outcome_detail: Mapped[str | None] = mapped_column(Text)
    redirect_channel: Mapped[str | None] = mapped_column(String(32))
    referral_body_kind: Mapped[str | None] = mapped_column(String(32))
    referral_body: Mapped[str | None] = mapped_column(String(128))
    court_name: Mapped[str | None] = mapped_column(String(128))
    ruling_number: Mapped[str | None] = mapped_column(String(64))
    ruling_date: Mapped[date | None] = mapped_column(Date)
    performance_result: Mapped[str | None] = mapped_column(String(16))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    centre: Mapped[Centre] = relationship()
    mediator: Mapped[Mediator | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    links: Mapped[list[CaseParty]] = relationship(
        back_populates="case", order_by="CaseParty.position", cascade="all, delete-orphan")
    sessions: Mapped[list[MediationSession]] = relationship(
        back_populates="case", order_by="MediationSession.held_at")
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="case", order_by="Agreement.id")
    events: Mapped[list[AuditEvent]] = relationship(order_by=AuditEvent.seq, viewonly=True)

    def parties_in(self, role: str) -> list[CaseParty]:
        return [link for link in self.links if link.role == role]

    @property
    def current_agreement(self) -> Agreement | None:
        return self.agreements[-1] if self.agreements else None

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.status}>"


class Party(db.Model):
    """A natural person or an organisation that is party to one or more disputes (当事人)."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | organisation
    name: Mapped[str] = mapped_column(String(128), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    occupation: Mapped[str | None] = mapped_column(String(64))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def is_person(self) -> bool:
        return self.kind == "person"


class CaseParty(db.Model):
    """A party's role in one case, with the agent acting for them (代理人)."""

    __tablename__ = "case_parties"
    __table_args__ = (UniqueConstraint("case_id", "party_id", name="uq_case_parties_case_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # applicant | respondent | third_party
    position: Mapped[int] = mapped_column(Integer, default=0)
    refuses_mediation: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_name: Mapped[str | None] = mapped_column(String(64))
    agent_id_number: Mapped[str | None] = mapped_column(String(18))
    agent_phone: Mapped[str | None] = mapped_column(String(32))
    agent_relation: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="links")
    party: Mapped[Party] = relationship()


class MediationSession(db.Model):
    """One mediation session (调解记录): when, how, where, who attended and the minutes."""

    __tablename__ = "mediation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16))  # in_person | video | phone
    place: Mapped[str] = mapped_column(String(128), default="")
    attendees: Mapped[str] = mapped_column(Text)
    minutes: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="sessions")
    recorded_by: Mapped[User | None] = relationship()


class Agreement(db.Model):
    """The terms of a mediation agreement (人民调解法 第二十九条), one row per agreement reached."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    facts: Mapped[str] = mapped_column(Text)
    disputed_matters: Mapped[str] = mapped_column(Text)
    responsibilities: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    performance_method: Mapped[str] = mapped_column(Text)
    performance_deadline: Mapped[date] = mapped_column(Date)
    effective_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="agreements")


class CaseSequence(db.Model):
    """The last case number issued by a centre in a year; one row per centre and year."""

    __tablename__ = "case_sequences"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
