"""Documents in a real browser: the clerk issues the agreement from the case page, downloads
it, and anyone checks the file on the public verification page."""
from __future__ import annotations

import pytest

from browser_support import Screenshots, skip_reason
from conftest import TEST_DB

_skip = skip_reason(TEST_DB)
if _skip:
    pytest.skip(_skip, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from app.workdays import today as centre_today  # noqa: E402
from browser_fixtures import in_chinese, sign_in  # noqa: E402
from cases.services import fire_transition  # noqa: E402
from lifecycle_paths import valid_data  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def agreed_case(world, make_case):
    on = centre_today()
    case = make_case(today=on)
    for trigger in ("accept", "assign", "reach_agreement"):
        data = valid_data(trigger, mediator_id=world.mediator.id, to_centre_id=world.city.id)
        if trigger == "reach_agreement":
            data["agreement"].update(performance_deadline=on, effective_on=on)
        fire_transition(case, trigger, world.clerk, data=data, today=on)
    return case


def test_clerk_issues_downloads_and_the_public_verifies(page, live_server, served_app,
                                                        agreed_case, tmp_path):
    shots = Screenshots(page, prefix="documents-")
    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server}/cases/{agreed_case.id}")
    panel = page.locator("#documents")
    expect(panel).to_be_visible()
    label = in_chinese(served_app, "Mediation agreement")
    panel.locator("button", has_text=label).click()
    expect(page.locator("#documents li.document")).to_have_count(1)
    shots.take("issued")
    with page.expect_download() as info:
        page.locator("#documents li.document a", has_text=label).click()
    pdf = tmp_path / "agreement.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    page.goto(f"{live_server}/verify/")
    page.set_input_files("input[name=document]", str(pdf))
    page.click(".verify-page form button[type=submit]")
    expect(page.locator(".verify-valid")).to_contain_text(agreed_case.number)
    shots.take("verified")
