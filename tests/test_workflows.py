"""The case lifecycle: every (state, trigger) pair, every guard, clock effects, random sequences."""
import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from hypothesis import HealthCheck, event, given, settings as hsettings, strategies as st

from workflows.clocks import WorkingCalendar, default_settings
from workflows.errors import TransitionError
from workflows.lifecycle import TRANSITION_TABLE, TransitionResult, allowed_triggers, fire, next_due_for
from workflows.vocabulary import STATES, TERMINAL_STATES, TRIGGERS

TODAY = date(2026, 3, 10)  # a Tuesday
D = date
ENV = {"today": TODAY, "calendar": WorkingCalendar(), "settings": default_settings()}
FIELDS = (
    "status centre_id mediation_type registered_on acceptance_due accepted_on choice_due mediator_id "
    "assigned_on mediation_due suspended_on agreement_effective_on confirmation_due performance_due "
    "follow_up_due next_due closed_on outcome_code outcome_detail redirect_channel referral_body_kind "
    "referral_body court_name ruling_number ruling_date confirmation_applied_on performance_result"
).split()
DEST = {(trigger, source): dest for trigger, sources, dest in TRANSITION_TABLE for source in sources}


class FakeCase:
    """A plain stand-in for the Case model."""

    def __init__(self, **values):
        for name in FIELDS:
            setattr(self, name, None)
        self.suspended_days = 0
        for name, value in values.items():
            setattr(self, name, value)


def _attributes():
    court, ruling = "朝阳区人民法院", "（2026）京0105民特1号"
    registered = dict(status="registered", centre_id=1, registered_on=D(2026, 3, 2),
                      acceptance_due=D(2026, 3, 5))
    matching = registered | dict(status="matching", mediation_type="people", accepted_on=D(2026, 3, 4),
                                 choice_due=D(2026, 3, 9))
    mediating = matching | dict(status="mediating", mediator_id=7, assigned_on=D(2026, 3, 5),
                                mediation_due=D(2026, 4, 4))
    agreed = mediating | dict(status="agreed", agreement_effective_on=D(2026, 3, 9),
                              confirmation_due=D(2026, 4, 8), performance_due=D(2026, 3, 31),
                              follow_up_due=D(2026, 4, 15))
    confirming = agreed | dict(status="confirming", confirmation_applied_on=D(2026, 3, 9), court_name=court)
    confirmed = confirming | dict(status="confirmed", ruling_number=ruling, ruling_date=D(2026, 3, 9))
    terminated = mediating | dict(status="terminated", outcome_code="wide_disagreement", outcome_detail="分歧较大")
    return {
        "registered": registered, "matching": matching, "mediating": mediating,
        "suspended": mediating | dict(status="suspended", suspended_on=D(2026, 3, 6)),
        "agreed": agreed, "confirming": confirming, "confirmed": confirmed, "terminated": terminated,
        "referred": terminated | dict(status="referred", referral_body_kind="court", referral_body=court),
        "declined": registered | dict(status="declined", outcome_code="in_litigation",
                                      redirect_channel="court", closed_on=D(2026, 3, 3)),
        "withdrawn": matching | dict(status="withdrawn", outcome_detail="和解", closed_on=D(2026, 3, 6)),
        "closed": confirmed | dict(status="closed", performance_result="full", closed_on=D(2026, 4, 20)),
    }


ATTRIBUTES = _attributes()


def case_in(state, **changes):
    case = FakeCase(**ATTRIBUTES[state])
    case.next_due = next_due_for(case)
    for name, value in changes.items():
        setattr(case, name, value)
    return case


AGREEMENT = {
    "facts": "噪音纠纷", "disputed_matters": "装修时间", "responsibilities": "被申请人负主要责任",
    "terms": "每日20时后停止施工", "performance_method": "自行履行",
    "performance_deadline": D(2026, 3, 31), "effective_on": TODAY,
}
VALID = {
    "accept": {"mediation_type": "people", "refusing_parties": []},
    "decline": {"reason_code": "not_civil_dispute", "redirect_channel": "court"},
    "transfer": {"to_centre_id": 2},
    "assign": {"mediator_id": 9, "chosen_by": "parties", "mediator_accepted": True, "conflict_declared": True,
               "has_conflict": False, "mediator_load": 2, "mediator_capacity": 10},
    "change_mediator": {"reason_code": "recusal"},
    "suspend": {"reason_code": "appraisal"},
    "resume": {},
    "extend": {"all_parties_consent": True, "days": 15},
    "reach_agreement": {"agreement": AGREEMENT},
    "apply_confirmation": {"joint": True, "court_name": "朝阳区人民法院"},
    "confirm": {"ruling_number": "（2026）京0105民特1号", "ruling_date": TODAY},
    "reject_confirmation": {"ruling_number": "（2026）京0105民特2号"},
    "terminate": {"reason_code": "wide_disagreement", "failure_summary": "双方分歧较大"},
    "refer": {"body_kind": "court", "receiving_body": "朝阳区人民法院"},
    "withdraw": {"by_applicant": True},
    "follow_up": {"performance": "full"},
}


@pytest.mark.parametrize("state, trigger", list(product(STATES, TRIGGERS)))
def test_every_state_and_trigger(state, trigger):
    case = case_in(state)
    before = dict(vars(case))
    if (trigger, state) in DEST:
        result = fire(case, trigger, reason="note", **ENV, **VALID[trigger])
        assert isinstance(result, TransitionResult)
        assert (result.source, result.dest, result.trigger) == (state, DEST[trigger, state], trigger)
        assert case.status == result.dest and case.next_due == next_due_for(case)
        assert set(vars(case)) == set(before)  # no trigger methods or other attributes added
        json.dumps(result.data)
    else:
        with pytest.raises(TransitionError) as info:
            fire(case, trigger, **ENV, **VALID[trigger])
        assert f"“{state}”" in str(info.value) and f"“{trigger}”" in str(info.value)
        assert info.value.condition == "not_allowed_in_state"
        assert vars(case) == before


def test_allowed_triggers_follow_the_table():
    assert allowed_triggers(case_in("mediating")) == [
        "change_mediator", "suspend", "extend", "reach_agreement", "terminate", "withdraw"]
    for state in TERMINAL_STATES:
        assert allowed_triggers(case_in(state)) == []


def test_unknown_trigger_and_unknown_state():
    case = case_in("registered")
    with pytest.raises(TransitionError) as info:
        fire(case, "approve", **ENV)
    assert info.value.condition == "unknown_trigger" and "approve" in str(info.value)
    case.status = "limbo"
    with pytest.raises(TransitionError) as info:
        fire(case, "accept", **ENV)
    assert info.value.condition == "unknown_state"


DROP = object()
GUARD_FAILURES = [
    # state, trigger, data changes, case changes, condition, text in the message
    ("registered", "accept", {"mediation_type": DROP}, {}, "mediation_type_missing", "mediation type"),
    ("registered", "accept", {"mediation_type": "bogus"}, {}, "mediation_type_invalid", "bogus"),
    ("registered", "accept", {"refusing_parties": ["张三", "李四"]}, {}, "party_refuses_mediation", "张三, 李四"),
    ("registered", "accept", {"refusing_parties": 5}, {}, "refusing_parties_invalid", "refusing"),
    ("registered", "decline", {"reason_code": "nope"}, {}, "decline_reason_invalid", "reason"),
    ("registered", "decline", {"redirect_channel": DROP}, {}, "redirect_channel_invalid", "channel"),
    ("matching", "transfer", {"to_centre_id": DROP}, {}, "to_centre_missing", "centre"),
    ("registered", "transfer", {"to_centre_id": 1}, {}, "same_centre", "already"),
    ("matching", "assign", {"mediator_id": ""}, {}, "mediator_missing", "mediator"),
    ("matching", "assign", {"chosen_by": "mediator"}, {}, "chosen_by_invalid", "designated"),
    ("matching", "assign", {"chosen_by": "centre"}, {"choice_due": TODAY}, "choice_window_open",
     "2026-03-10"),
    ("matching", "assign", {"mediator_accepted": False}, {}, "mediator_not_accepted", "accepted"),
    ("matching", "assign", {"conflict_declared": DROP}, {}, "conflict_not_declared", "declared"),
    ("matching", "assign", {"has_conflict": True}, {}, "mediator_has_conflict", "conflict"),
    ("matching", "assign", {"mediator_load": "many"}, {}, "capacity_unknown", "capacity"),
    ("matching", "assign", {"mediator_load": 10}, {}, "over_capacity", "10"),
    ("mediating", "change_mediator", {"reason_code": DROP}, {}, "change_reason_invalid", "reason"),
    ("mediating", "suspend", {"reason_code": "holiday"}, {}, "suspend_reason_invalid", "suspending"),
    ("suspended", "resume", {}, {"suspended_on": D(2026, 3, 11)}, "resume_before_suspension", "2026-03-11"),
    ("mediating", "extend", {"all_parties_consent": False}, {}, "parties_not_consenting", "consent"),
    ("mediating", "extend", {"days": 0}, {}, "extension_days_invalid", "365"),
    ("mediating", "extend", {"days": 366}, {}, "extension_days_invalid", "365"),
    ("mediating", "extend", {"days": True}, {}, "extension_days_invalid", "365"),
    ("mediating", "reach_agreement", {"agreement": "agreed"}, {}, "agreement_missing", "terms"),
    ("mediating", "reach_agreement", {"agreement": AGREEMENT | {"terms": " ", "facts": None}}, {},
     "agreement_incomplete", "main facts of the dispute, the agreed terms"),
    ("mediating", "reach_agreement", {"agreement": AGREEMENT | {"effective_on": "2026-13-01"}}, {},
     "agreement_incomplete", "takes effect"),
    ("mediating", "reach_agreement", {"agreement": AGREEMENT | {"effective_on": D(2026, 3, 11)}}, {},
     "agreement_not_yet_effective", "2026-03-11"),
    ("mediating", "reach_agreement", {"agreement": AGREEMENT | {"performance_deadline": D(2026, 3, 9)}}, {},
     "performance_before_effective", "2026-03-09"),
    ("agreed", "apply_confirmation", {"joint": False}, {}, "not_joint_application", "jointly"),
    ("agreed", "apply_confirmation", {"court_name": "  "}, {}, "court_name_missing", "court"),
    ("agreed", "apply_confirmation", {}, {"confirmation_due": D(2026, 3, 9)}, "confirmation_window_closed",
     "30 days"),
    ("confirming", "confirm", {}, {"court_name": None}, "court_name_missing", "court"),
    ("confirming", "confirm", {"ruling_number": ""}, {}, "ruling_number_missing", "ruling number"),
    ("confirming", "confirm", {"ruling_date": "yesterday"}, {}, "ruling_date_invalid", "ruling date"),
    ("confirming", "confirm", {"ruling_date": D(2026, 3, 11)}, {}, "ruling_date_in_future", "2026-03-11"),
    ("confirming", "reject_confirmation", {"ruling_number": DROP}, {}, "ruling_number_missing",
     "ruling number"),
    ("suspended", "terminate", {"reason_code": "tired"}, {}, "termination_reason_invalid", "termination"),
    ("mediating", "terminate", {"failure_summary": " "}, {}, "failure_summary_missing", "summary"),
    ("terminated", "refer", {"body_kind": "police"}, {}, "referral_body_kind_invalid", "kind"),
    ("terminated", "refer", {"receiving_body": DROP}, {}, "receiving_body_missing", "named"),
    ("mediating", "withdraw", {"by_applicant": False}, {}, "not_by_applicant", "applicant"),
    ("agreed", "follow_up", {"performance": DROP}, {}, "performance_invalid", "performed"),
    ("confirmed", "follow_up", {"performance": "great"}, {}, "performance_invalid", "performed"),
]


@pytest.mark.parametrize("state, trigger, data_changes, case_changes, condition, text", GUARD_FAILURES,
                         ids=[row[4] for row in GUARD_FAILURES])
def test_failing_guard_changes_nothing(state, trigger, data_changes, case_changes, condition, text):
    case = case_in(state, **case_changes)
    data = {k: v for k, v in (VALID[trigger] | data_changes).items() if v is not DROP}
    before = dict(vars(case))
    with pytest.raises(TransitionError) as info:
        fire(case, trigger, **ENV, **data)
    err = info.value
    assert (err.state, err.trigger, err.condition) == (state, trigger, condition)
    assert f"Cannot do “{trigger}” on a case in state “{state}”: " in str(err) and text in str(err)
    assert vars(case) == before


def test_error_renders_in_the_users_language():
    with pytest.raises(TransitionError) as info:
        fire(case_in("registered"), "accept", **ENV, mediation_type="people", refusing_parties=["张三"])
    catalogue = {TransitionError.template: "无法对“%(state)s”状态的案件执行“%(trigger)s”：%(detail)s"}
    text = info.value.render(lambda s: catalogue.get(s, s), state_label="已登记", trigger_label="受理")
    assert text.startswith("无法对“已登记”状态的案件执行“受理”：张三")
    assert info.value.message.startswith("%(parties)s")
    assert info.value.params == {"parties": "张三", "names": ["张三"]}


def test_accept_keeps_a_mediation_type_already_set_and_opens_the_choice_window():
    case = case_in("registered", mediation_type="joint")
    fire(case, "accept", **ENV | {"today": D(2026, 9, 30)})
    assert case.mediation_type == "joint" and case.accepted_on == D(2026, 9, 30)
    assert case.choice_due == D(2026, 10, 10) == case.next_due  # 3 working days across National Day


def test_transfer_restarts_the_acceptance_clock():
    case = case_in("matching")
    fire(case, "transfer", **ENV, to_centre_id=5)
    assert (case.status, case.centre_id, case.registered_on) == ("registered", 5, TODAY)
    assert case.acceptance_due == D(2026, 3, 13) == case.next_due
    assert case.accepted_on is None and case.choice_due is None


def test_centre_designates_after_the_window_or_when_parties_waive():
    fire(case_in("matching"), "assign", **ENV, **VALID["assign"] | {"chosen_by": "centre"})
    case = case_in("matching", choice_due=D(2026, 3, 12))
    fire(case, "assign", **ENV, **VALID["assign"] | {"chosen_by": "centre", "parties_waived": True})
    assert case.mediator_id == 9 and case.mediation_due == D(2026, 4, 9) == case.next_due


def test_suspended_time_does_not_count():
    case = case_in("mediating")
    fire(case, "suspend", **ENV, reason_code="appraisal")
    assert case.suspended_on == TODAY and case.next_due is None
    result = fire(case, "resume", **ENV | {"today": D(2026, 3, 20)})
    assert case.mediation_due == D(2026, 4, 14) == case.next_due and case.suspended_days == 10
    assert case.suspended_on is None and result.data == {"paused_days": 10}
    fire(case, "suspend", **ENV | {"today": D(2026, 3, 21)}, reason_code="awaiting_evidence")
    fire(case, "resume", **ENV | {"today": D(2026, 3, 26)})
    assert case.mediation_due == D(2026, 4, 19) and case.suspended_days == 15


def test_extend_moves_the_mediation_deadline():
    case = case_in("mediating")
    result = fire(case, "extend", **ENV, all_parties_consent=True, days="20")
    assert case.mediation_due == D(2026, 4, 24) == case.next_due and result.data["days"] == 20


def test_agreement_sets_confirmation_performance_and_follow_up_dates():
    case = case_in("mediating")
    agreement = AGREEMENT | {"effective_on": "2026-03-09", "amount": Decimal("1200.50"),
                             "signed_by": object()}
    result = fire(case, "reach_agreement", **ENV, agreement=agreement)
    assert case.agreement_effective_on == D(2026, 3, 9) and case.confirmation_due == D(2026, 4, 8)
    assert case.performance_due == D(2026, 3, 31) and case.follow_up_due == D(2026, 4, 15) == case.next_due
    assert result.data["agreement"]["effective_on"] == "2026-03-09"
    assert set(result.data["agreement"]) == set(AGREEMENT)
    json.dumps(result.data)


def test_confirmation_on_the_last_day_then_confirm_with_iso_date():
    case = case_in("agreed", confirmation_due=TODAY)
    fire(case, "apply_confirmation", **ENV, joint=True, court_name="海淀区人民法院")
    assert case.confirmation_applied_on == TODAY and case.next_due is None
    result = fire(case, "confirm", **ENV, ruling_number="（2026）京0108民特9号", ruling_date="2026-03-10")
    assert case.court_name == "海淀区人民法院" and case.ruling_date == TODAY
    assert result.data["ruling_date"] == "2026-03-10" and case.next_due == case.follow_up_due


def test_rejected_confirmation_reopens_mediation():
    case = case_in("confirming")
    fire(case, "reject_confirmation", **ENV, ruling_number="（2026）京0105民特2号")
    assert case.status == "mediating" and case.mediation_due == D(2026, 4, 9) == case.next_due
    assert case.agreement_effective_on is case.confirmation_due is case.follow_up_due is None


def test_outcomes_are_recorded():
    case = case_in("registered")
    fire(case, "decline", **ENV, reason="已起诉", reason_code="in_litigation", redirect_channel="court")
    assert (case.outcome_code, case.outcome_detail, case.closed_on) == ("in_litigation", "已起诉", TODAY)
    case = case_in("suspended")
    fire(case, "terminate", **ENV, reason_code="unreachable", failure_summary="无法联系")
    assert (case.outcome_code, case.outcome_detail, case.suspended_on) == ("unreachable", "无法联系", None)
    fire(case, "follow_up", **ENV)
    assert case.status == "closed" and case.performance_result is None and case.next_due is None
    case = case_in("agreed")
    fire(case, "follow_up", **ENV, performance="partial")
    assert (case.performance_result, case.closed_on) == ("partial", TODAY)


def test_result_data_is_json_safe():
    result = fire(case_in("registered"), "withdraw", **ENV, reason="和解", by_applicant=True,
                  on=D(2026, 3, 1), amount=Decimal("10.5"), who=object(), tags=("a", object()))
    assert result.reason == "和解"
    assert result.data == {"by_applicant": True, "on": "2026-03-01", "amount": "10.5", "tags": ["a"]}


def test_threads_share_nothing():
    errors = []

    def work():
        try:
            for _ in range(50):
                case = case_in("mediating")
                fire(case, "suspend", **ENV, reason_code="appraisal")
                fire(case, "resume", **ENV)
                assert case.status == "mediating"
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 400), st.text(max_size=4),
    st.sampled_from(["", " ", "2026-13-01", "2026-03-10", "people", "court", "full", "appraisal", "other",
                     "centre", "recusal", "unreachable"]),
    st.dates(D(2025, 6, 1), D(2027, 12, 31)), st.just(object()), st.lists(st.text(max_size=3), max_size=2),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10, max_value=10),
)


def valid_data(trigger, case, today):
    data = dict(VALID[trigger])
    if trigger == "transfer":
        data["to_centre_id"] = 3 if case.centre_id == 2 else 2
    elif trigger == "reach_agreement":
        deadline = today + timedelta(days=20)
        data["agreement"] = AGREEMENT | {"effective_on": today, "performance_deadline": deadline}
    elif trigger == "confirm":
        data["ruling_date"] = today
    return data


DETOURS = {"decline", "transfer", "change_mediator", "terminate", "withdraw"}


@hsettings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_trigger_sequences(hyp):
    case, today, successes, results = case_in("registered"), D(2026, 1, 5), 0, []
    for _ in range(hyp.draw(st.integers(1, 25), label="steps")):
        today += timedelta(days=hyp.draw(st.integers(0, 25)))
        allowed = allowed_triggers(case)
        onward = [t for t in allowed if t not in DETOURS] or allowed or list(TRIGGERS)
        trigger = hyp.draw(st.one_of(  # mostly onward, sometimes any allowed, sometimes anything
            st.sampled_from(onward), st.sampled_from(onward),
            st.sampled_from(allowed or list(TRIGGERS)), st.sampled_from(list(TRIGGERS))))
        data = valid_data(trigger, case, today)
        for _ in range(hyp.draw(st.sampled_from([0, 0, 0, 1, 2]))):
            key = hyp.draw(st.sampled_from(sorted(data) + ["agreement", "days", "refusing_parties"]))
            data[key] = hyp.draw(JUNK)
        before = dict(vars(case))
        try:
            result = fire(case, trigger, **ENV | {"today": today}, **data)
        except TransitionError as err:
            assert vars(case) == before and (err.state, err.trigger) == (before["status"], trigger)
        else:
            successes += 1
            results.append(result)
            assert before["status"] not in TERMINAL_STATES
            assert (result.source, result.dest) == (before["status"], DEST[trigger, before["status"]])
            assert case.status == result.dest and case.next_due == next_due_for(case)
            json.dumps(result.data)
        assert case.status in STATES
        event(f"reached {case.status}")
        if case.status in TERMINAL_STATES:
            before = dict(vars(case))
            for trigger in TRIGGERS:
                with pytest.raises(TransitionError):
                    fire(case, trigger, **ENV | {"today": today}, **valid_data(trigger, case, today))
            assert vars(case) == before
            break
    assert len(results) == successes and all(isinstance(r, TransitionResult) for r in results)
