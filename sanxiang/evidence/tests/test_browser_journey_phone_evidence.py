"""Journey (b) of issue 11, through pages only in chromium at phone size: an
officer on site opens the case, goes to the step under way, adds a photo
and a recorded inquiry from the phone's upload page, and finds them on the
case — the step counts them, its evidence list names them, and the step
that needs AV (记录-4) can now be completed from the page."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.cases.models import CaseStep, StepStatus
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core import clock
from sanxiang.evidence.demo import interview_wav, scene_jpeg
from sanxiang.evidence.models import EvidenceItem

UPLOAD_VERDICT = (  # a function, not a string: the page's CSP refuses eval
    "() => { const s = document.querySelector('.upload-status');"
    " return s && (s.classList.contains('ok') || s.classList.contains('error')) ? s.textContent : null; }")


def test_evidence_uploaded_from_the_phone_page_is_on_the_case(browser_page, world, tmp_path, settings):
    settings.REQUIRE_TOTP = False
    w = world
    w.changan_officer.user = w.u_changan
    w.changan_officer.save(update_fields=["user"])
    yesterday = clock.today() - timedelta(days=1)
    case = case_services.open_case(actor=w.u_changan, agency=w.amr_changan, title="长安区某便利店销售过期食品案",
                                   act_kind="penalty", party_name="石家庄市长安区某便利店", party_type="individual_business",
                                   opened_on=yesterday, officers=[w.changan_officer, w.changan_officer2])
    opening = case_services.start_step(actor=w.u_changan, case=case, code="opening",
                                       at=timezone.make_aware(datetime.combine(yesterday, time(9))))
    case_services.complete_step(actor=w.u_changan, step=opening,
                                at=timezone.make_aware(datetime.combine(yesterday, time(10))))
    step = case_services.start_step(actor=w.u_changan, case=case, code="investigation", place="建设北大街126号",
                                    at=timezone.make_aware(datetime.combine(yesterday, time(11))))
    photo, audio = tmp_path / "货架照片.jpg", tmp_path / "询问录音.wav"
    photo.write_bytes(scene_jpeg(seed=7))
    audio.write_bytes(interview_wav(seed=7))

    pg = browser_page
    log_in(pg, "changan_officer", w.password)
    pg.goto(f"{pg.base}/workbench/cases/{case.pk}/")
    pg.click(f"a.button[href='/workbench/cases/{case.pk}/steps/{step.pk}/']")  # 继续：调查取证
    assert "已附0件音像资料" in pg.inner_text("main")
    pg.click("#evidence-upload a.button")  # 为本环节添加证据
    pg.wait_for_url("**/evidence/")
    assert no_horizontal_scroll(pg)
    pg.set_input_files("input[type=file]", [str(photo), str(audio)])
    pg.click("form.tus-upload button[type=submit]")
    verdict = pg.wait_for_function(UPLOAD_VERDICT, timeout=60_000).json_value()
    assert "上传完成" in verdict, verdict
    # the page reloads itself with the step's list: both files are named there
    pg.wait_for_selector("table.list td a:has-text('询问录音.wav')", timeout=30_000)
    pg.wait_for_load_state("load")
    assert sorted(EvidenceItem.objects.filter(step=step).values_list("original_name", "kind")) == [
        ("询问录音.wav", "audio"), ("货架照片.jpg", "photo")]

    # on the case: its page lists both items, and its timeline leads to the
    # step, which counts and lists them
    pg.goto(f"{pg.base}/workbench/cases/{case.pk}/")
    panel = pg.locator("#case-evidence")
    assert "2 件证据" in panel.inner_text()
    for name in ("货架照片.jpg", "询问录音.wav"):
        assert panel.locator("td a", has_text=name).count() == 1
    assert no_horizontal_scroll(pg)
    pg.click(f"ol.timeline a[href='/workbench/cases/{case.pk}/steps/{step.pk}/']")
    assert "已附2件音像资料" in pg.inner_text("main")
    assert no_horizontal_scroll(pg)
    pg.click("#evidence-upload a.button")
    pg.wait_for_url("**/evidence/")
    assert pg.locator("h2", has_text="本环节证据（2）").count() == 1
    for name in ("货架照片.jpg", "询问录音.wav"):
        assert pg.locator("table.list td a", has_text=name).count() == 1
    # the AV the step needs is there: the step completes from its page
    pg.go_back()
    pg.click("form.stack button[type=submit]:has-text('完成本环节')")
    pg.wait_for_url(f"**/workbench/cases/{case.pk}/**")
    assert CaseStep.objects.get(pk=step.pk).status == StepStatus.COMPLETED
