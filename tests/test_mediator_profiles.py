"""Mediator profiles managed by admins and directors: the form with every field, its checks,
centre scoping, status changes, and the demonstration mediators' profiles."""
import random
import re

from sqlalchemy import func, select

from app.extensions import db
from cases.validators import id_number_problem, phone_problem
from cases.vocabulary import CATEGORIES
from mediators.models import MEDIATOR_KINDS, Mediator, MediatorSpecialty

GOOD_ID = "11010519491231002X"


def form_data(world, **overrides):
    data = {
        "name": "黄志明", "external_id": "", "gender": "male", "kind": "lawyer",
        "organisation": "福建闽都律师事务所", "centre_id": str(world.county.id),
        "served_centre_ids": [str(world.township.id), str(world.county.id)],
        "specialties": ["labour", "contract"], "languages": "普通话, 闽南话、客家话,普通话",
        "years_experience": "12", "capacity": "8", "status": "active",
        "credentials": "律师执业证", "biography": "  执业十二年，擅长劳动争议。\r\n曾任工会法律顾问。 ",
        "phone": "139 1234 5678", "id_number": GOOD_ID.lower(),
    }
    data.update(overrides)
    return data


def mediator_named(name):
    return db.session.scalar(select(Mediator).where(Mediator.name == name))


def count_mediators():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Mediator.id)))


def test_admin_adds_a_profile_with_every_field_normalised(world, login):
    client = login(world.users["admin"])

    response = client.post("/admin/mediators/new", data=form_data(world))

    assert response.status_code == 302
    mediator = mediator_named("黄志明")
    assert response.headers["Location"].endswith(f"/admin/mediators/{mediator.id}/edit")
    assert (mediator.kind, mediator.gender, mediator.organisation) == (
        "lawyer", "male", "福建闽都律师事务所")
    assert mediator.centre_id == world.county.id
    assert [c.id for c in mediator.served_centres] == [world.township.id]  # home is implicit
    assert mediator.categories == ["contract", "labour"]
    assert mediator.languages == "普通话,闽南话,客家话"
    assert (mediator.years_experience, mediator.capacity, mediator.status) == (12, 8, "active")
    assert mediator.biography == "执业十二年，擅长劳动争议。\n曾任工会法律顾问。"
    assert (mediator.phone, mediator.id_number) == ("13912345678", GOOD_ID)
    assert mediator.external_id == f"M{mediator.id:06d}"  # assigned, so exports re-import


def test_form_names_each_wrong_field_and_saves_nothing(world, login_en):
    client = login_en(world.users["director"])
    before = count_mediators()

    response = client.post("/admin/mediators/new", data=form_data(
        world, name="", id_number="110105194912310021", phone="12345",
        capacity="0", years_experience="71"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count_mediators() == before
    assert "Enter the mediator&#39;s name." in page
    for field, message in (
            ("id_number", "The check digit of this ID number is wrong"),
            ("phone", "Enter an 11-digit mobile number"),
            ("capacity", "Enter a whole number from 1 to 50."),
            ("years_experience", "Enter a whole number from 0 to 70.")):
        assert message in page, field
    response = client.post("/admin/mediators/new", data=form_data(
        world, capacity="51", years_experience="-1", name="王五"))
    page = response.get_data(as_text=True)
    assert "Enter a whole number from 1 to 50." in page
    assert "Enter a whole number from 0 to 70." in page and count_mediators() == before


def test_centres_and_external_ids_are_checked(world, login_en):
    client = login_en(world.users["admin"])
    world.mediator.external_id = "FZ-M-0001"
    db.session.commit()
    before = count_mediators()

    taken = client.post("/admin/mediators/new", data=form_data(world, external_id="FZ-M-0001"))
    outside_home = client.post("/admin/mediators/new",
                               data=form_data(world, centre_id=str(world.other.id)))
    outside_served = client.post("/admin/mediators/new", data=form_data(
        world, served_centre_ids=[str(world.other.id)]))

    assert "Another mediator already has this external ID." in taken.get_data(as_text=True)
    assert outside_home.status_code == outside_served.status_code == 200
    assert count_mediators() == before


def test_managers_see_and_edit_only_their_subtree(world, login, client):
    assert client.get("/admin/mediators/").status_code == 302  # sign in first
    for role in ("clerk", "mediator", "supervisor"):
        client.post("/logout")
        login(world.users[role])
        assert client.get("/admin/mediators/").status_code == 403, role
    client.post("/logout")
    login(world.users["director"])

    listing = client.get("/admin/mediators/").get_data(as_text=True)

    assert "林秀英" in listing and "陈建国" not in listing
    assert client.get(f"/admin/mediators/{world.other_mediator.id}/edit").status_code == 404
    assert client.post(f"/admin/mediators/{world.other_mediator.id}/status",
                       data={"status": "retired"}).status_code == 404
    assert client.get(f"/admin/mediators/{world.mediator.id}/edit").status_code == 200
    found = client.get("/admin/mediators/?q=秀英").get_data(as_text=True)
    assert "林秀英" in found
    assert "林秀英" not in client.get("/admin/mediators/?status=retired").get_data(as_text=True)


def test_editing_keeps_centres_served_outside_the_users_view(world, login):
    world.mediator.served_centres = [world.other, world.village]
    world.mediator.specialties = [MediatorSpecialty(category="neighbour")]
    db.session.commit()
    client = login(world.users["admin"])
    page = client.get(f"/admin/mediators/{world.mediator.id}/edit").get_data(as_text=True)
    assert "林秀英" in page and world.other.name in page  # named as kept, not selectable

    response = client.post(f"/admin/mediators/{world.mediator.id}/edit", data=form_data(
        world, name="林秀英", served_centre_ids=[str(world.township.id)],
        specialties=["neighbour", "marriage_family"], capacity="4"))

    assert response.status_code == 302
    db.session.expire_all()
    mediator = db.session.get(Mediator, world.mediator.id)
    assert {c.id for c in mediator.served_centres} == {world.other.id, world.township.id}
    assert mediator.categories == ["marriage_family", "neighbour"] and mediator.capacity == 4


def test_status_changes(world, login_en):
    client = login_en(world.users["admin"])
    url = f"/admin/mediators/{world.mediator.id}/status"

    for status in ("on_leave", "retired", "active"):
        response = client.post(url, data={"status": status}, follow_redirects=True)
        db.session.expire_all()
        assert db.session.get(Mediator, world.mediator.id).status == status
        assert "is now marked" in response.get_data(as_text=True)
    client.post(url, data={"status": "fired"})
    db.session.expire_all()
    assert db.session.get(Mediator, world.mediator.id).status == "active"


def test_profile_pages_render_in_chinese(world, login):
    client = login(world.users["admin"])
    page = client.get("/admin/mediators/new").get_data(as_text=True)
    assert "专长" in page and "身份证号码" in page and world.other.name not in page
    assert "调解员" in client.get("/admin/mediators/").get_data(as_text=True)


def test_demo_mediators_have_realistic_deterministic_profiles(ctx):
    from app.demo.people import Identities
    from app.demo.places import _create_centres
    from app.demo.replay import _create_mediators

    def load():
        rng = random.Random(7)
        places = _create_centres(rng)
        return _create_mediators(rng, places, Identities(rng))

    mediators = load()
    profiles = [(m.external_id, m.name, m.kind, m.organisation, tuple(m.categories),
                 tuple(c.short_code for c in m.served_centres), m.languages, m.years_experience,
                 m.credentials, m.biography, m.id_number) for m in mediators]
    assert [m.external_id for m in mediators] == [f"FZ-M-{i:04d}" for i in range(1, 61)]
    assert {m.kind for m in mediators} == set(MEDIATOR_KINDS)
    for m in mediators:
        assert 2 <= len(m.categories) <= 4 and set(m.categories) <= set(CATEGORIES)
        assert m.centre_id not in {c.id for c in m.served_centres}
        assert len(m.served_centres) <= 3
        assert m.language_list[0] == "普通话" and len(set(m.language_list)) == len(m.language_list)
        assert m.organisation and m.credentials and re.search(r"[\u4e00-\u9fff]", m.biography)
        assert 1 <= m.years_experience <= 40 and m.name in m.biography
        assert id_number_problem(m.id_number) is None and phone_problem(m.phone) is None
    assert any("闽南话" in m.languages for m in mediators)
    assert any("福州话" in m.languages for m in mediators)
    assert any(m.served_centres for m in mediators) and any(not m.served_centres for m in mediators)
    from conftest import empty_database
    empty_database()
    again = load()
    assert [(m.external_id, m.name, m.kind, m.organisation, tuple(m.categories),
             tuple(c.short_code for c in m.served_centres), m.languages, m.years_experience,
             m.credentials, m.biography, m.id_number) for m in again] == profiles
