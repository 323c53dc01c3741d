"""The case page: particulars, clocks, lifecycle picture, history, and every action through
the web (allowed actions only, guard refusals, form errors, permissions)."""
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.workdays import today
from cases.models import Case, MediationSession
from cases.services import fire_transition
from conftest import person, sign_in
from lifecycle_paths import PATHS


def signed_in(app, user):
    """A client of its own signed in as `user`, with English labels."""
    return sign_in(app.test_client(), user, "en")


@pytest.fixture
def clerk(app, world):
    return signed_in(app, world.clerk)


def web_data(trigger, world):
    """Valid form fields for each trigger, dated relative to the server's today."""
    now = today()
    return {
        "accept": {"mediation_type": "people"},
        "decline": {"reason_code": "not_civil_dispute", "redirect_channel": "court"},
        "transfer": {"to_centre_id": world.city.id},
        "assign": {"mediator_id": world.mediator.id, "chosen_by": "parties",
                   "mediator_accepted": "y", "conflict_declared": "y"},
        "change_mediator": {"reason_code": "recusal"},
        "suspend": {"reason_code": "appraisal"},
        "resume": {},
        "extend": {"days": "10", "all_parties_consent": "y"},
        "reach_agreement": {
            "facts": "楼上漏水致楼下受损。", "disputed_matters": "维修费用承担。",
            "responsibilities": "被申请人承担主要责任。", "terms": "被申请人赔偿3000元。",
            "performance_method": "银行转账", "effective_on": now.isoformat(),
            "performance_deadline": (now + timedelta(days=10)).isoformat()},
        "apply_confirmation": {"court_name": "福州市鼓楼区人民法院", "joint": "y"},
        "confirm": {"court_name": "福州市鼓楼区人民法院", "ruling_number": "（2026）闽0102民特1号",
                    "ruling_date": now.isoformat()},
        "reject_confirmation": {"ruling_number": "（2026）闽0102民特2号"},
        "terminate": {"reason_code": "party_unwilling", "failure_summary": "被申请人拒绝继续调解。"},
        "refer": {"body_kind": "court", "receiving_body": "福州市鼓楼区人民法院"},
        "withdraw": {"by_applicant": "y"},
        "follow_up": {"performance": "full"},
    }[trigger]


def post(client, case, trigger, version=None, **fields):
    data = {f"{trigger}-version": case.version if version is None else version}
    data.update({f"{trigger}-{name}": value for name, value in fields.items()})
    return client.post(f"/cases/{case.id}/transitions/{trigger}", data=data)


def reload(case):
    db.session.expire_all()
    return db.session.get(Case, case.id)


def events(case):
    return db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.case_id == case.id))


@pytest.fixture
def step(clerk, world):
    """Fire a trigger through the web with valid data; check it moved and logged one event."""
    def fire(case, trigger, expect=None, **overrides):
        before = events(case)
        response = post(clerk, case, trigger, **{**web_data(trigger, world), **overrides})
        assert response.status_code == 302, response.get_data(as_text=True)
        case = reload(case)
        if expect:
            assert case.status == expect
        assert events(case) == before + 1
        page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
        assert page.count('class="tl-head"') == before + 1
        return case
    return fire


@pytest.fixture
def case_in(make_case, world):
    """A case brought to a state through the services, dated today."""
    service_data = {
        "accept": {"mediation_type": "people"},
        "assign": {"mediator_id": world.mediator.id, "chosen_by": "parties",
                   "mediator_accepted": True, "conflict_declared": True, "has_conflict": False},
        "suspend": {"reason_code": "appraisal"},
        "terminate": {"reason_code": "party_unwilling", "failure_summary": "拒绝调解"},
        "refer": {"body_kind": "court", "receiving_body": "鼓楼区人民法院"},
        "reach_agreement": {"agreement": {
            "facts": "f", "disputed_matters": "d", "responsibilities": "r", "terms": "t",
            "performance_method": "m", "performance_deadline": today() + timedelta(days=5),
            "effective_on": today()}},
        "apply_confirmation": {"joint": True, "court_name": "鼓楼区人民法院"},
    }

    def make(state, **intake):
        case = make_case(today=today(), **intake)
        for trigger in PATHS[state]:
            fire_transition(case, trigger, world.clerk, data=service_data[trigger])
        assert case.status == state
        return case
    return make


def test_page_shows_particulars_and_parties_with_masked_ids(clerk, make_case):
    case = make_case(amount=3000, parties=[
        person(agent_name="王律师", agent_relation="lawyer"),
        person("respondent", "李四", "110105198001010032")])
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    for text in (case.number, "鼓楼区矛盾纠纷调解中心", "Walk-in", "Neighbours",
                 "楼上漏水导致楼下天花板受损。", "请求赔偿维修费3000元。", "¥3,000.00",
                 "2026-11-16", "张三", "李四", "Applicant", "Respondent", "王律师", "Lawyer"):
        assert text in page, text
    assert "110105********0032" in page
    assert "110105198001010032" not in page


def test_clocks_show_due_dates_and_an_overdue_badge(clerk, make_case):
    late = make_case(today=date(2020, 3, 2))
    page = clerk.get(f"/cases/{late.id}").get_data(as_text=True)
    assert "Acceptance due" in page and "2020-03-05" in page
    assert 'class="badge badge-overdue"' in page
    fresh = make_case(today=today())
    page = clerk.get(f"/cases/{fresh.id}").get_data(as_text=True)
    assert fresh.acceptance_due.isoformat() in page
    assert 'class="badge badge-overdue"' not in page


def test_a_due_date_beyond_the_official_calendar_is_marked_provisional(clerk, make_case):
    case = make_case(today=date(2027, 3, 1))
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "2027-03-04" in page and "badge-provisional" in page


def test_lifecycle_picture_marks_the_current_state(clerk, make_case, step):
    case = make_case(today=today())
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "<svg" in page
    assert re.search(r'<g class="node current"[^>]*data-state="registered" aria-current="step">',
                     page)
    assert page.count('aria-current="step"') == 1
    case = step(case, "accept", "matching")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r'<g class="node current"[^>]*data-state="matching"', page)


def action_urls(page):
    return set(re.findall(r'/transitions/(\w+)"', page))


def test_only_allowed_actions_are_offered(clerk, case_in, make_case):
    page = clerk.get(f"/cases/{make_case().id}").get_data(as_text=True)
    assert action_urls(page) == {"accept", "decline", "transfer", "withdraw"}
    assert "/sessions" not in page
    page = clerk.get(f"/cases/{case_in('mediating').id}").get_data(as_text=True)
    assert action_urls(page) == {"change_mediator", "suspend", "extend", "reach_agreement",
                                 "terminate", "withdraw"}
    assert "/sessions" in page


def test_prefills_and_mediator_load_in_the_forms(clerk, world, make_case, case_in):
    case = make_case(mediation_type="joint")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="joint">', page)
    assert re.search(rf'<option selected value="{world.county.id}"', page) is None
    assert re.search(rf'<option selected value="{world.city.id}">', page)  # the parent
    case_in("mediating")
    matching = case_in("matching")
    page = clerk.get(f"/cases/{matching.id}").get_data(as_text=True)
    assert "林秀英 (1/3)" in page
    assert "陈建国" not in page  # a mediator of another county


def test_a_case_through_agreement_to_closure(clerk, step, make_case, world):
    case = make_case(today=today())
    case = step(case, "accept", "matching")
    case = step(case, "assign", "mediating")
    before = events(case)
    response = clerk.post(f"/cases/{case.id}/sessions", data={
        "session-version": case.version, "session-held_at": "2026-11-20T10:00",
        "session-mode": "in_person", "session-place": "东街调解室",
        "session-attendees": "张三、李四", "session-minutes": "双方同意赔偿金额。"})
    assert response.status_code == 302
    case = reload(case)
    assert events(case) == before + 1 and len(case.sessions) == 1
    assert case.sessions[0].held_at == datetime(2026, 11, 20, 2, 0)  # stored in UTC
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "2026-11-20 10:00" in page and "双方同意赔偿金额。" in page and "Session recorded" in page
    case = step(case, "reach_agreement", "agreed")
    assert case.current_agreement.terms == "被申请人赔偿3000元。"
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Mediation agreement" in page and "被申请人赔偿3000元。" in page
    assert "Follow-up visit due" in page
    case = step(case, "follow_up", "closed", reason="回访：已全部履行。")
    assert case.performance_result == "full"
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Performed in full" in page and "回访：已全部履行。" in page
    assert action_urls(page) == set()
    assert "Mediator: 林秀英" in page


def test_terminate_refer_and_close(clerk, step, case_in):
    case = step(case_in("mediating"), "terminate", "terminated")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "A party is unwilling to continue mediation" in page
    assert "被申请人拒绝继续调解。" in page
    case = step(case, "refer", "referred")
    assert "福州市鼓楼区人民法院" in clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    follow_up = re.search(r'id="action-follow_up".*?</details>', page, re.S).group(0)
    assert "performance" not in follow_up  # nothing to record after a referral
    case = step(case, "follow_up", "closed", performance="")
    assert case.performance_result is None


def test_suspend_resume_and_extend(clerk, step, case_in):
    case = case_in("mediating")
    due = case.mediation_due
    case = step(case, "suspend", "suspended")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "badge-paused" in page and "Appraisal or evaluation" in page
    case = step(case, "resume", "mediating")
    assert case.mediation_due == due  # suspended and resumed the same day
    case = step(case, "extend", "mediating")
    assert case.mediation_due == due + timedelta(days=10)
    assert "Extended by (days):</span> 10" in clerk.get(f"/cases/{case.id}").get_data(as_text=True)


def test_decline(clerk, step, make_case):
    case = step(make_case(), "decline", "declined", reason="属于行政争议。")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Not a civil dispute" in page and "People&#39;s court" in page
    assert "属于行政争议。" in page
    assert action_urls(page) == set()


def test_withdraw(clerk, step, case_in):
    case = step(case_in("matching"), "withdraw", "withdrawn")
    assert case.closed_on == today()


def test_transfer_down_to_a_township(clerk, step, make_case, world):
    case = step(make_case(), "transfer", "registered", to_centre_id=world.township.id)
    assert case.centre_id == world.township.id
    assert "东街街道调解中心" in clerk.get(f"/cases/{case.id}").get_data(as_text=True)


def test_transfer_up_to_the_parent_leaves_the_clerks_view(clerk, make_case, world):
    case = make_case()
    response = post(clerk, case, "transfer", to_centre_id=world.city.id)
    assert response.status_code == 302 and response.location.endswith("/cases/")
    assert reload(case).centre_id == world.city.id
    assert clerk.get(f"/cases/{case.id}").status_code == 404  # the city is above the county


def test_change_mediator(clerk, step, case_in):
    case = step(case_in("mediating"), "change_mediator", "matching")
    assert case.mediator_id is None
    assert "Mediator recusal" in clerk.get(f"/cases/{case.id}").get_data(as_text=True)


def test_judicial_confirmation_and_refusal(clerk, step, case_in):
    case = step(case_in("agreed"), "apply_confirmation", "confirming")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'value="福州市鼓楼区人民法院"' in page  # the confirm form is prefilled with the court
    confirmed = step(case, "confirm", "confirmed")
    assert confirmed.ruling_number == "（2026）闽0102民特1号"
    other = step(case_in("confirming"), "reject_confirmation", "mediating")
    assert "（2026）闽0102民特2号" in clerk.get(f"/cases/{other.id}").get_data(as_text=True)


def assert_unchanged(case, status, version, count):
    case = reload(case)
    assert (case.status, case.version, events(case)) == (status, version, count)


def test_a_failed_guard_answers_409_naming_the_condition(clerk, make_case, world):
    case = make_case(parties=[person(), person("respondent", "李四", "110105198001010032",
                                               refuses_mediation=True)])
    version, count = case.version, events(case)
    response = post(clerk, case, "accept", mediation_type="people", reason="试一下")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "李四 refused mediation" in page and "art. 17" in page
    assert '<details class="action" id="action-accept" open>' in page
    assert "试一下" in page
    assert_unchanged(case, "registered", version, count)


def test_refusing_parties_are_listed_in_the_users_language(app, make_case, world):
    case = make_case(parties=[person(refuses_mediation=True),
                              person("respondent", "李四", "110105198001010032",
                                     refuses_mediation=True)])
    chinese = sign_in(app.test_client(), world.clerk)
    page = post(chinese, case, "accept", mediation_type="people").get_data(as_text=True)
    assert "张三和李四" in page and "第十七条" in page


def test_guard_failures_for_assign_and_extend(clerk, case_in, world):
    case = case_in("matching")
    version, count = case.version, events(case)
    response = post(clerk, case, "assign", mediator_id=world.mediator.id, chosen_by="parties",
                    conflict_declared="y")
    assert response.status_code == 409
    assert "the mediator has not accepted the case" in response.get_data(as_text=True)
    assert_unchanged(case, "matching", version, count)
    case = case_in("mediating")
    version, count = case.version, events(case)
    response = post(clerk, case, "extend", days="10")
    assert response.status_code == 409
    assert "all parties must consent to an extension" in response.get_data(as_text=True)
    assert_unchanged(case, "mediating", version, count)


def test_form_errors_answer_422_and_keep_what_was_typed(clerk, case_in):
    case = case_in("mediating")
    version, count = case.version, events(case)
    response = post(clerk, case, "reach_agreement", facts="楼上漏水。", disputed_matters="费用承担",
                    responsibilities="", terms="", performance_method="",
                    performance_deadline="not a date", effective_on=today().isoformat())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<details class="action" id="action-reach_agreement" open>' in page
    assert "楼上漏水。" in page and "费用承担" in page
    assert "This field is required." in page and "Not a valid date value." in page
    assert_unchanged(case, "mediating", version, count)


def test_a_trigger_the_state_does_not_allow_answers_409(clerk, make_case, world):
    case = make_case()
    version, count = case.version, events(case)
    response = post(clerk, case, "assign", mediator_id=world.mediator.id, chosen_by="parties",
                    mediator_accepted="y", conflict_declared="y")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "the trigger is not allowed in this state" in page and "Registered" in page
    assert_unchanged(case, "registered", version, count)


def test_an_unknown_trigger_is_404(clerk, make_case):
    case = make_case()
    assert post(clerk, case, "explode").status_code == 404
    assert post(clerk, case, "register").status_code == 404


def test_a_supervisor_may_look_but_not_act(app, world, make_case):
    case = make_case()
    supervisor = signed_in(app, world.users["supervisor"])
    page = supervisor.get(f"/cases/{case.id}")
    assert page.status_code == 200 and action_urls(page.get_data(as_text=True)) == set()
    version = case.version
    assert post(supervisor, case, "accept", mediation_type="people").status_code == 403
    assert reload(case).version == version


def test_a_mediator_acts_only_on_mediation_triggers(app, world, case_in):
    case = case_in("mediating")
    mediator = signed_in(app, world.users["mediator"])
    page = mediator.get(f"/cases/{case.id}").get_data(as_text=True)
    assert action_urls(page) == {"suspend", "extend", "reach_agreement", "terminate"}
    assert post(mediator, case, "change_mediator", reason_code="recusal").status_code == 403
    assert post(mediator, case, "suspend", reason_code="appraisal").status_code == 302
    assert reload(case).status == "suspended"


def test_an_outsider_gets_404(app, world, make_case):
    case = make_case()
    outsider = signed_in(app, world.outsider)
    assert outsider.get(f"/cases/{case.id}").status_code == 404
    assert post(outsider, case, "accept", mediation_type="people").status_code == 404
    assert outsider.post(f"/cases/{case.id}/sessions").status_code == 404


def test_sessions_only_while_mediating(clerk, make_case, case_in):
    case = make_case()
    response = clerk.post(f"/cases/{case.id}/sessions", data={
        "session-version": case.version, "session-held_at": "2026-11-20T10:00",
        "session-mode": "phone", "session-attendees": "张三", "session-minutes": "电话沟通。"})
    assert response.status_code == 409
    assert "only while the case is in mediation" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MediationSession.id))) == 0


def test_session_form_errors_keep_what_was_typed(clerk, case_in):
    case = case_in("mediating")
    response = clerk.post(f"/cases/{case.id}/sessions", data={
        "session-version": case.version, "session-held_at": "",
        "session-mode": "video", "session-attendees": "张三、李四",
        "session-minutes": "第二次视频调解，双方各退一步。"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<details class="action" id="action-session" open>' in page
    assert "第二次视频调解，双方各退一步。" in page and "张三、李四" in page
    assert '<option selected value="video">' in page
    assert reload(case).sessions == []


def test_timeline_names_who_what_and_key_data(clerk, step, case_in, world):
    case = step(case_in("matching"), "assign", "mediating", reason="当事人共同选定")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    history = page[page.index('id="timeline-title"'):]
    assert history.index("Registered") < history.index("Accept the case") < history.index(
        "Assign a mediator")
    assert "Mediator:</span> 林秀英" in history
    assert "Chosen by all parties" in history and "当事人共同选定" in history
    assert world.clerk.display_name in history


def test_a_post_with_plain_field_names_is_read_too(clerk, make_case):
    case = make_case()
    response = clerk.post(f"/cases/{case.id}/transitions/accept",
                          data={"version": case.version, "mediation_type": "industry"})
    assert response.status_code == 302
    case = reload(case)
    assert (case.status, case.mediation_type) == ("matching", "industry")


def test_an_incomplete_agreement_names_the_missing_items(clerk, case_in, monkeypatch):
    """The guard's own check: here the form is bypassed to reach it with blank terms."""
    import cases.action_forms
    monkeypatch.setattr(cases.action_forms.ReachAgreementForm, "validate", lambda self: True)
    case = case_in("mediating")
    response = post(clerk, case, "reach_agreement", facts="楼上漏水。", disputed_matters="费用",
                    responsibilities="", terms="", performance_method="付款",
                    performance_deadline=today().isoformat(), effective_on=today().isoformat())
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "the agreement lacks each party&#39;s responsibilities and the agreed terms" in page
    assert reload(case).status == "mediating"


def test_the_lifecycle_picture_places_every_state_and_escapes_labels():
    from cases.lifecycle import POSITIONS, lifecycle_svg
    from workflows import STATES, TERMINAL_STATES, TRANSITION_TABLE
    assert set(POSITIONS) == set(STATES)
    svg = str(lifecycle_svg("suspended", translate=lambda msgid: f"<i>{msgid}</i>&"))
    assert "<i>" not in svg and "&lt;i&gt;Suspended&lt;/i&gt;&amp;" in svg
    assert svg.count("<path class=\"edge") == len(
        {(source, dest) for _, sources, dest in TRANSITION_TABLE for source in sources})
    assert svg.count('class="edge open"') == 3  # resume, terminate, withdraw
    for state in TERMINAL_STATES:
        assert re.search(rf'<g class="node[^"]*terminal[^"]*" data-state="{state}"', svg)


def test_accepting_leads_the_clerk_to_the_access_codes(clerk, make_case):
    case = make_case()
    response = post(clerk, case, "accept", mediation_type="people")
    assert response.status_code == 302
    assert response.location.endswith(f"/cases/{case.id}/choice")
    page = clerk.get(response.location).get_data(as_text=True)
    assert "access code" in page
