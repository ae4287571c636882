"""The cases app's part of the to-do list (issue 11 item 5): an officer sees
the next step of each of the officer's cases, the step in progress to
complete and the case deadlines; the agency head the AV exemptions waiting
for approval; the legal office the overdue deadlines of its jurisdiction —
each only within scope, and in a fixed number of queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sanxiang.cases import services
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.core.todo import todo_for

from .conftest import at


def kinds(user, today):
    return {(i.kind, i.url) for i in todo_for(user=user, today=today)}


def test_an_officer_sees_the_next_step_and_the_deadlines_of_own_cases_only(world, open_case, walk):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    items = todo_for(user=world.u_changan, today=date(2026, 9, 2))
    detail = reverse("cases:detail", kwargs={"pk": case.pk})
    next_step = [i for i in items if i.kind == "case_next_step"]
    assert len(next_step) == 1 and next_step[0].url == detail and "调查取证" in next_step[0].title
    deadlines = [i for i in items if i.kind == "case_deadline"]
    assert deadlines and all(i.due and i.url == detail for i in deadlines)
    assert deadlines[0].urgency == "later"
    # the same deadline is overdue (red) once its day has passed
    late = [i for i in todo_for(user=world.u_changan, today=deadlines[0].due.replace(year=2027))
            if i.kind == "case_deadline"]
    assert late[0].urgency == "overdue" and late[0].overdue
    # another agency's officer sees none of it
    assert not any(case.title in i.title for i in todo_for(user=world.u_zhengding, today=date(2026, 9, 2)))


def test_a_step_in_progress_needing_av_asks_for_the_upload_and_the_heads_approval(world, open_case, walk, head):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    step = services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
    assert step.needs_av
    step_url = reverse("cases:step", kwargs={"pk": case.pk, "step_id": step.pk})
    upload_url = reverse("evidence:step", kwargs={"case_id": case.pk, "step_id": step.pk})
    mine = kinds(world.u_changan, date(2026, 9, 2))
    assert ("case_step", step_url) in mine and ("av_upload", upload_url) in mine
    assert not any(k == "case_next_step" for k, _ in mine)  # a step is running: no other may start
    assert not any(k == "av_exemption" for k, _ in kinds(head, date(2026, 9, 2)))

    exemption = services.request_av_exemption(actor=world.u_changan, step=step, reason="执法记录仪故障，已报修")
    assert ("av_exemption", step_url) in kinds(head, date(2026, 9, 2))
    other_head = core_services.create_user(actor="t", username="zd_head", password=world.password,
                                           role=Role.AGENCY_HEAD, agency=world.amr_zhengding)
    assert not any(k == "av_exemption" for k, _ in kinds(other_head, date(2026, 9, 2)))
    assert not any(k == "av_exemption" for k, _ in kinds(world.u_changan, date(2026, 9, 2)))  # officers do not approve

    services.approve_av_exemption(actor=head, exemption=exemption)
    assert not any(k == "av_exemption" for k, _ in kinds(head, date(2026, 9, 2)))
    assert ("av_upload", upload_url) not in kinds(world.u_changan, date(2026, 9, 2))  # exempted: nothing to upload


def test_the_legal_office_sees_overdue_deadlines_in_its_jurisdiction_only(world, open_case, walk):
    case = open_case()
    walk(case, ["opening"], date(2026, 9, 1))
    later = date(2027, 6, 1)  # past the 90-day decision limit
    overdue = [i for i in todo_for(user=world.u_legal_sjz, today=later) if i.kind == "case_deadline_overdue"]
    assert overdue and all(i.overdue and case.title in i.title for i in overdue)
    assert world.amr_changan.name in overdue[0].detail
    assert not any(i.kind == "case_deadline_overdue" for i in todo_for(user=world.u_legal_ts, today=later))
    assert not any(i.kind == "case_deadline_overdue" for i in todo_for(user=world.u_legal_sjz, today=date(2026, 9, 2)))


def test_the_list_takes_the_same_number_of_queries_for_one_case_or_many(world, open_case, walk, head):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            todo_for(user=world.u_changan, today=date(2026, 9, 2))
            todo_for(user=head, today=date(2026, 9, 2))
        return len(ctx)

    def one_more(n):
        case = open_case(title=f"第{n}案")
        walk(case, ["opening"], date(2026, 9, 1))
        step = services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
        services.request_av_exemption(actor=world.u_changan, step=step, reason="设备故障")

    one_more(1)
    single = count()
    for n in range(2, 7):
        one_more(n)
    assert len([i for i in todo_for(user=world.u_changan, today=date(2026, 9, 2)) if i.kind == "case_step"]) == 6
    assert count() == single


def test_the_to_do_list_in_a_page_stays_within_a_bounded_number_of_queries(world, open_case, walk, head,
                                                                          django_assert_max_num_queries, settings):
    settings.REQUIRE_TOTP = False
    from sanxiang.conftest import client_for

    for n in range(8):
        case = open_case(title=f"第{n}案")
        walk(case, ["opening"], date(2026, 9, 1))
        services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
    client = client_for(world.u_changan)
    with django_assert_max_num_queries(40):
        page = client.get("/workbench/")
    assert page.status_code == 200 and page.content.decode().count('data-kind="case_step"') == 8
