"""Fixtures for the document tests: the core `world`, document abbreviations
for two counties' agencies, and a penalty case in each."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import pytest

from sanxiang.cases.models import Case
from sanxiang.core import services as core_services

# The common font subset takes ~20 s to cut; keep it across test sessions
# (keyed by the font file and fontTools version, so never stale).
os.environ.setdefault("SANXIANG_FONT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "sanxiang-font-cache"))

DECISION_DATA = {
    "party_address": "石家庄市长安区中山东路100号",
    "legal_representative": "张三",
    "facts": "当事人于2026年3月1日在其经营场所销售超过保质期的“康乐牌”酸奶12盒，货值金额人民币96元，违法所得人民币48元。",
    "evidence": ["现场检查笔录及现场照片", "询问笔录", "进货台账及销售记录", "营业执照复印件"],
    "statement_review": "当事人在法定期限内未提出陈述、申辩。",
    "violated_provision": "《中华人民共和国食品安全法》第三十四条第（十）项",
    "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
    "discretion": "鉴于当事人积极配合调查，主动下架涉案食品，依法从轻处罚。",
    "penalty": "一、没收违法所得；二、罚款",
    "fine": "50000",
    "confiscation": "48",
    "payment_channel": "中国工商银行石家庄长安支行（代收罚没款）",
    "review_body": "石家庄市长安区人民政府",
    "court": "石家庄市长安区人民法院",
}


@pytest.fixture
def dw(world):
    """world + abbreviations 冀石长市监 / 冀石正市监 and one open penalty case
    in 长安区 and one in 正定县."""
    actor = "test-fixture"
    world.amr_changan = core_services.update_agency(actor=actor, agency=world.amr_changan, short_name="冀石长市监",
                                                    address="石家庄市长安区建设北大街1号", phone="0311-85000000")
    world.amr_zhengding = core_services.update_agency(actor=actor, agency=world.amr_zhengding, short_name="冀石正市监")

    def case(agency, user, title, party):
        return Case.objects.create(agency=agency, title=title, act_kind="penalty", procedure="general",
                                   opened_on=date(2026, 3, 2), party_name=party, party_type="legal_person",
                                   party_credit_code="91130102MA0A1B2C3D", created_by=user)

    world.case_changan = case(world.amr_changan, world.u_changan, "石家庄康乐商贸有限公司销售过期食品案", "石家庄康乐商贸有限公司")
    world.case_zhengding = case(world.amr_zhengding, world.u_zhengding, "正定县某超市销售过期食品案", "正定县某超市")
    return world
