"""The pre-publication check (issue 11, item 7): the publicity
administrator sees the private record beside the public text exactly as it
will be published, with every removal highlighted and named, and publishes
only after ticking "我已核对公开文本"."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.test import Client

from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision, DecisionStatus, PublicDecision

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"
WITNESS = "李小红"
PARTY = "张三丰"
# The screenshots in docs/screenshots/ are refreshed by running this test with
# SANXIANG_SCREENSHOT_DIR=docs/screenshots; otherwise they go to a temporary
# folder, so a test run never changes tracked files.
SCREENSHOT_DIR = os.environ.get("SANXIANG_SCREENSHOT_DIR")


@pytest.fixture
def pending(world):
    admin = core_services.create_user(actor="t", username="pub_check", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[{
        "external_id": "CHK-1", "kind": "penalty", "doc_number": "冀长市监罚〔2026〕77号",
        "party_name": PARTY, "party_type": "natural_person", "party_id_type": "身份证", "party_id_number": ID_NUMBER,
        "decision_date": "2026-10-20", "violation_type": "销售过期食品", "other_person_names": [WITNESS],
        "facts": f"当事人{PARTY}（身份证号{ID_NUMBER}，联系电话{PHONE}）销售超过保质期的食品<b>两箱</b>。"
                 f"证人{WITNESS}证实上述事实。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty_categories": ["罚款"], "fine_fen": 500000,
        "content": "罚款人民币5000元。",
    }])
    return admin, Decision.objects.get(external_id="CHK-1")


def _columns(html: str) -> tuple[str, str]:
    private = html.split('class="pubcheck-col pubcheck-private"', 1)[1].split('class="pubcheck-col pubcheck-public"', 1)
    return private[0], private[1].split("</section>", 1)[0]


def test_the_check_marks_the_id_number_phone_and_witness_on_the_private_side_and_the_public_side_lacks_them(pending):
    admin, decision = pending
    client = Client()
    client.force_login(admin)
    html = client.get(f"/workbench/publicity/{decision.pk}/").content.decode()
    private, public = _columns(html)
    marked = re.findall(r"<mark [^>]*>([^<]*)</mark>", private)
    for secret in (ID_NUMBER, PHONE, WITNESS, PARTY):
        assert secret in marked, secret
        assert secret not in public, secret
    # the public column is the text publish_decision will store
    facts = services._public_copy(decision).data["facts"]
    assert facts.replace("<", "&lt;").replace(">", "&gt;") in public
    assert "李某某" in public and "[身份证号已隐去]" in public and "[电话已隐去]" in public
    # each kind of removal is named in Chinese
    for label in ("身份证号", "手机号/电话", "姓名"):
        assert label in html
    # user text is escaped, never markup
    assert "<b>两箱</b>" not in html and "&lt;b&gt;两箱&lt;/b&gt;" in private
    assert 'name="confirmed"' in html and "我已核对公开文本" in html and "required" in html.split('name="confirmed"')[1][:40]


def test_publishing_without_the_confirmation_is_refused_and_nothing_is_published(pending):
    admin, decision = pending
    client = Client()
    client.force_login(admin)
    response = client.post(f"/workbench/publicity/{decision.pk}/publish/",
                           {"checked_version": decision.version}, follow=True)
    assert "发布前须核对公开文本" in response.content.decode()
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.PENDING
    assert not PublicDecision.objects.exists()
    assert not AuditEntry.objects.filter(action="publicity.publish").exists()


def test_publishing_a_record_corrected_after_the_check_is_refused(pending, world):
    admin, decision = pending
    shown = decision.version
    record = dict(decision.data, content="罚款人民币4000元。", correction_reason="复核更正")
    services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[record])
    client = Client()
    client.force_login(admin)
    response = client.post(f"/workbench/publicity/{decision.pk}/publish/",
                           {"checked_version": shown, "confirmed": "1"}, follow=True)
    assert "请重新核对公开文本" in response.content.decode()
    assert not PublicDecision.objects.exists()


def test_publishing_with_the_confirmation_publishes_the_text_that_was_shown(pending):
    admin, decision = pending
    client = Client()
    client.force_login(admin)
    _, shown = _columns(client.get(f"/workbench/publicity/{decision.pk}/").content.decode())
    client.post(f"/workbench/publicity/{decision.pk}/publish/", {"checked_version": decision.version, "confirmed": "1"})
    public = PublicDecision.objects.get(decision=decision)
    assert public.data["facts"].replace("<", "&lt;").replace(">", "&gt;") in shown
    assert public.title in shown


def test_the_check_page_at_desktop_and_phone_width(cjk_fonts, browser_page, pending, settings, tmp_path):
    settings.REQUIRE_TOTP = False
    admin, decision = pending
    page = browser_page
    log_in(page, admin.username)
    page.wait_for_url("**/workbench/**")
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    url = f"{page.base}/workbench/publicity/{decision.pk}/"
    for name, width in (("desktop", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        private = page.locator(".pubcheck-private").bounding_box()
        public = page.locator(".pubcheck-public").bounding_box()
        if width == 390:
            assert public["y"] >= private["y"] + private["height"]  # stacked
            assert no_horizontal_scroll(page)
        else:
            assert abs(public["y"] - private["y"]) < 2 and public["x"] > private["x"]  # side by side
        assert page.locator(".pubcheck-private mark", has_text=ID_NUMBER).count() == 2  # its own field and the facts
        page.locator(".pubcheck").screenshot(path=str(shots / f"publication-check-{name}.png"))
    # the browser will not send the form before the box is ticked
    page.click(".pubcheck button[type=submit]")
    assert page.evaluate("document.querySelector('input[name=confirmed]').validity.valueMissing")
    assert not PublicDecision.objects.exists()
    page.check("input[name=confirmed]")
    page.click(".pubcheck button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert PublicDecision.objects.filter(decision=decision).exists()
