"""The centres of the demonstration city: their hierarchy, and their creation."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from app.extensions import db
from app.models import Centre

# One city, three counties, two townships each, two villages or communities each.
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
