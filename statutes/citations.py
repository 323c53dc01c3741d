"""Citations of statute articles pinned to cases."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CitedArticle:
    law_title: str        # full official title, e.g. 中华人民共和国民法典
    article_label: str    # e.g. 第一千一百七十九条
    text: str             # the article's text in the pinned version

    @property
    def citation_text(self) -> str:
        return f"《{self.law_title}》{self.article_label}"


def cited_articles(case) -> list[CitedArticle]:
    """The articles cited in a case, in the order the clerk pinned them."""
    return []
