"""The expert pool (调解专家超市): mediator profiles, the centres they serve, their specialties
and declared conflicts of interest."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Column, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Centre, utcnow
from workflows.i18n import N_

MEDIATOR_STATUSES = {
    "active": N_("Active"),
    "on_leave": N_("On leave"),
    "retired": N_("Retired"),
}

MEDIATOR_KINDS = {
    "people_mediator": N_("People's mediator"),
    "lawyer": N_("Lawyer"),
    "retired_judge": N_("Retired judge or prosecutor"),
    "psychologist": N_("Psychologist"),
    "industry_expert": N_("Industry expert"),
    "village_elder": N_("Respected local figure"),
    "grid_worker": N_("Grid worker"),
}

# Which centres a mediator takes cases from, besides the home centre.
mediator_centres = Table(
    "mediator_centres", db.metadata,
    Column("mediator_id", ForeignKey("mediators.id", ondelete="CASCADE"), primary_key=True),
    Column("centre_id", ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Mediator(db.Model):
    """A mediator's profile in the expert pool; figures are kept up to date by the services."""

    __tablename__ = "mediators"
    __table_args__ = (Index("ix_mediators_status_centre", "status", "centre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32), default="people_mediator")
    organisation: Mapped[str | None] = mapped_column(String(128))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    languages: Mapped[str] = mapped_column(String(255), default="")  # "普通话,闽南话"
    years_experience: Mapped[int] = mapped_column(Integer, default=0)
    credentials: Mapped[str] = mapped_column(Text, default="")
    biography: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Private: never shown on public pages or in public API answers.
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(18))

    # Figures derived from cases, maintained when cases move (see mediators.figures).
    current_load: Mapped[int] = mapped_column(Integer, default=0)
    cases_handled: Mapped[int] = mapped_column(Integer, default=0)
    cases_settled: Mapped[int] = mapped_column(Integer, default=0)
    median_days: Mapped[float | None] = mapped_column(Float)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    served_centres: Mapped[list[Centre]] = relationship(secondary=mediator_centres)
    specialties: Mapped[list[MediatorSpecialty]] = relationship(
        cascade="all, delete-orphan", order_by="MediatorSpecialty.category")
    conflicts: Mapped[list[MediatorConflict]] = relationship(
        cascade="all, delete-orphan", order_by="MediatorConflict.id")

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def language_list(self) -> list[str]:
        return [part for part in (p.strip() for p in self.languages.split(",")) if part]

    @property
    def categories(self) -> list[str]:
        return [s.category for s in self.specialties]


class MediatorSpecialty(db.Model):
    """A dispute category a mediator specialises in (DESIGN §3 category codes)."""

    __tablename__ = "mediator_specialties"

    mediator_id: Mapped[int] = mapped_column(
        ForeignKey("mediators.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class MediatorConflict(db.Model):
    """A declared relationship between a mediator and a person or organisation (利害关系)."""

    __tablename__ = "mediator_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int] = mapped_column(
        ForeignKey("mediators.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)  # ID or credit code
    relation: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
