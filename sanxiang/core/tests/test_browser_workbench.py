"""The workbench with its to-do list in a real browser (chromium) at desktop
and phone width (issue 11 item 5): the list comes before the counts, an
overdue item is marked red, each item links to where it is done, the count
beside 工作台 matches, and nothing scrolls sideways on a phone. Screenshots
go to SANXIANG_SCREENSHOT_DIR when set (e.g. docs/screenshots), otherwise
to a temporary folder, so a test run never changes tracked files."""

from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path

import pytest
from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core.todo import todo_for

SCREENSHOT_DIR = os.environ.get("SANXIANG_SCREENSHOT_DIR")
RED = "rgb(179, 38, 30)"  # --red in site.css


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@pytest.fixture
def busy_officer(world):
    """王建国's cases: one opened in June (its decision limit long passed) with
    the investigation under way and no AV yet, one just opened."""
    w = world
    w.changan_officer.user = w.u_changan
    w.changan_officer.save(update_fields=["user"])
    for title, opened in (("某超市销售过期食品案", date(2026, 6, 1)), ("某餐馆超范围经营案", date(2026, 11, 30))):
        case = case_services.open_case(actor=w.u_changan, agency=w.amr_changan, title=title, act_kind="penalty",
                                       procedure="general", party_name="石家庄某某有限公司", party_type="legal_person",
                                       opened_on=opened, officers=[w.changan_officer, w.changan_officer2])
        step = case_services.start_step(actor=w.u_changan, case=case, code="opening", at=at(opened, 9))
        case_services.complete_step(actor=w.u_changan, step=step, at=at(opened, 10))
        if opened.month == 6:
            case_services.start_step(actor=w.u_changan, case=case, code="investigation", at=at(opened, 11),
                                     place="长安区建设北大街1号")
    return w.u_changan


def test_the_workbench_lists_the_to_do_first_at_desktop_and_phone_width(cjk_fonts, browser_page, busy_officer,
                                                                       settings, tmp_path):
    settings.REQUIRE_TOTP = False
    items = todo_for(user=busy_officer)
    assert {"case_step", "av_upload", "case_next_step", "case_deadline"} <= {i.kind for i in items}
    page = browser_page
    log_in(page, busy_officer.username)
    page.wait_for_url("**/workbench/")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(page.base + "/workbench/")
        todo = page.locator("#todo").bounding_box()
        cards = page.locator("section.cards").bounding_box()
        assert todo["y"] < cards["y"]  # the to-do list comes first
        rows = page.locator("ul.todo > li")
        assert rows.count() == len(items)
        first = rows.first
        assert "urgency-overdue" in first.get_attribute("class")
        assert first.evaluate("li => getComputedStyle(li).borderLeftColor") == RED
        assert "已逾期" in first.inner_text()
        if width == 390:
            assert no_horizontal_scroll(page)
            box = first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
            page.click("label.navbutton")  # the menu folds behind ☰ on a phone
        count = page.locator("nav .navcount")
        assert count.is_visible() and count.inner_text() == str(len(items))
        page.screenshot(path=str(shots / f"workbench-todo-officer-{name}.png"), full_page=True)
    # each item links to the page where it is done
    page.locator("ul.todo > li[data-kind=av_upload] a").click()
    page.wait_for_url("**/evidence/")
    assert page.locator("h1").count() == 1
