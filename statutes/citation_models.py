"""Statute citations pinned to cases: models."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import User, utcnow
from statutes.models import Article


class CaseCitation(db.Model):
    """An article a clerk pinned to a case (援引条文). The law is named by its full official
    title and the article by its number, so the citation survives new versions and re-imports;
    the agreement prints the version in force on its effective date."""

    __tablename__ = "case_citations"
    __table_args__ = (
        UniqueConstraint("case_id", "law_title", "article_number", "article_suffix",
                         name="uq_case_citations_case_law_article"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    law_title: Mapped[str] = mapped_column(String(255))       # full official title
    article_number: Mapped[int] = mapped_column(Integer)      # 1179
    article_suffix: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 之一
    article_label: Mapped[str] = mapped_column(String(32))    # 第一千一百七十九条
    # The article of the version the clerk saw; re-importing a changed file deletes it.
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pinned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    article: Mapped[Article | None] = relationship()
    pinned_by: Mapped[User | None] = relationship()
