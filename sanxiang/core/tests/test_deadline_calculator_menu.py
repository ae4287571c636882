"""The deadline calculator (/deadlines/, issue 11 item 8): its menu groups
the period rules under short names without developer notes or local
examples; the long description, the citation and whether the period rolls
to the next working day come with the result; it fits a phone."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sanxiang.conftest import no_horizontal_scroll
from sanxiang.core import calculator
from sanxiang.core.deadlines import PERIOD_UNITS
from sanxiang.rules.loader import all_rules

# What a label must not carry: notes for developers or administrators and
# local examples belong to the rule's description, shown with the result.
NOTES = ("平台默认", "默认", "地方实践", "可配置", "可按", "河北", "宁夏", "浙江", "做法", "（", "。", "e.g.")


def test_every_period_rule_is_in_the_menu_or_left_out_with_a_reason():
    periods = {r.name for r in all_rules() if r.unit in PERIOD_UNITS}
    listed = [name for _group, items in calculator.GROUPS for name, _label in items]
    assert len(listed) == len(set(listed))
    assert periods == set(listed) | set(calculator.NOT_IN_CALCULATOR)
    assert not set(listed) & set(calculator.NOT_IN_CALCULATOR)


def test_labels_are_short_chinese_names_without_notes(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    for group, items in calculator.menu():
        assert re.fullmatch(r"[\u4e00-\u9fff、]+", group), group
        for name, label in items:
            assert len(label) <= 16, (name, label)
            assert re.search(r"[\u4e00-\u9fff]", label), (name, label)
            assert not any(note in label.replace("（生命健康、金融安全）", "").replace("（通报批评、较低罚款）", "")
                           .replace("（其他处罚）", "") for note in NOTES), (name, label)


@pytest.mark.django_db
def test_the_page_groups_the_menu_and_explains_the_result():
    html = Client().get("/deadlines/").content.decode()
    groups = re.findall(r'<optgroup label="([^"]+)">', html)
    assert groups[:3] == ["行政处罚", "行政强制", "行政许可"] and len(groups) == len(calculator.GROUPS)
    assert "平台默认" not in html and "地方实践" not in html
    assert '<option value="penalty.hearing_request_limit">申请听证期限</option>' in html
    result = Client().get("/deadlines/", {"rule": "coercion.seizure_limit", "start": "2026-09-01"}).content.decode()
    assert "查封、扣押期限：2026-10-01" in result  # 30 days, not moved past the National Day holiday
    assert "不顺延" in result and "第二十五条" in result
    assert "working_days" not in result and "calendar_days" not in result


def test_the_calculator_fits_a_phone(browser_page):
    """At 390 px the menu, the date and the result stay within the screen."""
    pg = browser_page
    pg.goto(pg.base + "/deadlines/?rule=publicity.short_publicity_period&start=2026-09-01")
    assert pg.locator("article.certificate").is_visible()
    assert no_horizontal_scroll(pg)
    box = pg.locator("#id_rule").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
