"""The 平台对接 page in a real browser (chromium) as the system
administrator, at desktop and phone width: reached from the navigation,
an undeliverable message sent again with its button, the page's tables
readable on a phone without sideways scrolling. Screenshots go to
SANXIANG_SCREENSHOT_DIR when set (e.g. docs/screenshots), otherwise to a
temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.docking.demo import load_docking_demo
from sanxiang.docking.models import OutboxMessage, OutboxState
from sanxiang.docking import services

SCREENSHOT_DIR = os.environ.get("SANXIANG_SCREENSHOT_DIR")


@pytest.fixture
def docking_state(world, settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    settings.REQUIRE_TOTP = False
    load_docking_demo()
    services.configure_upstream(actor="test", url="https://hebei.example.gov.cn/api/v1/docking/messages",
                                instance_code="shijiazhuang")
    return OutboxMessage.objects.create(
        msg_id="msg_demo", event_type="officer.changed", object_type="officer",
        object_key=world.changan_officer.certificate_number, version=3, body="{}", attempts=10,
        state=OutboxState.UNDELIVERABLE, last_status=503, last_error="HTTP 503: 上级平台维护中，请稍后再试")


def test_the_administrator_reaches_the_docking_page_and_sends_a_message_again(cjk_fonts, browser_page, docking_state,
                                                                             world, tmp_path):
    page = browser_page
    log_in(page, world.u_admin.username)
    page.wait_for_url("**/workbench/")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(page.base + "/workbench/")
        if width == 390:
            page.click("label.navbutton")  # the menu folds behind ☰ on a phone
        page.get_by_role("link", name="平台对接").click()
        page.wait_for_url("**/workbench/docking/")
        assert page.locator("h1").inner_text() == "平台对接"
        text = page.locator("main").inner_text()
        for shown in ("上级平台", "shijiazhuang", "无法送达", "上级平台维护中", "正定县行政执法公示平台", "已生效 4 · 已拒收 1"):
            assert shown in text, shown
        if width == 390:
            assert no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"docking-admin-{name}.png"), full_page=True)
    page.get_by_role("button", name="重新发送").click()
    page.wait_for_load_state("load")
    assert "该消息已重新排队发送" in page.locator("main").inner_text()
    docking_state.refresh_from_db()
    assert docking_state.state == OutboxState.PENDING
    page.get_by_role("link", name="← 返回工作台").click()
    page.wait_for_url("**/workbench/")
