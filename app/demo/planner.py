"""Plans every demonstration case (parties, texts, dated steps) before anything is written."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app

from app.demo.people import JOBS, MIGRANT_REGIONS, Identities
from app.demo.places import RURAL_CATEGORIES, Place
from app.demo.scenarios import (CASE_COUNT, CATEGORY_WEIGHTS, DECLINES, FINAL_STATES, SCENARIOS,
                                SESSION_MINUTES, SOURCE_WEIGHTS, SUSPENSIONS, TERMINATIONS,
                                WITHDRAWALS, Scenario)
from app.workdays import clock_settings, working_calendar
from cases.models import Case
from cases.services import IntakeData, PartyData
from workflows.clocks import due_status

# Case histories: routes to each final state and the gaps between steps.
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
