"""Writes mediators and users, then replays every planned step through the real services."""
from __future__ import annotations

import random
from collections import Counter

from app.demo.people import Identities
from app.demo.places import Place
from app.demo.planner import CasePlan, Step
from app.extensions import db
from app.models import Centre, User
from cases.services import ACTIVE_MEDIATION_STATES, fire_transition, record_session, register_case
from mediators.models import Mediator, MediatorSpecialty

DEMO_PASSWORD = "concord-demo"
MEDIATOR_COUNT = 60


def _mediator_homes(places: list[Place]) -> list[Place]:
    """Where the 60 mediators sit: 6 at the city, 8 per county, 2 per township, 1-2 per village."""
    homes: list[Place] = []
    villages = [p for p in places if p.level == "village"]
    for place in places:
        count = {"city": 6, "county": 8, "township": 2, "village": 1}[place.level]
        if place.level == "village" and villages.index(place) % 2 == 0:
            count = 2
        homes += [place] * count
    assert len(homes) == MEDIATOR_COUNT
    return homes


# Profiles draw from a generator of their own, so that the cases replay exactly as before.
PROFILE_SEED = 350100
KINDS_BY_LEVEL = {
    "city": ("lawyer", "retired_judge", "psychologist", "industry_expert"),
    "county": ("people_mediator", "lawyer", "retired_judge", "industry_expert", "psychologist"),
    "township": ("people_mediator", "grid_worker"),
    "village": ("village_elder", "people_mediator", "grid_worker"),
}
KIND_PROFILES = {  # kind -> (Chinese title, specialties to draw from, years, credentials)
    "people_mediator": ("专职人民调解员", ("neighbour", "marriage_family", "housing_land", "damages",
                                    "property_mgmt", "consumer"), (3, 25),
                        ("人民调解员等级证书（二级）", "人民调解员等级证书（三级）；福州市优秀人民调解员")),
    "lawyer": ("执业律师", ("contract", "labour", "damages", "business", "consumer", "traffic"),
               (5, 25), ("律师执业证；国家统一法律职业资格证书（A证）", "律师执业证；劳动争议仲裁员资格")),
    "retired_judge": ("退休法官、检察官", ("contract", "marriage_family", "damages", "traffic",
                                     "housing_land", "business"), (25, 38),
                      ("原任民事审判庭审判员，四级高级法官", "原任检察员，三级高级检察官")),
    "psychologist": ("心理咨询师", ("marriage_family", "neighbour", "medical", "labour"), (4, 18),
                     ("国家二级心理咨询师；婚姻家庭咨询师", "国家三级心理咨询师；危机干预培训合格")),
    "industry_expert": ("行业专家", ("medical", "traffic", "property_mgmt", "environment",
                                 "consumer", "business"), (8, 30),
                        ("主任医师；医疗损害鉴定专家库成员", "高级工程师；注册物业管理师")),
    "village_elder": ("乡贤", ("neighbour", "marriage_family", "housing_land", "forest_land",
                             "village_affairs", "land_acquisition"), (10, 35),
                      ("村老年人协会会长；县级优秀人民调解员", "村民理事会理事；人民调解员等级证书（四级）")),
    "grid_worker": ("专职网格员", ("neighbour", "property_mgmt", "village_affairs", "environment",
                               "labour"), (1, 8),
                    ("网格员上岗证书；人民调解员等级证书（四级）", "网格员上岗证书")),
}
CATEGORY_NAMES = {"marriage_family": "婚姻家庭", "neighbour": "邻里", "housing_land": "房屋宅基地",
                  "contract": "合同", "damages": "损害赔偿", "business": "生产经营",
                  "labour": "劳动争议", "medical": "医疗", "property_mgmt": "物业",
                  "traffic": "道路交通事故", "land_acquisition": "征地拆迁",
                  "environment": "环境污染", "forest_land": "山林土地", "consumer": "消费",
                  "village_affairs": "村务管理"}
LAW_FIRMS = ("福建三山律师事务所", "福建榕江律师事务所", "福建闽都正和律师事务所", "福建鼓台律师事务所")
EXPERT_BODIES = {"medical": "福州市医学会", "traffic": "福州市道路交通安全协会",
                 "property_mgmt": "福州市物业管理协会", "environment": "福州市环境科学学会",
                 "consumer": "福州市消费者权益保护委员会", "business": "福州市工商业联合会"}
STYLES = ("讲法说理、耐心细致", "熟悉本地风俗人情，善于做群众工作", "注重情理法相结合，调解方案务实",
          "善于倾听，帮助当事人理清诉求、化解情绪")


def _organisation(rng: random.Random, kind: str, place: Place, specialties: list[str]) -> str:
    if kind == "lawyer":
        return rng.choice(LAW_FIRMS)
    if kind == "retired_judge":
        return rng.choice(("福州市中级人民法院（退休）", f"{place.county['court']}（退休）",
                           "福州市人民检察院（退休）"))
    if kind == "psychologist":
        return rng.choice(("福州市心理咨询师协会", "福建省心理卫生协会"))
    if kind == "industry_expert":
        return next((EXPERT_BODIES[c] for c in specialties if c in EXPERT_BODIES), "福州市工商业联合会")
    if kind == "village_elder":
        return f"{place.village or place.township or place.county['name']}老年人协会"
    if kind == "grid_worker":
        return f"{place.township or place.county['name']}网格化服务管理中心"
    if place.village:  # a people's mediator: employed by the committee, the office or the bureau
        return f"{place.village}{'居' if place.streets else '村'}民委员会"
    if place.township:
        return f"{place.township}司法所"
    return f"福州市{place.county['name']}司法局" if place.level == "county" else "福州市司法局"


def _nearby(rng: random.Random, place: Place, places: list[Place]) -> list[int]:
    """0-3 centres next to the home centre: its parent, its children or its siblings."""
    candidates = [p.id for p in places if p.id != place.id and (
        p.id == place.parent_id or p.parent_id == place.id
        or (p.parent_id == place.parent_id and p.parent_id is not None))]
    return sorted(rng.sample(candidates, min(len(candidates), rng.choice((0, 0, 1, 1, 2, 3)))))


def _languages(rng: random.Random, place: Place) -> str:
    languages = ["普通话"]
    if rng.random() < (0.85 if place.rural else 0.55):
        languages.append("福州话")
    if rng.random() < 0.15:
        languages.append("闽南话")
    if rng.random() < 0.06:
        languages.append("客家话")
    return ",".join(languages)


def _add_profile(rng: random.Random, ids: Identities, mediator: Mediator, number: int,
                 kind: str, gender: str, place: Place, places: list[Place]) -> None:
    title, pool, years_range, credentials = KIND_PROFILES[kind]
    specialties = rng.sample(pool, rng.randint(2, 4))
    years = rng.randint(*years_range)
    mediator.external_id = f"FZ-M-{number:04d}"
    mediator.gender, mediator.kind, mediator.years_experience = gender, kind, years
    mediator.organisation = _organisation(rng, kind, place, specialties)
    mediator.specialties = [MediatorSpecialty(category=c) for c in sorted(specialties)]
    mediator.served_centres = [db.session.get(Centre, i) for i in _nearby(rng, place, places)]
    mediator.languages = _languages(rng, place)
    mediator.credentials = rng.choice(credentials)
    if kind == "retired_judge":  # a retired prosecutor has a prosecutor's record
        prosecutor = "检察院" in mediator.organisation
        title = "退休检察官" if prosecutor else "退休法官"
        mediator.credentials = credentials[1 if prosecutor else 0]
    fields = "、".join(CATEGORY_NAMES[c] for c in specialties)
    dialect = "能用福州话与当事人沟通。" if "福州话" in mediator.languages else ""
    mediator.biography = (f"{mediator.name}，{title}，从事调解工作{years}年，现在{place.name}坐班。"
                          f"擅长{fields}等纠纷的调解，{rng.choice(STYLES)}。{dialect}")
    born_until = 2026 - years - 22
    mediator.id_number = ids.id_number(rng.choice(("350124", "350125", "350128")),
                                       ids.birth_date((born_until - 15, born_until)), gender)


def _create_mediators(rng: random.Random, places: list[Place], people: Identities) -> list[Mediator]:
    mediators, genders = [], []
    for place in _mediator_homes(places):
        gender = rng.choice(("male", "female"))
        genders.append(gender)
        mediators.append(Mediator(name=people.name(gender),
                                  centre_id=place.id, capacity=rng.randint(5, 12),
                                  status="active", phone=people.mobile()))
    county = next(p for p in places if p.level == "county")
    for index in rng.sample(range(MEDIATOR_COUNT), 6):
        if mediators[index].centre_id != county.id:
            mediators[index].status = "on_leave" if index % 3 else "retired"
    profile_rng = random.Random(PROFILE_SEED)
    ids = Identities(profile_rng)  # region codes no party uses: no false conflicts
    at_level: Counter = Counter()
    for number, (mediator, place, gender) in enumerate(
            zip(mediators, _mediator_homes(places), genders), start=1):
        kinds = KINDS_BY_LEVEL[place.level]
        kind = kinds[at_level[place.level] % len(kinds)]
        at_level[place.level] += 1
        _add_profile(profile_rng, ids, mediator, number, kind, gender, place, places)
    db.session.add_all(mediators)
    db.session.flush()
    return mediators


DEMO_USERS = (  # role, username, display name, centre ("city", "county", "township")
    ("admin", "admin", "陈晓东", "city"),
    ("director", "director", "郑建华", "city"),
    ("supervisor", "supervisor", "黄丽萍", "city"),
    ("clerk", "clerk", "林雅婷", "county"),
    ("mediator", "mediator", None, "county"),
    ("clerk", "clerk2", "吴佳慧", "township"),
)


def _create_users(places: list[Place], mediators: list[Mediator]) -> dict[str, User]:
    """One user per role at the city or the first county, plus a township clerk."""
    at = {"city": places[0], "county": places[1], "township": places[2]}
    linked = next(m for m in mediators if m.centre_id == at["county"].id and m.is_active)
    users, password_hash = {}, None
    for role, username, display_name, level in DEMO_USERS:
        user = User(username=username, display_name=display_name or linked.name, role=role,
                    centre_id=at[level].id,
                    mediator_id=linked.id if role == "mediator" else None)
        if password_hash is None:
            user.set_password(DEMO_PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash  # one shared demo password: hash it once
        db.session.add(user)
        users[username] = user
    db.session.flush()
    return users


class MediatorPool:
    """Active mediators and their current load, kept in step with the replayed transitions."""

    def __init__(self, mediators: list[Mediator], places: list[Place]):
        self.mediators = [(m.id, m.centre_id, m.capacity, m.name) for m in mediators if m.is_active]
        self.names = {m.id: m.name for m in mediators}
        self.chains = {p.id: [int(i) for i in reversed(p.path.strip("/").split("/"))]
                       for p in places}
        self.load: Counter = Counter()

    def pick(self, centre_id: int, exclude: list[int]) -> int:
        """The least-loaded mediator with room, at the case's centre or nearest above it."""
        chain = self.chains[centre_id]
        eligible = [(self.load[mid], chain.index(cid), mid)
                    for mid, cid, capacity, _ in self.mediators
                    if cid in chain and self.load[mid] < capacity and mid not in exclude]
        if not eligible:
            raise RuntimeError(f"no mediator with capacity serves centre {centre_id}")
        return min(eligible)[2]

    def moved(self, before: tuple[str, int | None], after: tuple[str, int | None]) -> None:
        if before[0] in ACTIVE_MEDIATION_STATES and before[1]:
            self.load[before[1]] -= 1
        if after[0] in ACTIVE_MEDIATION_STATES and after[1]:
            self.load[after[1]] += 1


class Replay:
    """Replays every planned step of every case in time order through the real services."""

    def __init__(self, plans: list[CasePlan], users: dict[str, User], pool: MediatorPool,
                 places: list[Place]):
        self.plans, self.users, self.pool = plans, users, pool
        self.paths = {p.id: p.path for p in places}
        self.clerk_paths = [(users[name], users[name].centre.path) for name in ("clerk2", "clerk")]
        self.mediator_user = users["mediator"]

    def run(self) -> None:
        order = sorted((step.at, plan.index, i) for plan in self.plans
                       for i, step in enumerate(plan.steps))
        for _, index, i in order:
            plan = self.plans[index]
            self.do(plan, plan.steps[i])

    def actor(self, centre_id: int, mediator_id: int | None, trigger: str) -> User:
        if mediator_id == self.mediator_user.mediator_id and trigger in (
                "session", "suspend", "resume", "extend", "reach_agreement"):
            return self.mediator_user
        path = self.paths[centre_id]
        for user, clerk_path in self.clerk_paths:
            if path.startswith(clerk_path):
                return user
        return self.users["director"]

    def do(self, plan: CasePlan, step: Step) -> None:
        if step.trigger == "register":
            actor = self.actor(plan.place.id, None, "register")
            plan.case = register_case(plan.intake, actor, today=step.day, at=step.at)
            return
        case = plan.case
        before = (case.status, case.mediator_id)
        actor = self.actor(case.centre_id, case.mediator_id, step.trigger)
        if step.trigger == "session":
            self.session(plan, step, actor)
            return
        data = dict(step.data)
        if step.trigger == "assign":
            data["mediator_id"] = self.pool.pick(case.centre_id, plan.mediators)
            plan.mediators.append(data["mediator_id"])
        fire_transition(case, step.trigger, actor, reason=step.reason, data=data,
                        today=step.day, at=step.at)
        self.pool.moved(before, (case.status, case.mediator_id))

    def session(self, plan: CasePlan, step: Step, actor: User) -> None:
        t = plan.texts
        attendees = (f"调解员：{self.pool.names[plan.case.mediator_id]}；"
                     f"申请人：{t['A']}；被申请人：{t['B']}")
        record_session(plan.case, actor, held_at=step.at, mode=step.data["mode"],
                       place=step.data["place"], attendees=attendees,
                       minutes=step.data["minutes"], at=step.at)
