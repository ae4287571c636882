"""Search → results → detail on the real server in a real browser (phone size)."""

import pytest

from sanxiang.conftest import no_horizontal_scroll
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision


@pytest.fixture
def published(world):
    admin = core_services.create_user(actor="t", username="pub_browser", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    records = [{
        "external_id": f"B-{i}", "kind": "penalty", "doc_number": f"冀长市监罚〔2026〕{20 + i}号",
        "party_name": name, "party_type": "legal_person", "party_credit_code": "91350100M000100Y43",
        "decision_date": "2026-10-1%d" % i, "violation_type": "违法行为",
        "facts": facts, "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty_categories": ["罚款"],
        "fine_fen": 300000, "content": "罚款人民币3000元。",
    } for i, (name, facts) in enumerate([
        ("石家庄某某餐饮有限公司", "当事人使用超过保质期的食品原料加工食品。"),
        ("长安区某某超市有限公司", "当事人销售未取得营业执照的商品。"),
    ])]
    services.receive_records(actor="t", agency=world.amr_changan, records=records, source="api")
    for d in Decision.objects.all():
        services.publish_decision(actor=admin, decision=d)


def test_search_results_and_detail_on_a_phone(browser_page, published):
    page = browser_page
    page.goto(page.base + "/")
    page.fill("input[name=q]", "原料")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/decisions/?q=*")
    results = page.locator(".result")
    assert results.count() == 1
    assert "石家庄某某餐饮有限公司" in results.first.inner_text()
    assert no_horizontal_scroll(page)
    results.first.locator("a").click()
    page.wait_for_url("**/decisions/*/")
    body = page.content()
    assert "冀长市监罚〔2026〕20号" in body and "超过保质期的食品原料" in body and "3,000.00 元" in body
    assert no_horizontal_scroll(page)
