"""The matrix in chromium: the province's legal office opens it from the
navigation, filters it, drills down to a task; at phone width the grid
scrolls sideways inside its box while the page itself does not. Screenshots
in /tmp/out/D-*.png (SANXIANG_SCREENSHOTS overrides)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sanxiang.cases import services as case_services
from sanxiang.conftest import PHONE, log_in, no_horizontal_scroll
from sanxiang.measures import services
from sanxiang.measures.models import Task

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SANXIANG_SCREENSHOTS", "/tmp/out"))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"D-{name}.png"), full_page=True)


def _task(code, agency):
    return Task.objects.select_related("agency", "agency__region", "rollout").get(measure_code=code, agency=agency)


def test_the_province_opens_the_matrix_filters_it_and_drills_down_on_desktop_and_phone(mw, no_totp, cjk_fonts, browser_page):
    services.roll_out(actor=mw.u_legal_hebei, year=2026)
    case_services.set_av_requirement(actor=mw.u_head_changan, agency=mw.amr_changan, act_kind="penalty",
                                     place="执法办案区", content="询问全过程录音录像")
    task = _task("记录-4", mw.amr_changan)
    services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task])
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    services.add_report(actor=mw.u_head_lunan, task=_task("公示-11", mw.amr_lunan), text="执法文书按规定出具。")
    services.upload_evidence(actor=mw.u_head_changan, task=_task("公示-2", mw.amr_changan), label="公示办法",
                             upload=SimpleUploadedFile("a.pdf", PDF))

    pg = browser_page
    pg.set_viewport_size({"width": 1280, "height": 900})
    log_in(pg, "legal_hebei")
    pg.click("nav >> text=三项制度任务")
    pg.wait_for_load_state()  # the click waits only for the navigation to start; the matrix streams in after
    assert pg.url.endswith("/measures/")
    assert "三项制度任务矩阵" in pg.inner_text("h1")
    assert pg.locator("td[data-status=done]").count() == 1
    assert pg.locator("td[data-status=overdue]").count() > 10
    shot(pg, "matrix-desktop")
    # filter: one system, one city
    pg.select_option("#system", "recording")
    pg.select_option("#region", "130100")
    pg.click("form.filters button[type=submit]")
    pg.wait_for_load_state()
    assert pg.locator("thead th").count() == 13 + 2
    assert pg.locator("tbody tr").count() == 3  # 石家庄市司法局, 长安区, 正定县
    # drill down to the accepted task
    pg.click("td[data-status=done] a")
    pg.wait_for_load_state()
    assert pg.url.endswith(f"/measures/tasks/{task.pk}/")
    assert "已完成" in pg.inner_text("#task-status") and "音像记录事项清单" in pg.inner_text("#evidence")
    pg.click("p.back a")
    assert "/measures/" in pg.url

    # phone width: the page keeps its width, the grid scrolls inside its box
    pg.set_viewport_size(PHONE)
    pg.goto(pg.base + "/measures/")
    assert no_horizontal_scroll(pg)
    assert pg.evaluate("(() => { const b = document.querySelector('.matrix'); return b.scrollWidth > b.clientWidth; })()")
    pg.evaluate("document.querySelector('.matrix').scrollLeft = 400")
    assert pg.evaluate("document.querySelector('.matrix').scrollLeft") > 0
    assert pg.locator("thead th").count() == 40 + 2  # the grid stays a grid (no cards)
    shot(pg, "matrix-phone")
    pg.locator("td[data-status=overdue] a").first.click()
    assert "/measures/tasks/" in pg.url and no_horizontal_scroll(pg)
    shot(pg, "task-phone")
