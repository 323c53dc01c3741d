"""The statute library's browse pages: the catalogue by level and category, a law with its
table of contents and versions, article permalinks and citation links by title."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from app.extensions import db
from statutes.models import Article, Law, StatuteNode

MEDIATION = "中华人民共和国人民调解法"


def make_law(title, short_title, *, category="诉讼与非诉讼程序法", level="law", status="in_force",
             version=date(2010, 8, 28), book=None, jurisdiction=None, history="",
             effective=None, structure=()):
    """A law with `structure`: (node level, label, title, parent index or None, articles)
    where articles are (number, label, text)."""
    law = Law(title=title, short_title=short_title, book=book, category=category, level=level,
              jurisdiction=jurisdiction, version_date=version, effective_date=effective,
              status=status, history=history, content_hash="x" * 64,
              source_path=f"{category}/{short_title}{book or ''}({version}).md")
    db.session.add(law)
    db.session.flush()
    nodes: list[StatuteNode | None] = []
    position = 0
    for node_level, label, node_title, parent, articles in structure:
        node = None
        if node_level:
            node = StatuteNode(law_id=law.id, level=node_level, label=label, title=node_title,
                               position=len(nodes),
                               parent_id=nodes[parent].id if parent is not None else None)
            db.session.add(node)
            db.session.flush()
        nodes.append(node)
        for number, article_label, text in articles:
            position += 1
            db.session.add(Article(law_id=law.id, node_id=node.id if node else None,
                                   label=article_label, number=number, text=text,
                                   position=position))
    law.article_count = position
    db.session.flush()
    return law


@pytest.fixture
def library(ctx):
    """人民调解法 (two chapters, a section), two versions of 民事诉讼法, a local regulation,
    a repealed regulation and a Civil Code book."""
    class Library:
        pass

    lib = Library()
    lib.mediation = make_law(
        MEDIATION, "人民调解法", effective=date(2011, 1, 1),
        history="2010年8月28日 第十一届全国人民代表大会常务委员会第十六次会议通过\n"
                "2011年1月1日起施行",
        structure=[
            ("chapter", "第一章", "总则", None, [
                (1, "第一条", "为了完善人民调解制度，制定本法。"),
                (2, "第二条", "本法所称人民调解，是指人民调解委员会通过说服、疏导等方法。"),
                (3, "第三条", "人民调解委员会调解民间纠纷，应当遵循下列原则：\n"
                              "（一）在当事人自愿、平等的基础上进行调解；\n"
                              "（二）不违背法律、法规和国家政策。")]),
            ("chapter", "第二章", "调解程序", None, []),
            ("section", "第一节", "申请", 1, [
                (17, "第十七条", "当事人可以向人民调解委员会申请调解。"),
                (18, "第十八条", "基层人民法院可以告知当事人申请人民调解。")]),
        ])
    lib.procedure_old = make_law(
        "中华人民共和国民事诉讼法", "民事诉讼法", status="superseded", version=date(2021, 12, 24),
        structure=[(None, "", "", None, [(1, "第一条", "旧文本第一条。")])])
    lib.procedure = make_law(
        "中华人民共和国民事诉讼法", "民事诉讼法", version=date(2023, 9, 1),
        structure=[(None, "", "", None, [(1, "第一条", "新文本第一条。"),
                                         (2, "第二条", "新文本第二条。")])])
    lib.local = make_law(
        "北京市物业管理条例", "北京市物业管理条例", category="北京", level="local_regulation",
        jurisdiction="北京", version=date(2020, 3, 27),
        structure=[(None, "", "", None, [(1, "第一条", "为了规范物业管理活动。")])])
    lib.repealed = make_law(
        "信访条例", "信访条例", category="行政法规", level="administrative_regulation",
        status="repealed", version=date(2005, 1, 10),
        structure=[(None, "", "", None, [(1, "第一条", "为了保持各级人民政府同人民群众的密切联系。")])])
    lib.contract = make_law(
        "中华人民共和国民法典", "民法典", category="民法典", book="合同编", version=None,
        structure=[("subpart", "第一分编", "通则", None, []),
                   ("chapter", "第一章", "一般规定", 0, [
                       (463, "第四百六十三条", "本编调整因合同产生的民事关系。")])])
    db.session.commit()
    return lib


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# ---- the catalogue ---------------------------------------------------------------------

def test_catalogue_is_public_and_groups_by_level_then_category(client, library):
    html = page(client, "/statutes/?lang=en")
    assert html.index(">Law</a>") < html.index(">Local regulation</a>")
    # the only regulation is repealed: hidden while showing laws in force only
    assert ">Administrative regulation</a>" not in html
    assert ">Administrative regulation</a>" in page(client, "/statutes/?all=1&lang=en")
    assert "诉讼与非诉讼程序法" in html and "北京" in html


def test_catalogue_lists_each_document_once_with_its_version_in_force(client, library):
    html = page(client, "/statutes/?q=民事诉讼")
    assert html.count("中华人民共和国民事诉讼法") == 1
    assert f"/statutes/law/{library.procedure.id}\"" in html
    assert f"/statutes/law/{library.procedure_old.id}\"" not in html


def test_in_force_filter_and_title_search(client, library):
    assert "信访条例" not in page(client, "/statutes/?q=信访")
    everything = page(client, "/statutes/?q=信访&all=1")
    assert f"/statutes/law/{library.repealed.id}\"" in everything
    by_short_title = page(client, "/statutes/?q=人民调解")
    assert f"/statutes/law/{library.mediation.id}\"" in by_short_title
    assert "北京市物业管理条例" not in by_short_title


def test_category_listing_is_paginated(client, ctx, library, monkeypatch):
    from statutes import views
    monkeypatch.setattr(views, "PER_PAGE", 2)
    for i in range(3):
        make_law(f"测试法{i}", f"测试法{i}", category="经济法", version=date(2020, 1, i + 1))
    db.session.commit()
    first = page(client, "/statutes/?level=law&group=经济法&lang=en")
    assert "3 documents" in first and "Page 1 of 2" in first and "测试法0" in first
    second = page(client, "/statutes/?level=law&group=经济法&page=2&lang=en")
    assert "测试法2" in second and "测试法0" not in second


# ---- the law page ----------------------------------------------------------------------

def test_law_page_shows_facts_history_toc_and_articles_in_order(client, library):
    html = page(client, f"/statutes/law/{library.mediation.id}?lang=en")
    assert MEDIATION in html and "2011-01-01" in html and "In force" in html
    assert "第十一届全国人民代表大会常务委员会第十六次会议通过" in html
    toc = html[html.index('class="toc"'):html.index("</ol>", html.index('class="toc"'))]
    nodes = {n.label: n.id for n in library.mediation.nodes}
    assert f'href="#n{nodes["第一章"]}"' in toc and f'href="#n{nodes["第一节"]}"' in toc
    assert "toc-depth-1" in toc  # 第一节 nested under 第二章
    body = html[html.index('class="law-body'):]
    order = [body.index(s) for s in (f'id="n{nodes["第一章"]}"', 'id="a1"', 'id="a3"',
                                     f'id="n{nodes["第二章"]}"', f'id="n{nodes["第一节"]}"',
                                     'id="a17"')]
    assert order == sorted(order)
    assert f'/statutes/law/{library.mediation.id}/article/17"' in body
    assert "（一）在当事人自愿" in body


def test_law_page_loads_nodes_and_articles_in_one_query_each(client, library, app):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page(client, f"/statutes/law/{library.mediation.id}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum("FROM statute_nodes" in s for s in statements) == 1
    assert sum("FROM articles" in s for s in statements) == 1


def test_versions_are_listed_and_a_superseded_version_points_to_the_one_in_force(client, library):
    old = page(client, f"/statutes/law/{library.procedure_old.id}?lang=en")
    assert "This version has been superseded." in old
    assert f'href="/statutes/law/{library.procedure.id}"' in old
    assert "Version of 2021-12-24" in old and "Version of 2023-09-01" in old
    current = page(client, f"/statutes/law/{library.procedure.id}?lang=en")
    assert "superseded." not in current
    assert f'href="/statutes/law/{library.procedure_old.id}"' in current


def test_repealed_law_shows_a_notice(client, library):
    html = page(client, f"/statutes/law/{library.repealed.id}?lang=en")
    assert "This document has been repealed." in html


def test_jump_to_article_number(client, library):
    law_id = library.mediation.id
    response = client.get(f"/statutes/law/{law_id}/jump?number=17")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/statutes/law/{law_id}#a17")
    by_label = client.get(f"/statutes/law/{law_id}/jump?number=第十八条")
    assert by_label.headers["Location"].endswith("#a18")
    missing = client.get(f"/statutes/law/{law_id}/jump?number=99", follow_redirects=True)
    assert "本法没有第 99 条。" in missing.get_data(as_text=True)


def test_unknown_law_is_404(client, library):
    assert client.get("/statutes/law/999999").status_code == 404


# ---- article permalinks ----------------------------------------------------------------

def test_article_page_has_text_path_neighbours_and_citation(client, library):
    html = page(client, f"/statutes/law/{library.mediation.id}/article/17?lang=en")
    assert "当事人可以向人民调解委员会申请调解。" in html
    assert "第二章 调解程序" in html and "第一节 申请" in html
    assert f'/statutes/law/{library.mediation.id}/article/3" rel="prev"' in html
    assert f'/statutes/law/{library.mediation.id}/article/18" rel="next"' in html
    assert "依据《中华人民共和国人民调解法》第十七条" in html


def test_article_items_are_separate_lines(client, library):
    html = page(client, f"/statutes/law/{library.mediation.id}/article/3")
    assert '<p class="law-item">（一）在当事人自愿、平等的基础上进行调解；</p>' in html
    assert '<p class="law-para">人民调解委员会调解民间纠纷' in html


def test_unknown_article_is_404(client, library):
    assert client.get(f"/statutes/law/{library.mediation.id}/article/99").status_code == 404


def test_cite_by_title_resolves_to_the_version_in_force(client, library):
    for name in ("民事诉讼法", "中华人民共和国民事诉讼法"):
        response = client.get(f"/statutes/cite/{name}/2")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(
            f"/statutes/law/{library.procedure.id}/article/2")
    by_label = client.get("/statutes/cite/人民调解法/第十七条")
    assert by_label.headers["Location"].endswith(f"/statutes/law/{library.mediation.id}/article/17")
    book = client.get("/statutes/cite/民法典/463")
    assert book.headers["Location"].endswith(f"/statutes/law/{library.contract.id}/article/463")


def test_cite_answers_404_with_a_clear_message(client, library):
    repealed = client.get("/statutes/cite/信访条例/1?lang=en")
    assert repealed.status_code == 404
    assert "has no version in force with article 1" in repealed.get_data(as_text=True)
    unknown = client.get("/statutes/cite/不存在法/1?lang=en")
    assert unknown.status_code == 404
    assert "No law titled 不存在法 is in the library." in unknown.get_data(as_text=True)


def test_pages_speak_chinese_by_default(client, library):
    html = page(client, f"/statutes/law/{library.procedure_old.id}")
    assert "法律法规" in html and "版本" in html
