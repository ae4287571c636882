"""Realistic decision records in the push-API format (Faker zh_CN): used by
the demo, the ingest benchmark and tests. Valid by construction: GB 11643 ID
numbers, GB 32100 credit codes, exact yuan amounts."""

from __future__ import annotations

import random
from datetime import date, timedelta
from sanxiang.core import clock
from sanxiang.core.validators import id_number_check_char, make_credit_code


def _id_number(rng: random.Random, region: str) -> str:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_number_check_char(first17)


def generate_records(n: int, *, seed: int = 20261127, prefix: str = "GEN", agency_name: str = "石家庄市长安区市场监督管理局",
                     abbr: str = "石长市监", regions: list[str] | None = None, days_back: int = 60,
                     first_number: int = 1) -> list[dict]:
    """n push-API records, about 70 % penalties and 30 % licences, a third of
    the penalties against natural persons; all valid. Their 文号 run from
    ``first_number``: two calls for one agency need distinct ranges, since a
    文号 held by another party's decision is refused (``number_taken``)."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    today = clock.today()
    regions = regions or ["130102"]
    violations = [
        ("经营超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项"),
        ("未取得许可从事食品经营活动", "《中华人民共和国食品安全法》第一百二十二条第一款"),
        ("发布虚假广告", "《中华人民共和国广告法》第五十五条第一款"),
        ("销售不合格产品", "《中华人民共和国产品质量法》第四十九条"),
        ("未按规定明码标价", "《明码标价和禁止价格欺诈规定》第二十一条"),
    ]
    out = []
    for i in range(n):
        region = rng.choice(regions)
        decided = today - timedelta(days=rng.randrange(0, days_back))
        if rng.random() < 0.7:
            violation, basis = rng.choice(violations)
            person = rng.random() < 0.33
            fine = f"{rng.randrange(500, 200000)}.{rng.randrange(0, 100):02d}"
            categories = ["罚款"] if rng.random() < 0.6 else ["警告", "罚款"]
            rec = {
                "external_id": f"{prefix}-CF-{i:07d}", "kind": "penalty",
                "doc_number": f"{abbr}罚〔{decided.year}〕{i + first_number}号",
                "decision_date": decided.isoformat(), "violation_type": violation, "basis": basis,
                "facts": f"经查，当事人于{decided.year}年{decided.month}月在{fake.address()}{violation}，"
                         f"违法所得{rng.randrange(100, 5000)}元。",
                "penalty_categories": categories, "fine_yuan": fine,
                "content": f"{'警告，' if '警告' in categories else ''}罚款人民币{fine}元。",
                "data_source": agency_name,
            }
            if person:
                rec.update(party_type="natural_person", party_name=fake.name(), party_id_type="身份证",
                           party_id_number=_id_number(rng, region))
            else:
                rec.update(party_type="legal_person", party_name=fake.company(), legal_representative=fake.name(),
                           party_credit_code=make_credit_code(region_code=region, serial=rng.randrange(1, 10 ** 7),
                                                              authority="9", kind="1"))
        else:
            valid_from = decided
            rec = {
                "external_id": f"{prefix}-XK-{i:07d}", "kind": "license",
                "doc_number": f"{abbr}许〔{decided.year}〕{i + first_number}号", "decision_date": decided.isoformat(),
                "party_type": "individual_business", "party_name": f"{fake.last_name()}记{rng.choice(['餐饮店', '便利店', '药房'])}",
                "party_credit_code": make_credit_code(region_code=region, serial=rng.randrange(1, 10 ** 7),
                                                      authority="9", kind="2"),
                "legal_representative": fake.name(), "licence_doc_name": "食品经营许可决定书",
                "licence_category": "普通", "licence_cert_name": "食品经营许可证",
                "licence_number": f"JY1{region}{rng.randrange(0, 10 ** 7):07d}",
                "content": "准予食品经营许可，经营项目：预包装食品销售、热食类食品制售。",
                "valid_from": valid_from.isoformat(), "valid_until": (valid_from + timedelta(days=5 * 365)).isoformat(),
                "basis": "《中华人民共和国食品安全法》第三十五条",
            }
        out.append(rec)
    return out
