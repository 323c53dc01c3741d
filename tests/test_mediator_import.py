"""Importing mediator profiles from CSV and XLSX: a preview that writes nothing, row-level
errors with reasons, re-import by external ID without duplicates, export → import unchanged,
and files that are hostile or broken never fail the server nor change anything."""
import csv
import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from mediators import importing, services
from mediators.importing import FileProblem
from mediators.models import Mediator, MediatorSpecialty

HEADERS = ["外部编号", "姓名", "性别", "类别", "所属中心", "服务中心", "专长", "语言", "从业年限",
           "资质", "简介", "最大案件数", "状态", "电话", "身份证号"]
GOOD_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    directory = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "MEDIATOR_UPLOAD_DIR", str(directory))
    return directory


def good_rows(world):
    return [
        ["FZ-M-0101", "郑美玲", "女", "人民调解员", "榕鼓", "榕鼓东、榕鼓东一", "邻里纠纷、婚姻家庭",
         "普通话、福州话", "12", "人民调解员等级证书（二级）", "社区调解十二年。", "6", "在岗",
         "13800138001", GOOD_ID],
        ["FZ-M-0102", "Wang Lei", "male", "lawyer", world.township.name, "", "labour,contract",
         "普通话", "8", "律师执业证", "", "10", "active", "0591-87654321", ""],
    ]


def bad_rows():
    return [
        ["", "无编号", "男", "律师", "榕鼓", "", "", "", "3", "", "", "5", "在岗", "", ""],
        ["FZ-M-0201", "", "男", "律师", "榕鼓", "", "", "", "3", "", "", "5", "在岗", "", ""],
        ["FZ-M-0202", "范伟", "男", "宇航员", "火星", "", "星际", "", "三年", "", "", "500", "在岗",
         "12", "110105194912310021"],
        ["FZ-M-0203", "外区人", "女", "律师", "榕台", "", "", "", "3", "", "", "5", "在岗", "", ""],
    ]


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content, filename="mediators.csv"):
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename)})
    return client.post("/admin/mediators/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def count_mediators():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Mediator.id)))


def by_external_id(external_id):
    db.session.expire_all()
    return db.session.scalar(select(Mediator).where(Mediator.external_id == external_id))


def test_preview_writes_nothing_then_good_rows_import_and_bad_rows_are_explained(
        world, login_en, uploads):
    client = login_en(world.users["admin"])
    before = count_mediators()

    response = upload(client, csv_bytes(good_rows(world) + bad_rows()))

    assert response.status_code == 302
    preview_url = response.headers["Location"]
    preview = client.get(preview_url).get_data(as_text=True)
    assert count_mediators() == before  # nothing written by the preview
    assert "郑美玲" in preview and "Wang Lei" in preview
    assert "The row has no external ID" in preview
    assert "Enter the mediator&#39;s name." in preview
    for reason in ("Unknown value “宇航员”", "No centre has the short code or name “火星”",
                   "Unknown specialty “星际”", "“三年” is not a whole number",
                   "Enter a whole number from 1 to 50.", "The check digit of this ID number",
                   "Enter an 11-digit mobile number",
                   "The home centre must be your centre or one below it."):
        assert reason in preview, reason

    summary = client.post(preview_url).get_data(as_text=True)

    assert "Added 2 and updated 0 profiles" in summary and "4 rows were skipped" in summary
    assert count_mediators() == before + 2
    zheng = by_external_id("FZ-M-0101")
    assert (zheng.name, zheng.gender, zheng.kind, zheng.centre_id) == (
        "郑美玲", "female", "people_mediator", world.county.id)
    assert sorted(c.id for c in zheng.served_centres) == sorted([world.township.id,
                                                                 world.village.id])
    assert zheng.categories == ["marriage_family", "neighbour"]
    assert zheng.languages == "普通话,福州话" and zheng.id_number == GOOD_ID
    wang = by_external_id("FZ-M-0102")
    assert (wang.kind, wang.centre_id, wang.categories, wang.phone) == (
        "lawyer", world.township.id, ["contract", "labour"], "0591-87654321")
    assert by_external_id("FZ-M-0203") is None and by_external_id("FZ-M-0202") is None
    assert not list(uploads.iterdir())  # the stored file is gone after the import
    assert client.post(preview_url).status_code == 404  # and cannot be imported twice


def test_reimport_is_idempotent_and_updates_by_external_id(world, login_en):
    client = login_en(world.users["admin"])
    content = csv_bytes(good_rows(world))
    client.post(upload(client, content).headers["Location"])
    after_first = count_mediators()

    again = upload(client, content).headers["Location"]
    preview = client.get(again).get_data(as_text=True)
    assert "There is nothing to import" in preview
    client.post(again)
    assert count_mediators() == after_first

    rows = good_rows(world)
    rows[0][11], rows[0][7] = "9", "普通话、闽南话"
    changed = upload(client, csv_bytes(rows)).headers["Location"]
    preview = client.get(changed).get_data(as_text=True)
    assert "Maximum concurrent cases" in preview and "Languages and dialects" in preview
    summary = client.post(changed).get_data(as_text=True)

    assert "Added 0 and updated 1 profiles; 1 were already up to date." in summary
    assert count_mediators() == after_first
    zheng = by_external_id("FZ-M-0101")
    assert (zheng.capacity, zheng.languages) == (9, "普通话,闽南话")


def test_empty_cells_keep_or_clear_and_missing_columns_change_nothing(world, ctx):
    admin = world.users["admin"]
    services.apply_import(csv_bytes(good_rows(world)), "a.csv", admin)
    headers = ["外部编号", "姓名", "最大案件数", "资质"]

    report = services.apply_import(csv_bytes([["FZ-M-0101", "郑美玲", "", ""]], headers),
                                   "b.csv", admin)

    assert report.counts == {"new": 0, "update": 1, "unchanged": 0, "error": 0}
    assert report.rows[0].changed == ["credentials"]
    zheng = by_external_id("FZ-M-0101")
    assert (zheng.capacity, zheng.credentials, zheng.languages) == (6, "", "普通话,福州话")


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_export_then_import_is_unchanged_for_every_row(world, client, login, locale):
    client = login(world.users["admin"])
    client.get(f"/lang/{locale}")
    client.post(upload(client, csv_bytes(good_rows(world))).headers["Location"])
    world.mediator.biography = "=HYPERLINK(\"http://evil\")\n第二行"
    world.mediator.served_centres = [world.other]  # outside the admin's view: kept as it is
    world.mediator.specialties = [MediatorSpecialty(category="neighbour")]
    db.session.commit()

    export = client.get("/admin/mediators/export.xlsx")

    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(export.data))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 1 + 3 and "陈建国" not in str(rows)  # the other county's mediator
    formula_cells = [c for row in book.active.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    before = count_mediators()
    preview_url = upload(client, export.data, "export.xlsx").headers["Location"]
    client.get(preview_url)
    report = services.preview_import(export.data, "export.xlsx", world.users["admin"])
    assert report.counts == {"new": 0, "update": 0, "unchanged": 3, "error": 0}
    client.post(preview_url)
    assert count_mediators() == before


def test_encodings_and_english_headers(world, ctx):
    admin = world.users["admin"]
    english = ["external_id", "Name", "Gender", "Kind", "Home centre", "Centres served",
               "Specialties", "Languages", "Years", "Credentials", "Biography", "Capacity",
               "Status", "Phone", "ID number"]
    for content, name in ((csv_bytes(good_rows(world), encoding="utf-8"), "plain.csv"),
                          (csv_bytes(good_rows(world), encoding="gb18030"), "gbk.csv"),
                          (csv_bytes(good_rows(world), encoding="utf-16"), "utf16.csv"),
                          (csv_bytes(good_rows(world), english), "english.csv"),
                          (xlsx_bytes(good_rows(world)), "book.xlsx")):
        report = services.preview_import(content, name, admin)
        assert [r.status for r in report.rows] == ["new", "new"], (name, [
            p.text() for r in report.rows for p in r.problems])
        assert report.rows[0].data.name == "郑美玲"


def test_rows_are_checked_within_the_file_and_against_other_centres(world, ctx):
    admin = world.users["admin"]
    world.other_mediator.external_id = "FZ-M-9999"
    db.session.commit()
    rows = good_rows(world)
    duplicate = list(rows[0])
    foreign = list(rows[1])
    foreign[0] = "FZ-M-9999"

    report = services.preview_import(csv_bytes(rows + [duplicate, foreign]), "x.csv", admin)

    assert [r.status for r in report.rows] == ["new", "new", "error", "error"]
    assert "already on line" in report.rows[2].problems[0].msgid
    assert report.rows[2].problems[0].params == {"line": 2}
    assert "outside yours" in report.rows[3].problems[0].msgid


def test_an_id_number_typed_as_a_number_is_refused(world, ctx):
    rows = good_rows(world)
    rows[0][14] = 110105194912310020
    report = services.preview_import(xlsx_bytes(rows), "x.xlsx", world.users["admin"])
    assert report.rows[0].status == "error"
    assert "stored as a number" in report.rows[0].problems[0].msgid


def test_the_stored_file_belongs_to_its_uploader(world, client, login):
    login(world.users["admin"])
    preview_url = upload(client, csv_bytes(good_rows(world))).headers["Location"]
    client.post("/logout")
    login(world.users["director"])

    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url).status_code == 404
    assert client.get("/admin/mediators/import/../../etc/passwd").status_code == 404
    assert client.post("/admin/mediators/import/" + "A" * 43).status_code == 404
    assert count_mediators() == 2


def test_confirm_uses_the_server_copy_and_the_database_as_it_is_then(world, login_en):
    client = login_en(world.users["admin"])
    preview_url = upload(client, csv_bytes(good_rows(world))).headers["Location"]
    client.get(preview_url)
    world.mediator.external_id = "FZ-M-0101"  # meanwhile someone gave this ID to 林秀英
    db.session.commit()

    summary = client.post(preview_url, data={"rows": "forged", "status": "new"})

    assert "Added 1 and updated 1 profiles" in summary.get_data(as_text=True)
    assert by_external_id("FZ-M-0101").id == world.mediator.id
    assert count_mediators() == 3


HOSTILE = [
    (b"", "empty.csv", "The file is empty."),
    (b"\n\n  \n", "blank.csv", "The file is empty."),
    ("外部编号,姓名\n".encode(), "header.csv", "no mediators below it"),
    ("编号,电话\nFZ-1,13800138000\n".encode(), "noname.csv", "The file has no name column"),
    ("姓名,电话\n张三,13800138000\n".encode(), "noid.csv", "column: every mediator needs"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "image.png",
     "Choose a CSV or XLSX file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "image.csv",
     "not readable text"),
    (bytes(range(128, 256)) * 40, "garbage.csv", "not readable text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls", "old Excel file"),
    (b"PK\x03\x04 this is not really a zip", "broken.xlsx", "not a valid XLSX"),
    (b"%PDF-1.4 pretending", "fake.xlsx", "not a valid XLSX"),
    ("外部编号,姓名\n\"FZ-1,张三\n".encode(), "quote.csv", None),
]


def zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (importing.MAX_UNZIPPED_BYTES + 1))
    return out.getvalue()


@pytest.mark.parametrize("content,filename,message", HOSTILE + [
    (zip_without_workbook(), "nobook.xlsx", "not a valid XLSX"),
    (b"x" * (importing.MAX_BYTES + 1), "big.csv", "larger than 5 MB"),
])
def test_hostile_or_broken_files_are_refused_clearly_and_change_nothing(
        world, login_en, uploads, content, filename, message):
    client = login_en(world.users["admin"])
    before = count_mediators()

    response = upload(client, content, filename)

    page = response.get_data(as_text=True)
    if message is None:  # readable enough to preview: the bad cells are reported instead
        assert response.status_code == 302
        assert "Nothing has been saved yet" in client.get(response.headers["Location"]).get_data(
            as_text=True)
    else:
        assert response.status_code == 200 and message in page, page[-3000:]
        assert not uploads.exists() or not list(uploads.iterdir())
    assert count_mediators() == before


def test_a_zip_bomb_is_refused_without_unpacking(world, ctx):
    with pytest.raises(FileProblem) as refused:
        importing.read_sheet("bomb.xlsx", zip_bomb())
    assert "too large once unpacked" in str(refused.value)


def test_row_limit_and_odd_cells(world, ctx, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = [[f"FZ-{i}", f"调解员{i}"] for i in range(4)]
    with pytest.raises(FileProblem) as refused:
        importing.read_sheet("many.csv", csv_bytes(rows, HEADERS[:2]))
    assert "more than 3 rows" in str(refused.value)

    odd = [["FZ-1", "张三\x07\x1b", "", "", "榕鼓", "", "", "x" * 300],
           ["FZ-2", "<script>alert(1)</script>", "", "", "榕鼓"], ["FZ-3"]]
    report = services.preview_import(csv_bytes(odd, HEADERS[:8]), "odd.csv",
                                     world.users["admin"])
    assert [r.status for r in report.rows] == ["error", "new", "error"]
    assert report.rows[0].name == "张三"
    assert report.rows[0].problems[0].msgid == "Write at most %(n)s characters."
    assert {p.field for p in report.rows[2].problems} == {"name", "centre_id"}


def test_nothing_to_import_without_a_file(world, login_en):
    client = login_en(world.users["admin"])
    response = client.post("/admin/mediators/import", data={},
                           content_type="multipart/form-data")
    assert "Choose a CSV or XLSX file to upload." in response.get_data(as_text=True)
    assert client.get("/admin/mediators/import").status_code == 200
