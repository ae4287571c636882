"""Journey (c) of issue 11 in a real browser, through pages only: a major
case goes to legal review; the case page says review is required and why,
and that no reviewer is registered and who must register one; the agency
head registers the reviewer on the reviewers page; the reviewer gives the
opinion on the review page; the case page shows 同意; the decision follows.

Set up through the services: the accounts (officer, head, a reviewer login
not yet registered) and the case's first steps, dated 12 working days ago
(the party's hearing request period has run out)."""

from __future__ import annotations


from sanxiang.cases.models import Case
from sanxiang.conftest import log_in_as, no_horizontal_scroll, start_and_complete_step, working_day_before
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.review.models import Reviewer, Submission


def test_a_major_case_goes_to_review_the_head_registers_the_reviewer_whose_opinion_the_case_shows_then_the_decision(
        browser_page, rw, make_case):
    password = rw.password
    officer = core_services.create_user(actor="t", username="lunan_officer", password=password, role=Role.OFFICER,
                                        agency=rw.amr_lunan)
    head = core_services.create_user(actor="t", username="lunan_head", password=password, role=Role.AGENCY_HEAD,
                                     agency=rw.amr_lunan, display_name="周局长")
    core_services.create_user(actor="t", username="lunan_reviewer", password=password, role=Role.LEGAL_REVIEWER,
                              agency=rw.amr_lunan, display_name="吴法审")
    today = clock.today()
    case = make_case(agency=rw.amr_lunan, user=officer, head=head, officers=[rw.lunan_officer, rw.lunan_officer2],
                     day=working_day_before(today, 12), title="某公司销售不合格产品案")
    pg = browser_page
    case_url = f"{pg.base}/workbench/cases/{case.pk}/"

    # the officer records the proposed decision: 150,000 yuan to a company reaches the platform default
    log_in_as(pg, "lunan_officer", password)
    pg.goto(case_url)
    pg.check("input[name=categories][value=罚款]")
    pg.fill("input[name=fine_yuan]", "150000")
    pg.click("form[action$='/proposal/'] button[type=submit]")
    panel = pg.inner_text("#review-panel")
    assert "作出决定前须经法制审核" in panel and "拟罚款150,000元，达到100,000元" in panel
    assert "尚未送审" in pg.inner_text("#review-waits")
    # nobody can review yet: said, with who registers one
    assert "本部门尚未登记法制审核人员" in pg.inner_text("#no-reviewer") and "周局长" in pg.inner_text("#no-reviewer")
    assert no_horizontal_scroll(pg)

    # submitted from the panel's link
    pg.click("#review-submit")
    assert f"/review/case/{case.pk}/" in pg.url
    for kind, text in (("investigation_report", "调查终结报告：事实清楚"), ("proposed_handling", "拟罚款十五万元"),
                       ("draft_decision", "行政处罚决定书（草稿）"), ("evidence_list", "现场检查笔录、询问笔录、抽样检验报告")):
        pg.fill(f"textarea[name={kind}]", text)
    pg.click("form[action$='/submit/'] button[type=submit]")
    assert Submission.objects.filter(case_id=case.pk).count() == 1
    pg.goto(case_url)
    assert "审核中" in pg.inner_text("#review-panel")

    # the head follows the link from the case's review page and registers the reviewer
    log_in_as(pg, "lunan_head", password)
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    pg.click("#no-reviewer a")
    assert "/review/reviewers/" in pg.url
    pg.select_option("select[name=user]", label="吴法审")
    pg.fill("input[name=name]", "吴法审")
    pg.fill("input[name=qualification_number]", "A20201302007")
    pg.fill("input[name=qualification_date]", "2020-12-01")
    pg.click("form[action$='/reviewers/register/'] button[type=submit]")
    assert Reviewer.objects.filter(user__username="lunan_reviewer", agency=rw.amr_lunan).exists(), pg.inner_text("main")
    assert "标准每年60学时" in pg.inner_text("main")
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    assert pg.locator("#no-reviewer").count() == 0
    registered = Reviewer.objects.get(user__username="lunan_reviewer")
    pg.select_option("select[name=reviewer]", value=str(registered.pk))
    pg.click("form[action$='/assign/'] button[type=submit]")

    # the reviewer gives the opinion
    log_in_as(pg, "lunan_reviewer", password)
    pg.goto(f"{pg.base}/review/case/{case.pk}/")
    pg.evaluate("document.querySelectorAll('input[type=radio][value=pass]').forEach(r => r.checked = true)")
    pg.fill("textarea[name=opinion_text]", "事实清楚，证据确凿，适用法律正确，同意。")
    pg.click("form[action$='/opinion/'] button[type=submit]")
    assert Submission.objects.get(case_id=case.pk).outcome == "agree"

    # the case page shows it, and the decision follows
    log_in_as(pg, "lunan_officer", password)
    pg.goto(case_url)
    panel = pg.inner_text("#review-panel")
    assert "同意" in panel and "吴法审" in panel and "法制审核不妨碍作出决定" in panel
    assert no_horizontal_scroll(pg)
    start_and_complete_step(pg, "decision")
    case = Case.objects.get(pk=case.pk)
    assert case.decided_on == today
