"""Demonstration data (`flask demo load`): a city of mediation centres with users, mediators
and 300 cases driven through the real services, the same on every load for the same day.

Every case is planned first (parties, texts, the dated steps of its history, chosen so that
some clocks are overdue or due soon on `today`), then all steps of all cases are replayed in
time order through register_case / fire_transition / record_session, so numbers, clocks,
agreements and audit chains are genuine and mediators' loads are counted as they were.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, Centre, User
from app.workdays import clock_settings, working_calendar
from cases.models import Case
from cases.services import (ACTIVE_MEDIATION_STATES, IntakeData, PartyData, fire_transition,
                            record_session, register_case)
from cases.validators import credit_check_char, id_check_char
from mediators.models import Mediator
from workflows.clocks import due_status

SEED = 20261116
DEMO_PASSWORD = "concord-demo"
CASE_COUNT = 300
MEDIATOR_COUNT = 60

# ---------------------------------------------------------------------------------------------
# Places: one city, three counties, two townships each, two villages or communities each.

CITY = {"name": "福州市矛盾纠纷调解中心", "code": "榕", "address": "福州市鼓楼区五四路158号",
        "phone": "0591-87110000"}
COUNTIES = [
    {"name": "鼓楼区", "code": "榕鼓", "region": "350102", "court": "福州市鼓楼区人民法院",
     "court_code": "闽0102", "address": "福州市鼓楼区湖东路136号", "phone": "0591-87530110",
     "roads": ["五四路与东街口交叉路口", "杨桥中路", "湖东路", "白马北路"],
     "townships": [
         ("东街街道", "榕鼓东", [("光禄社区", "榕鼓东光", ["光禄坊", "南后街"]),
                              ("文儒社区", "榕鼓东文", ["文儒坊", "杨桥东路"])]),
         ("温泉街道", "榕鼓温", [("温泉社区", "榕鼓温泉", ["温泉支路", "温泉公园路"]),
                              ("汤边社区", "榕鼓温汤", ["汤边路", "五四北路"])]),
     ]},
    {"name": "台江区", "code": "榕台", "region": "350103", "court": "福州市台江区人民法院",
     "court_code": "闽0103", "address": "福州市台江区五一中路88号", "phone": "0591-83270110",
     "roads": ["八一七中路", "江滨西大道", "工业路与国货路交叉路口", "五一中路"],
     "townships": [
         ("瀛洲街道", "榕台瀛", [("瀛洲社区", "榕台瀛洲", ["瀛洲路", "六一中路"]),
                              ("紫阳社区", "榕台瀛紫", ["紫阳路", "福光南路"])]),
         ("后洲街道", "榕台后", [("双杭社区", "榕台后双", ["上杭路", "下杭路"]),
                              ("三通社区", "榕台后三", ["三通路", "延平路"])]),
     ]},
    {"name": "闽侯县", "code": "榕闽", "region": "350121", "court": "闽侯县人民法院",
     "court_code": "闽0121", "address": "福州市闽侯县甘蔗街道昙石山中大道1号",
     "phone": "0591-22980110", "roads": ["316国道上街段", "乌龙江大道", "高新大道", "南屿大道"],
     "townships": [
         ("上街镇", "榕闽上", [("侯官村", "榕闽上侯", []), ("厚美村", "榕闽上厚", [])]),
         ("南屿镇", "榕闽南", [("旗山村", "榕闽南旗", []), ("五都村", "榕闽南五", [])]),
     ]},
]
RURAL_CATEGORIES = {"forest_land", "village_affairs", "land_acquisition", "housing_land"}


@dataclass
class Place:
    """A centre as the planner sees it: plain values, no ORM object."""

    id: int
    name: str
    level: str
    path: str
    parent_id: int | None
    county: dict
    township: str | None = None
    village: str | None = None
    streets: list[str] = field(default_factory=list)

    @property
    def rural(self) -> bool:
        return self.county["name"] == "闽侯县"


# ---------------------------------------------------------------------------------------------
# People and organisations.

SURNAMES = ("陈林黄张吴王郑李刘杨许蔡何郭罗周游高江魏谢翁卓庄余叶朱邱潘肖"
            "陈林黄陈林黄张吴郑王")
MALE_CHARS = "建国明华伟强军勇杰涛斌辉鑫志文海平东宇峰俊龙春德福荣祥贵兴坤鹏彬洪"
FEMALE_CHARS = "秀英芳丽娟敏静燕玲婷霞红梅兰琴雪萍颖慧佳丹莉凤珍娇妹琳欣怡婉"
OTHER_REGIONS = ("350104", "350105", "350111", "350181", "350182", "350122")
MIGRANT_REGIONS = ("360102", "430102", "511602", "522101", "362201", "350583")
MOBILE_PREFIXES = ("138", "139", "135", "150", "158", "159", "137", "186", "188", "189",
                   "177", "199", "136", "152")
OCCUPATIONS = ("个体经营", "退休", "务工", "教师", "公司职员", "农民", "自由职业", "司机",
               "无业", "护士", "会计")
JOBS = ("仓管员", "厨师", "保安", "装卸工", "销售员", "电工", "服务员", "驾驶员")

ORGANISATIONS = {  # kind -> (name, credit-code prefix, region)
    "property": [("福州榕城物业管理有限公司", "91", "350102"),
                 ("福州万家和物业服务有限公司", "91", "350103"),
                 ("福建永安居物业管理有限公司", "91", "350121"),
                 ("福州融城物业服务有限公司", "91", "350102")],
    "employer": [("福州鑫源建材贸易有限公司", "91", "350102"),
                 ("福州闽江缘餐饮管理有限公司", "91", "350103"),
                 ("福建海峡丝路纺织有限公司", "91", "350121"),
                 ("福州恒达通物流有限公司", "91", "350121"),
                 ("福州新航电子科技有限公司", "91", "350103"),
                 ("台江区聚福楼酒家", "92", "350103")],
    "merchant": [("鼓楼区好邻居家电商行", "92", "350102"), ("台江区佳美家具店", "92", "350103"),
                 ("福州悦动健身服务有限公司", "91", "350102"),
                 ("闽侯县兴旺建材经营部", "92", "350121"),
                 ("福州优品数码科技有限公司", "91", "350103")],
    "clinic": [("福州康华口腔门诊部有限公司", "91", "350102"),
               ("福州仁和中医诊所有限公司", "91", "350103"),
               ("闽侯县上街镇卫生院", "12", "350121")],
    "polluter": [("台江区老街坊餐饮店", "92", "350103"), ("闽侯县宏达石材加工厂", "92", "350121"),
                 ("鼓楼区香满楼烧烤店", "92", "350102")],
    "government": [("闽侯县上街镇人民政府", "11", "350121"),
                   ("福州市台江区房屋征收工程处", "12", "350103"),
                   ("闽侯县南屿镇人民政府", "11", "350121")],
    "village_committee": [("闽侯县上街镇侯官村民委员会", "54", "350121"),
                          ("闽侯县上街镇厚美村民委员会", "54", "350121"),
                          ("闽侯县南屿镇旗山村民委员会", "54", "350121"),
                          ("闽侯县南屿镇五都村民委员会", "54", "350121")],
    "decorator": [("福州宏泰装饰工程有限公司", "91", "350102"),
                  ("福州居然美家装饰设计有限公司", "91", "350103")],
    "trader": [("福州鸿运商贸有限公司", "91", "350103"),
               ("福州闽鲜农产品配送有限公司", "91", "350121")],
    "insurer": [("福州安泰财产保险股份有限公司", "91", "350102")],
}
ORG_ADDRESSES = {"350102": "福州市鼓楼区", "350103": "福州市台江区", "350121": "福州市闽侯县"}


def gb11714_check(body: str) -> str:
    """The check character of an organisation code (GB 11714), the 9th character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


class Identities:
    """Invents people and organisations with valid, distinct identity numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.organisations: dict[str, list[dict]] = {}

    def name(self, gender: str) -> str:
        chars = MALE_CHARS if gender == "male" else FEMALE_CHARS
        given = "".join(self.rng.choice(chars) for _ in range(self.rng.choice((1, 2, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def landline(self) -> str:
        return f"0591-8{self.rng.randrange(10**7):07d}"

    def id_number(self, region: str, born: date, gender: str) -> str:
        """A GB 11643 ID number: region, birth date, sequence (odd for men), check character."""
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if gender == "male" else 0)
            first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number

    def birth_date(self, years: tuple[int, int]) -> date:
        start, end = date(years[0], 1, 1), date(years[1], 12, 31)
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def person(self, role: str, place: Place, *, years=(1955, 2002), region: str | None = None,
               gender: str | None = None, occupation: str | None = None) -> PartyData:
        gender = gender or self.rng.choice(("male", "female"))
        born = self.birth_date(years)
        region = region or self._home_region(place)
        return PartyData(
            role=role, kind="person", name=self.name(gender), gender=gender,
            ethnicity=self.rng.choices(("汉族", "畲族", "回族", "满族"), (94, 3, 2, 1))[0],
            birth_date=born, id_number=self.id_number(region, born, gender), phone=self.mobile(),
            address=self.address(place),
            occupation=occupation or self.rng.choice(OCCUPATIONS), **self._maybe_agent(0.2))

    def organisation(self, role: str, kind: str) -> PartyData:
        org = self.rng.choice(self._pool(kind))
        return PartyData(role=role, kind="organisation", name=org["name"],
                         credit_code=org["credit_code"], legal_representative=org["representative"],
                         phone=org["phone"], address=org["address"], **self._maybe_agent(0.7, True))

    def address(self, place: Place) -> str:
        county = place.county
        township, village, streets = place.township, place.village, place.streets
        if township is None:  # a city or county centre: somewhere in one of its townships
            if place.level == "city":
                county = self.rng.choice(COUNTIES)
            township, _, villages = self.rng.choice(county["townships"])
            village, _, streets = self.rng.choice(villages)
        elif village is None:
            village, _, streets = self.rng.choice(
                next(t for t in county["townships"] if t[0] == township)[2])
        prefix = f"福州市{county['name']}"
        if not streets:  # a village: 组 and house number
            return f"{prefix}{township}{village}{self.rng.randint(1, 12)}组{self.rng.randint(1, 90)}号"
        street = self.rng.choice(streets)
        if self.rng.random() < 0.5:
            return f"{prefix}{street}{self.rng.randint(1, 180)}号"
        return (f"{prefix}{street}{self.rng.randint(1, 120)}号{self.rng.randint(1, 12)}座"
                f"{self.rng.randint(2, 28)}{self.rng.randint(1, 4):02d}室")

    def _home_region(self, place: Place) -> str:
        roll = self.rng.random()
        if roll < 0.75:
            return place.county["region"]
        return self.rng.choice(OTHER_REGIONS if roll < 0.92 else MIGRANT_REGIONS)

    def _maybe_agent(self, chance: float, organisation: bool = False) -> dict:
        if self.rng.random() >= chance:
            return {}
        relation = (self.rng.choice(("colleague", "colleague", "lawyer")) if organisation
                    else self.rng.choice(("relative", "relative", "lawyer", "community")))
        gender = self.rng.choice(("male", "female"))
        born = self.birth_date((1965, 1995))
        return {"agent_name": self.name(gender), "agent_relation": relation,
                "agent_id_number": self.id_number(self.rng.choice(("350102", "350103", "350104")),
                                                  born, gender),
                "agent_phone": self.mobile()}

    def _pool(self, kind: str) -> list[dict]:
        if kind not in self.organisations:
            self.organisations[kind] = [self._organisation(*spec) for spec in ORGANISATIONS[kind]]
        return self.organisations[kind]

    def _organisation(self, name: str, prefix: str, region: str) -> dict:
        body = f"{self.rng.randrange(10**8):08d}"
        first17 = f"{prefix}{region}{body}{gb11714_check(body)}"
        return {"name": name, "credit_code": first17 + credit_check_char(first17),
                "representative": self.name(self.rng.choice(("male", "female"))),
                "phone": self.landline(),
                "address": f"{ORG_ADDRESSES[region]}{self.rng.choice(('工业路', '华林路', '上街大学城', '福湾路', '学府路'))}"
                           f"{self.rng.randint(1, 300)}号"}


# ---------------------------------------------------------------------------------------------
# What the disputes are about: per category, scenarios with the sides and Chinese texts.
# Placeholders: {A} {B} names, {addr}, {amount} claimed, {agreed}, {when}, {job}, {road}, {village}.


@dataclass(frozen=True)
class Scenario:
    """One kind of dispute within a category, with the texts of its file and its agreement."""

    applicant: str  # "person", "elder", "son", "worker" or an organisation kind
    respondent: str
    amount: tuple[int, int] | None
    facts: str
    claims: str
    matters: str
    duty: str
    terms: str
    method: str


S = Scenario
SCENARIOS: dict[str, list[Scenario]] = {
    "neighbour": [
        S("person", "person", (2000, 15000),
          "{B}居住于{A}楼上。自{when}起，{B}家卫生间防水层老化，多次渗漏，致{A}家（{addr}）天花板、墙面发霉脱落，双方多次协商未果。",
          "请求{B}修复卫生间防水层，并赔偿装修损失{amount}元。",
          "渗漏原因的认定及维修费用、装修损失的承担。",
          "{B}家防水层老化是渗漏的直接原因，{B}承担主要责任；{A}发现渗漏后未及时告知物业，承担次要责任。",
          "一、{B}于协议生效后十日内聘请专业人员修复卫生间防水层；二、{B}赔偿{A}装修损失{agreed}元。",
          "维修由{B}自行组织；赔偿款一次性银行转账支付。"),
        S("person", "person", None,
          "{B}在{A}家（{addr}）隔壁经营棋牌室，常营业至凌晨，噪音严重影响{A}一家休息。{A}自{when}起多次上门沟通未果，遂向社区反映。",
          "请求{B}每日22时后停止营业活动、采取隔音措施，并赔礼道歉。",
          "营业时间及隔音措施。",
          "{B}夜间经营产生噪音，影响相邻方正常生活，应承担相应责任。",
          "一、{B}每日22时至次日7时停止营业活动；二、{B}于协议生效后十五日内加装隔音门窗；三、{B}向{A}赔礼道歉，{A}表示谅解。",
          "{B}自行履行，社区网格员监督。"),
        S("person", "person", (1000, 8000),
          "{B}购买{A}楼上房屋后进行装修，{when}以来多次在午休及夜间施工，且拆改墙体导致{A}家（{addr}）墙面开裂。",
          "请求{B}遵守装修时间规定，并赔偿墙面修复费用{amount}元。",
          "装修施工时间及墙面修复费用。",
          "{B}装修施工未遵守小区装修管理规定，对{A}家墙面开裂负全部责任。",
          "一、{B}装修施工限于工作日8时至12时、14时至18时；二、{B}赔偿{A}墙面修复费用{agreed}元。",
          "赔偿款于协议签订当日微信转账支付。"),
    ],
    "marriage_family": [
        S("elder", "son", (500, 1500),
          "{A}年逾七旬，育有子女三人，{B}系其长子。{A}体弱多病、无固定收入，自{when}起{B}以家庭经济困难为由未再支付赡养费，{A}生活陷入困难。",
          "请求{B}每月支付赡养费{amount}元，并分担医疗费用。",
          "赡养费的数额及医疗费用的分担。",
          "赡养父母是子女的法定义务，{B}应依法履行赡养义务。",
          "一、{B}自下月起每月10日前支付{A}赡养费{agreed}元；二、{A}的医疗费用在医保报销后由子女三人平均分担。",
          "按月银行转账支付。"),
        S("person", "person", (50000, 600000),
          "{A}与{B}原系夫妻，于{when}协议离婚。离婚协议未对婚姻存续期间购买的车辆及共同存款作出处理，双方对分割比例发生争议。",
          "请求依法分割共同财产，由{B}向{A}支付折价款{amount}元。",
          "共同财产的范围及分割比例。",
          "双方对婚姻存续期间取得的财产享有同等权利。",
          "一、车辆归{B}所有；二、{B}向{A}支付财产折价款{agreed}元；三、双方就婚姻存续期间的财产再无其他争议。",
          "分两期银行转账支付，第一期于协议生效后十日内支付一半。"),
        S("person", "person", None,
          "{A}与{B}离婚后，婚生子随{B}生活。自{when}起，{B}多次拒绝{A}探望孩子，双方矛盾激化。",
          "请求明确{A}探望孩子的时间和方式。",
          "探望的时间、方式及接送安排。",
          "不直接抚养子女的一方有探望子女的权利，{B}有协助的义务。",
          "一、{A}每月可探望孩子两次，每次不超过八小时；二、寒暑假期间孩子可随{A}生活七日；三、{B}应予协助，不得阻挠。",
          "双方自行履行，社区妇联执委跟踪回访。"),
    ],
    "housing_land": [
        S("person", "person", None,
          "{A}与{B}系同村村民，宅基地相邻（{addr}）。{when}{B}翻建房屋时将围墙向{A}一侧移动约半米，{A}认为侵占其宅基地。",
          "请求{B}拆除越界部分围墙，恢复原状。",
          "宅基地界址。",
          "经村委会及自然资源所现场核对审批图纸，{B}新砌围墙越界约0.4米。",
          "一、{B}于协议生效后二十日内自行拆除越界部分围墙，按审批界址重新砌筑；二、拆除及砌筑费用由{B}承担。",
          "{B}自行履行，村委会监督。"),
        S("person", "person", (1500, 6000),
          "{A}于{when}租住{B}所有的位于{addr}的房屋，租期届满退租后，{B}以墙面污损、家电损坏为由拒绝退还押金{amount}元。",
          "请求{B}退还押金{amount}元。",
          "房屋损坏情况及押金扣除数额。",
          "{A}对部分家具损坏负有责任，{B}扣除全部押金依据不足。",
          "{B}扣除维修费用后退还{A}押金{agreed}元。",
          "一次性微信转账支付。"),
    ],
    "contract": [
        S("person", "person", (10000, 200000),
          "{B}因资金周转于{when}向{A}借款{amount}元并出具借条，约定一年内归还。到期后经{A}多次催讨，{B}以生意亏损为由拖延未还。",
          "请求{B}归还借款{amount}元，并按约定支付利息。",
          "还款期限及利息。",
          "{B}应按约归还借款。",
          "一、{B}分三期归还借款本金{agreed}元；二、{A}放弃利息主张。",
          "分期银行转账，每月月底前支付一期。"),
        S("person", "decorator", (5000, 40000),
          "{A}将位于{addr}的房屋装修工程发包给{B}。工程完工后，{A}以卫生间渗水、地砖空鼓等质量问题为由拒付尾款，双方自{when}起多次交涉未果。",
          "请求{B}返工维修质量问题，并减少工程款{amount}元。",
          "工程质量问题及尾款支付。",
          "{B}施工存在部分质量问题，应负责返修。",
          "一、{B}于十五日内对卫生间防水及空鼓地砖返工维修；二、维修验收合格后，{A}支付尾款，尾款减少{agreed}元。",
          "维修验收合格后三日内银行转账。"),
    ],
    "damages": [
        S("person", "person", (2000, 20000),
          "{when}，{B}饲养的犬只未拴绳，在小区（{addr}）内将{A}咬伤，{A}注射狂犬疫苗并缝合伤口，花费医疗费等。",
          "请求{B}赔偿医疗费、误工费、护理费等共计{amount}元。",
          "赔偿项目及数额。",
          "{B}饲养犬只未采取安全措施，应承担全部责任。",
          "{B}一次性赔偿{A}医疗费、误工费等各项损失共计{agreed}元。",
          "协议签订当日现金支付。"),
        S("person", "person", (3000, 15000),
          "{when}，{B}家阳台花盆坠落，砸坏{A}停放在楼下（{addr}）的小轿车前挡风玻璃及引擎盖。",
          "请求{B}赔偿车辆维修费{amount}元。",
          "车辆损失数额。",
          "{B}对阳台放置物疏于管理，应承担赔偿责任。",
          "{B}赔偿{A}车辆维修费{agreed}元。",
          "一次性银行转账支付。"),
    ],
    "business": [
        S("person", "trader", (20000, 150000),
          "{A}系个体经营户，长期向{B}供应蔬菜、冻品。截至{when}，{B}尚欠货款{amount}元未付，双方对账后{B}仍拖延支付。",
          "请求{B}支付货款{amount}元。",
          "欠款数额及支付期限。",
          "{B}应按对账结果支付货款。",
          "{B}分两期支付{A}货款{agreed}元。",
          "银行转账支付。"),
        S("person", "person", (30000, 200000),
          "{A}与{B}于{when}合伙经营一家餐饮店，后因经营理念不合散伙，双方对合伙期间的盈余及设备分配发生争议。",
          "请求{B}返还投资款{amount}元。",
          "合伙财产的清算及投资款的返还。",
          "双方应按出资比例分担合伙盈亏。",
          "一、店内设备归{B}所有；二、{B}返还{A}投资款{agreed}元。",
          "分三期银行转账支付。"),
    ],
    "labour": [
        S("worker", "employer", (8000, 60000),
          "{A}自{when}起在{B}从事{job}工作，未签订书面劳动合同。{B}以经营困难为由拖欠{A}工资共计{amount}元，经多次催讨未果。",
          "请求{B}支付拖欠的工资{amount}元。",
          "欠薪数额及支付期限。",
          "{B}应按时足额支付劳动报酬。",
          "一、{B}于协议生效后十日内支付{A}拖欠工资{agreed}元；二、双方解除劳动关系，{B}为{A}出具离职证明。",
          "一次性银行转账支付。"),
        S("worker", "employer", (20000, 120000),
          "{A}在{B}从事{job}工作期间，于{when}在工作中受伤，住院治疗二十余天。{B}未为{A}缴纳工伤保险，双方对赔偿数额协商不成。",
          "请求{B}支付医疗费、停工留薪期工资等共计{amount}元。",
          "工伤待遇的项目及数额。",
          "{B}未依法缴纳工伤保险，应承担工伤保险待遇。",
          "{B}一次性支付{A}医疗费、停工留薪期工资、一次性伤残补助等共计{agreed}元。",
          "协议生效后十五日内银行转账支付。"),
        S("worker", "employer", (15000, 60000),
          "{B}于{when}以业务调整为由单方解除与{A}的劳动合同，未支付经济补偿。{A}已在该单位从事{job}工作五年。",
          "请求{B}支付解除劳动合同经济补偿{amount}元。",
          "解除劳动合同的经济补偿。",
          "{B}单方解除劳动合同，应依法支付经济补偿。",
          "{B}支付{A}解除劳动合同经济补偿{agreed}元。",
          "一次性银行转账支付。"),
    ],
    "medical": [
        S("person", "clinic", (5000, 80000),
          "{A}于{when}在{B}接受种植牙治疗，术后出现持续疼痛、种植体松动，{A}认为{B}诊疗存在过错。",
          "请求{B}退还治疗费用并赔偿损失共计{amount}元。",
          "诊疗行为有无过错及赔偿数额。",
          "经医学会专家咨询，{B}术前告知不充分，承担次要责任。",
          "{B}一次性补偿{A}{agreed}元，并免费进行后续修复治疗。",
          "一次性银行转账支付。"),
    ],
    "property_mgmt": [
        S("property", "person", (1500, 9000),
          "{B}系{addr}业主，以小区电梯经常故障、环境卫生差为由，自{when}起拒交物业服务费，累计欠费{amount}元。",
          "请求{B}缴纳拖欠的物业服务费{amount}元。",
          "物业服务质量及欠费的缴纳。",
          "{A}服务存在瑕疵，应予整改；{B}以拒交物业费对抗不当。",
          "一、{A}于一个月内完成电梯维保整改并公示；二、{B}缴纳物业服务费{agreed}元，{A}免除滞纳金。",
          "一次性在物业服务中心缴纳。"),
        S("person", "property", (2000, 10000),
          "{when}，{A}停放在小区（{addr}）地下车库的电动自行车被盗，{A}认为{B}未尽安全保障义务。",
          "请求{B}赔偿车辆损失{amount}元。",
          "物业公司安全保障义务及赔偿数额。",
          "{B}车库监控存在盲区，未尽到合理的安全保障义务，承担部分责任。",
          "{B}补偿{A}车辆损失{agreed}元。",
          "一次性银行转账支付。"),
    ],
    "traffic": [
        S("person", "person", (3000, 40000),
          "{when}，{B}驾驶小型轿车在{road}与{A}驾驶的车辆发生追尾，致{A}车辆后部受损、{A}颈部轻微受伤。交警部门认定{B}负事故全部责任。",
          "请求{B}赔偿车辆维修费、医疗费、误工费等共计{amount}元。",
          "各项损失的数额及保险理赔。",
          "{B}负事故全部责任。",
          "一、保险公司在交强险及商业险限额内赔付{A}各项损失{agreed}元；二、超出保险部分由{B}承担。",
          "保险公司于材料齐全后十个工作日内转账支付。"),
        S("person", "person", (10000, 80000),
          "{when}，{B}驾驶电动自行车在{road}与步行的{A}相撞，致{A}左腿骨折。交警部门认定{B}负事故主要责任。",
          "请求{B}赔偿医疗费、护理费、误工费等共计{amount}元。",
          "赔偿项目及数额。",
          "{B}负事故主要责任，{A}负次要责任。",
          "{B}赔偿{A}医疗费、护理费、误工费等各项损失共计{agreed}元。",
          "分两期支付，第一期于协议签订当日支付。"),
    ],
    "land_acquisition": [
        S("person", "government", (50000, 500000),
          "{A}位于{addr}的房屋被列入{B}组织实施的道路建设项目征收范围。{A}对{when}公示的房屋评估价格及安置方式有异议，未签订补偿协议。",
          "请求按周边市场价格重新评估，并增加补偿款{amount}元。",
          "评估价格及安置方式。",
          "补偿标准依据征收补偿方案执行，个别附属设施漏评。",
          "一、{B}对漏评的附属设施补充评估，增加补偿款{agreed}元；二、{A}于协议生效后三十日内腾空房屋。",
          "补偿款由{B}于房屋腾空验收后十五日内拨付。"),
    ],
    "environment": [
        S("person", "polluter", (2000, 10000),
          "{B}在{addr}附近经营，排放的油烟和夜间噪声严重影响周边居民生活，{A}等居民自{when}起多次向有关部门反映。",
          "请求{B}安装油烟净化设备、夜间停止作业，并赔偿损失{amount}元。",
          "污染治理措施及对居民的补偿。",
          "{B}排放油烟、噪声超标，应承担治理责任。",
          "一、{B}于二十日内安装油烟净化设备并经检测达标；二、{B}每日22时后停止作业；三、{B}补偿{A}{agreed}元。",
          "{B}自行履行，补偿款一次性支付。"),
    ],
    "forest_land": [
        S("person", "person", (3000, 30000),
          "{A}与{B}均系{village}村民，双方对村后山一片约二十亩林地的承包经营权归属发生争议，{B}于{when}砍伐其中部分杉木。",
          "请求确认该林地由{A}承包经营，并由{B}赔偿林木损失{amount}元。",
          "林地四至界址及林木损失。",
          "经查阅林权证及村委会档案，争议林地大部分在{A}林权证范围内。",
          "一、以林业站现场勘定的界线为准，界线以东归{A}经营；二、{B}赔偿{A}林木损失{agreed}元。",
          "一次性现金支付，村委会见证。"),
    ],
    "consumer": [
        S("person", "merchant", (1500, 12000),
          "{A}于{when}在{B}购买冰箱一台，价款{amount}元。使用不足一个月即出现不制冷故障，经两次维修仍未修复，{A}要求退货遭拒。",
          "请求{B}退货并退还货款{amount}元。",
          "是否退货及退款数额。",
          "商品经两次维修仍不能正常使用，{B}应负责退货。",
          "{B}为{A}办理退货，退还货款{agreed}元。",
          "退货当日原路退款。"),
        S("person", "merchant", (2000, 8000),
          "{A}于{when}在{B}办理会员预付卡，充值{amount}元。后{B}停业装修并单方变更服务地点，{A}要求退还余额遭拒。",
          "请求{B}退还剩余预付款{amount}元。",
          "预付款余额及退款方式。",
          "{B}单方变更服务地点，{A}有权解除合同。",
          "{B}退还{A}预付卡余额{agreed}元。",
          "协议签订后三日内原路退款。"),
    ],
    "village_affairs": [
        S("person", "village_committee", None,
          "{A}等村民对{B}于{when}通过的集体土地租金分配方案有异议，认为外嫁女及其子女未能平等参与分配。",
          "请求{B}按户籍在册人口平均分配土地租金。",
          "分配对象及分配标准。",
          "村民会议的决定不得侵害妇女的合法权益。",
          "一、{B}于下一次村民代表会议重新审议分配方案；二、{A}等户籍在册人员按同等标准参与分配。",
          "{B}按新方案于三十日内发放。"),
    ],
    "other": [
        S("person", "person", None,
          "{B}自{when}起在小区业主微信群中多次发布针对{A}的不实言论，造成{A}名誉受损。",
          "请求{B}删除不实言论，并在业主群内公开道歉。",
          "言论是否失实及消除影响的方式。",
          "{B}发布的言论缺乏事实依据，应消除影响。",
          "{B}于协议签订当日删除相关言论，并在业主群内公开致歉。",
          "{B}自行履行。"),
    ],
}
del S

CATEGORY_WEIGHTS = {
    "neighbour": 18, "marriage_family": 12, "labour": 12, "property_mgmt": 10, "traffic": 9,
    "consumer": 8, "contract": 8, "damages": 6, "housing_land": 5, "business": 3, "medical": 3,
    "land_acquisition": 2, "environment": 2, "forest_land": 2, "village_affairs": 2, "other": 3,
}
SOURCE_WEIGHTS = {
    "walk_in": 30, "phone": 8, "hotline_12345": 15, "grid": 10, "online": 10,
    "court_delegated": 8, "police_referral": 6, "petition": 4, "department": 4, "screening": 5,
}
FINAL_STATES = {  # how many of the 300 cases end in each state, as in a real centre's books
    "closed": 120, "agreed": 30, "mediating": 35, "suspended": 10, "matching": 15,
    "registered": 18, "confirming": 10, "confirmed": 12, "terminated": 12, "referred": 10,
    "declined": 12, "withdrawn": 16,
}

# ---------------------------------------------------------------------------------------------
# Case histories: routes to each final state, gaps between steps, and the data of each step.

AGREE = ["accept", "assign", "reach_agreement"]
CONFIRM = AGREE + ["apply_confirmation", "confirm"]
TERMINATE = ["accept", "assign", "terminate"]
ROUTES: dict[str, list[tuple[int, list[str]]]] = {
    "registered": [(1, [])],
    "declined": [(1, ["decline"])],
    "withdrawn": [(3, ["withdraw"]), (3, ["accept", "withdraw"]), (3, ["accept", "assign", "withdraw"]),
                  (1, ["accept", "assign", "suspend", "withdraw"])],
    "matching": [(6, ["accept"]), (1, ["accept", "assign", "change_mediator"])],
    "mediating": [(8, ["accept", "assign"]), (1, ["accept", "assign", "suspend", "resume"]),
                  (1, ["accept", "assign", "extend"]),
                  (1, ["accept", "assign", "change_mediator", "assign"])],
    "suspended": [(1, ["accept", "assign", "suspend"])],
    "agreed": [(6, AGREE), (1, ["accept", "assign", "suspend", "resume", "reach_agreement"])],
    "confirming": [(1, AGREE + ["apply_confirmation"])],
    "confirmed": [(1, CONFIRM)],
    "terminated": [(3, TERMINATE), (1, ["accept", "terminate"]),
                   (1, ["accept", "assign", "suspend", "terminate"])],
    "referred": [(1, TERMINATE + ["refer"])],
    "closed": [(12, AGREE + ["follow_up"]), (3, CONFIRM + ["follow_up"]),
               (2, TERMINATE + ["follow_up"]), (2, TERMINATE + ["refer", "follow_up"]),
               (1, AGREE + ["apply_confirmation", "reject_confirmation", "reach_agreement", "follow_up"]),
               (1, ["accept", "assign", "extend", "reach_agreement", "follow_up"])],
}
GAPS = {  # calendar days before a step (the day is then moved back to a working day)
    "accept": (0, 2), "decline": (0, 3), "transfer": (0, 2), "assign": (1, 4),
    "change_mediator": (3, 10), "suspend": (3, 12), "resume": (5, 20), "extend": (18, 24),
    "reach_agreement": (3, 25), "apply_confirmation": (2, 15), "confirm": (5, 20),
    "reject_confirmation": (5, 20), "terminate": (5, 28), "refer": (0, 5), "withdraw": (1, 10),
    "follow_up": (3, 15),
}
FOLLOW_UP_AFTER_AGREEMENT = (12, 45)
MEDIATING_FROM = ("assign", "resume", "extend", "reject_confirmation")  # steps that (re)open it
# Cases still running whose clock we aim at a due state on `today`, in rotation.
DUE_TARGETS = ("overdue", "due_soon", "ok", "ok", "overdue", "ok", "due_soon", "ok", "ok", "overdue")
# How far back the last step of any other case lies (days before today).
RECENT = {"suspended": 20, "agreed": 25, "confirming": 20, "confirmed": 15, "terminated": 15,
          "referred": 15, "matching": 5, "mediating": 10}

DECLINES = [
    ("in_litigation", "court", "当事人已就同一纠纷向人民法院提起诉讼。"),
    ("not_civil_dispute", "administrative", "反映事项属于行政执法范围，不属于民事纠纷。"),
    ("party_refuses", "court", "被申请人明确表示拒绝调解。"),
    ("outside_jurisdiction", "other", "纠纷发生地及当事人住所均不在本中心辖区。"),
    ("not_civil_dispute", "police", "涉嫌治安违法，已告知当事人向公安机关报案。"),
]
TERMINATIONS = [
    ("party_unwilling", "被申请人明确表示不愿继续调解。"),
    ("wide_disagreement", "双方对赔偿数额分歧过大，经多次调解仍无法达成一致。"),
    ("unreachable", "多次电话、上门联系被申请人未果。"),
    ("refused_to_sign", "被申请人对调解方案口头同意后拒绝签字。"),
    ("deadline_expired", "调解期限届满，当事人不同意延长。"),
]
SUSPENSIONS = [
    ("appraisal", "申请人申请伤残等级（损失价格）鉴定，鉴定期间中止调解。"),
    ("party_unavailable", "被申请人外出务工，暂时无法到场。"),
    ("awaiting_evidence", "等待当事人补充提交证据材料。"),
]
WITHDRAWALS = ("双方已自行和解，申请人申请撤回。", "申请人决定直接向人民法院起诉。",
               "对方已履行，申请人不再要求调解。")
SESSION_MINUTES = (
    "调解员向双方释明相关法律规定，双方分别陈述事实和诉求，同意就{matters}进一步协商。",
    "背对背调解：调解员分别听取双方意见，{A}同意适当降低请求数额，{B}表示与家人商量后答复。",
    "双方当面协商，就主要条款基本达成一致，约定下次调解时确认协议内容。",
    "调解员组织双方现场查看，核实有关情况，并邀请社区网格员共同参与调解。",
)


@dataclass
class Step:
    """One dated step of a case's history: register, a trigger, or a mediation session."""

    trigger: str
    day: date
    at: datetime | None = None  # UTC, naive, as stored
    data: dict = field(default_factory=dict)
    reason: str = ""


@dataclass
class CasePlan:
    """Everything about one demonstration case, decided before anything is written."""

    index: int
    place: Place
    final: str
    intake: IntakeData
    texts: dict
    steps: list[Step] = field(default_factory=list)
    case: Case | None = None
    mediators: list[int] = field(default_factory=list)


class Planner:
    """Plans the 300 cases: categories, sources, parties, texts and dated steps."""

    def __init__(self, rng: random.Random, places: list[Place], today: date):
        self.rng, self.places, self.today = rng, places, today
        self.calendar, self.settings = working_calendar(), clock_settings()
        self.zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        self.people = Identities(rng)
        self.references: Counter = Counter()
        self.rulings: Counter = Counter()
        self.due_turn: Counter = Counter()

    def plan_all(self) -> list[CasePlan]:
        finals = [state for state, n in FINAL_STATES.items() for _ in range(n)]
        categories = self._spread(CATEGORY_WEIGHTS)
        sources = self._spread(SOURCE_WEIGHTS)
        self.rng.shuffle(finals)
        return [self.plan(i, finals[i], categories[i], sources[i]) for i in range(CASE_COUNT)]

    def _spread(self, weights: dict[str, int]) -> list[str]:
        """CASE_COUNT values: every code at least once, the rest by weight, shuffled."""
        values = list(weights) + self.rng.choices(list(weights), list(weights.values()),
                                                  k=CASE_COUNT - len(weights))
        self.rng.shuffle(values)
        return values

    def plan(self, index: int, final: str, category: str, source: str) -> CasePlan:
        place = self._centre_for(category)
        scenario = self.rng.choice(SCENARIOS[category])
        steps = self._dated_steps(final, place)
        parties, texts = self._parties_and_texts(scenario, category, place, steps[0].day)
        intake = IntakeData(
            centre_id=place.id, source=source, category=category,
            facts=texts["facts"], claims=texts["claims"], parties=parties,
            amount=Decimal(texts["amount"]) if texts["amount"] else None,
            source_ref=self._source_ref(source, place))
        plan = CasePlan(index, place, final, intake, texts)
        plan.steps = self._with_sessions(steps)
        for i, step in enumerate(plan.steps):
            self._fill(plan, step, plan.steps[:i], plan.steps[i + 1:])
        self._timestamps(plan.steps)
        return plan

    # -- where and who ---------------------------------------------------------------------

    def _centre_for(self, category: str) -> Place:
        if category in RURAL_CATEGORIES:
            candidates = [p for p in self.places if p.rural and p.level != "city"]
            return self.rng.choice(candidates)
        weights = {"city": 1.0, "county": 4.0, "township": 2.5, "village": 1.5}
        return self.rng.choices(self.places, [weights[p.level] for p in self.places])[0]

    def _side(self, kind: str, role: str, place: Place, job: str) -> PartyData:
        if kind == "person":
            return self.people.person(role, place)
        if kind == "elder":
            return self.people.person(role, place, years=(1950, 1955), occupation="退休")
        if kind == "son":
            return self.people.person(role, place, years=(1970, 1982), gender="male")
        if kind == "worker":
            region = self.rng.choice(MIGRANT_REGIONS) if self.rng.random() < 0.4 else None
            return self.people.person(role, place, years=(1968, 2002), region=region,
                                      occupation=job)
        return self.people.organisation(role, kind)

    def _parties_and_texts(self, scenario: Scenario, category: str, place: Place,
                           registered: date):
        job = self.rng.choice(JOBS)
        applicant = self._side(scenario.applicant, "applicant", place, job)
        respondent = self._side(scenario.respondent, "respondent", place, job)
        parties = [applicant, respondent]
        if category in ("environment", "village_affairs") or (
                category == "neighbour" and self.rng.random() < 0.15):
            parties.insert(1, self.people.person("applicant", place))
        if category == "traffic" and self.rng.random() < 0.6:
            parties.append(self.people.organisation("third_party", "insurer"))
        amount = agreed = None
        if scenario.amount:
            low, high = scenario.amount
            step = 100 if high <= 50000 else 1000
            amount = self.rng.randrange(low // step, high // step + 1) * step
            agreed = max(step, round(amount * self.rng.uniform(0.6, 1.0) / step) * step)
        person = next((p for p in parties if p.kind == "person"), applicant)
        when = registered - timedelta(days=self.rng.randint(10, 400))  # when it began
        values = {"A": applicant.name, "B": respondent.name, "addr": person.address,
                  "amount": amount, "agreed": agreed, "when": f"{when.year}年{when.month}月",
                  "job": job, "road": self.rng.choice(place.county["roads"]),
                  "village": place.village or place.township or "侯官村"}
        texts = {key: getattr(scenario, key).format(**values)
                 for key in ("facts", "claims", "matters", "duty", "terms", "method")}
        texts.update(amount=amount, A=applicant.name, B=respondent.name)
        return parties, texts

    def _source_ref(self, source: str, place: Place) -> str | None:
        self.references[source] += 1
        n, year = self.references[source], self.today.year
        if source == "hotline_12345":
            return f"FZ12345-{year}{n:06d}"
        if source == "court_delegated":
            return f"（{year}）{place.county['court_code']}民诉前调{200 + n * 3}号"
        if source == "police_referral":
            return f"榕公交调〔{year}〕{100 + n}号"
        if source == "petition":
            return f"榕信转〔{year}〕{30 + n}号"
        return None

    # -- when ------------------------------------------------------------------------------

    def _dated_steps(self, final: str, place: Place) -> list[Step]:
        """Registration and the transitions to `final`, each on a working day up to today."""
        triggers = ["register"] + self._route(final, place)
        gaps = [0] + [self._gap(t, prev) for prev, t in zip(triggers, triggers[1:])]
        days = self._schedule(gaps, self._last_day(final, triggers, gaps))
        return [Step(t, d) for t, d in zip(triggers, days)]

    def _route(self, final: str, place: Place) -> list[str]:
        weights, routes = zip(*ROUTES[final])
        route = list(self.rng.choices(routes, weights)[0])
        movable = place.level in ("village", "township") and route[:1] != ["decline"]
        if movable and final != "registered" and self.rng.random() < 0.08:
            route.insert(0, "transfer")  # escalated to the centre above before acceptance
        return route

    def _gap(self, trigger: str, previous: str) -> int:
        if trigger == "follow_up" and previous in ("reach_agreement", "confirm"):
            return self.rng.randint(*FOLLOW_UP_AFTER_AGREEMENT)
        if trigger == "reach_agreement" and previous == "reject_confirmation":
            return self.rng.randint(3, 10)
        return self.rng.randint(*GAPS[trigger])

    def _schedule(self, gaps: list[int], last: date) -> list[date]:
        """Dates backwards from the last step, each on a working day."""
        days = [last]
        for gap in reversed(gaps[1:]):
            days.append(self._working_on_or_before(days[-1] - timedelta(days=gap)))
        return days[::-1]

    def _last_day(self, final: str, triggers: list[str], gaps: list[int]) -> date:
        last = triggers[-1]
        target = self._due_target(final, triggers)
        if target:
            return self._anchor_for(target, last)
        if final in RECENT:
            return self._working_on_or_before(
                self.today - timedelta(days=self.rng.randint(0, RECENT[final])))
        span = (self.today - self._schedule(gaps, self.today)[0]).days
        back = self.rng.randint(0, max(0, 115 - span))
        return self._working_on_or_before(self.today - timedelta(days=back))

    def _due_target(self, final: str, triggers: list[str]) -> str | None:
        """A due state aimed at for running cases whose clock depends on the last step only."""
        plain = {"registered": "register", "matching": "accept", "mediating": "assign"}
        if plain.get(final) != triggers[-1] or triggers.count("assign") > 1:
            return None
        self.due_turn[final] += 1
        return DUE_TARGETS[self.due_turn[final] % len(DUE_TARGETS)]

    def _anchor_for(self, target: str, last: str) -> date:
        """A working day for the last step such that its clock is in `target` state today."""
        def due(day: date) -> date:
            if last == "assign":
                return day + timedelta(days=self.settings.mediation_days)
            lead = (self.settings.acceptance_working_days if last == "register"
                    else self.settings.choice_window_working_days)
            return self.calendar.add_working_days(day, lead)

        days = [self.today - timedelta(days=i) for i in range(70)]
        fitting = [d for d in days
                   if due_status(due(d), self.today, self.calendar, self.settings) == target]
        # Offices work on working days; a weekend (duty) step only when no working day fits.
        candidates = [d for d in fitting if self.calendar.is_working_day(d)] or fitting
        if not candidates:
            return self._working_on_or_before(self.today)
        return self.rng.choice(candidates[:{"due_soon": 1, "overdue": 8}.get(target, 15)])

    def _working_on_or_before(self, day: date) -> date:
        while not self.calendar.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def _with_sessions(self, steps: list[Step]) -> list[Step]:
        """Add 1-3 mediation sessions on working days while the case is being mediated."""
        slots: list[tuple[int, date]] = []  # (the step that opened a mediating period, a day)
        for i, step in enumerate(steps):
            if step.trigger in MEDIATING_FROM:
                end = steps[i + 1].day if i + 1 < len(steps) else self.today
                days = [step.day + timedelta(days=k) for k in range((end - step.day).days + 1)]
                slots += [(i, d) for d in days if self.calendar.is_working_day(d)] or [(i, step.day)]
        if not slots:
            return steps
        chosen = sorted(self.rng.sample(slots, min(len(slots), self.rng.randint(1, 3))))
        result: list[Step] = []
        for i, step in enumerate(steps):
            result.append(step)
            result += [Step("session", day) for opened, day in chosen if opened == i]
        return result

    def _timestamps(self, steps: list[Step]) -> None:
        """Office-hours local times, strictly increasing along the case, stored as naive UTC."""
        previous = None
        for step in steps:
            local = datetime.combine(step.day, datetime.min.time(), self.zone) + timedelta(
                hours=8, minutes=30 + self.rng.randrange(0, 420, 5))
            if previous and local <= previous:
                local = previous + timedelta(minutes=self.rng.randint(15, 90))
            step.at = local.astimezone(timezone.utc).replace(tzinfo=None)
            previous = local

    # -- what each step says ---------------------------------------------------------------

    def _fill(self, plan: CasePlan, step: Step, earlier: list[Step], later: list[Step]) -> None:
        t, county, rng = step.trigger, plan.place.county, self.rng
        done = {s.trigger for s in earlier}
        if t == "accept":
            step.data = {"mediation_type": self._mediation_type(plan.intake)}
        elif t == "decline":
            code, channel, reason = rng.choice(DECLINES)
            if code == "party_refuses":
                next(p for p in plan.intake.parties if p.role == "respondent").refuses_mediation = True
            step.data, step.reason = {"reason_code": code, "redirect_channel": channel}, reason
        elif t == "transfer":
            step.data = {"to_centre_id": plan.place.parent_id}
            step.reason = "纠纷涉及多方主体，提请上级调解中心调解。"
        elif t == "assign":
            step.data = {"chosen_by": "parties", "parties_waived": False, "mediator_accepted": True,
                         "conflict_declared": True, "has_conflict": False}
        elif t == "change_mediator":
            code = rng.choice(("party_request", "recusal"))
            step.data = {"reason_code": code}
            step.reason = ("被申请人申请更换调解员。" if code == "party_request"
                           else "调解员与一方当事人存在亲属关系，申请回避。")
        elif t == "suspend":
            code, step.reason = rng.choice(SUSPENSIONS)
            step.data = {"reason_code": code}
        elif t == "extend":
            step.data = {"all_parties_consent": True, "days": 15}
            step.reason = "双方同意延长调解期限十五日。"
        elif t == "reach_agreement":
            step.data = {"agreement": self._agreement(plan, step, later)}
        elif t == "apply_confirmation":
            step.data = {"joint": True, "court_name": county["court"]}
        elif t == "confirm":
            step.data = {"court_name": county["court"], "ruling_number": self._ruling(county, step),
                         "ruling_date": step.day}
        elif t == "reject_confirmation":
            step.data = {"ruling_number": self._ruling(county, step)}
            step.reason = "法院认为协议部分条款约定不明，裁定驳回申请。"
        elif t == "terminate":
            # Before a mediator is assigned only an unwilling or unreachable party ends it.
            code, summary = rng.choice(TERMINATIONS if "assign" in done else TERMINATIONS[:3:2])
            step.data, step.reason = {"reason_code": code, "failure_summary": summary}, summary
        elif t == "refer":
            step.data = self._referral(plan)
        elif t == "withdraw":
            step.data, step.reason = {"by_applicant": True}, rng.choice(WITHDRAWALS)
        elif t == "follow_up":
            self._fill_follow_up(step, agreed="reach_agreement" in done and "terminate" not in done)
        elif t == "session":
            self._fill_session(plan, step)

    def _mediation_type(self, intake: IntakeData) -> str:
        roll = self.rng.random()
        if intake.source == "court_delegated":
            return "judicial"
        if intake.category == "land_acquisition":
            return "joint"
        if intake.category in ("labour", "traffic") and roll < 0.5:
            return "administrative"
        if intake.category in ("consumer", "medical", "property_mgmt") and roll < 0.5:
            return "industry"
        return "people"

    def _agreement(self, plan: CasePlan, step: Step, later: list[Step]) -> dict:
        follow_up = next((s for s in later if s.trigger == "follow_up"), None)
        if follow_up and not any(s.trigger == "reach_agreement" for s in later):
            latest = max(step.day, follow_up.day - timedelta(days=1))
            deadline = max(step.day, latest - timedelta(days=self.rng.randint(0, 10)))
        else:  # still running: the follow-up falls due around today, a few of them overdue
            deadline = max(step.day + timedelta(days=7),
                           self.today + timedelta(days=self.rng.randint(-25, 25)))
        t = plan.texts
        return {"facts": plan.intake.facts, "disputed_matters": t["matters"],
                "responsibilities": t["duty"], "terms": t["terms"],
                "performance_method": t["method"], "performance_deadline": deadline,
                "effective_on": step.day}

    def _ruling(self, county: dict, step: Step) -> str:
        self.rulings[county["code"]] += 1
        number = 100 + self.rulings[county["code"]] * 4 + self.rng.randint(0, 3)
        return f"（{step.day.year}）{county['court_code']}民特{number}号"

    def _referral(self, plan: CasePlan) -> dict:
        county, category = plan.place.county["name"], plan.intake.category
        if category == "labour":
            return {"body_kind": "arbitration", "receiving_body": f"{county}劳动人事争议仲裁委员会"}
        if category in ("consumer", "property_mgmt", "environment"):
            office = {"consumer": "市场监督管理局", "property_mgmt": "住房和城乡建设局",
                      "environment": "生态环境局"}[category]
            return {"body_kind": "administrative", "receiving_body": f"{county}{office}"}
        if category == "contract" and self.rng.random() < 0.4:
            return {"body_kind": "arbitration", "receiving_body": "福州仲裁委员会"}
        return {"body_kind": "court", "receiving_body": plan.place.county["court"]}

    def _fill_follow_up(self, step: Step, agreed: bool) -> None:
        if agreed:  # a visit records how the agreement was performed
            performance = self.rng.choices(("full", "partial", "none"), (75, 18, 7))[0]
            step.data = {"performance": performance}
            step.reason = {"full": "电话回访，双方确认协议已全部履行。",
                           "partial": "上门回访，被申请人已履行部分义务，余款约定下月付清。",
                           "none": "回访得知被申请人未履行，已告知申请人可申请强制执行或起诉。"
                           }[performance]
        else:
            step.reason = "回访当事人，纠纷已另行处理，结案归档。"

    def _fill_session(self, plan: CasePlan, step: Step) -> None:
        mode = self.rng.choices(("in_person", "phone", "video"), (70, 15, 15))[0]
        t = plan.texts
        step.data = {
            "mode": mode,
            "place": {"in_person": "第一调解室", "video": "线上视频调解", "phone": ""}[mode],
            "minutes": self.rng.choice(SESSION_MINUTES).format(matters=t["matters"].rstrip("。"),
                                                               A=t["A"], B=t["B"]),
        }


# ---------------------------------------------------------------------------------------------
# Writing: centres, mediators, users, then the replay of every case's steps.


def _create_centres(rng: random.Random) -> list[Place]:
    places: list[Place] = []

    def add(name, code, level, parent: Place | None, county, address, phone, **where) -> Place:
        centre = Centre(name=name, short_code=code, level=level,
                        parent_id=parent.id if parent else None, address=address, phone=phone)
        db.session.add(centre)
        db.session.flush()
        centre.path = (parent.path if parent else "/") + f"{centre.id}/"
        place = Place(centre.id, name, level, centre.path, centre.parent_id, county, **where)
        places.append(place)
        return place

    def phone() -> str:
        return f"0591-8{rng.randrange(10**7):07d}"

    city = add(CITY["name"], CITY["code"], "city", None, COUNTIES[0], CITY["address"], CITY["phone"])
    for county in COUNTIES:
        c = add(f"{county['name']}矛盾纠纷调解中心", county["code"], "county", city, county,
                county["address"], county["phone"])
        for township, code, villages in county["townships"]:
            street = (villages[0][2] or ["政通路"])[0]
            t = add(f"{township}矛盾纠纷调解中心", code, "township", c, county,
                    f"福州市{county['name']}{township}{street}{rng.randint(1, 99)}号", phone(),
                    township=township)
            for village, vcode, streets in villages:
                where = f"{streets[0]}{rng.randint(1, 99)}号" if streets else f"{rng.randint(1, 60)}号"
                add(f"{village}人民调解委员会", vcode, "village", t, county,
                    f"福州市{county['name']}{township}{village}{where}", phone(),
                    township=township, village=village, streets=streets)
    return places


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


def _create_mediators(rng: random.Random, places: list[Place], people: Identities) -> list[Mediator]:
    mediators = []
    for place in _mediator_homes(places):
        mediators.append(Mediator(name=people.name(rng.choice(("male", "female"))),
                                  centre_id=place.id, capacity=rng.randint(5, 12),
                                  status="active", phone=people.mobile()))
    county = next(p for p in places if p.level == "county")
    for index in rng.sample(range(MEDIATOR_COUNT), 6):
        if mediators[index].centre_id != county.id:
            mediators[index].status = "on_leave" if index % 3 else "retired"
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


# ---------------------------------------------------------------------------------------------
# The three entry points used by app/cli.py.


@contextmanager
def _bulk_loading():
    """Make the replay's ~1,800 small commits cheap, and undo it afterwards.

    The session keeps its objects across the services' commits (nothing else writes
    meanwhile, and re-reading every object after every commit doubled the time), and SQLite
    skips the fsync of each commit: the demo goes into an empty database, so a crash
    mid-load costs nothing but a reload. Each connection gets its own setting back when it
    returns to the pool.
    """
    session = db.session()
    session.commit()  # release the connection so that the next checkout sees the listener
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "checkout", _skip_fsync)
        event.listen(engine, "checkin", _restore_fsync)
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True
        session.commit()
        if sqlite:
            event.remove(engine, "checkout", _skip_fsync)
            event.remove(engine, "checkin", _restore_fsync)
        session.expire_all()


def _skip_fsync(dbapi_connection, record, proxy) -> None:
    record.info["synchronous"] = dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]
    dbapi_connection.execute("PRAGMA synchronous = OFF")


def _restore_fsync(dbapi_connection, record) -> None:
    previous = record.info.pop("synchronous", None)
    if dbapi_connection is not None and previous is not None:
        dbapi_connection.execute(f"PRAGMA synchronous = {int(previous)}")


def demo_present() -> bool:
    """True when the database already holds centres (demo or real)."""
    return db.session.scalar(select(Centre.id).limit(1)) is not None


def load_demo(today: date) -> str:
    """Load the demonstration city as it stands on `today`; returns a one-line summary."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    try:
        places = _create_centres(rng)
        people = Identities(rng)
        mediators = _create_mediators(rng, places, people)
        users = _create_users(places, mediators)
        pool = MediatorPool(mediators, places)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    plans = Planner(rng, places, today).plan_all()
    with _bulk_loading():
        Replay(plans, users, pool, places).run()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    cases = db.session.scalar(select(func.count(Case.id)))
    return (f"Loaded the demonstration city as of {today.isoformat()}: {len(places)} centres, "
            f"{len(DEMO_USERS)} users, {len(mediators)} mediators, {cases} cases, "
            f"{events} audit events in {time.perf_counter() - started:.1f} s.")


def print_logins() -> None:
    """Print the demonstration logins: role, username, password, centre."""
    usernames = [username for _, username, _, _ in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(usernames)))}
    for username in usernames:
        user = users.get(username)
        if user is not None:
            click.echo(f"{user.role:<11}{user.username:<12}{DEMO_PASSWORD:<14}{user.centre.name}")

