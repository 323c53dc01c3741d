"""Articles inserted by amendment (第二百九十一条之一, the Criminal Law has 53): each is an
article of its own, apart from the one it follows, with its own permalink, anchor, citation and
search hit; before, its text was read into the article above."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from statutes.importer import import_corpus
from statutes.models import Article, Law
from statutes.search import search

CRIMINAL_LAW = """# 中华人民共和国刑法

2020年12月26日 第十三届全国人民代表大会常务委员会第二十四次会议通过修正案（十一）

<!-- INFO END -->

## 第六章 妨害社会管理秩序罪

第二百九十一条 聚众扰乱车站、码头、民用航空站、商场、公园、影剧院、展览会、运动场或者其他公共场所秩序，情节严重的，处五年以下有期徒刑、拘役或者管制。

第二百九十一条之一 投放虚假的爆炸性、毒害性、放射性、传染病病原体等物质，或者编造爆炸威胁、生化威胁、放射威胁等恐怖信息，严重扰乱社会秩序的，处五年以下有期徒刑、拘役或者管制。

第二百九十一条之二 从建筑物或者其他高空抛掷物品，情节严重的，处一年以下有期徒刑、拘役或者管制，并处或者单处罚金。

有前款行为，同时构成其他犯罪的，依照处罚较重的规定定罪处罚。

第二百九十二条 聚众斗殴的，对首要分子和其他积极参加的，处三年以下有期徒刑、拘役或者管制。
"""


@pytest.fixture
def criminal_law(ctx, tmp_path: Path) -> Law:
    folder = tmp_path / "刑法"
    folder.mkdir()
    (folder / "刑法(2020-12-26).md").write_text(CRIMINAL_LAW, encoding="utf-8")
    report = import_corpus(tmp_path)
    assert (report.imported, report.articles) == (1, 4)
    return db.session.scalar(select(Law))


def articles(law: Law) -> list[tuple]:
    return db.session.execute(
        select(Article.label, Article.number, Article.suffix, Article.text)
        .where(Article.law_id == law.id).order_by(Article.position)).all()


def test_an_inserted_article_is_read_apart_from_the_one_it_follows(criminal_law, tmp_path):
    rows = articles(criminal_law)
    assert [(r.label, r.number, r.suffix) for r in rows] == [
        ("第二百九十一条", 291, 0), ("第二百九十一条之一", 291, 1), ("第二百九十一条之二", 291, 2),
        ("第二百九十二条", 292, 0)]
    assert rows[0].text.endswith("处五年以下有期徒刑、拘役或者管制。")
    assert "高空" not in rows[0].text and "虚假" not in rows[0].text
    assert rows[2].text == ("从建筑物或者其他高空抛掷物品，情节严重的，处一年以下有期徒刑、拘役或者"
                            "管制，并处或者单处罚金。\n有前款行为，同时构成其他犯罪的，依照处罚较重的规定定罪处罚。")
    again = import_corpus(tmp_path)                 # idempotent
    assert (again.imported, again.unchanged) == (0, 1)
    assert db.session.scalar(select(func.count(Article.id))) == 4


def test_each_inserted_article_has_its_permalink_anchor_and_citation_link(criminal_law, client):
    law_id = criminal_law.id
    page = client.get(f"/statutes/law/{law_id}/article/291-2").get_data(as_text=True)
    assert "第二百九十一条之二" in page and "高空抛掷物品" in page
    assert f'href="/statutes/law/{law_id}/article/291-1" rel="prev"' in page
    assert f'href="/statutes/law/{law_id}/article/292" rel="next"' in page
    base = client.get(f"/statutes/law/{law_id}/article/291").get_data(as_text=True)
    assert "聚众扰乱车站" in base and "高空抛掷物品" not in base
    for missing in ("291-3", "291-", "abc", "291-2-1"):
        assert client.get(f"/statutes/law/{law_id}/article/{missing}").status_code == 404
    whole = client.get(f"/statutes/law/{law_id}").get_data(as_text=True)
    assert 'id="a291-2"' in whole and f'href="/statutes/law/{law_id}/article/291-2"' in whole
    jump = client.get(f"/statutes/law/{law_id}/jump?number=291之2")
    assert jump.headers["Location"].endswith(f"/statutes/law/{law_id}#a291-2")
    cite = client.get("/statutes/cite/刑法/第二百九十一条之二")
    assert cite.headers["Location"].endswith(f"/statutes/law/{law_id}/article/291-2")


def test_search_finds_the_inserted_article_and_links_to_it(criminal_law, client):
    from statutes.search import index_articles
    index_articles()
    [hit] = [h for h in search("高空抛掷物品", 5) if h.article == "第二百九十一条之二"]
    assert (hit.number, hit.suffix, hit.ref) == (291, 2, "291-2")
    assert {k: hit.as_dict()[k] for k in ("article", "number", "suffix")} == {
        "article": "第二百九十一条之二", "number": 291, "suffix": 2}
    page = client.get("/statutes/search?q=高空抛掷物品").get_data(as_text=True)
    assert f'href="/statutes/law/{criminal_law.id}/article/291-2"' in page
