"""The annual report in chromium at phone width (375 px) and desktop: the
agency head opens it from the navigation, writes and publishes it; the
public page and the legal office's status list; no page scrolls sideways
(tables scroll inside their box). Screenshots in /tmp/out/E-*.png
(SANXIANG_SCREENSHOTS overrides)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from sanxiang.conftest import log_in_as, no_horizontal_scroll
from sanxiang.core import services as core_services
from sanxiang.core.models import Role

from .conftest import Builder

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"E-{name}.png"), full_page=True)


def test_the_head_publishes_the_report_at_phone_width_and_the_office_sees_it(world, no_totp, cjk_fonts, browser_page):
    core_services.create_user(actor="t", username="head_a", password=world.password, role=Role.AGENCY_HEAD,
                              agency=world.amr_changan)
    Builder(world).decision(world.amr_changan, day=date(2026, 4, 4), categories=["警告", "罚款"], fine=88800)
    pg = browser_page
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "head_a", world.password)
    pg.goto(pg.base + "/workbench/")
    pg.click("nav >> text=执法数据年报")
    pg.wait_for_load_state()
    assert pg.url.endswith("/statistics/annual/edit/")
    pg.set_viewport_size({"width": 375, "height": 812})
    pg.goto(pg.base + "/statistics/annual/edit/?year=2026")
    assert "888.00" in pg.inner_text("table.annual")
    assert no_horizontal_scroll(pg)
    shot(pg, "1-annual-edit-phone")
    pg.fill("#explanation", "本年度执法总体平稳。")
    pg.fill("input[name='manual-litigation.count-value']", "3")
    pg.click("button[value=publish]")
    pg.wait_for_selector("text=已发布")
    pg.click("text=公开页面")
    assert "本年度执法总体平稳" in pg.content()
    assert no_horizontal_scroll(pg)
    shot(pg, "2-annual-public-phone")
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "legal_sjz", world.password)
    pg.goto(pg.base + "/workbench/")
    pg.click("nav >> text=执法数据年报")
    pg.wait_for_load_state()
    assert pg.url.endswith("/statistics/annual/status/")
    pg.goto(pg.base + "/statistics/annual/status/?year=2026")
    assert "已发布" in pg.inner_text("main") and "未开始" in pg.inner_text("main")
    shot(pg, "3-annual-status-desktop")
    pg.set_viewport_size({"width": 375, "height": 812})
    assert no_horizontal_scroll(pg)
