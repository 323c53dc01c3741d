"""Optimistic locking on the case page: two clerks load the same version, the first one acts,
the second one's stale submission is refused with 409, nothing of it is saved, and what the
second clerk typed comes back in the open form with the new version."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.workdays import today
from cases.models import Case, MediationSession
from cases.services import fire_transition
from conftest import sign_in


def signed_in(app, user):
    """A client of its own signed in as `user`, with English labels."""
    return sign_in(app.test_client(), user, "en")


def shown_version(page: str, form: str) -> int:
    return int(re.search(rf'name="{form}-version" type="hidden" value="(\d+)"', page).group(1))


def audit_log(case):
    db.session.expire_all()
    return [(e.trigger, e.actor_name) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq))]


@pytest.fixture
def clerks(app, world):
    """Two signed-in clients: the clerk and the director of the same centre."""
    return signed_in(app, world.clerk), signed_in(app, world.users["director"])


@pytest.fixture
def mediating_case(make_case, world):
    case = make_case(today=today())
    fire_transition(case, "accept", world.clerk, data={"mediation_type": "people"})
    fire_transition(case, "assign", world.clerk, data={
        "mediator_id": world.mediator.id, "chosen_by": "parties", "mediator_accepted": True,
        "conflict_declared": True, "has_conflict": False})
    return case


def test_the_second_transition_on_an_old_version_is_refused(clerks, mediating_case, world):
    first, second = clerks
    case = mediating_case
    url = f"/cases/{case.id}"
    version = shown_version(first.get(url).get_data(as_text=True), "extend")
    assert shown_version(second.get(url).get_data(as_text=True), "suspend") == version
    log = audit_log(case)

    response = first.post(f"{url}/transitions/extend", data={
        "extend-version": version, "extend-days": "10", "extend-all_parties_consent": "y"})
    assert response.status_code == 302
    response = second.post(f"{url}/transitions/suspend", data={
        "suspend-version": version, "suspend-reason_code": "awaiting_evidence",
        "suspend-reason": "等待申请人补交维修发票。"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r"This case was changed by clerk user at \d\d:\d\d while you were working; "
                     r"your entry is kept below", page)
    assert '<details class="action" id="action-suspend" open>' in page
    assert "等待申请人补交维修发票。" in page
    assert '<option selected value="awaiting_evidence">' in page
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert shown_version(page, "suspend") == case.version == version + 1
    assert case.status == "mediating"
    assert audit_log(case) == log + [("extend", "clerk user")]

    # Checked and sent again with the version it now carries, the entry goes through.
    response = second.post(f"{url}/transitions/suspend", data={
        "suspend-version": case.version, "suspend-reason_code": "awaiting_evidence",
        "suspend-reason": "等待申请人补交维修发票。"})
    assert response.status_code == 302
    assert audit_log(case)[-1] == ("suspend", "director user")


def test_a_stale_entry_for_an_action_no_longer_possible_is_kept_but_cannot_be_sent(
        clerks, make_case):
    first, second = clerks
    case = make_case()
    version = case.version
    assert first.post(f"/cases/{case.id}/transitions/accept", data={
        "accept-version": version, "accept-mediation_type": "people"}).status_code == 302
    response = second.post(f"/cases/{case.id}/transitions/decline", data={
        "decline-version": version, "decline-reason_code": "in_litigation",
        "decline-redirect_channel": "court", "decline-reason": "已向法院起诉。"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This case was changed by clerk user" in page
    assert "已向法院起诉。" in page
    assert "no longer possible in the case's current state" in page
    assert re.search(r'<button type="submit" class="danger" disabled>', page)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "matching"
    assert [t for t, _ in audit_log(case)] == ["register", "accept"]


def test_the_second_session_record_on_an_old_version_is_refused(clerks, mediating_case):
    first, second = clerks
    case = mediating_case
    url = f"/cases/{case.id}"
    version = shown_version(first.get(url).get_data(as_text=True), "session")
    assert shown_version(second.get(url).get_data(as_text=True), "session") == version
    log = audit_log(case)

    def session(client, minutes):
        return client.post(f"{url}/sessions", data={
            "session-version": version, "session-held_at": "2026-11-20T15:30",
            "session-mode": "video", "session-attendees": "张三、李四、林秀英",
            "session-minutes": minutes})

    assert session(first, "第一次视频调解。").status_code == 302
    response = session(second, "第二位书记员的记录：双方同意分期付款。")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This case was changed by clerk user" in page
    assert '<details class="action" id="action-session" open>' in page
    assert "第二位书记员的记录：双方同意分期付款。" in page
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert shown_version(page, "session") == case.version == version + 1
    assert [s.minutes for s in db.session.scalars(select(MediationSession))] == ["第一次视频调解。"]
    assert audit_log(case) == log + [("record_session", "clerk user")]


def test_a_transition_on_an_old_version_after_a_session_record_is_refused(
        clerks, mediating_case):
    """Recording a session bumps the version too: a form loaded before it is stale."""
    first, second = clerks
    case = mediating_case
    version = case.version
    assert first.post(f"/cases/{case.id}/sessions", data={
        "session-version": version, "session-held_at": "2026-11-20T15:30",
        "session-mode": "phone", "session-attendees": "张三", "session-minutes": "电话沟通。"}
    ).status_code == 302
    response = second.post(f"/cases/{case.id}/transitions/terminate", data={
        "terminate-version": version, "terminate-reason_code": "party_unwilling",
        "terminate-failure_summary": "被申请人拒绝继续调解。"})
    assert response.status_code == 409
    assert "被申请人拒绝继续调解。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "mediating"
    assert [t for t, _ in audit_log(case)][-1] == "record_session"



def test_a_change_committed_between_the_check_and_the_save_is_refused(
        app, clerks, mediating_case, monkeypatch):
    """The version check in the UPDATE itself catches a change that lands mid-request."""
    import cases.views_case
    from sqlalchemy import text
    real_fire = cases.views_case.fire_transition

    def fire_after_a_concurrent_change(case, *args, **kwargs):
        with db.engine.begin() as other:
            other.execute(text("UPDATE cases SET version = version + 1 WHERE id = :id"),
                          {"id": case.id})
        return real_fire(case, *args, **kwargs)

    monkeypatch.setattr(cases.views_case, "fire_transition", fire_after_a_concurrent_change)
    first, _ = clerks
    case = mediating_case
    version = case.version
    response = first.post(f"/cases/{case.id}/transitions/suspend", data={
        "suspend-version": version, "suspend-reason_code": "appraisal",
        "suspend-reason": "委托鉴定机构评估损失。"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "while you were working" in page and "委托鉴定机构评估损失。" in page
    assert shown_version(page, "suspend") == version + 1
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "mediating"
    assert "suspend" not in [t for t, _ in audit_log(case)]
