"""Recommending mediators for a case (推荐调解员): hard filters, then a score explained part by part.

The hard filters and the score run in SQL over the eligible mediators only, so a city-wide
pool ranks in milliseconds; the explanations ("why recommended") are built for the top few.
Each part of the score is a share from 0 to 1 (one SQL expression, the single definition),
weighted by WEIGHTS; the score is the sum of the weighted shares.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import (Float, Integer, bindparam, case as sql_case, cast, exists, func, literal,
                        or_, select, union_all)

from app.extensions import db
from app.models import Centre
from cases.models import Case, CaseParty, Party
from mediators.figures import RATING_PRIOR_MEAN, smoothed_rating, smoothed_settlement_rate
from mediators.models import Mediator, MediatorConflict, MediatorSpecialty, mediator_centres
from workflows.i18n import N_

# Points for a full share of each part. Specialty and proximity matter most (the right field,
# close to the parties); track record next; load spreads the work; languages and preferences
# count only when the parties state them.
WEIGHTS = {
    "specialty": 30.0,
    "proximity": 20.0,
    "track_record": 20.0,
    "satisfaction": 10.0,
    "languages": 10.0,
    "load": 10.0,
    "preferences": 15.0,
}
# Share of the proximity points by where the mediator sits relative to the case's centre.
PROXIMITY_SHARES = {"home": 1.0, "serves": 0.75, "above": 0.5, "serves_above": 0.25}

PREFERENCE_KEYS = ("kinds", "gender", "mediator_ids")
LABELS = {
    "specialty": N_("Specialty"),
    "proximity": N_("Proximity"),
    "track_record": N_("Track record"),
    "satisfaction": N_("Satisfaction"),
    "languages": N_("Languages"),
    "load": N_("Current load"),
    "preferences": N_("Party preferences"),
}


@dataclass(frozen=True)
class ScorePart:
    """One reason in "why recommended": its points and a translatable detail (msgid + params)."""

    key: str
    label: str
    points: float
    detail: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendation:
    """A mediator recommended for a case, with the score and its parts."""

    mediator_id: int
    name: str
    score: float
    parts: list[ScorePart]


@dataclass(frozen=True)
class CaseFacts:
    """What the ranking needs to know about a case and its parties."""

    centre_id: int
    centre_name: str
    ancestors: tuple[int, ...]  # the case's centre and every centre above it
    category: str
    party_names: tuple[str, ...]
    party_keys: tuple[str, ...]  # ID numbers and credit codes
    organisation_names: tuple[str, ...]
    agent_id_numbers: tuple[str, ...]  # every agent the parties have had, in any case


@dataclass(frozen=True)
class Needs:
    """What the parties asked for: languages and preferences."""

    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    gender: str | None = None
    mediator_ids: tuple[int, ...] = ()

    @property
    def shape(self) -> Shape:
        return Shape(len(self.languages), bool(self.kinds), bool(self.gender),
                     bool(self.mediator_ids))

    @property
    def preference_count(self) -> int:
        return self.shape.preference_count


@dataclass(frozen=True)
class Shape:
    """Which optional parts a ranking has; statements are built once per shape."""

    languages: int = 0
    kinds: bool = False
    gender: bool = False
    mediator_ids: bool = False

    @property
    def preference_count(self) -> int:
        return self.kinds + self.gender + self.mediator_ids


def rank_mediators(case: Case, *, limit: int = 20, languages=(),
                   preferences: dict | None = None) -> list[Recommendation]:
    """The best `limit` eligible mediators for the case, best first (ties by id), explained."""
    facts, needs = case_facts(case), make_needs(languages, preferences)
    params = bind_values(facts, needs)
    top_ids = db.session.scalars(top_statement(needs.shape), {**params, "limit": limit}).all()
    if not top_ids:
        return []
    rows = db.session.execute(detail_statement(needs.shape), {**params, "ids": top_ids}).all()
    keys = list(share_expressions(needs.shape))
    recommendations = [explain(row, keys, facts, needs) for row in rows]
    return sorted(recommendations, key=lambda r: (-r.score, r.mediator_id))


def eligible_ids(case: Case) -> list[int]:
    """Ids of every mediator who passes the hard filters for the case, in ranking order
    (the score without the parties' stated needs, then id)."""
    params = bind_values(case_facts(case), Needs())
    return list(db.session.scalars(ranked_statement(Needs().shape), params))


def case_facts(case: Case) -> CaseFacts:
    """The case's centre chain, category and the parties' identities."""
    centre = case.centre if case.centre is not None else db.session.get(Centre, case.centre_id)
    parties = db.session.execute(
        select(Party.id, Party.kind, Party.name, Party.id_number, Party.credit_code)
        .join(CaseParty, CaseParty.party_id == Party.id).where(CaseParty.case_id == case.id)).all()
    agents = db.session.scalars(
        select(CaseParty.agent_id_number).distinct()
        .where(CaseParty.party_id.in_([p.id for p in parties]),
               CaseParty.agent_id_number.is_not(None))).all()
    return CaseFacts(
        centre_id=centre.id, centre_name=centre.name,
        ancestors=tuple(int(part) for part in centre.path.strip("/").split("/")),
        category=case.category,
        party_names=tuple(sorted({p.name for p in parties})),
        party_keys=tuple(sorted({key for p in parties for key in (p.id_number, p.credit_code)
                                 if key})),
        organisation_names=tuple(sorted({p.name for p in parties if p.kind == "organisation"})),
        agent_id_numbers=tuple(sorted(agents)))


def make_needs(languages, preferences: dict | None) -> Needs:
    """Normalise the parties' stated needs; unknown preference keys are a programming error."""
    preferences = dict(preferences or {})
    if isinstance(preferences.get("kinds"), str):
        preferences["kinds"] = [preferences["kinds"]]
    unknown = set(preferences) - set(PREFERENCE_KEYS)
    if unknown:
        raise ValueError(f"unknown preference keys: {sorted(unknown)}")
    wanted = tuple(dict.fromkeys(l.strip() for l in languages if l and l.strip()))
    named = {int(i) for i in preferences.get("mediator_ids") or ()}
    return Needs(languages=wanted,
                 kinds=tuple(sorted(set(preferences.get("kinds") or ()))),
                 gender=preferences.get("gender") or None,
                 mediator_ids=tuple(sorted(named)))


def bind_values(facts: CaseFacts, needs: Needs) -> dict:
    """The values of the statements' bound parameters for one case and its parties' needs."""
    values = {
        "ancestors": list(facts.ancestors), "centre_id": facts.centre_id,
        "category": facts.category, "party_names": list(facts.party_names),
        "party_keys": list(facts.party_keys), "organisation_names": list(facts.organisation_names),
        "agent_id_numbers": list(facts.agent_id_numbers),
        "kinds": list(needs.kinds), "gender": needs.gender,
        "mediator_ids": list(needs.mediator_ids),
    }
    for index, language in enumerate(needs.languages):
        values[f"language_{index}"] = "%," + _escape_like(language) + ",%"
    return values


def _escape_like(value: str) -> str:
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _values(name: str):
    return bindparam(name, expanding=True)


@functools.cache
def top_statement(shape: Shape):
    """The ids of the best `limit` eligible mediators."""
    return ranked_statement(shape).limit(bindparam("limit", type_=Integer))


@functools.cache
def ranked_statement(shape: Shape):
    """The ids of the eligible mediators: score descending, then id."""
    shares = share_expressions(shape)
    score = sum((WEIGHTS[key] * expr for key, expr in shares.items()), literal(0.0, Float))
    ranked = eligible_union(Mediator.id, score.label("score")).subquery()
    return select(ranked.c.id).order_by(ranked.c.score.desc(), ranked.c.id)


@functools.cache
def detail_statement(shape: Shape):
    """What the explanations need of the chosen mediators, with each part's share."""
    shares = share_expressions(shape)
    return (select(Mediator.id, Mediator.name, Mediator.centre_id,
                   Centre.name.label("centre_name"), Mediator.languages,
                   Mediator.cases_handled, Mediator.cases_settled, Mediator.rating_count,
                   Mediator.rating_sum, Mediator.current_load, Mediator.capacity,
                   *(expr.label(f"share_{key}") for key, expr in shares.items()))
            .join(Centre, Centre.id == Mediator.centre_id)
            .where(Mediator.id.in_(_values("ids"))))


def eligible_union(*columns):
    """`columns` of every eligible mediator, once each: those based at the case's centre or
    above it (found through the index on their centre), then those serving one of these
    centres from elsewhere (through mediator_centres)."""
    ancestors = _values("ancestors")
    based_above = select(*columns).where(
        Mediator.status == "active", Mediator.centre_id.in_(ancestors), *other_filters())
    serving = select(*columns).where(
        Mediator.id.in_(select(mediator_centres.c.mediator_id)
                        .where(mediator_centres.c.centre_id.in_(ancestors))),
        Mediator.centre_id.not_in(ancestors), _unindexed(Mediator.status) == "active",
        *other_filters())
    return union_all(based_above, serving)


def _unindexed(column):
    """The column's value in a form no index serves. Without statistics (no ANALYZE), SQLite
    would otherwise scan every active mediator through ix_mediators_status_centre instead of
    looking up the few hundred serving mediators by id."""
    return func.coalesce(column, "")


def other_filters() -> list:
    """Has room and no conflict with any party of the case."""
    declared = exists().where(MediatorConflict.mediator_id == Mediator.id, or_(
        MediatorConflict.name.in_(_values("party_names")),
        MediatorConflict.id_number.in_(_values("party_keys"))))
    return [
        Mediator.current_load < Mediator.capacity,
        ~declared,
        or_(Mediator.organisation.is_(None),
            Mediator.organisation.not_in(_values("organisation_names"))),
        or_(Mediator.id_number.is_(None), Mediator.id_number.not_in(_values("agent_id_numbers"))),
    ]


@functools.cache
def share_expressions(shape: Shape) -> dict:
    """Each part's share (0 to 1) as an SQL expression, in the order the parts are shown."""
    shares = {
        "specialty": _flag(_has_row(MediatorSpecialty.mediator_id == Mediator.id,
                                    MediatorSpecialty.category == bindparam("category"))),
        "proximity": sql_case(
            (Mediator.centre_id == bindparam("centre_id"), PROXIMITY_SHARES["home"]),
            (_serves_case_centre(), PROXIMITY_SHARES["serves"]),
            (Mediator.centre_id.in_(_values("ancestors")), PROXIMITY_SHARES["above"]),
            else_=PROXIMITY_SHARES["serves_above"]),
        "track_record": smoothed_settlement_rate(),
        "satisfaction": (smoothed_rating() - 1.0) / 4.0,
    }
    if shape.languages:
        shares["languages"] = _mean([_speaks(index) for index in range(shape.languages)])
    shares["load"] = 1.0 - _real(Mediator.current_load) / _real(Mediator.capacity)
    if shape.preference_count:
        shares["preferences"] = _mean(_preference_matches(shape))
    return shares


def _preference_matches(shape: Shape) -> list:
    matches = []
    if shape.kinds:
        matches.append(_flag(Mediator.kind.in_(_values("kinds"))))
    if shape.gender:
        matches.append(_flag(Mediator.gender == bindparam("gender")))
    if shape.mediator_ids:
        matches.append(_flag(Mediator.id.in_(_values("mediator_ids"))))
    return matches


def _serves_case_centre():
    return exists().where(mediator_centres.c.mediator_id == Mediator.id,
                          mediator_centres.c.centre_id == bindparam("centre_id"))


def _has_row(*conditions):
    """Whether a row meets the conditions, looked up by primary key for each mediator.

    A scalar subquery with LIMIT 1 rather than EXISTS: PostgreSQL would otherwise hash every
    row of the category (tens of thousands) when it expects many candidates.
    """
    return select(literal(1)).where(*conditions).limit(1).scalar_subquery().is_not(None)


def _speaks(index: int):
    """Whether the mediator lists the index-th language asked for (whole names only)."""
    padded = literal(",") + func.replace(Mediator.languages, " ", "") + literal(",")
    return _flag(padded.like(bindparam(f"language_{index}"), escape="/"))


def _flag(condition):
    return sql_case((condition, 1.0), else_=0.0)


def _real(column):
    return cast(column, Float)


def _mean(expressions: list):
    return sum(expressions[1:], expressions[0]) / float(len(expressions))


def explain(row, keys: list[str], facts: CaseFacts, needs: Needs) -> Recommendation:
    """The recommendation for one result row: each part's points and its reason."""
    parts = []
    for key in keys:
        share = float(getattr(row, f"share_{key}"))
        detail, params = DETAILS[key](row, share, facts, needs)
        parts.append(ScorePart(key, LABELS[key], WEIGHTS[key] * share, detail, params))
    score = sum(part.points for part in parts)
    return Recommendation(mediator_id=row.id, name=row.name, score=score, parts=parts)


def _specialty_detail(row, share, facts, needs):
    if share:
        return N_("Specialises in this kind of dispute"), {}
    return N_("This kind of dispute is not among their specialties"), {}


def _proximity_detail(row, share, facts, needs):
    if row.centre_id == facts.centre_id:
        return N_("Based at the case's centre, %(centre)s"), {"centre": facts.centre_name}
    if share == PROXIMITY_SHARES["serves"]:
        return N_("Serves the case's centre, %(centre)s"), {"centre": facts.centre_name}
    if row.centre_id in facts.ancestors:
        return (N_("Based at %(centre)s, which covers the case's centre"),
                {"centre": row.centre_name})
    return N_("Serves a centre that covers the case's centre"), {}


def _track_record_detail(row, share, facts, needs):
    rate = round(share * 100)
    if not row.cases_handled:
        return N_("No cases handled yet; counted at the typical rate of %(rate)s%%"), {"rate": rate}
    return (N_("%(settled)s of %(handled)s cases settled; counted as %(rate)s%% allowing for "
               "the number of cases"),
            {"settled": row.cases_settled, "handled": row.cases_handled, "rate": rate})


def _satisfaction_detail(row, share, facts, needs):
    if not row.rating_count:
        return (N_("Not rated yet; counted at the typical rating of %(mean)s"),
                {"mean": f"{RATING_PRIOR_MEAN:.1f}"})
    return (N_("Rated %(mean)s out of 5 by %(count)s parties"),
            {"mean": f"{row.rating_sum / row.rating_count:.1f}", "count": row.rating_count})


def _languages_detail(row, share, facts, needs):
    spoken = {part.strip() for part in row.languages.split(",")}
    matched = [l for l in needs.languages if l in spoken]
    missing = [l for l in needs.languages if l not in spoken]
    if not missing:
        return N_("Speaks %(languages)s, as the parties asked"), {"languages": "、".join(matched)}
    if not matched:
        return N_("Does not speak %(languages)s"), {"languages": "、".join(missing)}
    return (N_("Speaks %(matched)s but not %(missing)s"),
            {"matched": "、".join(matched), "missing": "、".join(missing)})


def _load_detail(row, share, facts, needs):
    return (N_("%(load)s of %(capacity)s cases in hand"),
            {"load": row.current_load, "capacity": row.capacity})


def _preferences_detail(row, share, facts, needs):
    matched = round(share * needs.preference_count)
    return (N_("Matches %(matched)s of the %(requested)s preferences the parties stated"),
            {"matched": matched, "requested": needs.preference_count})


DETAILS = {
    "specialty": _specialty_detail,
    "proximity": _proximity_detail,
    "track_record": _track_record_detail,
    "satisfaction": _satisfaction_detail,
    "languages": _languages_detail,
    "load": _load_detail,
    "preferences": _preferences_detail,
}
