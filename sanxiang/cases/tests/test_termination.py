"""Terminating a case (终止 / 撤销立案) before a decision, with the agency
head's approval: the record says who, when and why, a step under way ends
with the case, and its deadlines stop showing as overdue (记录-1)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.cases import services
from sanxiang.cases.models import CaseStatus, StepStatus
from sanxiang.cases.predicates import can_start_step, can_terminate
from sanxiang.cases.selectors import overdue_deadlines
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry
from sanxiang.core.validators import make_certificate_number

from .conftest import at
from sanxiang.core import clock


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


def _error(exc: ValidationError) -> tuple[str, str, str]:
    field, errors = next(iter(exc.error_dict.items()))
    return field, errors[0].code, " ".join(errors[0].messages)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_agency_head_terminates_a_case_and_the_step_under_way_ends_with_it(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    running = services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
    before = AuditEntry.objects.count()

    services.terminate_case(actor=head, case=case, reason="经调查，违法事实不能成立", on=date(2026, 9, 3))

    case.refresh_from_db()
    running.refresh_from_db()
    assert case.status == CaseStatus.TERMINATED and case.closed_on == date(2026, 9, 3) and case.current_step == ""
    assert case.termination_reason == "经调查，违法事实不能成立" and case.terminated_by == head
    assert running.status == StepStatus.ENDED and running.completed_by == head
    assert not case.deadlines.filter(met_at__isnull=True, superseded=False).exists()
    entry = AuditEntry.objects.get(seq__gt=before, action="case.terminate")
    payload = json.loads(entry.payload)
    assert payload["reason"] == "经调查，违法事实不能成立" and payload["on"] == "2026-09-03"
    assert payload["step_ended"]["code"] == "investigation" and payload["deadlines_superseded"][0]["kind"] == "decision"
    # a terminated case takes no new step and cannot be terminated twice
    verdict = can_start_step(case, "notification", on=date(2026, 9, 4))
    assert not verdict and verdict.code == "case_not_open"
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="notification", at=at(date(2026, 9, 4)))
    assert _error(exc.value)[1] == "case_not_open"
    with pytest.raises(ValidationError) as exc:
        services.terminate_case(actor=head, case=case, reason="重复", on=date(2026, 9, 4))
    assert _error(exc.value)[1] == "case_not_open"


def test_an_officer_cannot_terminate_a_case_without_the_head(world, open_case, head):
    case = open_case()
    with pytest.raises(PermissionDenied):
        services.terminate_case(actor=world.u_changan, case=case, reason="当事人已注销", on=date(2026, 9, 2))
    other_head = core_services.create_user(actor="t", username="zhengding_head", password=world.password,
                                           role="agency_head", agency=world.amr_zhengding)
    with pytest.raises(PermissionDenied):
        services.terminate_case(actor=other_head, case=case, reason="当事人已注销", on=date(2026, 9, 2))
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_a_case_cannot_be_terminated_once_decided(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    assert can_terminate(case)
    walk(case, ["decision"], date(2026, 9, 30))
    verdict = can_terminate(case)
    assert not verdict and verdict.code == "already_decided"
    with pytest.raises(ValidationError) as exc:
        services.terminate_case(actor=head, case=case, reason="当事人已注销", on=date(2026, 10, 8))
    field, code, message = _error(exc.value)
    assert (field, code) == ("case", "already_decided") and "结案" in message


def test_termination_needs_a_reason_and_a_day_that_fits_the_record(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 5))
    cases = [
        (dict(reason="  ", on=date(2026, 9, 6)), ("reason", "required")),
        (dict(reason="违法事实不成立", on=date(2026, 8, 31)), ("on", "before_opening")),
        (dict(reason="违法事实不成立", on=date(2026, 9, 4)), ("on", "out_of_order")),  # before the opening step's record
        (dict(reason="违法事实不成立", on=clock.today() + timedelta(days=1)), ("on", "future")),
    ]
    for kw, expected in cases:
        with pytest.raises(ValidationError) as exc:
            services.terminate_case(actor=head, case=case, **kw)
        assert _error(exc.value)[:2] == expected, kw
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_a_coercion_case_with_a_seizure_in_place_needs_its_handling_decision(world, open_case, walk, head):
    officers = [core_services.create_officer(
        actor="t", name=name, agency=world.amr_changan, certificate_number=make_certificate_number("130102", n),
        categories=["coercion"], enforcement_region=world.changan, valid_from=date(2024, 1, 1), valid_to=date(2029, 12, 31))
        for name, n in (("张强", 11), ("刘芳", 12))]
    approved_only = open_case(act_kind="coercion", title="扣押涉嫌假冒商品（未实施）", officers=officers)
    walk(approved_only, ["approval"], date(2026, 9, 1))
    assert can_terminate(approved_only)
    seized = open_case(act_kind="coercion", title="扣押涉嫌假冒商品", officers=officers)
    walk(seized, ["approval", "notification", "execution"], date(2026, 9, 1))
    with pytest.raises(ValidationError) as exc:
        services.terminate_case(actor=head, case=seized, reason="当事人提供了合法来源证明", on=date(2026, 9, 2))
    field, code, message = _error(exc.value)
    assert code == "seizure_in_place" and "行政强制法" in message and "第二十八条" in message


def test_a_terminated_cases_deadlines_no_longer_show_as_overdue(world, open_case, head):
    today = clock.today()
    case = open_case(title="逾期未决后撤销案", opened_on=today - timedelta(days=120))
    assert case in [d.case for d in overdue_deadlines(user=world.u_changan)]
    c = client_for(world.u_changan)
    assert "已逾期" in c.get(f"/workbench/cases/{case.pk}/").content.decode()

    services.terminate_case(actor=head, case=case, reason="当事人已注销且无权利义务承受人", on=today)

    assert case not in [d.case for d in overdue_deadlines(user=world.u_changan)]
    assert case.title not in c.get("/workbench/cases/deadlines/").content.decode()
    page = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "已逾期" not in page and "已终止" in page and "当事人已注销且无权利义务承受人" in page


def test_the_head_terminates_a_case_on_its_page_and_an_officer_is_not_offered_the_form(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    officer_page = client_for(world.u_changan).get(f"/workbench/cases/{case.pk}/").content.decode()
    assert f"/workbench/cases/{case.pk}/terminate/" not in officer_page
    r = client_for(world.u_changan).post(f"/workbench/cases/{case.pk}/terminate/",
                                         {"reason": "违法事实不成立", "on": "2026-09-02"}, follow=True)
    assert "负责人批准" in r.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    c = client_for(head)
    page = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert f"/workbench/cases/{case.pk}/terminate/" in page and "终止案件" in page
    r = c.post(f"/workbench/cases/{case.pk}/terminate/", {"reason": "", "on": "2026-09-02"}, follow=True)
    assert "终止理由" in r.content.decode()  # the form names the missing field
    r = c.post(f"/workbench/cases/{case.pk}/terminate/", {"reason": "违法事实不成立", "on": "2026-09-02"}, follow=True)
    page = r.content.decode()
    assert "案件已终止" in page and "违法事实不成立" in page and "2026-09-02" in page
    assert f"/workbench/cases/{case.pk}/steps/start/" not in page and f"/workbench/cases/{case.pk}/terminate/" not in page
    case.refresh_from_db()
    assert case.status == CaseStatus.TERMINATED


def test_a_decided_case_shows_the_head_why_it_cannot_be_terminated(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(case, ["decision"], date(2026, 9, 30))
    page = client_for(head).get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "不能终止（撤销立案）" in page and f"/workbench/cases/{case.pk}/terminate/" not in page


def test_termination_through_the_api_answers_refusals_with_code_and_field(world, open_case, walk, head):
    case = open_case()
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    system = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = system.post(f"/api/v1/cases/{case.pk}/terminate", {"reason": "违法事实不成立", "on": "2026-09-02"},
                    content_type="application/json")
    assert r.status_code == 403  # a case-handling system is not the agency head
    api = client_for(head)
    r = api.post(f"/api/v1/cases/{case.pk}/terminate", {"reason": " ", "on": "2026-09-02"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "required" and r.json()["field"] == "reason"
    r = api.post(f"/api/v1/cases/{case.pk}/terminate", {"reason": "违法事实不成立", "on": "2026-09-02"},
                 content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "terminated" and body["closed_on"] == "2026-09-02"
    assert body["termination_reason"] == "违法事实不成立" and body["next_steps"] == []
    r = api.post(f"/api/v1/cases/{case.pk}/terminate", {"reason": "违法事实不成立", "on": "2026-09-02"},
                 content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "case_not_open" and r.json()["field"] == "case"
    other = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(actor='t', agency=world.amr_zhengding, name='正定', scopes=['read', 'cases:write'])[1]}")
    assert other.post(f"/api/v1/cases/{case.pk}/terminate", {"reason": "x", "on": "2026-09-02"},
                      content_type="application/json").status_code == 404


def test_the_case_page_with_the_termination_form_fits_a_phone(browser_page, world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    pg = browser_page
    log_in(pg, head.username, world.password)
    pg.goto(pg.base + f"/workbench/cases/{case.pk}/")
    assert "终止案件" in pg.content()
    assert no_horizontal_scroll(pg)
