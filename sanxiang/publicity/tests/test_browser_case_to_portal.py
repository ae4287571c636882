"""Journey (a) of issue 11, its publicity half, in a real browser (phone
size): the officer completes the decision step of a case whose
行政处罚决定书 is issued; the case page shows the decision waiting for the
pre-publication check; the publicity administrator opens the check from
the workbench, confirms and publishes; the public portal shows the decision
under its 文号 and the case page links to it. (Opening the case and issuing
the 决定书 through pages are other helpers' journeys; here they are done
through the services.)"""

from __future__ import annotations

from datetime import date

from sanxiang.cases import services as case_services
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.documents import services as doc_services

from .test_case_to_publicity import DECISION_DATA, cw, open_case, run  # noqa: F401 (fixture)


def test_an_officers_decision_reaches_the_portal_after_the_publication_check(browser_page, cw):
    pg = browser_page
    case = open_case(cw)
    for i, code in enumerate(["opening", "investigation", "notification"]):
        run(cw, case, code, date(2026, 9, 2), 8 + 2 * i)
    from .test_case_to_publicity import at

    step = case_services.start_step(actor=cw.u_changan, case=case, code="decision", at=at(date(2026, 9, 30), 9))
    if step.needs_av:
        ex = case_services.request_av_exemption(actor=cw.u_changan, step=step, reason="执法记录仪故障，已报修")
        case_services.approve_av_exemption(actor=cw.head, exemption=ex)
    doc = doc_services.issue_document(actor=cw.u_changan, case=case, kind="penalty_decision", data=DECISION_DATA,
                                      step=step)

    # the officer completes the decision step on its page
    log_in(pg, "changan_officer")
    pg.goto(f"{pg.base}/workbench/cases/{case.pk}/steps/{step.pk}/")
    pg.locator("button[type=submit]", has_text="完成本环节").first.click()
    pg.wait_for_url(f"**/workbench/cases/{case.pk}/**")
    pg.goto(f"{pg.base}/workbench/cases/{case.pk}/")
    panel = pg.locator("#case-publicity")
    assert panel.count() == 1
    text = panel.inner_text()
    assert "决定公示" in text and doc.number in text and "公开期限" in text
    assert no_horizontal_scroll(pg)

    # the publicity administrator checks and publishes
    pg.context.clear_cookies()
    log_in(pg, "changan_publicity")
    pg.goto(f"{pg.base}/workbench/publicity/")
    pg.locator("a", has_text=doc.number).first.click()
    pg.wait_for_url("**/workbench/publicity/*/")
    pg.check("input[name=confirmed]")
    pg.locator("button[type=submit]", has_text="发布").first.click()
    pg.wait_for_load_state()

    # the public portal shows it; the case page links to it
    pg.context.clear_cookies()
    pg.goto(f"{pg.base}/decisions/?q=康乐")
    assert doc.number in pg.content()
    log_in(pg, "changan_officer")
    pg.goto(f"{pg.base}/workbench/cases/{case.pk}/")
    link = pg.locator("#case-publicity a.button")
    assert "在公示平台查看" in link.inner_text()
    link.click()
    pg.wait_for_url("**/decisions/*/")
    assert doc.number in pg.content() and no_horizontal_scroll(pg)
