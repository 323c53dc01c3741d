"""Centres, users, the audit log and the working-day calendar entries."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, event)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from workflows.i18n import N_

CENTRE_LEVELS = {
    "city": N_("City"),
    "county": N_("County"),
    "township": N_("Township"),
    "village": N_("Village"),
}
LEVEL_ORDER = list(CENTRE_LEVELS)

ROLES = {
    "admin": N_("Administrator"),
    "director": N_("Director"),
    "clerk": N_("Clerk"),
    "mediator": N_("Mediator"),
    "supervisor": N_("Supervisor"),
}


def utcnow() -> datetime:
    """The current UTC time as a naive datetime (how every timestamp is stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Centre(db.Model):
    """A mediation centre (调解中心) at one of four levels, with its place in the hierarchy."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    # Materialised path "/1/4/17/": a centre's subtree is every path starting with its own.
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))

    parent: Mapped[Centre | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Centre]] = relationship(back_populates="parent", order_by="Centre.id")

    def is_within(self, other: Centre) -> bool:
        """True when this centre is `other` or lies below it."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Centre {self.short_code} {self.name}>"


class User(UserMixin, db.Model):
    """A person who signs in: clerk, director, mediator, supervisor or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id"))
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    centre: Mapped[Centre] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def read_only(self) -> bool:
        return self.role == "supervisor"


class AuditEvent(db.Model):
    """One entry of a case's append-only, hash-chained audit log."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_audit_events_case_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    trigger: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()

    GENESIS = "0" * 64

    def payload(self) -> dict:
        """The fields the hash covers, in a canonical form."""
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "trigger": self.trigger,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "reason": self.reason or "",
            "data": self.data or {},
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.payload(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@event.listens_for(AuditEvent, "before_update")
def _refuse_audit_update(mapper, connection, target):
    raise RuntimeError("the audit log is append-only: events cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_delete(mapper, connection, target):
    raise RuntimeError("the audit log is append-only: events cannot be deleted")


class CalendarDay(db.Model):
    """An admin-entered holiday or make-up working day, overriding the built-in calendar."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(64), default="")


class CalendarYear(db.Model):
    """A year whose State Council holiday schedule an admin has entered in full."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
