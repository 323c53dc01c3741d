"""The statute importer: parsing the corpus format, idempotent import, versions, bad files."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from statutes.importer import classify, import_corpus, repealed_titles
from statutes.models import Article, Law, StatuteNode
from statutes.parser import chinese_number, parse_law

CORPUS = Path(__file__).parents[2] / "shared" / "statutes"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason=f"statute corpus not found at {CORPUS}")
MEDIATION_LAW = "诉讼与非诉讼程序法/人民调解法(2010-08-28).md"
CIVIL_PROCEDURE = "诉讼与非诉讼程序法/民事诉讼法(2023-09-01).md"

SMALL_LAW = """# 中华人民共和国测试法

2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过

2020年7月1日 施行\u3000

<!-- INFO END -->

## 第一章 总 则

第一条 为了测试，制定本法。

第二条 本法所称纠纷：

（一）邻里纠纷；

（二）{second}。
"""


def law_by_path(path: str) -> Law:
    return db.session.scalars(select(Law).where(Law.source_path == path)).one()


def article(law: Law, number: int) -> Article:
    return db.session.scalars(select(Article).where(Article.law_id == law.id,
                                                    Article.number == number)).one()


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Law, StatuteNode, Article))


def write(folder: Path, relative: str, text: str | bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus(ctx):
    """The 65-file seed corpus, imported."""
    report = import_corpus(CORPUS)
    return report


# --- the parser -------------------------------------------------------------------------------

@pytest.mark.parametrize("numeral, value", [
    ("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("一百", 100), ("一百零一", 101),
    ("一百一十", 110), ("一千零五", 1005), ("一千二百六十", 1260), ("两千", 2000),
])
def test_chinese_numerals(numeral, value):
    assert chinese_number(numeral) == value


def test_parser_reads_header_structure_and_articles():
    law = parse_law(SMALL_LAW.format(second="其他纠纷"), "测试法(2020-01-01).md")
    assert law.title == "中华人民共和国测试法"
    assert law.short_title == "测试法"
    assert law.version_date == date(2020, 1, 1)
    assert law.effective_date == date(2020, 7, 1)
    assert law.history[-1] == "2020年7月1日 施行"        # the U+3000 is stripped
    assert [(n.level, n.label, n.title) for n in law.nodes] == [("chapter", "第一章", "总则")]
    assert [(a.label, a.number, a.node) for a in law.articles] == [("第一条", 1, 0),
                                                                   ("第二条", 2, 0)]
    assert law.articles[1].text == "本法所称纠纷：\n（一）邻里纠纷；\n（二）其他纠纷。"


def test_parser_levels_come_from_the_heading_text_not_the_hashes():
    text = ("# 某规定\n\n<!-- INFO END -->\n\n# 第一编 总 则\n\n#### 第一章\u2002\u2002管 辖\n\n"
            "## 第一节 级别管辖\n\n第一条 甲。\n\n## 一、其他\n\n第二条 乙。\n")
    law = parse_law(text, "某规定.md")
    assert [(n.level, n.label, n.title, n.parent) for n in law.nodes] == [
        ("part", "第一编", "总则", None), ("chapter", "第一章", "管辖", 0),
        ("section", "第一节", "级别管辖", 1), ("heading", "", "一、其他", 2)]
    assert [a.node for a in law.articles] == [2, 3]
    assert law.version_date is None


def test_classify_folders():
    assert classify("民法典/总则.md") == ("民法典", "law", None)
    assert classify("社会法/劳动法(2018-12-29).md") == ("社会法", "law", None)
    assert classify("宪法/宪法(2018-03-11).md") == ("宪法", "constitution", None)
    assert classify("行政法规/x.md")[1] == "administrative_regulation"
    assert classify("司法解释/x.md")[1] == "judicial_interpretation"
    assert classify("部门规章/公安部/x.md") == ("部门规章/公安部", "departmental_rule", None)
    assert classify("案例/劳动人事/x.md")[1] == "case"
    assert classify("DLC/山东地方法规/地方性法规/山东/x.md") == (
        "山东地方法规", "local_regulation", "山东")
    assert classify("杂项/x.md")[1] == "other"


# --- the seed corpus --------------------------------------------------------------------------

@needs_corpus
def test_seed_corpus_imports_every_file_and_article(corpus):
    assert (corpus.files, corpus.imported, corpus.skipped) == (65, 65, [])
    assert corpus.laws == 65 and corpus.articles == 5445
    assert db.session.scalar(select(func.sum(Law.article_count))) == 5445


@needs_corpus
def test_civil_code_books_run_from_article_1_to_1260(corpus):
    books = db.session.scalars(select(Law).where(Law.short_title == "民法典")).all()
    assert len(books) == 8
    assert {b.title for b in books} == {"中华人民共和国民法典"}
    assert {b.book for b in books} >= {"总则", "合同编", "附则"}
    assert all(b.status == "in_force" and b.level == "law" for b in books)
    numbers = sorted(db.session.scalars(select(Article.number).join(Law)
                                        .where(Law.short_title == "民法典")))
    assert numbers == list(range(1, 1261))
    last = db.session.scalars(select(Article).join(Law).where(
        Law.short_title == "民法典", Article.number == 1260)).one()
    assert last.label == "第一千二百六十条" and last.law.book == "附则"
    assert last.text.startswith("本法自2021年1月1日起施行。")
    # The empty `##` heading of 附则.md makes no node; its articles hang under no heading.
    assert last.law.nodes == [] and last.node_id is None
    general = law_by_path("民法典/总则.md")
    assert general.effective_date == date(2021, 1, 1) and general.version_date is None
    # U+2002 in headings is normalised: `### 第二节\u2002\u2002监\u2002\u2002护`.
    guardianship = [n for n in general.nodes if n.label == "第二节" and n.title == "监护"]
    assert len(guardianship) == 1 and guardianship[0].level == "section"
    assert not any("\u2002" in n.title or " " in n.title for n in general.nodes)


@needs_corpus
def test_mediation_law_metadata_and_article_17(corpus):
    law = law_by_path(MEDIATION_LAW)
    assert law.title == "中华人民共和国人民调解法" and law.short_title == "人民调解法"
    assert law.category == "诉讼与非诉讼程序法" and law.level == "law"
    assert law.version_date == date(2010, 8, 28) and law.status == "in_force"
    assert law.history.startswith("2010年8月28日 第十一届全国人民代表大会常务委员会")
    art = article(law, 17)
    assert art.label == "第十七条"
    assert art.text == ("当事人可以向人民调解委员会申请调解；人民调解委员会也可以主动调解。"
                        "当事人一方明确拒绝调解的，不得调解。")
    third = article(law, 3)
    assert third.text.split("\n")[1].startswith("（一）在当事人自愿、平等的基础上进行调解")
    assert len(third.text.split("\n")) == 4


@needs_corpus
def test_civil_procedure_structure_is_part_chapter_section(corpus):
    law = law_by_path(CIVIL_PROCEDURE)
    by_id = {n.id: n for n in law.nodes}
    levels = {n.level for n in law.nodes}
    assert levels == {"part", "chapter", "section"}
    jurisdiction = next(n for n in law.nodes if n.title == "地域管辖")
    chapter = by_id[jurisdiction.parent_id]
    assert (chapter.level, chapter.label, chapter.title) == ("chapter", "第二章", "管辖")
    part = by_id[chapter.parent_id]
    assert (part.level, part.label, part.title) == ("part", "第一编", "总则")
    first = article(law, 1)
    assert by_id[first.node_id].title == "任务、适用范围和基本原则"
    assert law.history.endswith("第五次修正")        # the stray `）` is dropped


@needs_corpus
def test_reimport_changes_nothing(corpus):
    before = counts()
    ids = db.session.execute(select(Law.id, Law.source_path, Law.content_hash)
                             .order_by(Law.id)).all()
    article_ids = db.session.scalars(select(Article.id).order_by(Article.id)).all()
    db.session.remove()
    again = import_corpus(CORPUS)
    assert (again.files, again.imported, again.unchanged, again.skipped) == (65, 0, 65, [])
    assert counts() == before
    assert db.session.execute(select(Law.id, Law.source_path, Law.content_hash)
                              .order_by(Law.id)).all() == ids
    assert db.session.scalars(select(Article.id).order_by(Article.id)).all() == article_ids


# --- temporary corpora ------------------------------------------------------------------------

@needs_corpus
def test_a_changed_file_is_replaced_and_a_removed_one_kept(ctx, tmp_path):
    shutil.copytree(CORPUS / "诉讼与非诉讼程序法", tmp_path / "诉讼与非诉讼程序法")
    write(tmp_path, "社会法/测试法(2020-01-01).md", SMALL_LAW.format(second="其他纠纷"))
    first = import_corpus(tmp_path)
    assert first.imported == 6 and not first.skipped
    old = law_by_path("社会法/测试法(2020-01-01).md")
    old_id, mediation_id = old.id, law_by_path(MEDIATION_LAW).id
    db.session.remove()

    write(tmp_path, "社会法/测试法(2020-01-01).md", SMALL_LAW.format(second="家庭纠纷"))
    (tmp_path / MEDIATION_LAW).unlink()
    second = import_corpus(tmp_path)
    assert (second.files, second.imported, second.unchanged) == (5, 1, 4)
    new = law_by_path("社会法/测试法(2020-01-01).md")
    assert new.id != old_id and db.session.get(Law, old_id) is None
    assert article(new, 2).text.endswith("（二）家庭纠纷。")
    assert db.session.scalar(select(func.count()).select_from(Article)
                             .where(Article.law_id == old_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(StatuteNode)
                             .where(StatuteNode.law_id == old_id)) == 0
    assert db.session.get(Law, mediation_id) is not None      # gone from disk, kept here


def test_bad_files_are_reported_and_the_rest_imports(ctx, tmp_path):
    write(tmp_path, "社会法/测试法(2020-01-01).md", SMALL_LAW.format(second="其他纠纷"))
    write(tmp_path, "社会法/乱码法(2020-01-01).md", SMALL_LAW.encode("gb18030"))
    write(tmp_path, "社会法/无题法(2020-01-01).md", "没有标题\n\n第一条 甲。\n")
    write(tmp_path, "社会法/空法(2020-01-01).md", "# 空法\n\n<!-- INFO END -->\n\n## 第一章 总则\n")
    write(tmp_path, "案例/劳动人事/某案例.md",
          "# 某案例\n\n<!-- INFO END -->\n\n## 基本案情\n\n某人。\n")
    write(tmp_path, "社会法/_index.md", "---\nbookCollapseSection: true\n---\n")
    write(tmp_path, "README.md", "# 说明\n")
    write(tmp_path, "社会法/notes.txt", "not a statute")
    report = import_corpus(tmp_path)
    reasons = dict(report.skipped)
    assert set(reasons) == {"社会法/乱码法(2020-01-01).md", "社会法/无题法(2020-01-01).md",
                            "社会法/空法(2020-01-01).md"}
    assert reasons["社会法/乱码法(2020-01-01).md"] == "not UTF-8"
    assert "no title" in reasons["社会法/无题法(2020-01-01).md"]
    assert "no articles" in reasons["社会法/空法(2020-01-01).md"]
    assert (report.files, report.imported) == (5, 2)
    assert sorted(db.session.scalars(select(Law.short_title))) == ["某案例", "测试法"]
    case = db.session.scalars(select(Law).where(Law.short_title == "某案例")).one()
    assert (case.level, case.article_count) == ("case", 0)


def test_versions_of_one_law_newer_in_force_older_superseded(ctx, tmp_path):
    write(tmp_path, "社会法/测试法(2020-01-01).md", SMALL_LAW.format(second="旧"))
    import_corpus(tmp_path)
    assert law_by_path("社会法/测试法(2020-01-01).md").status == "in_force"
    db.session.remove()
    write(tmp_path, "社会法/测试法(2024-05-01).md", SMALL_LAW.format(second="新"))
    write(tmp_path, "行政法规/信访条例(2005-01-10).md",
          SMALL_LAW.replace("中华人民共和国测试法", "信访条例").format(second="x"))
    write(tmp_path, "行政法规/某条例(2001-01-01).md",
          SMALL_LAW.replace("中华人民共和国测试法", "某条例")
          .replace("2020年7月1日 施行", "2022年1月1日 废止").format(second="x"))
    import_corpus(tmp_path)
    assert law_by_path("社会法/测试法(2024-05-01).md").status == "in_force"
    assert law_by_path("社会法/测试法(2020-01-01).md").status == "superseded"
    assert law_by_path("行政法规/信访条例(2005-01-10).md").status == "repealed"
    assert law_by_path("行政法规/某条例(2001-01-01).md").status == "repealed"
    db.session.remove()
    # The newer file turns out to be another law: the older version is in force again.
    write(tmp_path, "社会法/测试法(2024-05-01).md",
          SMALL_LAW.replace("中华人民共和国测试法", "中华人民共和国另一法").format(second="新"))
    import_corpus(tmp_path)
    assert law_by_path("社会法/测试法(2020-01-01).md").status == "in_force"
    assert law_by_path("社会法/测试法(2024-05-01).md").status == "in_force"


def test_repealed_titles_are_those_named_before_tongshi_feizhi():
    assert repealed_titles("本法自2022年6月5日起施行。《中华人民共和国环境噪声污染防治法》同时废止。") == [
        "中华人民共和国环境噪声污染防治法"]
    assert repealed_titles("本条例自2021年3月1日起施行。1994年发布的《甲条例》、2001年发布的《乙办法》"
                           "同时废止；依照《丙法》制定。") == ["甲条例", "乙办法"]
    assert repealed_titles("依照《中华人民共和国立法法》的规定，制定本条例。") == []


def test_a_document_repealed_by_a_later_documents_text_is_marked_repealed(ctx, tmp_path):
    """噪声污染防治法 第九十条 repeals 环境噪声污染防治法, whose own file does not say so; a text
    naming a newer document (the 2012 rules naming the 2019 ones) repeals nothing; the
    labour-dispute interpretations 解释（一） replaced are known to be repealed."""
    def law(title, body):
        return (f"# {title}\n\n2020年1月1日 通过\n\n<!-- INFO END -->\n\n第一条 {body}\n")
    write(tmp_path, "行政法/环境噪声污染防治法(2018-12-29).md",
          law("中华人民共和国环境噪声污染防治法", "为防治环境噪声污染，制定本法。"))
    write(tmp_path, "行政法/噪声污染防治法(2021-12-24).md",
          law("中华人民共和国噪声污染防治法",
              "本法自2022年6月5日起施行。《中华人民共和国环境噪声污染防治法》同时废止。"))
    write(tmp_path, "司法解释/检察规则(2019-12-02).md", law("人民检察院刑事诉讼规则", "本规则施行。"))
    write(tmp_path, "司法解释/检察规则试行(2012-11-22).md",
          law("人民检察院刑事诉讼规则（试行）", "本规则施行，《人民检察院刑事诉讼规则》同时废止。"))
    write(tmp_path, "司法解释/劳动争议解释（四）(2013-01-18).md",
          law("最高人民法院关于审理劳动争议案件适用法律若干问题的解释（四）", "为正确审理劳动争议案件，制定本解释。"))
    report = import_corpus(tmp_path)
    assert report.repealed_by_text == 1
    assert report.summary().endswith("; 1 repealed by a later document's text")
    assert law_by_path("行政法/环境噪声污染防治法(2018-12-29).md").status == "repealed"
    assert law_by_path("行政法/噪声污染防治法(2021-12-24).md").status == "in_force"
    assert law_by_path("司法解释/检察规则(2019-12-02).md").status == "in_force"
    assert law_by_path("司法解释/劳动争议解释（四）(2013-01-18).md").status == "repealed"
    # Re-importing the repealed document's changed file leaves it repealed.
    write(tmp_path, "行政法/环境噪声污染防治法(2018-12-29).md",
          law("中华人民共和国环境噪声污染防治法", "为防治环境噪声污染，保护和改善生活环境，制定本法。"))
    assert import_corpus(tmp_path).imported == 1
    assert law_by_path("行政法/环境噪声污染防治法(2018-12-29).md").status == "repealed"


def test_cli_imports_reports_skips_and_prints_a_summary(app, tmp_path):
    write(tmp_path, "社会法/测试法(2020-01-01).md", SMALL_LAW.format(second="其他纠纷"))
    write(tmp_path, "社会法/空法(2020-01-01).md", "# 空法\n\n<!-- INFO END -->\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["statutes", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "skipped 社会法/空法(2020-01-01).md: no articles" in result.output
    assert ("files read 2, imported 1, unchanged 0, skipped 1; laws 1, articles 2, "
            "indexed for search 2;") in result.output
    again = runner.invoke(args=["statutes", "import", str(tmp_path)])
    assert "imported 0, unchanged 1, skipped 1; laws 1, articles 2, indexed for search 0;" \
        in again.output
