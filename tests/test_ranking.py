"""Ranking the expert pool for a case: hard filters, the explained score, and crafted pools
whose right order is known."""
import pytest
from flask_babel import force_locale, gettext

from app.extensions import db
from cases.services import PartyData
from cases.validators import id_check_char
from conftest import person
from mediators.models import Mediator, MediatorConflict, MediatorSpecialty
from mediators.ranking import LABELS, WEIGHTS, eligible_ids, rank_mediators

ORG_CODE = "91350100M000100Y43"


@pytest.fixture
def pool(world):
    """add(name, centre=county, **fields) -> an active mediator; the world's two are retired."""
    world.mediator.status = world.other_mediator.status = "retired"
    db.session.commit()

    def add(name, centre=None, specialties=(), serves=(), **fields):
        fields = {"capacity": 10, "status": "active", **fields}
        mediator = Mediator(name=name, centre=centre or world.county, **fields)
        mediator.specialties = [MediatorSpecialty(category=c) for c in specialties]
        mediator.served_centres = list(serves)
        db.session.add(mediator)
        db.session.commit()
        return mediator

    return add


def ranked_ids(case, **kwargs):
    return [r.mediator_id for r in rank_mediators(case, **kwargs)]


def id_number(seed: int) -> str:
    first17 = f"35010219800101{seed:03d}"
    return first17 + id_check_char(first17)


def test_two_of_two_settled_ranks_below_190_of_200(pool, make_case):
    lucky = pool("甲", cases_handled=2, cases_settled=2)
    steady = pool("乙", cases_handled=200, cases_settled=190)
    case = make_case()
    top = rank_mediators(case)
    assert [r.mediator_id for r in top] == [steady.id, lucky.id]
    records = [next(p for p in r.parts if p.key == "track_record") for r in top]
    assert records[0].points > records[1].points
    assert records[0].params == {"settled": 190, "handled": 200, "rate": 94}
    assert records[1].params["rate"] == 83  # (2 + 8) / (2 + 10): smoothed towards the mean


def test_unrated_newcomer_does_not_beat_a_well_rated_veteran_on_one_perfect_rating(pool, make_case):
    one_five = pool("甲", rating_count=1, rating_sum=5)
    many_good = pool("乙", rating_count=60, rating_sum=282)  # 4.7 on average
    assert ranked_ids(make_case()) == [many_good.id, one_five.id]


def test_specialty_beats_no_specialty(pool, make_case):
    general = pool("甲", specialties=["labour"], cases_handled=50, cases_settled=45)
    specialist = pool("乙", specialties=["neighbour", "labour"])
    top = rank_mediators(make_case(category="neighbour"))
    assert [r.mediator_id for r in top] == [specialist.id, general.id]
    assert top[0].parts[0].key == "specialty" and top[0].parts[0].points == WEIGHTS["specialty"]
    assert top[1].parts[0].points == 0


def test_proximity_prefers_the_case_centre_then_serving_it_then_above_it(pool, world, make_case):
    serves_above = pool("甲", centre=world.other, serves=[world.township])
    above = pool("乙", centre=world.county)
    serves = pool("丙", centre=world.other, serves=[world.village])
    home = pool("丁", centre=world.village)
    top = rank_mediators(make_case(centre=world.village))
    assert [r.mediator_id for r in top] == [home.id, serves.id, above.id, serves_above.id]
    details = [r.parts[1] for r in top]
    assert [d.key for d in details] == ["proximity"] * 4
    assert details[0].params == {"centre": world.village.name}
    assert details[2].params == {"centre": world.county.name}


def test_hard_filters_drop_inactive_full_and_far_mediators(pool, world, make_case):
    ok = pool("可")
    on_leave = pool("休", status="on_leave")
    retired = pool("退", status="retired")
    full = pool("满", capacity=2, current_load=2)
    elsewhere = pool("远", centre=world.other)
    below = pool("下", centre=world.township)  # a township mediator does not serve its county
    city = pool("市", centre=world.city)
    serving = pool("援", centre=world.other, serves=[world.county])
    case = make_case()
    assert eligible_ids(case) == [ok.id, serving.id, city.id]  # in ranking order
    assert ranked_ids(case) == [ok.id, serving.id, city.id]
    dropped = {on_leave.id, retired.id, full.id, elsewhere.id, below.id}
    assert not set(eligible_ids(case)) & dropped


def test_declared_conflict_by_id_number_excludes(pool, make_case):
    conflicted, clear = pool("甲"), pool("乙")
    conflicted.conflicts.append(MediatorConflict(name="别名", id_number="11010519491231002X",
                                                 relation="亲属"))
    db.session.commit()
    assert eligible_ids(make_case()) == [clear.id]


def test_declared_conflict_by_name_excludes(pool, make_case):
    conflicted, clear = pool("甲"), pool("乙")
    conflicted.conflicts.append(MediatorConflict(name="李四", relation="同事"))
    db.session.commit()
    assert ranked_ids(make_case()) == [clear.id]


def test_a_conflict_with_someone_else_does_not_exclude(pool, make_case):
    mediator = pool("甲")
    mediator.conflicts.append(MediatorConflict(name="王五", id_number=id_number(7), relation="亲属"))
    db.session.commit()
    assert eligible_ids(make_case()) == [mediator.id]


def test_same_organisation_as_an_organisation_party_excludes(pool, make_case):
    pool("甲", organisation="福州市鼓楼物业服务有限公司")
    outsider = pool("乙", organisation="福州市律师协会")
    company = PartyData(role="respondent", kind="organisation", name="福州市鼓楼物业服务有限公司",
                        credit_code=ORG_CODE, legal_representative="王五")
    case = make_case(parties=[person(), company], category="property_mgmt")
    assert eligible_ids(case) == [outsider.id]


def test_earlier_agent_of_a_party_excludes(pool, make_case):
    former_agent = pool("甲", id_number=id_number(11))
    other = pool("乙", id_number=id_number(12))
    make_case(parties=[person(agent_name="甲", agent_id_number=id_number(11),
                              agent_relation="lawyer"),
                       person("respondent", "李四", "110105198001010032")])
    later = make_case()  # the same applicant (张三) again, this time without an agent
    assert eligible_ids(later) == [other.id]
    assert former_agent.id not in ranked_ids(later)


def test_load_spreads_work(pool, make_case):
    busy = pool("甲", capacity=10, current_load=6)
    idle = pool("乙", capacity=10, current_load=1)
    top = rank_mediators(make_case())
    assert [r.mediator_id for r in top] == [idle.id, busy.id]
    load = next(p for p in top[0].parts if p.key == "load")
    assert load.points == pytest.approx(WEIGHTS["load"] * 0.9)
    assert load.params == {"load": 1, "capacity": 10}


def test_language_needs_count(pool, make_case):
    mandarin = pool("甲", languages="普通话")
    minnan = pool("乙", languages="普通话, 闽南话")
    case = make_case()
    assert ranked_ids(case) == [mandarin.id, minnan.id]  # equal: by id
    top = rank_mediators(case, languages=["闽南话"])
    assert [r.mediator_id for r in top] == [minnan.id, mandarin.id]
    parts = {r.mediator_id: next(p for p in r.parts if p.key == "languages") for r in top}
    assert parts[minnan.id].params == {"languages": "闽南话"}
    assert parts[mandarin.id].points == 0
    both = rank_mediators(case, languages=["闽南话", "客家话"])
    assert next(p for p in both[0].parts if p.key == "languages").params == {
        "matched": "闽南话", "missing": "客家话"}


def test_language_match_is_whole_names_only(pool, make_case):
    pool("甲", languages="闽南话方言")
    top = rank_mediators(make_case(), languages=["闽南话"])
    assert next(p for p in top[0].parts if p.key == "languages").points == 0


def test_party_preferences_count(pool, make_case):
    man = pool("甲", gender="male", kind="people_mediator")
    lawyer = pool("乙", gender="female", kind="lawyer")
    named = pool("丙", gender="male", kind="people_mediator")
    case = make_case()
    assert ranked_ids(case) == [man.id, lawyer.id, named.id]
    assert ranked_ids(case, preferences={"gender": "female"})[0] == lawyer.id
    assert ranked_ids(case, preferences={"kinds": ["lawyer"]})[0] == lawyer.id
    assert ranked_ids(case, preferences={"mediator_ids": [named.id]})[0] == named.id
    top = rank_mediators(case, preferences={"gender": "female",
                                            "kinds": ["lawyer", "psychologist"]})
    assert top[0].mediator_id == lawyer.id
    assert next(p for p in top[0].parts if p.key == "preferences").params == {
        "matched": 2, "requested": 2}
    with pytest.raises(ValueError):
        rank_mediators(case, preferences={"age": 50})


def test_ranking_is_deterministic_and_ties_go_by_id(pool, make_case):
    twins = [pool(f"同{i}", cases_handled=10, cases_settled=9) for i in range(5)]
    case = make_case()
    first = rank_mediators(case)
    assert [r.mediator_id for r in first] == [m.id for m in twins]
    assert len({r.score for r in first}) == 1
    assert rank_mediators(case) == first
    assert ranked_ids(case, limit=2) == [twins[0].id, twins[1].id]
    strong = pool("强", cases_handled=100, cases_settled=99)
    expected = [strong.id] + [m.id for m in twins]
    assert eligible_ids(case) == ranked_ids(case, limit=100) == expected


def test_explanations_add_up_and_translate(pool, world, make_case):
    pool("甲", specialties=["neighbour"], cases_handled=30, cases_settled=27, rating_count=4,
         rating_sum=18, current_load=2, languages="普通话,闽南话", gender="female")
    pool("乙", centre=world.city)
    top = rank_mediators(make_case(), languages=["闽南话"], preferences={"gender": "female"})
    assert len(top) == 2
    for recommendation in top:
        keys = [p.key for p in recommendation.parts]
        assert keys == ["specialty", "proximity", "track_record", "satisfaction", "languages",
                        "load", "preferences"]
        assert recommendation.score == pytest.approx(sum(p.points for p in recommendation.parts))
        for part in recommendation.parts:
            assert part.label == LABELS[part.key]
            assert 0 <= part.points <= WEIGHTS[part.key]
            with force_locale("en"):
                text = gettext(part.detail, **part.params)
            assert text and "%(" not in text
    first = {p.key: p for p in top[0].parts}
    with force_locale("en"):
        assert gettext(first["track_record"].detail, **first["track_record"].params).startswith(
            "27 of 30 cases settled")
        assert gettext(first["satisfaction"].detail, **first["satisfaction"].params) == (
            "Rated 4.5 out of 5 by 4 parties")
    second = {p.key: p for p in top[1].parts}
    assert second["track_record"].params == {"rate": 80}
    assert second["satisfaction"].params == {"mean": "4.0"}


def test_no_eligible_mediator_gives_an_empty_list(pool, world, make_case):
    pool("远", centre=world.other)
    case = make_case()
    assert rank_mediators(case) == [] and eligible_ids(case) == []
