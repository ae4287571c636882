"""The back office of 双随机抽查 through HTTP as its people: the organiser
writes a plan and a batch and submits it, the legal office files it, the
organiser starts the draw, both participants commit and reveal from their
to-do list, and the public page shows the result; refusals come back as
messages naming the problem, never a 500. Then the same commit with the
page's own secret maker, in chromium, at phone and desktop width."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.test import Client

from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.tests.conftest import filed
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.inspections import drawv1
from sanxiang.inspections.models import Draw, DrawStatus, InspectionBatch, InspectionPlan, PlanStatus
from sanxiang.inspections.tests.world import END, SECRETS, START, credit
from sanxiang.inspections import services


@pytest.fixture
def ow(cw, settings):
    settings.REQUIRE_TOTP = False
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=CatalogueKind.INSPECTION_ITEMS)
    for n in range(1, 9):
        services.add_object(actor="test-fixture", data={"name": f"长安区第{n}食品店", "credit_code": credit(n),
                                                          "region": "130102", "risk_tier": "ABCD"[n % 4]})
    return cw


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_plan_to_draw_through_the_pages_of_the_organiser_and_the_legal_office(ow):
    org, office = client(ow.u_pub_changan), client(ow.u_legal_sjz)
    page = org.get("/inspections/office/")
    assert page.status_code == 200 and "新建年度抽查计划" in page.content.decode()
    r = org.post("/inspections/office/plans/", {"year": "2026", "title": "2026年度抽查计划"}, follow=True)
    assert "计划已创建" in messages_of(r)
    plan = InspectionPlan.objects.get()
    bad = org.post(f"/inspections/office/plans/{plan.pk}/batches/", {
        "title": "第四季度", "item_code": "SJ-CC-001", "region": "130102", "ratio_A": "五成", "k": "2",
        "starts_on": "2026-12-10", "ends_on": "2026-12-20"}, follow=True)
    assert bad.status_code == 200 and "不是数字" in messages_of(bad)
    r = org.post(f"/inspections/office/plans/{plan.pk}/batches/", {
        "title": "第四季度", "item_code": "SJ-CC-001", "region": "130102", "ratio_A": "0.5", "ratio_B": "0.5",
        "ratio_C": "1", "ratio_D": "1", "k": "2", "limit": "", "starts_on": "2026-12-10", "ends_on": "2026-12-20"},
        follow=True)
    assert "批次已增加" in messages_of(r), messages_of(r)
    assert "已报送" in messages_of(org.post(f"/inspections/office/plans/{plan.pk}/submit/", follow=True))
    todo = office.get("/workbench/").content.decode()
    assert "抽查计划备案" in todo
    assert "计划已备案" in messages_of(office.post(f"/inspections/office/plans/{plan.pk}/decide/", {"decision": "file"}, follow=True))
    assert InspectionPlan.objects.get().status == PlanStatus.FILED
    batch = InspectionBatch.objects.get()
    r = org.post(f"/inspections/office/batches/{batch.pk}/draw/", {"public_value_note": ""}, follow=True)
    assert "快照已固定" in messages_of(r)
    draw = Draw.objects.get()
    assert "提交承诺值" in org.get("/workbench/").content.decode()
    for c, who in ((org, "agency"), (office, "office")):
        r = c.post(f"/inspections/office/draws/{draw.pk}/commit/", {"commitment": drawv1.commitment(SECRETS[who])}, follow=True)
        assert "承诺值已记录" in messages_of(r), messages_of(r)
    wrong = org.post(f"/inspections/office/draws/{draw.pk}/reveal/", {"secret": "cd" * 32}, follow=True)
    assert "不符" in messages_of(wrong)
    for c, who in ((org, "agency"), (office, "office")):
        r = c.post(f"/inspections/office/draws/{draw.pk}/reveal/", {"secret": SECRETS[who]}, follow=True)
        assert "密钥已记录" in messages_of(r)
    draw.refresh_from_db()
    assert draw.status == DrawStatus.DRAWN and draw.result
    public = Client().get(f"/inspections/draws/{draw.pk}/").content.decode()
    assert "长安区第" in public and draw.seed in Client().get(f"/api/v1/inspections/draws/{draw.pk}/record").content.decode()


def test_the_office_refuses_strangers_and_odd_input_without_a_500(ow):
    org = client(ow.u_pub_changan)
    other = client(ow.u_pub_lunan)
    org.post("/inspections/office/plans/", {"year": "2026", "title": "计划"})
    plan = InspectionPlan.objects.get()
    assert other.post(f"/inspections/office/plans/{plan.pk}/submit/").status_code == 403
    for data in ({"year": "二〇二六", "title": "x"}, {"year": "99999999999999999999", "title": "x"}, {"year": "", "title": ""}):
        r = org.post("/inspections/office/plans/", data, follow=True)
        assert r.status_code in (200, 400)
    r = org.post(f"/inspections/office/plans/{plan.pk}/batches/", {"starts_on": "2026-13-45", "ends_on": "x", "k": "-1"}, follow=True)
    assert r.status_code in (200, 400)
    assert client(ow.u_admin).get("/inspections/office/").status_code == 403
    assert Client().get("/inspections/office/").status_code == 302  # to the login page


def _started_draw(ow, ratios: dict):
    """A filed plan of 长安区 with one batch, its draw started."""
    plan = services.create_plan(actor=ow.u_pub_changan, agency=ow.amr_changan, year=2026, title="2026年度抽查计划")
    batch = services.add_batch(actor=ow.u_pub_changan, plan=plan, title="第四季度食品店抽查", item_code="SJ-CC-001",
                               scope_region=ow.changan, ratios=ratios, starts_on=START, ends_on=END)
    services.submit_plan(actor=ow.u_pub_changan, plan=plan)
    services.decide_plan(actor=ow.u_legal_sjz, plan=plan, accept=True)
    return services.create_draw(actor=ow.u_pub_changan, batch=batch)


def test_a_participant_commits_with_the_pages_secret_maker_in_chromium(ow, cjk_fonts, browser_page, tmp_path):
    draw = _started_draw(ow, {"A": "1", "B": "1", "C": "1", "D": "1"})
    shots = Path(os.environ.get("SANXIANG_SCREENSHOT_DIR") or tmp_path)
    pg = browser_page
    log_in(pg, ow.u_pub_changan.username)
    pg.set_viewport_size({"width": 390, "height": 900})
    pg.goto(pg.base + "/workbench/")
    pg.click("label.navbutton")
    pg.get_by_role("link", name="双随机抽查", exact=True).click()
    pg.wait_for_url("**/inspections/office/")
    pg.get_by_role("button", name="在本设备上生成密钥").click()
    secret = re.search(r"[0-9a-f]{64}", pg.locator(".secret-out").inner_text()).group(0)
    commitment = pg.input_value("input[name=commitment]")
    assert commitment == drawv1.commitment(secret)  # the page's SHA-256 is drawv1's
    assert no_horizontal_scroll(pg)
    pg.screenshot(path=str(shots / "inspections-commit-phone.png"), full_page=True)
    pg.get_by_role("button", name="提交承诺值").click()
    pg.wait_for_load_state("load")
    assert "承诺值已记录" in pg.locator("main").inner_text()
    assert draw.participants.get(agency=ow.amr_changan).commitment == commitment
    pg.set_viewport_size({"width": 1280, "height": 900})
    pg.screenshot(path=str(shots / "inspections-office-desktop.png"), full_page=True)


def test_a_visitor_reads_a_drawn_draw_on_a_phone_in_chromium(ow, cjk_fonts, browser_page, tmp_path):
    draw = _started_draw(ow, {"A": "0.5", "B": "0.5", "C": "1", "D": "1"})
    for user, agency, who in ((ow.u_pub_changan, ow.amr_changan, "agency"), (ow.u_legal_sjz, ow.legal_sjz, "office")):
        services.commit(actor=user, draw=draw, agency=agency, commitment=drawv1.commitment(SECRETS[who]))
    for user, agency, who in ((ow.u_pub_changan, ow.amr_changan, "agency"), (ow.u_legal_sjz, ow.legal_sjz, "office")):
        draw = services.reveal(actor=user, draw=draw, agency=agency, secret=SECRETS[who])
    shots = Path(os.environ.get("SANXIANG_SCREENSHOT_DIR") or tmp_path)
    pg = browser_page
    for name, width in (("phone", 390), ("desktop", 1280)):
        pg.set_viewport_size({"width": width, "height": 900})
        pg.goto(pg.base + "/")
        if width == 390:
            pg.click("label.navbutton")
        pg.get_by_role("link", name="双随机抽取记录").click()
        pg.get_by_role("link", name="第四季度食品店抽查").click()
        pg.wait_for_url(f"**/inspections/draws/{draw.pk}/")
        text = pg.locator("main").inner_text()
        assert "已抽取" in text and draw.snapshot_sha256 in text and "自行核验本次抽取" in text
        assert no_horizontal_scroll(pg)
        pg.screenshot(path=str(shots / f"inspections-draw-{name}.png"), full_page=True)
