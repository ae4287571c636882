"""The cockpit in chromium: real charts drawn by the vendored ECharts, every
request that leaves the machine blocked and recorded (none may be tried:
the platform runs on intranets, issue 15 "Done when"), at desktop and phone
width. Screenshots in /tmp/out/C-*.png (SANXIANG_SCREENSHOTS overrides)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sanxiang.conftest import log_in_as, no_horizontal_scroll

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "echarts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"C-{name}.png"), full_page=True)


def _drawn_charts(pg) -> list[dict]:
    """Each chart box: whether ECharts holds an instance for it and whether
    its canvas has any painted pixel."""
    return pg.evaluate("""() => Array.from(document.querySelectorAll('.chart')).map(box => {
        const canvas = box.querySelector('canvas');
        let painted = false;
        if (canvas) {
            const ctx = canvas.getContext('2d');
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { painted = true; break; } }
        }
        return {section: box.dataset.section, instance: !!(window.echarts && echarts.getInstanceByDom(box)),
                canvas: !!canvas, painted: painted, width: canvas ? canvas.clientWidth : 0};
    })""")


def test_the_cockpit_draws_its_charts_with_no_request_leaving_the_machine(dataset, no_totp, cjk_fonts, browser_page):
    pg = browser_page
    outside: list[str] = []

    def route(r):
        host = urlsplit(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    pg.context.route("**/*", route)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "legal_sjz")
    # from the navigation to the cockpit, then the period of the data set
    pg.goto(pg.base + "/workbench/")
    pg.click("nav >> text=执法监督驾驶舱")
    pg.wait_for_load_state()
    assert pg.url.endswith("/statistics/cockpit/")
    pg.fill("#id_date_from", "2026-03-01")
    pg.fill("#id_date_to", "2026-03-31")
    pg.click("form.period button[type=submit]")
    pg.wait_for_selector(".chart[data-drawn=true] canvas")
    charts = _drawn_charts(pg)
    assert charts and all(c["instance"] and c["canvas"] and c["painted"] for c in charts), charts
    assert {"cases", "money", "categories", "reviews", "publication", "rates"} <= {c["section"] for c in charts}
    assert "1500.00" in pg.inner_text('table[data-section="money"]')
    shot(pg, "1-cockpit-desktop")

    # at phone width: the charts follow the width, tables scroll inside their box, the page does not
    pg.set_viewport_size({"width": 375, "height": 812})
    pg.wait_for_timeout(300)
    narrow = _drawn_charts(pg)
    assert all(0 < c["width"] <= 375 for c in narrow), narrow
    assert no_horizontal_scroll(pg)
    shot(pg, "2-cockpit-phone")

    # drill down: the county, the agency, one of its cases
    pg.click('table[data-section="cases"] >> text=长安区')
    assert "region=130102" in pg.url
    pg.click(f'table[data-section="cases"] >> text={dataset.A.name}')
    assert re.search(r"/statistics/cockpit/agencies/\d+/", pg.url)
    pg.wait_for_selector(".chart[data-drawn=true] canvas")
    assert no_horizontal_scroll(pg)
    shot(pg, "3-agency-phone")
    pg.click("table.cases >> text=案件1")
    assert re.search(r"/cases/\d+/$", pg.url)

    assert outside == [], outside  # no CDN, no remote font, nothing beyond the server
    assert errors == [], errors


def test_the_vendored_echarts_is_the_released_file_named_in_its_version_note():
    note = (VENDOR / "VERSION").read_text(encoding="utf-8")
    digest = hashlib.sha256((VENDOR / "echarts.min.js").read_bytes()).hexdigest()
    assert f"sha256 {digest}" in note and "6.1.0" in note
    assert "Apache License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert (VENDOR / "NOTICE").is_file()
