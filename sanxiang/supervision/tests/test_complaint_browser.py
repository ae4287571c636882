"""The complaint flow end to end through the pages in chromium: a member of
the public files on a phone-width page and gets the tracking number; the
legal office assigns, notes and replies; the complainant reads the reply.
Screenshots in /tmp/out/E-*.png (SANXIANG_SCREENSHOTS overrides)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sanxiang.conftest import log_in_as, no_horizontal_scroll
from sanxiang.supervision.models import Complaint, ComplaintStatus

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"E-{name}.png"), full_page=True)


def test_a_complaint_is_filed_on_a_phone_handled_by_the_legal_office_and_its_reply_read(world, no_totp, cjk_fonts, browser_page):
    pg = browser_page
    # the portal's navigation leads to the form
    pg.goto(pg.base + "/")
    pg.click("label.navbutton")
    pg.click("nav >> text=投诉举报 >> nth=0")
    assert pg.url.endswith("/complaints/")
    # a field left out is named
    pg.click("button[type=submit]")
    assert pg.locator("[data-field=agency]").is_visible() and pg.locator("[data-field=subject]").is_visible()
    pg.select_option("#agency", str(world.amr_changan.pk))
    pg.fill("#officer_certificate", world.changan_officer.certificate_number)
    pg.fill("#subject", "检查时未出示执法证件")
    pg.fill("#content", "2026年11月20日上午，两名执法人员到我店检查，未出示执法证件，也未告知检查依据。")
    pg.fill("#complainant_name", "钱多多")
    pg.fill("#complainant_phone", "13912345678")
    assert no_horizontal_scroll(pg)
    shot(pg, "1-form-phone")
    pg.click("button[type=submit]")
    number = pg.inner_text("#tracking-number").strip()
    assert re.fullmatch(r"TS\d{8}[0-9A-Z]{10}", number)
    assert "钱多多" not in pg.inner_text("main") and "13912345678" not in pg.inner_text("main")
    assert no_horizontal_scroll(pg)
    shot(pg, "2-filed-phone")
    complaint = Complaint.objects.get(tracking_number=number)
    assert complaint.office == world.legal_sjz

    # the legal office: navigation entry, list, detail, assign, note, reply
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in_as(pg, "legal_sjz")
    pg.goto(pg.base + "/workbench/")
    assert number in pg.inner_text("main")  # to-do: a complaint to assign
    pg.click("nav >> text=投诉举报办理")
    assert pg.url.endswith("/supervision/complaints/")
    assert "收到总数" in pg.inner_text(".complaint-stats")
    pg.click(f"text={number}")
    assert "钱多多" in pg.inner_text(".complainant")
    pg.select_option("#handler", str(world.u_legal_sjz.pk))
    pg.click("#assign button[type=submit]")
    assert "已分办" in pg.inner_text("main")
    pg.fill("#note-text", "已调取执法记录仪视频，核实执法人员未出示证件。")
    pg.click("#note button[type=submit]")
    assert "调查中" in pg.inner_text(".status")
    pg.fill("#reply-text", "经调查核实，您反映的问题属实。我局已责令该局对执法人员进行批评教育并整改。")
    pg.click("#reply button[type=submit]")
    assert "已答复" in pg.inner_text(".status")
    shot(pg, "3-office-detail-desktop")
    pg.goto(pg.base + "/supervision/complaints/")
    shot(pg, "4-office-list-desktop")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REPLIED and complaint.notes.count() == 1

    # the complainant reads the reply with the number, on the phone
    pg.context.clear_cookies()
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.goto(pg.base + "/complaints/lookup/")
    pg.fill("#tracking_number", number.lower())
    pg.click("button[type=submit]")
    text = pg.inner_text("main")
    assert "已答复" in text and "我局已责令该局对执法人员进行批评教育并整改" in text
    assert "执法记录仪视频" not in text and "钱多多" not in text and "13912345678" not in text
    assert complaint.reply_due.isoformat() in text
    assert no_horizontal_scroll(pg)
    shot(pg, "5-lookup-reply-phone")
