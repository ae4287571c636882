"""The 对接监督 page in a real browser (chromium) as the province's legal
office, at desktop and phone width: reached from the navigation, the
platforms' and case systems' rows readable on a phone without sideways
scrolling, and the way back to the workbench. Screenshots go to
SANXIANG_SCREENSHOT_DIR when set (e.g. docs/screenshots), otherwise to a
temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sanxiang.conftest import log_in, no_horizontal_scroll

from .test_supervision_page import supervised

SCREENSHOT_DIR = os.environ.get("SANXIANG_SCREENSHOT_DIR")
assert supervised  # the fixture, used by name below


@pytest.fixture
def no_totp_live(settings):
    settings.REQUIRE_TOTP = False


def test_the_provinces_legal_office_reads_the_supervision_page_on_a_phone(cjk_fonts, browser_page, supervised,
                                                                          no_totp_live, world, tmp_path):
    page = browser_page
    log_in(page, world.u_legal_hebei.username)
    page.wait_for_url("**/workbench/")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(page.base + "/workbench/")
        if width == 390:
            page.click("label.navbutton")  # the menu folds behind ☰ on a phone
        page.get_by_role("link", name="对接监督").first.click()
        page.wait_for_url("**/workbench/docking/supervision/")
        assert page.locator("h1").inner_text() == "对接监督"
        text = page.locator("main").inner_text()
        for shown in ("正定县行政执法公示平台", "差异未能修复", "超过两天未对账", "7 条消息待发送", "长安区案件系统", "3.0 秒"):
            assert shown in text, shown
        if width == 390:
            assert no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"docking-supervision-{name}.png"), full_page=True)
    page.get_by_role("link", name="← 返回工作台").click()
    page.wait_for_url("**/workbench/")
