"""Bulk intake in a real browser: upload a grid export, match its columns (a type value the
file invents is mapped by hand), check the preview, import in the background with the progress
bar moving, and see the result with the skipped rows and their reasons."""
from __future__ import annotations

import re

import pytest

from browser_support import Screenshots, skip_reason
from conftest import TEST_DB

_skip = skip_reason(TEST_DB)
if _skip:
    pytest.skip(_skip, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.extensions import db  # noqa: E402
from browser_fixtures import in_chinese, sign_in  # noqa: E402
from cases import bulk_intake  # noqa: E402
from cases.models import Case  # noqa: E402
from test_bulk_intake import HEADERS, csv_bytes, good_row  # noqa: E402

pytestmark = pytest.mark.browser


def test_clerk_imports_a_grid_export_with_a_progress_bar(world, live_server, served_app, page,
                                                          tmp_path, monkeypatch):
    monkeypatch.setitem(served_app.config, "BULK_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(served_app.config, "BULK_SYNC_ROWS", 100)  # run in the background
    rows = [good_row(n, type="城市管理" if n % 50 == 0 else "劳动争议") for n in range(1, 3001)]
    rows[9][5] = "350102198001010030"  # a wrong check digit on line 11
    export = tmp_path / "网格事件.csv"
    export.write_bytes(csv_bytes(rows, HEADERS))
    shots = Screenshots(page, "bulk-")

    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server}/cases/import")
    page.set_input_files("input[type=file]", str(export))
    page.select_option("select[name=source]", "grid")
    shots.take("upload")
    page.click("form button.primary")
    expect(page).to_have_url(re.compile(r"/cases/import/\d+/mapping$"))
    expect(page.locator("select[name='col-source_ref']")).to_have_value("0")
    value_row = page.locator("tr", has_text="城市管理")
    expect(value_row.locator("select")).to_have_value("")
    value_row.locator("select").select_option("other")
    shots.take("mapping")
    page.click("text=" + in_chinese(served_app, "Next: check the rows"))
    expect(page).to_have_url(re.compile(r"/cases/import/\d+/preview$"))
    expect(page.locator(".import-count-new .stat")).to_have_text("2999")
    expect(page.locator(".import-count-error .stat")).to_have_text("1")
    shots.take("preview")

    page.click("form.confirm-import .primary")
    expect(page).to_have_url(re.compile(r"/cases/import/\d+$"))
    expect(page.locator("progress")).to_be_visible()
    shots.take("progress")
    expect(page.locator(".flash-success")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("2999")
    expect(page.locator("table.import-rows")).to_contain_text("12345-000010")
    shots.take("result")
    with served_app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) == 2999
    assert not bulk_intake.RUNNING
