"""The mediator record (调解员). The expert pool extends it with a full profile."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Centre
from workflows.i18n import N_

MEDIATOR_STATUSES = {
    "active": N_("Active"),
    "on_leave": N_("On leave"),
    "retired": N_("Retired"),
}


class Mediator(db.Model):
    """A mediator who can be assigned cases, up to a capacity of concurrent cases."""

    __tablename__ = "mediators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[str] = mapped_column(String(16), default="active")
    phone: Mapped[str | None] = mapped_column(String(32))

    centre: Mapped[Centre] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == "active"
