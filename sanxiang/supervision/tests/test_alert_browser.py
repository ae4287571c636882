"""The alerts list in chromium: reached from the navigation, filtered by
level, an alert closed with a reason at phone width, no horizontal scroll
at 390 px. Screenshots in /tmp/out/A-*.png (SANXIANG_SCREENSHOTS overrides;
docs/screenshots/alerts-list-*.png are copies)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from sanxiang.conftest import log_in_as, no_horizontal_scroll
from sanxiang.supervision import services
from sanxiang.supervision.models import Alert, AlertStatus
from sanxiang.supervision.tests.test_alerts import case_deadline, make_case

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"A-{name}.png"), full_page=True)


def test_a_supervisor_reads_filters_and_closes_alerts_on_desktop_and_phone(world, no_totp, cjk_fonts, browser_page):
    today = date(2026, 10, 9)
    case_deadline(world, "decision", today + timedelta(days=3), case=make_case(world, title="某超市销售过期食品案"))
    red = case_deadline(world, "seizure", today - timedelta(days=1), case=make_case(world, title="某冷库扣押冻品案"))
    case_deadline(world, "service", today - timedelta(days=8),
                  case=make_case(world, title="正定县某餐馆未取得许可经营案", agency=world.amr_zhengding))
    services.refresh_alerts(today=today)
    pg = browser_page
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "legal_sjz")
    pg.goto(pg.base + "/workbench/")
    pg.click("nav >> text=监督预警")
    pg.wait_for_load_state()
    assert pg.url.endswith("/supervision/alerts/")
    rows = pg.locator("table.alerts tbody tr")
    assert rows.count() == 3
    assert pg.locator("tr.alert-red").count() == 2 and pg.locator("tr.alert-yellow").count() == 1
    shot(pg, "1-alerts-list-desktop")
    pg.select_option("select[name=level]", "yellow")
    pg.click(".alert-filters button[type=submit]")
    assert pg.locator("table.alerts tbody tr").count() == 1

    pg.set_viewport_size({"width": 390, "height": 844})
    pg.goto(pg.base + "/supervision/alerts/")
    assert no_horizontal_scroll(pg)
    shot(pg, "2-alerts-list-phone")
    alert = Alert.objects.get(key=f"deadline:{red.pk}")
    pg.click(f"a[href='/supervision/alerts/{alert.pk}/']")
    pg.fill("#note-text", "已电话督促办案机构依法解除扣押。")
    pg.click("#annotate button[type=submit]")
    pg.fill("#reason-text", "扣押期限已依法延长，延长决定已送达当事人。")
    pg.click("#close button[type=submit]")
    assert "预警已关闭" in pg.inner_text("main")
    assert no_horizontal_scroll(pg)
    shot(pg, "3-alert-closed-phone")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.notes.count() == 1
