"""Journey (d) of issue 11 in a real browser, through pages only: a penalty
case whose party asks for a hearing in time reaches its decision — the
request, the 听证通知书 (served at least 7 working days before the hearing,
art. 64 (2); entered after the fact with its real date), the hearing step
with its AV exemption approved by the head and its record and report, the
legal review a hearing makes mandatory (art. 58) done on the review pages
by the agency's reviewer, then the decision.

Set up through the services: the accounts (officer, head, a registered
reviewer) and the case's first steps, dated weeks ago (pages record a step
at the moment it is done, and the notice must precede the hearing by 7
working days)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sanxiang.cases.models import Case
from sanxiang.conftest import log_in_as, no_horizontal_scroll, start_and_complete_step, working_day_before
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.review import services as review_services


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


def test_a_case_with_a_hearing_request_reaches_its_decision_through_the_pages(browser_page, world, open_case, walk, head):
    today = clock.today()
    notified = working_day_before(today, 12)  # the notice of rights (事先告知) was served 12 working days ago
    case = open_case(opened_on=notified - timedelta(days=3), title="某公司销售不合格产品案")
    walk(case, ["opening", "investigation", "notification"], notified)
    reviewer_login = core_services.create_user(actor="t", username="changan_reviewer", password=world.password,
                                               role=Role.LEGAL_REVIEWER, agency=world.amr_changan)
    review_services.register_reviewer(actor=head, user=reviewer_login, name="刘法审", qualification_number="A20191301001",
                                      qualification_date=clock.today().replace(year=2019), first_time=True)
    pg = browser_page
    case_url = f"{pg.base}/workbench/cases/{case.pk}/"

    # the officer records the proposed decision and the party's request (2 days after the notice)
    log_in_as(pg, "changan_officer", world.password)
    pg.goto(case_url)
    pg.check("input[name=categories][value=罚款]")
    pg.fill("input[name=fine_yuan]", "30000")
    pg.click("form[action$='/proposal/'] button[type=submit]")
    requested = notified + timedelta(days=2)
    pg.fill("input[name=requested_on]", requested.isoformat())
    pg.click("form[action$='/hearing-request/'] button[type=submit]")
    assert "听证" in pg.inner_text("#hearing")

    # the 听证通知书 served on paper the next working day; a hearing 3 days later is refused with the earliest day
    served = working_day_before(today, 8)
    assert served > requested
    pg.fill("input[name=notified_on]", served.isoformat())
    pg.fill("input[name=hearing_on]", (served + timedelta(days=3)).isoformat())
    pg.click("form[action$='/hearing-notice/'] button[type=submit]")
    assert "最早于" in pg.content() and "第六十四条" in pg.content()
    pg.fill("input[name=notified_on]", served.isoformat())
    pg.fill("input[name=hearing_on]", today.isoformat())
    pg.click("form[action$='/hearing-notice/'] button[type=submit]")
    hearing = pg.inner_text("#hearing")
    assert served.isoformat() in hearing and today.isoformat() in hearing
    assert no_horizontal_scroll(pg)
    assert pg.locator("[data-step=decision]").count() == 1  # the decision is refused while the hearing is pending
    assert "须先举行听证" in pg.inner_text("[data-step=decision]")

    # the hearing step: started, AV exemption asked, approved by the head, completed with its record and report
    pg.click("a[href$='/steps/start/hearing/']")
    pg.click("main form button[type=submit]")
    assert "/steps/" in pg.url
    step_url = pg.url
    assert pg.locator("a:has-text('制作听证笔录')").count() == 1 and pg.locator("a:has-text('制作听证报告')").count() == 1
    pg.fill("textarea[name=reason]", "听证室音像设备故障，已报修")
    pg.click("form[action$='/exemption/'] button[type=submit]")
    log_in_as(pg, "changan_head", world.password)
    pg.goto(step_url)
    pg.click("form[action$='/exemption/approve/'] button[type=submit]")
    log_in_as(pg, "changan_officer", world.password)
    pg.goto(step_url)
    pg.fill("textarea[name=documents]", "听证笔录\n听证报告")
    pg.fill("textarea[name=note]", "当事人到场陈述申辩，调查人员出示证据。")
    pg.click("form.stack:not([action]) button[type=submit]")
    case.refresh_from_db()
    assert case.hearing_on == today
    assert "审核" in pg.inner_text("[data-step=decision]")  # now legal review stands in the way (art. 58)

    # legal review on the review pages: submitted by the officer, assigned by the head, passed by the reviewer
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    for kind, text in (("investigation_report", "调查终结报告：事实清楚"), ("proposed_handling", "拟罚款三万元"),
                       ("draft_decision", "行政处罚决定书（草稿）"), ("evidence_list", "现场检查笔录、询问笔录"),
                       ("hearing_record", "听证笔录、听证报告")):
        pg.fill(f"textarea[name={kind}]", text)
    pg.click("form[action$='/submit/'] button[type=submit]")
    log_in_as(pg, "changan_head", world.password)
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    pg.select_option("select[name=reviewer]", index=0)
    pg.click("form[action$='/assign/'] button[type=submit]")
    log_in_as(pg, "changan_reviewer", world.password)
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    pg.evaluate("document.querySelectorAll('input[type=radio][value=pass]').forEach(r => r.checked = true)")
    pg.fill("textarea[name=opinion_text]", "同意")
    pg.click("form[action$='/opinion/'] button[type=submit]")

    # the decision, through the case page
    log_in_as(pg, "changan_officer", world.password)
    pg.goto(case_url)
    start_and_complete_step(pg, "decision")
    case = Case.objects.get(pk=case.pk)
    assert case.decided_on == today
    assert [s.code for s in case.steps.order_by("started_at", "id")] == [
        "opening", "investigation", "notification", "hearing", "decision"]
    pg.goto(case_url)
    assert today.isoformat() in pg.inner_text(".case-head")
    assert no_horizontal_scroll(pg)
