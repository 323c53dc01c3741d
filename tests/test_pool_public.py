"""The public expert pool (调解专家超市): no sign-in, search, filters, sort orders, pages, a
profile page with public fields and figures, and no private field on any public answer."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Centre
from mediators import views
from mediators.models import Mediator, MediatorConflict, MediatorSpecialty

PRIVATE_PHONE = "13912345678"
PRIVATE_ID = "11010519491231002X"
CONFLICT_NAME = "秘密亲戚甲"
CONFLICT_ID = "110105198001010032"


def add(world, name, centre=None, **fields):
    specialties = fields.pop("specialties", [])
    served = fields.pop("served", [])
    mediator = Mediator(name=name, centre=centre or world.county, **fields)
    mediator.specialties = [MediatorSpecialty(category=c) for c in specialties]
    mediator.served_centres = served
    db.session.add(mediator)
    db.session.flush()
    return mediator


@pytest.fixture
def pool(world):
    """A small pool with known figures, plus private fields that must never show."""
    world.mediator.status = "retired"  # 林秀英 leaves the pool
    p = type("Pool", (), {})()
    p.veteran = add(world, "高成功", kind="retired_judge", years_experience=30,
                    cases_handled=200, cases_settled=190, rating_count=40, rating_sum=184,
                    median_days=12.0, languages="普通话,福州话", capacity=5, current_load=2,
                    specialties=["neighbour", "contract"], organisation="福州市中级人民法院（退休）",
                    phone=PRIVATE_PHONE, id_number=PRIVATE_ID, biography="审判工作三十年。",
                    credentials="四级高级法官")
    p.lucky = add(world, "运气好", kind="lawyer", years_experience=2, cases_handled=2,
                  cases_settled=2, rating_count=1, rating_sum=5, languages="普通话",
                  capacity=5, specialties=["labour"], phone="13700000001")
    p.busy = add(world, "满负荷", centre=world.village, kind="village_elder", years_experience=20,
                 capacity=3, current_load=3, languages="普通话,闽南话",
                 specialties=["neighbour", "village_affairs"])
    p.away = add(world, "休假中", centre=world.township, status="on_leave", years_experience=9,
                 languages="普通话,客家话", specialties=["marriage_family"])
    p.newcomer = add(world, "新调解员", centre=world.city, years_experience=0, languages="普通话")
    p.far = world.other_mediator  # 陈建国 in the other county
    p.far.years_experience, p.far.languages = 5, "普通话"
    p.far.served_centres = [world.township]  # ... who also serves our township
    p.veteran.conflicts = [MediatorConflict(name=CONFLICT_NAME, id_number=CONFLICT_ID,
                                            relation="表兄")]
    p.retired = world.mediator
    p.retired.phone = "13600000002"
    db.session.commit()
    return p


def names(response) -> list[str]:
    return re.findall(r'class="pool-name" href="/pool/\d+">([^<]+)</a>', response.get_data(
        as_text=True))


def test_anyone_may_browse_the_pool_without_signing_in(client, pool):
    response = client.get("/pool/")

    assert response.status_code == 200
    listed = names(response)
    assert set(listed) == {"高成功", "运气好", "满负荷", "休假中", "新调解员", "陈建国"}
    assert "林秀英" not in listed  # retired
    page = response.get_data(as_text=True)
    assert 'href="/pool/"' in page  # the "Expert pool" link in the top bar, signed out too


def test_recommended_order_prefers_a_long_record_and_free_capacity(client, pool):
    listed = names(client.get("/pool/"))
    assert listed.index("高成功") < listed.index("运气好")  # 190/200 beats 2/2
    assert set(listed[-2:]) == {"满负荷", "休假中"}  # not taking cases: last
    by_rate = names(client.get("/pool/?sort=settlement"))
    assert by_rate[0] == "高成功" and by_rate.index("运气好") < by_rate.index("新调解员")
    by_years = names(client.get("/pool/?sort=experience"))
    assert by_years[:3] == ["高成功", "满负荷", "休假中"] and by_years[-1] == "新调解员"


@pytest.mark.parametrize("query,expected", [
    ("q=成功", {"高成功"}),
    ("category=neighbour", {"高成功", "满负荷"}),
    ("kind=lawyer", {"运气好"}),
    ("language=闽南话", {"满负荷"}),
    ("language=普通话&available=y", {"高成功", "运气好", "新调解员", "陈建国"}),
    ("available=y&category=neighbour", {"高成功"}),
])
def test_filters(client, pool, query, expected):
    assert set(names(client.get(f"/pool/?{query}"))) == expected


def test_area_served_is_a_centre_with_everything_below_and_above_it(client, world, pool):
    village = set(names(client.get(f"/pool/?centre={world.village.id}")))
    county = set(names(client.get(f"/pool/?centre={world.county.id}")))
    other = set(names(client.get(f"/pool/?centre={world.other.id}")))

    # A village is served by its own mediators and by those of the township, county and city.
    assert village == {"高成功", "运气好", "满负荷", "休假中", "新调解员", "陈建国"}
    assert county == village  # 陈建国 serves our township, inside the county
    assert other == {"陈建国", "新调解员"}


def test_bad_filters_are_ignored_not_fatal(client, pool):
    for query in ("page=-3", "page=abc", "centre=99999", "centre=abc", "category=nope",
                  "sort=drop%20table", "language=%00", "kind=" + "x" * 500, "q=" + "%" * 70,
                  "page=100000"):
        response = client.get(f"/pool/?{query}")
        assert response.status_code == 200, query


def test_pages(client, world, pool, monkeypatch):
    monkeypatch.setattr(views, "POOL_PER_PAGE", 4)
    first = client.get("/pool/?sort=experience")
    second = client.get("/pool/?sort=experience&page=2")
    assert len(names(first)) == 4 and len(names(second)) == 2
    assert set(names(first)).isdisjoint(names(second))
    assert "sort=experience" in first.get_data(as_text=True).split('class="pager"')[1]


def test_profile_page_shows_public_fields_and_figures(client, pool):
    page = client.get(f"/pool/{pool.veteran.id}?lang=en").get_data(as_text=True)

    for text in ("高成功", "Retired judge or prosecutor", "福州市中级人民法院（退休）",
                 "Neighbours", "Contract", "普通话、福州话", "30 years", "四级高级法官",
                 "审判工作三十年。", "95%", "(190 of 200)", "12 days", "4.6 / 5", "(40 ratings)",
                 "Taking new cases"):
        assert text in page, text
    newcomer = client.get(f"/pool/{pool.newcomer.id}?lang=en").get_data(as_text=True)
    figures = newcomer.split("Cases and satisfaction")[1].split("</section>")[0]
    assert figures.count("—") == 4
    assert "Fully booked" in client.get(f"/pool/{pool.busy.id}?lang=en").get_data(as_text=True)
    assert "On leave" in client.get(f"/pool/{pool.away.id}?lang=en").get_data(as_text=True)


def test_retired_and_unknown_mediators_have_no_public_page(client, pool):
    assert client.get(f"/pool/{pool.retired.id}").status_code == 404
    assert client.get("/pool/999999").status_code == 404


def test_no_private_field_appears_on_any_public_page(client, world, pool):
    centres = db.session.scalars(select(Centre.id)).all()
    urls = ["/pool/", "/pool/?lang=en", "/pool/?sort=settlement", "/pool/?sort=experience",
            "/pool/?available=y", "/pool/?q=高", f"/pool/?q={PRIVATE_PHONE}",
            f"/pool/?q={CONFLICT_NAME}", "/pool/?page=2"]
    urls += [f"/pool/?category={c}" for c in ("neighbour", "contract", "labour")]
    urls += [f"/pool/?kind={k}" for k in ("retired_judge", "lawyer", "village_elder")]
    urls += [f"/pool/?language={x}" for x in ("普通话", "福州话", "闽南话", "客家话")]
    urls += [f"/pool/?centre={c}" for c in centres]
    mediators = db.session.scalars(select(Mediator)).all()
    urls += [f"/pool/{m.id}" for m in mediators] + [f"/pool/{m.id}?lang=en" for m in mediators]
    private = [PRIVATE_PHONE, PRIVATE_ID, CONFLICT_NAME, CONFLICT_ID, "表兄", "13700000001",
               "13600000002", "林秀英"]

    for url in urls:
        response = client.get(url)
        body = response.get_data(as_text=True) + str(response.headers)
        assert response.status_code in (200, 404), url
        for secret in private:
            if secret in url:
                body = body.replace(secret, "")  # a searched word echoed in the search box
            assert secret not in body, (url, secret)
    assert names(client.get(f"/pool/?q={PRIVATE_PHONE}")) == []
    assert names(client.get(f"/pool/?q={CONFLICT_NAME}")) == []


def test_pool_pages_speak_chinese_by_default(client, pool):
    page = client.get("/pool/").get_data(as_text=True)
    assert "调解专家" in page and "退休法官" in page
    profile = client.get(f"/pool/{pool.veteran.id}").get_data(as_text=True)
    assert "调解成功率" in profile and "邻里" in profile
