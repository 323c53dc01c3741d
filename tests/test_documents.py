"""Printed documents: the statutory items of each document read back from the PDF text,
embedded fonts, PDF/A-3b, immutable versions with fingerprints, downloads for staff and
parties, the public verification page and the CLI."""
import hashlib
import io
import re
import subprocess
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from cases import documents
from cases.document_models import IssuedDocument
from cases.services import fire_transition
from conftest import TODAY, person, sign_in
from lifecycle_paths import valid_data
from mediators import choice
from statutes.citations import CitedArticle

ISSUED_AT = datetime(2026, 11, 16, 10, 0)
CITED = [
    CitedArticle("中华人民共和国民法典", "第一千一百六十五条",
                 "行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。"),
    CitedArticle("中华人民共和国民法典", "第二百八十八条",
                 "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，"
                 "正确处理相邻关系。"),
]
AGREEMENT = {
    "facts": "2026年10月3日，被申请人李四家卫生间漏水，致申请人张三家天花板受损。",
    "disputed_matters": "维修费用的承担。",
    "responsibilities": "被申请人未及时维修管道，承担主要责任；申请人承担次要责任。",
    "terms": "1、被申请人李四赔偿申请人张三维修费人民币3,000元。\n"
             "2、被申请人于2026年11月30日前修复漏水管道。",
    "performance_method": "银行转账",
    "performance_deadline": date(2026, 11, 30),
    "effective_on": TODAY,
}


@pytest.fixture(autouse=True)
def citations(monkeypatch):
    monkeypatch.setattr("cases.documents.cited_articles", lambda case: list(CITED))


@pytest.fixture
def drive(world):
    def fire(case, *triggers, **overrides):
        for trigger in triggers:
            data = valid_data(trigger, mediator_id=world.mediator.id,
                              to_centre_id=world.township.id)
            data.update(overrides.get(trigger, {}))
            fire_transition(case, trigger, world.clerk, reason="test", data=data, today=TODAY)
        return case
    return fire


def parties_with_third():
    return [person(gender="male", ethnicity="汉族", birth_date=date(1949, 12, 31),
                   occupation="退休职工"),
            person("respondent", "李四", "110105198001010032"),
            person("third_party", "王𠮷堃", "11010519491231088X")]


@pytest.fixture
def agreed_case(make_case, drive):
    case = make_case(parties=parties_with_third(), amount=3000)
    return drive(case, "accept", "assign", "reach_agreement",
                 reach_agreement={"agreement": dict(AGREEMENT)})


def pdf_text(content: bytes, tmp_path, name="doc") -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out


def flat(text: str) -> str:
    """The text without the spaces and line breaks of the layout."""
    return re.sub(r"\s+", "", text)


def fonts_of(content: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(content)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return [line.split() for line in lines]


# --- the agreement --------------------------------------------------------------------------

def test_agreement_prints_every_item_of_article_29(world, agreed_case, tmp_path):
    document, created = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    assert created and document.version == 1 and document.pages >= 1
    text = flat(pdf_text(document.content, tmp_path))
    assert "人民调解协议书" in text and agreed_case.number in text
    # (一) each party's particulars
    for fragment in ("申请人：张三，男，汉族，1949年12月31日出生", "公民身份号码11010519491231002X",
                     "退休职工", "住福州市鼓楼区东街1号", "联系电话13800138000",
                     "被申请人：李四", "第三人：王𠮷堃"):
        assert fragment in text, fragment
    # (二) facts, disputed matters, responsibilities
    assert "卫生间漏水" in text and "维修费用的承担" in text and "承担主要责任" in text
    assert "人民币3,000.00元（¥3,000.00）" in text
    # (三) the terms, their way and deadline of performance
    assert "被申请人李四赔偿申请人张三维修费人民币3,000元" in text
    assert "修复漏水管道" in text and "1、" not in text  # numbered by the document itself
    assert "履行方式：银行转账" in text and "履行期限：2026年11月30日前" in text
    # cited articles
    assert "依据《中华人民共和国民法典》第一千一百六十五条" in text
    assert "依据《中华人民共和国民法典》第二百八十八条" in text
    # signatures of every party and the mediator, the seal, the copies
    assert "申请人：" in text and "第三人：" in text and "人民调解员（签名）" in text
    assert "人民调解委员会印章" in text and world.county.name in text
    assert "本协议书一式四份，当事人各执一份，调解委员会留存一份" in text
    assert "2026年11月16日" in text
    # footer: page numbers, fingerprint and verification link
    assert f"第1页共{document.pages}页" in text
    assert document.fingerprint in text and f"/v/{document.short_code}" in text
    # every font embedded (pdffonts "emb" column), a rare character included
    fonts = fonts_of(document.content, tmp_path)
    assert fonts and all(row[-5] == "yes" for row in fonts)
    assert len(PdfReader(io.BytesIO(document.content)).pages) == document.pages


def test_agreement_is_pdf_a_3b_with_metadata(world, agreed_case):
    document, _ = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    reader = PdfReader(io.BytesIO(document.content))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "<xmp:CreateDate>2026-11-16T10:00:00Z</xmp:CreateDate>" in xmp
    intents = root["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()


def test_signature_block_stays_with_the_closing_text(world, make_case, drive, tmp_path):
    """Terms long enough to push to a second page: the signatures are never alone there."""
    long_terms = "\n".join(f"{n}、被申请人于2026年12月{n}日前向申请人支付第{n}期款项人民币"
                           f"1,000元，逾期按日万分之五支付违约金，并承担因此产生的合理费用。"
                           for n in range(1, 24))
    case = make_case()
    drive(case, "accept", "assign", "reach_agreement",
          reach_agreement={"agreement": dict(AGREEMENT, terms=long_terms)})
    document, _ = documents.issue(case, "agreement", world.clerk, now=ISSUED_AT)
    assert document.pages >= 2
    last_page = flat(subprocess.run(
        ["pdftotext", "-f", str(document.pages), "-l", str(document.pages), "-", "-"],
        input=document.content, capture_output=True, check=True).stdout.decode())
    assert "人民调解员（签名）" in last_page and "本协议书一式" in last_page


def test_rendering_is_deterministic(world, agreed_case):
    data = documents.document_data(agreed_case, "agreement", version=1, on=TODAY)
    first = documents.render(data, issued_at=ISSUED_AT)
    second = documents.render(data, issued_at=ISSUED_AT)
    assert first.content == second.content


# --- versions -------------------------------------------------------------------------------

def test_issuing_is_idempotent_and_a_change_makes_a_new_version(world, agreed_case, client):
    first, created = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    again, created_again = documents.issue(agreed_case, "agreement", world.clerk,
                                           now=datetime(2026, 11, 20, 9, 0))
    assert created and not created_again and again.id == first.id
    first_bytes, first_id = first.content, first.id
    agreed_case.current_agreement.terms = "被申请人赔偿申请人3,500元。"
    db.session.commit()
    second, created = documents.issue(agreed_case, "agreement", world.clerk,
                                      now=datetime(2026, 11, 20, 9, 0))
    assert created and second.version == 2 and second.fingerprint != first.fingerprint
    assert documents.latest_fingerprint(agreed_case.id, "agreement") == second.sha256
    listed = documents.issued_for_case(agreed_case.id)
    assert [(d.kind, d.version) for d in listed] == [("agreement", 1), ("agreement", 2)]
    assert db.session.get(IssuedDocument, first_id).content == first_bytes  # never changed
    events = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.case_id == agreed_case.id, AuditEvent.trigger == "issue_document"))
    assert events == 2
    # the old version still verifies, and says a later one exists
    result = documents.verify_bytes(first_bytes)
    assert result.valid and result.version == 1 and result.latest_version == 2
    sign_in(client, world.clerk)
    response = client.get(f"/cases/{agreed_case.id}/documents/{first_id}.pdf")
    assert response.status_code == 200 and response.data == first_bytes
    assert response.mimetype == "application/pdf"


def test_kinds_that_make_no_sense_are_refused(world, make_case, drive):
    case = make_case()
    with pytest.raises(documents.DocumentError) as err:
        documents.issue(case, "agreement", world.clerk)
    assert "agreement" in err.value.message
    drive(case, "accept", "assign")
    for kind in ("agreement", "confirmation_application", "termination_notice"):
        with pytest.raises(documents.DocumentError):
            documents.issue(case, kind, world.clerk)
    assert documents.kinds_allowed(case) == []
    assert db.session.scalar(select(func.count(IssuedDocument.id))) == 0


# --- the other documents --------------------------------------------------------------------

def test_confirmation_application(world, agreed_case, drive, tmp_path):
    drive(agreed_case, "apply_confirmation")
    document, _ = documents.issue(agreed_case, "confirmation_application", world.clerk,
                                  now=ISSUED_AT)
    text = flat(pdf_text(document.content, tmp_path))
    assert "司法确认申请书" in text and "请求人民法院依法确认" in text
    assert "《中华人民共和国人民调解法》第三十三条" in text
    assert "《中华人民共和国民事诉讼法》第二百零五条、第二百零六条" in text
    assert "三十日内共同提出申请" in text and "此致福州市鼓楼区人民法院" in text
    assert "张三" in text and "李四" in text and "王𠮷堃" in text
    assert "被申请人李四赔偿申请人张三维修费人民币3,000元" in text


def test_termination_notice_names_the_other_routes(world, make_case, drive, tmp_path):
    case = drive(make_case(), "accept", "assign", "terminate")
    assert documents.kinds_allowed(case) == ["termination_notice"]
    late = datetime(2026, 11, 16, 17, 0)  # UTC: already the 17th in Beijing
    document, _ = documents.issue(case, "termination_notice", world.clerk, now=late)
    text = flat(pdf_text(document.content, tmp_path))
    assert "调解终止告知书" in text and "申请人张三、被申请人李四：" in text
    assert "2026年11月17日出具" in text and "印章）2026年11月17日" in text
    assert "被申请人拒绝继续调解" in text  # the failure summary
    assert "《中华人民共和国人民调解法》第二十六条" in text
    assert "仲裁" in text and "行政机关" in text and "向有管辖权的人民法院提起诉讼" in text
    assert all(row[-5] == "yes" for row in fonts_of(document.content, tmp_path))


# --- acceptance notices and parties ---------------------------------------------------------

def sign_in_party(client, code):
    return client.post("/party/", data={"code": code}, environ_base={"REMOTE_ADDR": "10.0.0.9"})


def test_acceptance_notice_per_party_and_party_downloads(app, world, make_case, drive,
                                                         tmp_path, monkeypatch):
    for target in ("mediators.party_views.today", "mediators.clerk_choice_views.today",
                   "mediators.choice.centre_today"):
        monkeypatch.setattr(target, lambda: TODAY)
    case = drive(make_case(), "accept")
    clerk = sign_in(app.test_client(), world.clerk)
    page = clerk.get(f"/cases/{case.id}/choice").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    response = clerk.post(f"/cases/{case.id}/choice/codes",
                          data={"csrf_token": token.group(1)} if token else {})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = re.findall(r'code-value mono">([^<]+)<', html)
    assert len(codes) == 2
    notices = {d.case_party_id: d for d in documents.issued_for_case(case.id)}
    assert set(notices) == {link.id for link in case.links}
    first, second = case.links
    text = flat(pdf_text(notices[first.id].content, tmp_path))
    assert "受理通知书" in text and "申请人张三：" in text and codes[0] in text
    assert codes[1] not in text  # only the party's own code
    assert f"/cases/{case.id}/documents/{notices[first.id].id}.pdf" in html

    party = app.test_client()
    assert sign_in_party(party, codes[0]).status_code == 302
    home = party.get("/party/case").get_data(as_text=True)
    assert f"/party/documents/{notices[first.id].id}.pdf" in home
    assert f"/party/documents/{notices[second.id].id}.pdf" not in home
    own = party.get(f"/party/documents/{notices[first.id].id}.pdf")
    assert own.status_code == 200 and own.data == notices[first.id].content
    assert party.get(f"/party/documents/{notices[second.id].id}.pdf").status_code == 404
    assert app.test_client().get(
        f"/party/documents/{notices[first.id].id}.pdf").status_code == 302  # not signed in


def test_a_party_downloads_the_agreement_of_their_case_only(app, world, agreed_case, make_case,
                                                            drive):
    mine, _ = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    other_case = make_case(parties=[person(name="赵六", id_number="110105198001010059"),
                                    person("respondent", "钱七", "110105198001010067")])
    drive(other_case, "accept", "assign", "reach_agreement")
    theirs, _ = documents.issue(other_case, "agreement", world.clerk, now=ISSUED_AT)
    code = choice.issue_access_codes(agreed_case, world.clerk)[agreed_case.links[0].id]
    party = app.test_client()
    assert sign_in_party(party, code).status_code == 302
    assert party.get(f"/party/documents/{mine.id}.pdf").status_code == 200
    assert party.get(f"/party/documents/{theirs.id}.pdf").status_code == 404


# --- staff: the case page panel, issuing, permissions --------------------------------------

def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_case_page_issues_and_lists_documents(app, world, agreed_case, monkeypatch):
    clerk = sign_in(app.test_client(), world.clerk, "en")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = clerk.get(f"/cases/{agreed_case.id}").get_data(as_text=True)
    assert 'id="documents"' in page and "Issue: Mediation agreement" in page
    assert "Issue: Notice of termination" not in page
    response = clerk.post(f"/cases/{agreed_case.id}/documents/agreement",
                          data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    page = clerk.get(f"/cases/{agreed_case.id}").get_data(as_text=True)
    document = documents.issued_for_case(agreed_case.id)[0]
    assert document.fingerprint[:12] in page
    assert f"/cases/{agreed_case.id}/documents/{document.id}.pdf" in page
    # no CSRF token: refused, nothing issued
    assert clerk.post(f"/cases/{agreed_case.id}/documents/confirmation_application"
                      ).status_code in (400, 403)
    assert len(documents.issued_for_case(agreed_case.id)) == 1


def test_refusal_is_a_message_not_an_error(app, world, make_case):
    case = make_case()
    clerk = sign_in(app.test_client(), world.clerk, "en")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    response = clerk.post(f"/cases/{case.id}/documents/agreement",
                          data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert response.status_code == 200
    assert "only once the parties have reached an agreement" in response.get_data(as_text=True)
    assert clerk.post(f"/cases/{case.id}/documents/nonsense",
                      data={"csrf_token": csrf_from(page)}).status_code == 404


def test_supervisors_download_but_do_not_issue_and_outsiders_see_nothing(app, world,
                                                                         agreed_case):
    document, _ = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    supervisor = sign_in(app.test_client(), world.users["supervisor"])
    assert supervisor.get(f"/cases/{agreed_case.id}/documents/{document.id}.pdf"
                          ).status_code == 200
    page = supervisor.get(f"/cases/{agreed_case.id}").get_data(as_text=True)
    assert f"/cases/{agreed_case.id}/documents/agreement" not in page
    assert supervisor.post(f"/cases/{agreed_case.id}/documents/agreement",
                           data={"csrf_token": csrf_from(page)}).status_code == 403
    outsider = sign_in(app.test_client(), world.outsider)
    assert outsider.get(f"/cases/{agreed_case.id}/documents/{document.id}.pdf"
                        ).status_code == 404
    assert app.test_client().get(f"/cases/{agreed_case.id}/documents/{document.id}.pdf"
                                 ).status_code == 302


# --- public verification --------------------------------------------------------------------

def test_verification_by_upload_fingerprint_and_short_link(app, world, agreed_case):
    document, _ = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    public = app.test_client()
    upload = public.post("/verify/", data={"document": (io.BytesIO(document.content), "a.pdf")},
                         content_type="multipart/form-data")
    body = upload.get_data(as_text=True)
    assert upload.status_code == 200 and agreed_case.number in body and "verify-valid" in body
    for secret in ("张三", "李四", "11010519491231002X", "13800138000", "3,000"):
        assert secret not in body
    tampered = document.content.replace(b"%%EOF", b"%%EOF\n%x")
    body = public.post("/verify/", data={"document": (io.BytesIO(tampered), "b.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "verify-invalid" in body and agreed_case.number not in body
    spaced = " ".join(re.findall(".{8}", document.fingerprint.upper()))
    typed = public.post("/verify/", data={"fingerprint": spaced})
    assert typed.status_code == 200 and "verify-valid" in typed.get_data(as_text=True)
    bad = public.post("/verify/", data={"fingerprint": "not a fingerprint"})
    assert bad.status_code == 422
    assert public.post("/verify/", data={}).status_code == 422
    link = public.get(f"/v/{document.short_code}")
    assert link.status_code == 200 and agreed_case.number in link.get_data(as_text=True)
    assert public.get("/v/000000000000").status_code == 404
    assert public.get("/v/nonsense").status_code == 404


# --- CLI ------------------------------------------------------------------------------------

def test_cli_demo_and_render(app, world, agreed_case, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "demo.pdf"
    result = runner.invoke(args=["documents", "demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    content = out.read_bytes()
    assert len(PdfReader(io.BytesIO(content)).pages) == 4 and len(content) <= 200_000
    text = flat(pdf_text(content, tmp_path, "demo"))
    assert "人民调解协议书" in text and "吉𠮷" in text and "林堃" in text
    assert all(row[-5] == "yes" for row in fonts_of(content, tmp_path))
    out = tmp_path / "case.pdf"
    result = runner.invoke(args=["documents", "render", "--case", agreed_case.number,
                                 "--kind", "agreement", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "张三" in flat(pdf_text(out.read_bytes(), tmp_path, "case"))
    result = runner.invoke(args=["documents", "render", "--case", "nope", "--out", str(out)])
    assert result.exit_code != 0 and "no case" in result.output
    result = runner.invoke(args=["documents", "render", "--case", agreed_case.number,
                                 "--kind", "termination_notice", "--out", str(out)])
    assert result.exit_code != 0


def test_a_concurrent_issue_of_the_same_version_returns_the_stored_one(world, agreed_case,
                                                                      monkeypatch):
    first, _ = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    first_id = first.id
    monkeypatch.setattr(documents, "latest", lambda *args, **kwargs: None)  # the race
    again, created = documents.issue(agreed_case, "agreement", world.clerk, now=ISSUED_AT)
    assert not created and again.id == first_id
    assert db.session.scalar(select(func.count(IssuedDocument.id))) == 1


def test_an_agreement_the_court_refused_is_not_printed(world, agreed_case, drive):
    drive(agreed_case, "apply_confirmation", "reject_confirmation", "terminate", "follow_up")
    assert agreed_case.status == "closed"
    assert documents.kinds_allowed(agreed_case) == ["termination_notice"]
