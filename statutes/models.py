"""The statute library: laws (one row per version), their structure and their articles."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import utcnow
from workflows.i18n import N_

LAW_STATUSES = {
    "in_force": N_("In force"),
    "superseded": N_("Superseded by a later version"),
    "repealed": N_("Repealed"),
    "unknown": N_("Status unknown"),
}

# The kinds of document, from national law down to local rules (searches rank in this order).
LAW_LEVELS = {
    "constitution": N_("Constitution"),
    "law": N_("Law"),
    "administrative_regulation": N_("Administrative regulation"),
    "judicial_interpretation": N_("Judicial interpretation"),
    "departmental_rule": N_("Departmental rule"),
    "local_regulation": N_("Local regulation"),
    "case": N_("Guiding case"),
    "other": N_("Other"),
}

NODE_LEVELS = {"part": "编", "subpart": "分编", "chapter": "章", "section": "节", "heading": ""}


class Law(db.Model):
    """One version of a law, regulation or interpretation, as imported from one file."""

    __tablename__ = "laws"
    __table_args__ = (
        UniqueConstraint("source_path", name="uq_laws_source_path"),
        Index("ix_laws_title_version", "title", "version_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))          # full official title
    short_title: Mapped[str] = mapped_column(String(255), index=True)
    book: Mapped[str | None] = mapped_column(String(64))     # e.g. 合同编 of the Civil Code
    category: Mapped[str] = mapped_column(String(128))       # the corpus folder
    level: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str | None] = mapped_column(String(32))  # province for local rules
    version_date: Mapped[date | None] = mapped_column(Date)  # from the file name
    effective_date: Mapped[date | None] = mapped_column(Date)  # the 施行 line, if any
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    history: Mapped[str] = mapped_column(Text, default="")   # the header's dated lines
    source_path: Mapped[str] = mapped_column(String(512))    # relative to the corpus root
    content_hash: Mapped[str] = mapped_column(String(64))    # sha256 of the file
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    nodes: Mapped[list[StatuteNode]] = relationship(
        back_populates="law", order_by="StatuteNode.position", cascade="all, delete-orphan")
    articles: Mapped[list[Article]] = relationship(
        back_populates="law", order_by="Article.position", cascade="all, delete-orphan")


class StatuteNode(db.Model):
    """A heading of a law's structure: 编, 分编, 章, 节 (or an unnumbered heading)."""

    __tablename__ = "statute_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    law_id: Mapped[int] = mapped_column(ForeignKey("laws.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("statute_nodes.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))            # NODE_LEVELS key
    label: Mapped[str] = mapped_column(String(32), default="")  # 第一章
    title: Mapped[str] = mapped_column(String(255), default="")  # 总则
    position: Mapped[int] = mapped_column(Integer)

    law: Mapped[Law] = relationship(back_populates="nodes")


class Article(db.Model):
    """One article (条) with all its paragraphs (款) and items (项)."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_law_number", "law_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    law_id: Mapped[int] = mapped_column(ForeignKey("laws.id", ondelete="CASCADE"))
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("statute_nodes.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(String(32))            # 第十七条 (第十七条之一)
    number: Mapped[int] = mapped_column(Integer)              # 17
    suffix: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 1: 之一
    text: Mapped[str] = mapped_column(Text)                   # paragraphs joined by "\n"
    position: Mapped[int] = mapped_column(Integer)

    law: Mapped[Law] = relationship(back_populates="articles")

    @property
    def ref(self) -> str:
        """The article in its permalink and anchor: 17, or 17-1 for 第十七条之一."""
        return article_ref(self.number, self.suffix)


def article_ref(number: int, suffix: int = 0) -> str:
    return f"{number}-{suffix}" if suffix else str(number)


class ArticleSearch(db.Model):
    """The search tokens of one article (built by statutes.search.index_articles)."""

    __tablename__ = "article_search"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    law_id: Mapped[int] = mapped_column(Integer, index=True)
    tokens: Mapped[str] = mapped_column(Text)


class ArticleVector(db.Model):
    """The meaning of one article as a vector (made by statutes.semantic.embed_articles)."""

    __tablename__ = "article_vectors"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary)       # float16, statutes.semantic.DIMENSIONS
