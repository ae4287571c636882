"""Small things that make the interface read as one Chinese whole (issue 11
item 8): form labels end in the Chinese colon, one English word with two
meanings has two translations, every page offers a way back, and a phone
card shows no stray "：" where a cell has no label."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, pgettext

from sanxiang.cases.models import CaseStatus
from sanxiang.conftest import client_for, no_horizontal_scroll
from sanxiang.core.models import OfficerStatus


class _Form(forms.Form):
    name = forms.CharField(label="名称")
    urgent = forms.BooleanField(label="加急", required=False)


def test_form_labels_end_in_the_chinese_colon():
    with translation.override("zh-hans"):
        assert _Form()["name"].label_tag().endswith("名称：</label>")
        assert "加急：" in _Form()["urgent"].label_tag()


def test_one_english_word_with_two_meanings_has_two_translations():
    with translation.override("zh-hans"):
        assert str(CaseStatus.OPEN.label) == "办理中"
        assert pgettext("link", "open") == "打开"
        assert str(OfficerStatus.ACTIVE.label) == "正常"  # the status field, not validity on a day
        assert pgettext("certificate state", "valid") == "有效"
        assert pgettext("penalty decision", "Content") == "处罚内容"
        assert pgettext("licence decision", "Content") == "许可内容"
        assert gettext(":") == "："


@pytest.mark.django_db
def test_every_page_offers_a_way_back_to_the_page_above_it(world, no_totp):
    number = world.changan_officer.certificate_number
    assert '<p class="back"><a href="/verify/">← 返回上一级</a></p>' in Client().get(f"/verify/{number}").content.decode()
    assert '<p class="back"><a href="/">← 返回首页</a></p>' in Client().get("/officers/").content.decode()
    staff = client_for(world.u_legal_sjz)
    page = staff.get(f"/workbench/officers/{world.changan_officer.pk}/").content.decode()
    assert '<p class="back"><a href="/workbench/officers/">← 返回上一级</a></p>' in page
    agency = staff.get(f"/workbench/agencies/{world.amr_changan.pk}/").content.decode()
    assert '<p class="back"><a href="/workbench/">← 返回工作台</a></p>' in agency
    assert 'class="back"' not in staff.get("/workbench/").content.decode()  # where one starts


def test_a_phone_card_shows_no_colon_where_a_cell_has_no_label(browser_page):
    pg = browser_page
    pg.goto(pg.base + "/officers/?q=nobody-by-this-name")
    empty = pg.locator("td[colspan]").first
    assert empty.evaluate("td => getComputedStyle(td, '::before').content") in ("none", "normal")
    pg.goto(pg.base + "/officers/")
    labelled = pg.locator("td[data-label]").first
    assert "：" in labelled.evaluate("td => getComputedStyle(td, '::before').content")
    assert no_horizontal_scroll(pg)


def test_a_form_row_puts_its_label_beside_its_field_and_above_it_on_a_phone(browser_page, no_totp):
    """The reporting-channel form of an agency page: at desktop width the
    label ends in ： and sits on the field's line, right of nothing wider
    than its column; at 390 px it stands above the field."""
    from sanxiang.conftest import log_in
    from sanxiang.core.models import Agency

    pg = browser_page
    agency = Agency.objects.get(name="石家庄市长安区市场监督管理局")
    log_in(pg, "legal_sjz")
    pg.set_viewport_size({"width": 1100, "height": 900})
    pg.goto(pg.base + f"/workbench/agencies/{agency.pk}/")
    label, field = pg.locator("label[for=id_report_phone]"), pg.locator("#id_report_phone")
    assert label.inner_text().endswith("：")
    lb, fb = label.bounding_box(), field.bounding_box()
    assert lb["x"] + lb["width"] <= fb["x"] and abs((lb["y"] + lb["height"] / 2) - (fb["y"] + fb["height"] / 2)) < 12
    pg.set_viewport_size({"width": 390, "height": 844})
    lb, fb = label.bounding_box(), field.bounding_box()
    assert lb["y"] + lb["height"] <= fb["y"] + 1 and no_horizontal_scroll(pg)
