"""Invented people and organisations with valid, distinct identity numbers."""
from __future__ import annotations

import random
from datetime import date, timedelta

from app.demo.places import COUNTIES, Place
from cases.services import PartyData
from cases.validators import credit_check_char, id_check_char

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
