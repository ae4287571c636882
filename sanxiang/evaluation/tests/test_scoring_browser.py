"""The scoring page in chromium: an evaluator reaches it from the navigation,
sees the automatic items with their evidence named (linked for whoever may open the case), scores the manual items
within their ranges at phone width (no horizontal scroll at 390 px) and
submits; the result shows score and grade. Screenshots in /tmp/out/B-*.png
(SANXIANG_SCREENSHOTS overrides; docs/screenshots/evaluation-*.png are copies)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from sanxiang.conftest import log_in_as, make_user, no_horizontal_scroll
from sanxiang.core import clock
from sanxiang.core.vocabulary import Role
from sanxiang.evaluation import services
from sanxiang.evaluation.demo import build_case_file
from sanxiang.evaluation.models import Evaluation

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"B-{name}.png"), full_page=True)


def test_an_evaluator_scores_a_case_file_on_desktop_and_phone(world, scheme, no_totp, cjk_fonts, browser_page):
    officers = [world.changan_officer, world.changan_officer2]
    build_case_file(agency=world.amr_changan, officers=officers, creator=world.u_changan, flaw="av", serial=1)
    evaluator = make_user("zd_reviewer", Role.LEGAL_REVIEWER, agency=world.amr_zhengding, display_name="评查员甲")
    campaign = services.create_campaign(
        actor=world.u_legal_sjz, office=world.legal_sjz, title="年度行政处罚案卷评查", scheme=scheme,
        period_start=date(clock.today().year, 1, 1), period_end=clock.today(), agencies=[world.amr_changan],
        evaluators=[evaluator], sample_size=1)
    services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign, seed_value="browser")
    pg = browser_page
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "zd_reviewer")
    pg.goto(pg.base + "/workbench/")
    pg.click("nav >> text=案卷评查")
    pg.wait_for_load_state()
    pg.click("table.assignments a")
    assert "/evaluation/campaigns/" in pg.url
    # the AV item fails automatically, its step linked as the evidence
    failed = pg.locator("li.auto-item.failed")
    assert failed.count() == 1 and "F5" in failed.inner_text() and "调查取证" in failed.locator(".links").inner_text()
    assert failed.locator("a").count() == 0  # the case's pages are outside this evaluator's jurisdiction: named, not linked
    assert pg.locator("li.auto-item.passed").count() == 6
    pg.fill("#deduction_C7", "2")
    pg.fill("#finding_C7", "罚款数额的裁量理由未说明所适用的裁量基准档次。")
    for code in ("F1", "F2", "F4", "C2", "C3", "C8"):
        pg.fill(f"#deduction_{code}", "0")
    shot(pg, "1-evaluation-score-desktop")

    pg.set_viewport_size({"width": 390, "height": 844})
    pg.click("button[value=save]")
    assert no_horizontal_scroll(pg)
    assert pg.input_value("#deduction_C7") == "2"
    shot(pg, "2-evaluation-score-phone")
    pg.fill("#deduction_C3", "30")  # outside the item's range: the form does not send it (the server refuses it too)
    assert pg.evaluate("document.querySelector('#deduction_C3').checkValidity()") is False
    pg.fill("#deduction_C3", "0")
    pg.click("button[value=submit]")
    assert "/evaluation/evaluations/" in pg.url
    assert no_horizontal_scroll(pg)
    assert "95" in pg.inner_text("dd.score") and "优秀" in pg.inner_text("dd.grade")  # 100 − 3 (F5) − 2 (C7)
    shot(pg, "3-evaluation-result-phone")
    assert Evaluation.objects.get().status == "submitted"
