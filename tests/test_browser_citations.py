"""Citing articles in a real browser (CSRF on): the clerk cites a suggested article, reads its
text, mistypes a citation and gets a message, cites by number, and removes a citation; and a party
searches the law in plain words."""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import Screenshots, skip_reason
from conftest import TEST_DB

_skip = skip_reason(TEST_DB)
if _skip:
    pytest.skip(_skip, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from app.workdays import today as centre_today  # noqa: E402
from browser_fixtures import sign_in  # noqa: E402
from cases.services import fire_transition  # noqa: E402

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "statutes"
DOG_BITE = "《中华人民共和国民法典》第一千二百四十五条"
PERSONAL_INJURY = "《中华人民共和国民法典》第一千一百七十九条"


@pytest.fixture
def dog_bite_case(world, make_case):
    """A damages case about a dog bite, in mediation, with the statute library indexed."""
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    from statutes.importer import import_corpus
    from statutes.search import index_articles
    import_corpus(CORPUS)
    index_articles()
    on = centre_today()
    case = make_case(today=on, category="damages", facts="邻居养的狗把我咬伤了。",
                     claims="要求赔偿医药费。")
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"}, today=on)
    return case


def test_clerk_cites_articles_on_the_case_page(page, live_server, dog_bite_case):
    shots = Screenshots(page, prefix="citations-")
    sign_in(page, live_server, "clerk")
    page.goto(f"{live_server}/lang/en")
    page.goto(f"{live_server}/cases/{dog_bite_case.id}")
    card = page.locator("#citations")
    expect(card.locator(".citation-suggestions")).to_contain_text("第一千二百四十五条")
    shots.take("suggestions")

    card.locator(f"button[aria-label='Cite {DOG_BITE}']").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Cited: {DOG_BITE}.")
    cited = card.locator(".citation-list .citation")
    expect(cited).to_have_count(1)
    expect(cited.first).to_contain_text(DOG_BITE)
    expect(card.locator(f"button[aria-label='Cite {DOG_BITE}']")).to_have_count(0)
    cited.first.locator(".citation-excerpt > summary").click()
    expect(cited.first.locator(".citation-excerpt .prose")).to_contain_text("饲养的动物造成他人损害的")

    typed = card.locator("#citation-typed")
    typed.locator("summary").click()
    typed.locator("input[name=law]").fill("民法典")
    typed.locator("input[name=number]").fill("第九千条")
    typed.locator("button[type=submit]").click()
    expect(typed.locator(".form-alert")).to_contain_text("民法典 has no article 9000 in force.")
    expect(typed.locator("input[name=law]")).to_have_value("民法典")
    shots.take("typed-error")

    typed.locator("input[name=number]").fill("第1179条")
    typed.locator("input[name=note]").fill("医疗费、误工费的赔偿范围")
    typed.locator("button[type=submit]").click()
    expect(cited).to_have_count(2)
    expect(cited.nth(1)).to_contain_text(PERSONAL_INJURY)
    expect(cited.nth(1)).to_contain_text("医疗费、误工费的赔偿范围")
    shots.take("cited")

    cited.first.locator("button", has_text="Remove").click()
    expect(page.locator(".flash-success")).to_contain_text("The citation is removed.")
    expect(cited).to_have_count(1)
    expect(cited.first).to_contain_text(PERSONAL_INJURY)


def test_a_party_asks_the_law_in_plain_words(page, live_server, dog_bite_case, common_questions):
    """The public search page, in Chinese: a question sharing no word with its article finds
    it through the common question it resembles, and says so."""
    shots = Screenshots(page, prefix="statute-search-")
    page.goto(f"{live_server}/statutes/search")
    page.locator("#q").fill("健身房老板跑了卡里的钱怎么办")
    page.locator("form[role=search] button[type=submit]").click()
    hit = page.locator("#hits .search-hit", has_text="第五十三条").filter(
        has_text="消费者权益保护法")
    expect(hit).to_have_count(1)
    expect(hit.locator(".search-hit-answers")).to_contain_text("适用于相近的常见问题：“")
    shots.take("answers")
