"""Bulk intake of cases from 12345 / grid exports: column mapping guessed from the headers,
a preview that writes nothing with every row's reasons, each good row registered whole, bad
rows skipped, re-import idempotent, numbering without gaps, audit chains intact, the same
case as register_case, permissions, and hostile files answered with clear messages."""
import csv
import io
import json
import zipfile
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.audit import verify_chains
from app.extensions import db
from app.models import AuditEvent
from cases import bulk_intake
from cases.bulk_intake import FileProblem
from cases.bulk_models import CaseImportBatch
from cases.models import Case, CaseParty, Party
from cases.services import IntakeData, PartyData, register_case
from cases.validators import id_check_char
from conftest import TODAY

HEADERS = ["工单编号", "事件类型", "诉求内容", "反映人", "联系电话", "身份证号", "地址", "被反映人",
           "被反映人电话", "涉及金额"]


def id_number(n: int) -> str:
    born = date(1980, 1, 1) + timedelta(days=n // 500)
    first = f"350102{born:%Y%m%d}{n % 500 * 2 + 1:03d}"  # odd: a man
    return first + id_check_char(first)


def good_row(n: int, **change) -> list:
    row = {"ref": f"12345-{n:06d}", "type": "劳动争议", "facts": f"公司拖欠工资两个月（{n}）。",
           "name": f"张{n}", "phone": "13800138000", "id": id_number(n), "address": "福州市鼓楼区东街1号",
           "other": f"福州某某{n}有限公司", "other_phone": "0591-87654321", "amount": "12000"}
    row.update(change)
    return list(row.values())


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_UPLOAD_DIR", str(tmp_path / "case-imports"))
    return tmp_path / "case-imports"


def make_batch(world, content, filename="export.csv", source="hotline_12345", user=None,
               centre=None):
    user = user or world.clerk
    batch, sheet = bulk_intake.create_batch(content, filename, source, centre or world.county,
                                            user)
    return batch, sheet


def import_file(world, content, filename="export.csv", source="hotline_12345", mapping=None):
    batch, sheet = make_batch(world, content, filename, source)
    if mapping:
        bulk_intake.save_mapping(batch, mapping)
    report = bulk_intake.run_import(batch, sheet, world.clerk, today=TODAY)
    db.session.expire_all()
    return batch, report


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# ---- mapping -------------------------------------------------------------------------------

def test_mapping_is_guessed_from_hotline_and_grid_headers():
    columns = bulk_intake.guess_columns(HEADERS)
    assert columns == {"source_ref": 0, "category": 1, "facts": 2, "claims": 2,
                       "applicant.name": 3, "applicant.phone": 4, "applicant.id": 5,
                       "applicant.address": 6, "respondent.name": 7, "respondent.phone": 8,
                       "amount": 9}
    grid = bulk_intake.guess_columns(["事件编号", "事件描述", "诉求", "纠纷类别", "当事人",
                                      "对方当事人", "统一社会信用代码", "Centre"])
    assert grid["source_ref"] == 0 and grid["facts"] == 1 and grid["claims"] == 2
    assert grid["category"] == 3 and grid["applicant.name"] == 4
    assert grid["respondent.name"] == 5 and grid["respondent.id"] == 6 and grid["centre"] == 7


@pytest.mark.parametrize("text, code", [
    ("劳动争议", "labour"), ("欠薪", "labour"), ("拖欠农民工工资", "labour"),
    ("交通事故损害赔偿", "traffic"), ("邻里纠纷", "neighbour"), ("Neighbours", "neighbour"),
    ("物业服务纠纷", "property_mgmt"), ("婚姻家庭", "marriage_family"), ("labour", "labour"),
    ("噪音扰民", "environment"), ("其他", "other"), ("城市管理", None), ("", None)])
def test_category_values_are_recognised(ctx, text, code):
    assert bulk_intake.guess_category(text) == code


# ---- preview and import --------------------------------------------------------------------

def test_preview_counts_and_reasons_write_nothing(world):
    rows = [good_row(1), good_row(2),
            good_row(3, id="350102198001010030"),        # bad check digit
            good_row(4, facts=""),                        # missing facts
            good_row(5, type="城市管理"),                  # unknown category value
            good_row(6, ref="12345-000001"),              # duplicate reference in the file
            good_row(7, phone="12"), good_row(8, ref="")]
    batch, sheet = make_batch(world, csv_bytes(rows))
    report = bulk_intake.preview(batch, sheet)
    assert report.counts == {"new": 2, "created": 0, "imported": 0, "error": 6}
    reasons = {r.line: [(p.field, p.msgid) for p in r.problems] for r in report.errors}
    assert reasons[4] == [("applicant.id", "The check digit of this ID number is wrong; please "
                                           "check each digit.")]
    assert reasons[5] == [("facts", "Describe what happened."), ("claims",
                                                                 "State what the applicant asks for.")]
    assert reasons[6][0][0] == "category" and "城市管理" in report.errors[2].problems[0].text()
    assert reasons[7][0][0] == "source_ref" and report.errors[3].problems[0].params == {"line": 2}
    assert "2" in report.errors[3].problems[0].text()
    assert reasons[8][0][0] == "applicant.phone"
    assert reasons[9][0][0] == "source_ref"
    assert count(Case) == 0


def test_good_rows_are_registered_whole_and_bad_rows_skipped(world):
    rows = [good_row(1), good_row(2, id="350102198001010030"), good_row(3)]
    batch, report = import_file(world, csv_bytes(rows))
    assert (batch.status, batch.total, batch.processed) == ("finished", 3, 3)
    assert (batch.created, batch.skipped, batch.failed) == (2, 0, 1)
    cases = db.session.scalars(select(Case).order_by(Case.sequence)).all()
    assert [c.source_ref for c in cases] == ["12345-000001", "12345-000003"]
    assert [c.number for c in cases] == ["（2026）榕鼓调字第0001号", "（2026）榕鼓调字第0002号"]
    case = cases[0]
    assert case.source == "hotline_12345" and case.category == "labour"
    assert case.facts == case.claims == "公司拖欠工资两个月（1）。"
    assert str(case.amount) == "12000.00"
    applicant, respondent = case.links
    assert applicant.role == "applicant" and applicant.party.id_number == id_number(1)
    assert applicant.party.gender == "male" and applicant.party.birth_date == date(1980, 1, 1)
    assert respondent.party.kind == "organisation" and respondent.party.name == "福州某某1有限公司"
    assert [e.trigger for e in case.events] == ["register"]
    assert count(Party) == 4 and count(CaseParty) == 4 and count(AuditEvent) == 2


def test_reimport_is_idempotent(world):
    content = csv_bytes([good_row(n) for n in range(1, 6)] + [good_row(9, facts="")])
    import_file(world, content)
    batch, report = import_file(world, content)
    assert report.counts["imported"] == 5 and report.counts["error"] == 1
    assert (batch.created, batch.skipped, batch.failed) == (0, 5, 1)
    assert count(Case) == 5
    # the same file from another channel is another set of cases
    import_file(world, content, source="grid")
    assert count(Case) == 10


def test_existing_parties_are_reused_and_a_clash_of_names_is_refused(world, make_case):
    from conftest import person
    make_case(parties=[person(name="张1", id_number=id_number(1)),
                       person("respondent", "李四", "110105198001010032")])
    rows = [good_row(2, id=id_number(1)),                       # registered as 张1: clash
            good_row(3, name="张1", id=id_number(1), address="新地址"),
            good_row(4, name="张4", id=id_number(4)), good_row(5, name="王五", id=id_number(4))]
    batch, report = import_file(world, csv_bytes(rows))
    assert (batch.created, batch.failed) == (2, 2)
    messages = {r.line: r.problems[0].msgid for r in report.errors}
    assert set(messages) == {2, 5}
    assert "different name" in messages[2]
    party = db.session.scalar(select(Party).where(Party.id_number == id_number(1)))
    assert party.address == "新地址"
    assert db.session.scalar(select(func.count(CaseParty.id)).where(
        CaseParty.party_id == party.id)) == 2


def test_the_same_party_on_many_rows_is_one_party(world):
    rows = [good_row(n, other="福州某某物业公司", id=id_number(7), name="张7") for n in range(1, 4)]
    import_file(world, csv_bytes(rows))
    # one applicant by ID number; a respondent without a credit code is new each time, as at
    # the intake desk
    assert count(Case) == 3 and count(Party) == 4


def test_audit_chains_verify_and_numbers_have_no_gaps(app, world, make_case, monkeypatch):
    monkeypatch.setattr(bulk_intake, "CHUNK", 100)
    make_case()
    import_file(world, csv_bytes([good_row(n) for n in range(1, 260)]))
    make_case(parties=None)
    sequences = db.session.scalars(select(Case.sequence).where(
        Case.centre_id == world.county.id).order_by(Case.sequence)).all()
    assert sequences == list(range(1, 262))
    cases, events, broken = verify_chains()
    assert (cases, broken) == (261, [])
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "all chains intact" in result.output


def test_a_bulk_case_is_the_same_as_one_registered_by_hand(world):
    row = good_row(1, other="李四", other_phone="13900139000")
    headers = HEADERS + ["被反映人身份证号"]
    import_file(world, csv_bytes([row + ["110105198001010032"]], headers=headers))
    bulk = db.session.scalar(select(Case))
    data = IntakeData(
        centre_id=world.county.id, source="hotline_12345", category="labour",
        facts=bulk.facts, claims=bulk.claims, amount=bulk.amount, source_ref="by-hand",
        parties=[PartyData("applicant", "person", "张二", id_number=id_number(2),
                           phone="13800138000", address="福州市鼓楼区东街1号"),
                 PartyData("respondent", "person", "李四二", id_number=id_number(3),
                           phone="13900139000")])
    single = register_case(data, world.clerk, today=TODAY)
    skip = {"id", "number", "sequence", "source_ref", "registered_at", "updated_at"}
    for column in Case.__table__.columns.keys():
        if column not in skip:
            assert getattr(bulk, column) == getattr(single, column), column
    assert bulk.registered_at.date() == single.registered_at.date()
    for a, b in zip(bulk.links, single.links):
        for column in ("role", "position", "refuses_mediation", "agent_name", "agent_phone"):
            assert getattr(a, column) == getattr(b, column)
        for column in ("kind", "gender", "ethnicity", "phone", "occupation", "credit_code",
                       "legal_representative"):
            assert getattr(a.party, column) == getattr(b.party, column), column
        assert bool(a.party.birth_date) == bool(b.party.birth_date)
    (e1,), (e2,) = bulk.events, single.events
    for column in ("seq", "actor_id", "actor_name", "trigger", "from_state", "to_state",
                   "reason", "prev_hash"):
        assert getattr(e1, column) == getattr(e2, column)
    assert e1.data == {"number": bulk.number, "source": "hotline_12345"}
    assert e1.hash == e1.compute_hash()


def test_rows_may_name_a_centre_within_the_users_subtree(world):
    headers = HEADERS + ["调解中心"]
    rows = [good_row(1) + ["榕鼓东"], good_row(2) + [world.village.name], good_row(3) + ["榕台"],
            good_row(4) + [""]]
    batch, report = import_file(world, csv_bytes(rows, headers=headers))
    by_ref = {c.source_ref: c for c in db.session.scalars(select(Case))}
    assert by_ref["12345-000001"].number == "（2026）榕鼓东调字第0001号"
    assert by_ref["12345-000002"].centre_id == world.village.id
    assert by_ref["12345-000004"].centre_id == world.county.id
    assert [r.line for r in report.errors] == [4]


def test_category_value_mapping_chosen_by_the_user(world):
    content = csv_bytes([good_row(1, type="城市管理"), good_row(2, type="城市管理")])
    batch, sheet = make_batch(world, content)
    assert bulk_intake.category_values(sheet, 1) == [("城市管理", 2, None)]
    mapping = dict(batch.mapping, categories={"城市管理": "other"})
    batch, report = import_file(world, content, mapping=mapping)
    assert batch.created == 2
    assert set(db.session.scalars(select(Case.category))) == {"other"}


def test_xlsx_with_numbers_and_second_parties(world):
    headers = HEADERS + ["第二申请人"]
    rows = [good_row(1, phone=13800138000, amount=3000.5) + ["王小二"],
            good_row(2, id=350102198001010020) + [""]]
    mapping = {"columns": dict(bulk_intake.guess_columns(headers), **{"applicant2.name": 10}),
               "categories": {}}
    batch, report = import_file(world, xlsx_bytes(rows, headers), "grid.xlsx", mapping=mapping)
    assert batch.created == 1
    stored = bulk_intake.load_sheet(batch)  # the rows as read, kept for the later pages
    assert stored.rows == bulk_intake.read_file("grid.xlsx", xlsx_bytes(rows, headers)).rows
    assert "stored as a number" in report.errors[0].problems[0].msgid
    case = db.session.scalar(select(Case))
    assert str(case.amount) == "3000.50"
    assert [l.party.name for l in case.links] == ["张1", "福州某某1有限公司", "王小二"]
    assert [l.role for l in case.links] == ["applicant", "respondent", "applicant"]


def test_a_failure_mid_import_leaves_whole_chunks_and_can_be_resumed(world, monkeypatch):
    monkeypatch.setattr(bulk_intake, "CHUNK", 100)
    content = csv_bytes([good_row(n) for n in range(1, 251)])
    original, calls = bulk_intake.write_rows, []

    def failing(rows, *args, **kwargs):
        calls.append(len(rows))
        if len(calls) == 2:
            original(rows[:10], *args)  # half the chunk written, then the process "dies"
            raise RuntimeError("killed")
        return original(rows, *args, **kwargs)

    monkeypatch.setattr(bulk_intake, "write_rows", failing)
    batch, sheet = make_batch(world, content)
    with pytest.raises(RuntimeError):
        bulk_intake.run_import(batch, sheet, world.clerk, today=TODAY)
    db.session.expire_all()
    assert (batch.status, batch.processed, batch.created) == ("failed", 100, 100)
    assert count(Case) == 100 and count(AuditEvent) == 100
    assert count(Party) == 200 and count(CaseParty) == 200
    monkeypatch.setattr(bulk_intake, "write_rows", original)
    batch, report = import_file(world, content)
    assert (batch.created, batch.skipped) == (150, 100)
    assert db.session.scalars(select(Case.sequence).order_by(Case.sequence)).all() == \
        list(range(1, 251))
    assert verify_chains()[2] == []


def test_a_row_the_database_refuses_is_skipped_alone(world, monkeypatch):
    content = csv_bytes([good_row(n) for n in range(1, 6)])
    original = bulk_intake.write_rows

    def refuse_third(rows, *args, **kwargs):
        if any(r.reference == "12345-000003" for r in rows):
            from sqlalchemy.exc import IntegrityError
            raise IntegrityError("insert", {}, Exception("refused"))
        return original(rows, *args, **kwargs)

    monkeypatch.setattr(bulk_intake, "write_rows", refuse_third)
    batch, report = import_file(world, content)
    assert (batch.created, batch.failed) == (4, 1)
    assert report.errors[0].reference == "12345-000003"


def test_a_case_registered_meanwhile_is_skipped_not_doubled(world, monkeypatch):
    """Another channel user (the API, a clerk) registers a row's reference between the check
    and the write: the unique constraint refuses it and only that row is skipped."""
    content = csv_bytes([good_row(n) for n in range(1, 6)])
    original = bulk_intake.mark_party_conflicts

    def and_meanwhile(results):
        original(results)
        data = next(r.data for r in results if r.reference == "12345-000004")
        register_case(data, world.clerk, today=TODAY)

    monkeypatch.setattr(bulk_intake, "mark_party_conflicts", and_meanwhile)
    batch, report = import_file(world, content)
    assert (batch.created, batch.skipped, batch.failed) == (4, 1, 0)
    assert count(Case) == 5 and verify_chains()[2] == []
    assert sorted(db.session.scalars(select(Case.sequence))) == [1, 2, 3, 4, 5]


def test_many_references_are_looked_up_in_one_pass(world, monkeypatch):
    monkeypatch.setattr(bulk_intake, "STREAM_REFERENCES", 2)
    content = csv_bytes([good_row(n) for n in range(1, 6)])
    import_file(world, content)
    batch, report = import_file(world, content)
    assert (batch.created, batch.skipped) == (0, 5)


# ---- hostile files -------------------------------------------------------------------------

@pytest.mark.parametrize("content, filename, message", [
    (b"", "a.csv", "The file is empty."),
    (b"\n\n", "a.csv", "The file is empty."),
    ("工单编号,诉求内容\n".encode(), "a.csv", "no cases below it"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "a.xls", "old Excel file"),
    (b"PK\x03\x04broken", "a.xlsx", "not a valid XLSX"),
    (b"%PDF-1.4", "a.pdf", "Choose a CSV or XLSX file"),
    (b"\x00\x01\x02\xff\xfe" * 10, "a.csv", "not readable text"),
])
def test_hostile_files_get_a_clear_message(ctx, content, filename, message):
    with pytest.raises(FileProblem) as raised:
        bulk_intake.read_file(filename, content)
    assert message in str(raised.value)


def test_limits(ctx, monkeypatch):
    monkeypatch.setattr(bulk_intake, "MAX_ROWS", 3)
    with pytest.raises(FileProblem) as raised:
        bulk_intake.read_file("a.csv", csv_bytes([good_row(n) for n in range(5)]))
    assert "more than 3 rows" in str(raised.value)
    with pytest.raises(FileProblem):
        bulk_intake.read_file("a.xlsx", xlsx_bytes([good_row(n) for n in range(200)]))
    monkeypatch.setattr(bulk_intake, "MAX_BYTES", 100)
    with pytest.raises(FileProblem) as raised:
        bulk_intake.read_file("a.csv", b"x" * 101)
    assert "larger than" in str(raised.value)


def test_zip_bomb_is_refused(ctx, monkeypatch):
    monkeypatch.setattr(bulk_intake, "MAX_UNZIPPED_BYTES", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", "0" * 100_000)
    with pytest.raises(FileProblem) as raised:
        bulk_intake.read_file("a.xlsx", out.getvalue())
    assert "too large once unpacked" in str(raised.value)


def test_encodings(world):
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "gb18030"):
        sheet = bulk_intake.read_file("a.csv", csv_bytes([good_row(1)], encoding=encoding))
        assert sheet.headers == HEADERS and sheet.rows[0][1][3] == "张1"


# ---- pages ---------------------------------------------------------------------------------

def upload(client, content, filename="export.csv", source="hotline_12345", centre_id=None):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename),
                                       "source": source, "centre_id": str(centre_id or "")})
    return client.post("/cases/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def batch_of(response) -> CaseImportBatch:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.headers["Location"].split("/")[3])
    return db.session.get(CaseImportBatch, batch_id)


def mapping_form(batch, **change):
    form = {f"col-{key}": str(value) for key, value in batch.mapping["columns"].items()}
    form.update(change)
    return form


def test_upload_map_preview_import_and_progress(world, login_en):
    client = login_en(world.clerk)
    assert "Import cases" in client.get("/cases/import").get_data(as_text=True)
    rows = [good_row(1), good_row(2), good_row(3, id="350102198001010030"),
            good_row(4, type="城市管理")]
    batch = batch_of(upload(client, csv_bytes(rows), centre_id=world.county.id))
    page = client.get(f"/cases/import/{batch.id}/mapping").get_data(as_text=True)
    assert 'name="col-source_ref"' in page and "城市管理" in page
    assert '<option value="0" selected>工单编号' in page
    # a required field left out: said so, nothing else happens
    form = mapping_form(batch)
    del form["col-facts"]
    page = client.post(f"/cases/import/{batch.id}/mapping", data=form).get_data(as_text=True)
    assert "Choose the column that holds the Facts." in page
    form = mapping_form(batch, **{"cat-1": "other", "catval-1": "城市管理"})
    response = client.post(f"/cases/import/{batch.id}/mapping", data=form)
    assert response.headers["Location"].endswith(f"/cases/import/{batch.id}/preview")
    page = client.get(f"/cases/import/{batch.id}/preview").get_data(as_text=True)
    assert "Importing registers 3 new cases" in page
    assert "The check digit of this ID number is wrong" in page
    assert "Applicant: ID number or credit code" in page
    report = client.get(f"/cases/import/{batch.id}/errors.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Line", "Errors", "工单编号") and values[1][0] == 4
    assert "check digit" in values[1][1] and len(values) == 2
    assert count(Case) == 0
    response = client.post(f"/cases/import/{batch.id}/preview", data={})
    assert response.headers["Location"].endswith(f"/cases/import/{batch.id}")
    page = client.get(f"/cases/import/{batch.id}").get_data(as_text=True)
    assert "Registered 3 cases; 0 rows were already imported and 1 rows had an error." in page
    assert "bulk-progress.js" in page and '<progress id="bulk-bar" max="4" value="4">' in page
    status = client.get(f"/cases/import/{batch.id}/status.json").get_json()
    assert status == {"id": batch.id, "status": "finished", "total": 4, "processed": 4,
                      "created": 3, "skipped": 0, "failed": 1, "percent": 100, "done": True}
    assert count(Case) == 3
    # the same file again: everything already imported
    again = batch_of(upload(client, csv_bytes(rows), centre_id=world.county.id))
    client.post(f"/cases/import/{again.id}/mapping", data=form)
    page = client.get(f"/cases/import/{again.id}/preview").get_data(as_text=True)
    assert "There is nothing to import" in page and "Already imported" in page


def test_large_import_runs_in_the_background(app, world, login_en, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_SYNC_ROWS", 10)
    client = login_en(world.clerk)
    monkeypatch.setattr(bulk_intake, "CHUNK", 50)
    batch = batch_of(upload(client, csv_bytes([good_row(n) for n in range(1, 200)]),
                            centre_id=world.county.id))
    client.post(f"/cases/import/{batch.id}/preview", data={})
    page = client.get(f"/cases/import/{batch.id}").get_data(as_text=True)
    bulk_intake.RUNNING.get(batch.id, None) and bulk_intake.RUNNING[batch.id].join(60)
    assert 'http-equiv="refresh"' in page or "Import finished" in page
    status = client.get(f"/cases/import/{batch.id}/status.json").get_json()
    assert (status["status"], status["created"], status["processed"]) == ("finished", 199, 199)
    assert count(Case) == 199 and verify_chains()[2] == []


def test_running_page_refreshes_without_javascript(world, login_en):
    client = login_en(world.clerk)
    batch = batch_of(upload(client, csv_bytes([good_row(1)]), centre_id=world.county.id))
    batch.status, batch.total, batch.processed = "running", 100, 40
    batch.heartbeat_at = bulk_intake.utcnow()
    db.session.commit()
    page = client.get(f"/cases/import/{batch.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'value="40"' in page
    batch.heartbeat_at = bulk_intake.utcnow() - bulk_intake.STALE_AFTER * 2
    db.session.commit()
    assert client.get(f"/cases/import/{batch.id}/status.json").get_json()["status"] == \
        "interrupted"
    assert "Import stopped" in client.get(f"/cases/import/{batch.id}").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("supervisor", 403), ("mediator", 403),
                                          ("director", 200), ("admin", 200)])
def test_who_may_import(world, login_en, role, status):
    assert login_en(world.users[role]).get("/cases/import").status_code == status


def test_a_batch_is_its_uploaders_and_centres_stay_in_the_subtree(world, client):
    from conftest import sign_in
    sign_in(client, world.clerk, "en")
    batch = batch_of(upload(client, csv_bytes([good_row(1)]), centre_id=world.county.id))
    response = upload(client, csv_bytes([good_row(1)]), centre_id=world.other.id)
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    client.post("/logout")
    sign_in(client, world.outsider, "en")
    for url in ("", "/mapping", "/preview", "/status.json", "/errors.xlsx"):
        assert client.get(f"/cases/import/{batch.id}{url}").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client):
    assert client.get("/cases/import").status_code == 302


@pytest.mark.parametrize("content, filename, message", [
    (b"", "a.csv", "The file is empty."),
    (b"PK\x03\x04broken", "a.xlsx", "This file is not a valid XLSX workbook."),
    (b"%PDF-1.4", "a.pdf", "Choose a CSV or XLSX file (this one is .pdf)."),
])
def test_bad_files_are_refused_on_the_upload_page(world, login_en, content, filename, message):
    response = upload(login_en(world.clerk), content, filename, centre_id=world.county.id)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(CaseImportBatch) == 0


def test_a_file_above_the_limit_is_refused_with_a_message(world, login_en, monkeypatch):
    monkeypatch.setattr(bulk_intake, "MAX_BYTES", 1000)
    client = login_en(world.clerk)
    response = upload(client, b"x" * 5000, centre_id=world.county.id)
    assert response.status_code == 200 and "larger than" in response.get_data(as_text=True)
    # far above the limit the request itself is refused, before it is read
    assert upload(client, b"x" * 1_100_000, centre_id=world.county.id).status_code == 413
    assert count(CaseImportBatch) == 0


def test_csrf_is_checked_on_upload(app, world, login_en, monkeypatch):
    client = login_en(world.clerk)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = upload(client, csv_bytes([good_row(1)]), centre_id=world.county.id)
    assert response.status_code == 200 and count(CaseImportBatch) == 0


def test_pages_in_chinese(world, login):
    client = login(world.clerk)
    batch = batch_of(upload(client, csv_bytes([good_row(1)]), centre_id=world.county.id))
    for url in ("/cases/import", f"/cases/import/{batch.id}/mapping",
                f"/cases/import/{batch.id}/preview"):
        assert client.get(url).status_code == 200


# ---- command line --------------------------------------------------------------------------

def test_cli_imports_with_a_progress_bar_and_is_idempotent(app, world, tmp_path):
    from cases.bulk_cli import cases_cli
    path = tmp_path / "工单.csv"
    path.write_bytes(csv_bytes([good_row(1), good_row(2), good_row(3, facts="")]))
    runner = app.test_cli_runner()
    args = ["import-file", str(path), "--source", "hotline_12345", "--centre", "榕鼓东",
            "--user", "clerk", "--errors", str(tmp_path / "errors.csv")]
    result = runner.invoke(cases_cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "batch": 1, "rows": 3, "created": 2, "skipped": 0, "failed": 1}
    assert "line 4" in result.stderr
    assert "4" in (tmp_path / "errors.csv").read_text(encoding="utf-8-sig")
    db.session.expire_all()
    assert {c.centre_id for c in db.session.scalars(select(Case))} == {world.township.id}
    result = runner.invoke(cases_cli, args)
    assert json.loads(result.stdout.strip().splitlines()[-1])["skipped"] == 2
    assert count(Case) == 2


def test_cli_mapping_by_header_and_clear_errors(app, world, tmp_path):
    from cases.bulk_cli import cases_cli
    path = tmp_path / "grid.csv"
    path.write_bytes(csv_bytes([["G-1", "城市管理", "占道经营", "张三", "李四"]],
                               headers=["流水号", "分类", "情况", "甲", "乙"]))
    runner = app.test_cli_runner()
    base = ["import-file", str(path), "--source", "grid", "--centre", "榕鼓"]
    result = runner.invoke(cases_cli, base)
    assert result.exit_code != 0 and "流水号" in result.output
    mapping = {"columns": {"source_ref": "流水号", "category": "分类", "facts": "情况",
                           "claims": "情况", "applicant.name": "甲", "respondent.name": "乙"},
               "categories": {"城市管理": "other"}}
    result = runner.invoke(cases_cli, base + ["--mapping", json.dumps(mapping, ensure_ascii=False)])
    assert result.exit_code == 0, result.output
    assert count(Case) == 1
    assert runner.invoke(cases_cli, base + ["--mapping", '{"columns": {"facts": "nope"}}']
                         ).exit_code != 0
    assert "no centre" in runner.invoke(cases_cli, ["import-file", str(path), "--source", "grid",
                                                    "--centre", "XX"]).output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = runner.invoke(cases_cli, ["import-file", str(empty), "--source", "grid",
                                       "--centre", "榕鼓"])
    assert result.exit_code != 0 and "The file is empty." in result.output


def test_stored_files_expire(world, uploads):
    import os
    import time
    batch, _ = make_batch(world, csv_bytes([good_row(1)]))
    old = [uploads / batch.token, uploads / f"{batch.token}.rows"]
    for path in old:
        os.utime(path, (time.time() - 8 * 86400,) * 2)
    make_batch(world, csv_bytes([good_row(2)]))
    assert not any(path.exists() for path in old)
    with pytest.raises(FileProblem):
        bulk_intake.load_sheet(batch)
