"""Officer pages and the cases API: scoped by jurisdiction, the same rules
of procedure as the services (issue 4 items 1 and 8)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.cases import services
from sanxiang.cases.models import Case, CaseStep, StepStatus
from sanxiang.conftest import log_in, no_horizontal_scroll

from .conftest import at
from sanxiang.core import clock


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_county_officer_cannot_see_another_countys_case_by_page(world, open_case):
    case = open_case()
    mine = client_for(world.u_changan)
    assert mine.get(f"/workbench/cases/{case.pk}/").status_code == 200
    other = client_for(world.u_zhengding)
    r = other.get(f"/workbench/cases/{case.pk}/")
    assert r.status_code == 404 and case.title not in r.content.decode()
    assert case.title not in other.get("/workbench/cases/?scope=all").content.decode()
    assert case.title in mine.get("/workbench/cases/?scope=all").content.decode()
    # the city legal office supervising 长安区 sees it; 唐山's does not
    assert client_for(world.u_legal_sjz).get(f"/workbench/cases/{case.pk}/").status_code == 200
    assert client_for(world.u_legal_ts).get(f"/workbench/cases/{case.pk}/").status_code == 404


def test_a_county_officer_cannot_see_another_countys_case_by_api(world, open_case):
    case = open_case()
    _, zhengding = create_token(actor="t", agency=world.amr_zhengding, name="正定办案系统", scopes=["read", "cases:write"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {zhengding}")
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert c.get("/api/v1/cases").json()["items"] == []
    r = c.post(f"/api/v1/cases/{case.pk}/steps", {"code": "opening"}, content_type="application/json")
    assert r.status_code == 404
    assert not case.steps.exists()
    listing = client_for(world.u_changan).get("/api/v1/cases").json()
    assert [row["id"] for row in listing["items"]] == [case.pk]


def test_opening_a_case_and_running_steps_through_the_api_enforces_the_rules(world):
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = c.post("/api/v1/cases", {
        "title": "某药店销售劣药案", "act_kind": "penalty", "procedure": "general", "party_name": "某药店",
        "party_type": "legal_person", "opened_on": "2026-09-01", "officer_ids": [world.changan_officer.pk],
    }, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["deadlines"][0]["due_on"] == "2026-11-30" and body["next_steps"][0]["code"] == "opening"
    case_id = body["id"]
    r = c.post(f"/api/v1/cases/{case_id}/steps", {"code": "opening", "at": "2026-09-01T09:00:00+08:00"},
               content_type="application/json")
    assert r.status_code == 201
    step_id = r.json()["id"]
    r = c.post(f"/api/v1/cases/{case_id}/steps/{step_id}/complete", {"at": "2026-09-01T10:00:00+08:00",
               "documents": [{"kind": "立案审批表"}]}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    r = c.post(f"/api/v1/cases/{case_id}/steps", {"code": "investigation", "at": "2026-09-02T09:00:00+08:00"},
               content_type="application/json")
    assert r.status_code == 422
    error = r.json()
    assert error["code"] == "too_few_officers" and error["field"] == "officers" and "第四十二条" in error["message"]
    r = c.post(f"/api/v1/cases/{case_id}/steps", {"code": "investigation", "at": "2026-09-02T09:00:00+08:00",
               "officer_ids": [world.changan_officer.pk, world.changan_officer2.pk]}, content_type="application/json")
    assert r.status_code == 201 and "音像" in r.json()["av_requirement"]


def test_a_summary_fine_above_the_limit_is_refused_by_the_api_with_the_article(world):
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = c.post("/api/v1/cases", {
        "title": "当场处罚", "act_kind": "penalty", "procedure": "summary", "party_name": "李某", "party_type": "natural_person",
        "officer_ids": [world.changan_officer.pk, world.changan_officer2.pk], "proposed_penalty_categories": ["罚款"],
        "proposed_fine_fen": 30000}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "summary_fine_limit" and "第五十一条" in r.json()["message"]
    assert not Case.objects.exists()


def test_a_read_only_token_cannot_write(world, open_case):
    case = open_case()
    _, token = create_token(actor="t", agency=world.amr_changan, name="只读", scopes=["read"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 200
    r = c.post(f"/api/v1/cases/{case.pk}/steps", {"code": "opening"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"


def test_a_hearing_waiver_recorded_through_the_api_lets_the_decision_go_ahead(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = c.post(f"/api/v1/cases/{case.pk}/steps", {"code": "decision", "at": "2026-09-03T09:00:00+08:00"},
               content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "hearing_period_running"
    r = c.post(f"/api/v1/cases/{case.pk}/hearing-waiver", {"waived_on": "2026-09-09"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["hearing_waived_on"] == "2026-09-09"
    r = c.post(f"/api/v1/cases/{case.pk}/hearing-waiver", {"waived_on": "someday"}, content_type="application/json")
    assert r.status_code == 422 and "waived_on" in r.content.decode()
    r = c.post(f"/api/v1/cases/{case.pk}/steps", {"code": "decision", "at": "2026-09-09T15:00:00+08:00"},
               content_type="application/json")
    assert r.status_code == 201, r.content


def test_the_case_page_records_a_hearing_request_or_a_waiver(world, open_case, walk):
    today = clock.today()
    case = open_case(opened_on=today - timedelta(days=2))
    walk(case, ["opening", "investigation", "notification"], today - timedelta(days=1))
    period = case.deadlines.get(kind="hearing_request")
    c = client_for(world.u_changan)
    detail = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert f"{period.due_on:%Y年%m月%d日}届满" in detail and "登记当事人书面放弃听证" in detail
    r = c.post(f"/workbench/cases/{case.pk}/hearing-waiver/", {"waived_on": (today - timedelta(days=2)).isoformat()},
               follow=True)
    assert "放弃听证日期不能早于告知送达日期" in r.content.decode()
    r = c.post(f"/workbench/cases/{case.pk}/hearing-waiver/", {"waived_on": today.isoformat()}, follow=True)
    page = r.content.decode()
    assert "已登记放弃听证" in page and f"放弃听证日期 {today:%Y-%m-%d}" in page and "登记当事人书面放弃听证" not in page
    assert "届满" not in page
    case.refresh_from_db()
    assert case.hearing_waived_on == today


def test_an_officer_opens_a_case_and_records_a_step_from_the_pages(world):
    c = client_for(world.u_changan)
    form = c.get("/workbench/cases/new/")
    assert form.status_code == 200 and "立案" in form.content.decode()
    r = c.post("/workbench/cases/new/", {
        "title": "某餐馆无证经营案", "act_kind": "penalty", "procedure": "general", "party_name": "某餐馆",
        "party_type": "individual_business", "opened_on": clock.today().isoformat(),
        "officers": [world.changan_officer.pk, world.changan_officer2.pk]})
    assert r.status_code == 302, r.content.decode()[:3000]
    case = Case.objects.get(title="某餐馆无证经营案")
    detail = c.get(r["Location"]).content.decode()
    assert "立案" in detail and f"/workbench/cases/{case.pk}/steps/start/opening/" in detail
    r = c.post(f"/workbench/cases/{case.pk}/steps/start/opening/", {
        "officers": [world.changan_officer.pk, world.changan_officer2.pk], "place": "局机关", "note": "案源：投诉举报"})
    assert r.status_code == 302
    step = CaseStep.objects.get(case=case, code="opening")
    page = c.get(r["Location"]).content.decode()
    assert f"/workbench/cases/{case.pk}/steps/{step.pk}/evidence/" in page and 'id="evidence-upload"' in page
    r = c.post(f"/workbench/cases/{case.pk}/steps/{step.pk}/", {"place": "局机关", "note": "经负责人批准立案",
                                                                "documents": "立案审批表\n案件来源登记表"})
    assert r.status_code == 302
    step.refresh_from_db()
    assert step.status == StepStatus.COMPLETED and [d["kind"] for d in step.documents] == ["立案审批表", "案件来源登记表"]
    # the next step needs AV: completing it without any is refused on the page, with the reason
    c.post(f"/workbench/cases/{case.pk}/steps/start/investigation/", {
        "officers": [world.changan_officer.pk, world.changan_officer2.pk], "place": "某餐馆"})
    inv = CaseStep.objects.get(case=case, code="investigation")
    r = c.post(f"/workbench/cases/{case.pk}/steps/{inv.pk}/", {"note": "现场检查"})
    assert r.status_code == 400 and "须音像记录" in r.content.decode()


def test_a_step_start_refused_by_the_rules_shows_the_article_on_the_page(world, open_case, walk):
    case = open_case(officers=[world.changan_officer])
    walk(case, ["opening"], date(2026, 9, 1))
    c = client_for(world.u_changan)
    detail = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "第四十二条" in detail  # the next step is shown as refused, with the reason
    r = c.post(f"/workbench/cases/{case.pk}/steps/start/investigation/", {"officers": [world.changan_officer.pk]})
    assert r.status_code == 400 and "不得少于2人" in r.content.decode()


def test_deadlines_page_lists_overdue_and_upcoming_deadlines_in_scope(world, open_case):
    today = clock.today()
    overdue = open_case(title="逾期未决案", opened_on=today - timedelta(days=120))
    upcoming = open_case(title="即将到期案", opened_on=today - timedelta(days=80))
    c = client_for(world.u_legal_sjz)
    page = c.get("/workbench/cases/deadlines/").content.decode()
    overdue_part, upcoming_part = page.split("<h2>")[1:3]  # the 逾期 section, then the 30-day one
    assert overdue.title in overdue_part and upcoming.title not in overdue_part
    assert upcoming.title in upcoming_part
    assert "第六十条" in page
    assert overdue.title not in client_for(world.u_legal_ts).get("/workbench/cases/deadlines/").content.decode()


def test_the_head_approves_an_av_exemption_on_the_page(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    step = services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
    officer = client_for(world.u_changan)
    officer.post(f"/workbench/cases/{case.pk}/steps/{step.pk}/exemption/", {"reason": "设备故障，已报修"})
    page = client_for(head).get(f"/workbench/cases/{case.pk}/steps/{step.pk}/").content.decode()
    assert "设备故障" in page and f"/workbench/cases/{case.pk}/steps/{step.pk}/exemption/approve/" in page
    client_for(head).post(f"/workbench/cases/{case.pk}/steps/{step.pk}/exemption/approve/")
    step.av_exemption.refresh_from_db()
    assert step.av_exemption.is_approved and step.av_exemption.approved_by == head
    av_page = client_for(head).get("/workbench/cases/av/").content.decode()
    assert "全过程" in av_page and world.amr_changan.name in av_page


def test_case_pages_fit_a_phone(browser_page, world, open_case, walk):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    pg = browser_page
    log_in(pg, "changan_officer", world.password)
    pg.goto(pg.base + f"/workbench/cases/{case.pk}/")
    assert "调查取证" in pg.content()
    assert no_horizontal_scroll(pg)
    pg.goto(pg.base + f"/workbench/cases/{case.pk}/steps/start/investigation/")
    assert no_horizontal_scroll(pg)
    assert re.search("执法人员", pg.content())


def _date_input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag is not None and 'type="date"' in tag.group(0), f"no date input {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def test_the_open_case_page_records_a_natural_persons_id_number(world):
    """Without it a decided case of a natural person could not reach
    publicity (公示-14: the intake requires the ID number), and no page
    could add it later (journey (a) of issue 11 stopped there)."""
    c = client_for(world.u_changan)
    assert 'name="party_id_number"' in c.get("/workbench/cases/new/").content.decode()
    r = c.post("/workbench/cases/new/", {
        "title": "张某某无照经营案", "act_kind": "penalty", "procedure": "general", "party_name": "张某某",
        "party_type": "natural_person", "party_id_number": "130102198503150312",
        "opened_on": clock.today().isoformat(), "officers": [world.changan_officer.pk, world.changan_officer2.pk]})
    assert r.status_code == 302, r.content.decode()[:3000]
    case = Case.objects.get(title="张某某无照经营案")
    assert case.party_id_number == "130102198503150312" and case.party_credit_code == ""


def test_the_open_case_page_fills_in_todays_date_in_iso_form_for_the_date_input(world):
    """A type=date input shows only an ISO value (YYYY-MM-DD); zh-hans would
    render 2026/09/02 and the browser would show the field empty."""
    page = client_for(world.u_changan).get("/workbench/cases/new/").content.decode()
    assert _date_input_value(page, "opened_on") == clock.today().isoformat()


def test_the_hearing_request_period_counts_from_the_day_the_notice_was_served_given_through_the_api(
        world, open_case, walk):
    """The notice (告知书) was served on Friday 4 September; the step's record
    is completed on 10 September: the party's 5 working days run from the
    service, to 11 September, not from the day the record was completed."""
    from sanxiang.cases.models import DeadlineKind

    case = open_case()
    walk(case, ["opening", "investigation"], date(2026, 9, 2))
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = c.post(f"/api/v1/cases/{case.pk}/steps", {"code": "notification", "at": "2026-09-03T09:00:00+08:00"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    step_id = r.json()["id"]
    url = f"/api/v1/cases/{case.pk}/steps/{step_id}/complete"
    r = c.post(url, {"at": "2026-09-10T09:00:00+08:00", "served_on": "2026-09-11"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "served_on"  # after the record's completion
    r = c.post(url, {"at": "2026-09-10T09:00:00+08:00", "served_on": "2026-09-02"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "served_on"  # before the step began
    r = c.post(url, {"at": "2026-09-10T09:00:00+08:00", "served_on": "2026-09-04"}, content_type="application/json")
    assert r.status_code == 200, r.content
    case.refresh_from_db()
    assert case.notified_on == date(2026, 9, 4)
    request = case.deadlines.get(kind=DeadlineKind.HEARING_REQUEST)
    assert (request.start_on, request.due_on) == (date(2026, 9, 4), date(2026, 9, 11))


def test_the_notification_step_page_records_the_day_the_notice_was_served(world, open_case, walk):
    from sanxiang.cases.models import DeadlineKind

    case = open_case()
    walk(case, ["opening", "investigation"], date(2026, 9, 2))
    step = services.start_step(actor=world.u_changan, case=case, code="notification", at=at(date(2026, 9, 3), 9))
    c = client_for(world.u_changan)
    page = c.get(f"/workbench/cases/{case.pk}/steps/{step.pk}/").content.decode()
    assert 'name="served_on"' in page and "送达日期" in page
    r = c.post(f"/workbench/cases/{case.pk}/steps/{step.pk}/", {"note": "告知书已直接送达", "served_on": "2026-09-01"})
    assert r.status_code == 400 and "不能早于本环节开始日" in r.content.decode()
    r = c.post(f"/workbench/cases/{case.pk}/steps/{step.pk}/", {"note": "告知书已直接送达", "served_on": "2026-09-04"})
    assert r.status_code == 302, r.content.decode()[:2000]
    request = case.deadlines.get(kind=DeadlineKind.HEARING_REQUEST)
    assert (request.start_on, request.due_on) == (date(2026, 9, 4), date(2026, 9, 11))
    # other steps have no such field
    opening = CaseStep.objects.get(case=case, code="opening")
    assert 'name="served_on"' not in c.get(f"/workbench/cases/{case.pk}/steps/{opening.pk}/").content.decode()
