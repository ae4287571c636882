"""Screenshots of each demo role's 工作台 (issue 11 "Done when"), at desktop
(1280 px) and phone (390 px) width, on the full demo (``build_demo``: the
cases in every state), written to ``SANXIANG_SCREENSHOT_DIR`` — run with
``SANXIANG_SCREENSHOT_DIR=docs/screenshots`` to refresh the PNGs listed in
docs/demo.md. Without that variable the test does not run (it builds the
whole demo; test_demo_states.py proves the same to-do lists without a
browser)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sanxiang.conftest import CHROMIUM, launch_chromium, log_in, no_horizontal_scroll
from sanxiang.core.demo import DEMO_PASSWORD
from sanxiang.demo import build_demo

SCREENSHOT_DIR = os.environ.get("SANXIANG_SCREENSHOT_DIR")
# Every login a person uses (the API client has no workbench).
ROLES = ("officer", "county_officer", "reviewer", "head", "publicity", "legal_sjz", "legal_hebei", "admin")
WIDTHS = (("desktop", 1280), ("phone", 390))

pytestmark = pytest.mark.skipif(not SCREENSHOT_DIR, reason="set SANXIANG_SCREENSHOT_DIR to write the demo screenshots")


@pytest.fixture
def demo_site(live_server, settings, tmp_path):
    settings.REQUIRE_TOTP = False
    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    build_demo()
    return live_server.url


def test_each_demo_role_workbench_at_desktop_and_phone_width(cjk_fonts, demo_site):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(SCREENSHOT_DIR)
    shots.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            for username in ROLES:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                page = context.new_page()
                page.base = demo_site
                log_in(page, username, DEMO_PASSWORD)
                page.wait_for_url("**/workbench/")
                for name, width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(demo_site + "/workbench/")
                    if username != "admin":  # the administrator has no case work of its own
                        assert page.locator("ul.todo > li").count() > 0, username
                    if width == 390:
                        assert no_horizontal_scroll(page), username
                    page.screenshot(path=str(shots / f"demo-workbench-{username}-{name}.png"), full_page=True)
                context.close()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
