"""No public response carries a private number: records full of Faker zh_CN
ID numbers, phones, bank cards, e-mails and addresses are published, then
every public page, API response, feed and export is fetched and scanned."""

import json
import random

import pytest
from django.test import Client
from faker import Faker

from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision, PublicDecision

from .redaction_corpus import luhn_card

N_RECORDS = 40


@pytest.fixture
def leaky_world(world):
    fake = Faker("zh_CN")
    fake.seed_instance(20261127)
    rng = random.Random(7)
    admin = core_services.create_user(actor="t", username="pub_leak", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    secrets, records = [], []
    for i in range(N_RECORDS):
        ssn, phone, card, email = fake.ssn(), fake.phone_number(), luhn_card(rng, 18), fake.email()
        address, witness = fake.address().rsplit(" ", 1)[0], fake.name()
        natural = i % 2 == 0
        party = fake.name() if natural else fake.company()
        secrets += [ssn, phone, card, email, address, witness] + ([party] if natural else [])
        records.append({
            "external_id": f"LEAK-{i}", "kind": "penalty", "doc_number": f"冀长市监罚〔2026〕{100 + i}号",
            "party_name": party, "party_type": "natural_person" if natural else "legal_person",
            "party_credit_code": "" if natural else "91350100M000100Y43",
            "party_id_type": "身份证" if natural else "", "party_id_number": ssn if natural else "",
            "legal_representative": "" if natural else fake.name(), "decision_date": "2026-10-20",
            "violation_type": "销售不符合食品安全标准的食品", "other_person_names": [witness],
            "facts": f"当事人{party}（身份证号{ssn}，住{address}，联系电话{phone}，电子邮箱{email}）在经营中销售不合格食品，"
                     f"违法所得通过银行卡{card}收取。证人{witness}证实上述事实。",
            "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty_categories": ["罚款"], "fine_fen": 1000000,
            "content": f"罚款人民币10000元，请于15日内缴纳。联系人电话{phone}。", "remark": f"当事人邮箱{email}",
        })
    services.receive_records(actor="t", agency=world.amr_changan, records=records, source="api")
    for decision in Decision.objects.filter(agency=world.amr_changan):
        services.publish_decision(actor=admin, decision=decision)
    services.withdraw_decision(actor=admin, decision=Decision.objects.get(external_id="LEAK-1"), ground="changed",
                               reason=f"复议变更（原联系电话{records[1]['content'][-12:-1]}）")
    return world, [s for s in secrets if len(s) >= 2]


def public_urls(world) -> list[str]:
    ids = list(PublicDecision.objects.values_list("pk", flat=True))
    urls = ["/", "/decisions/", "/decisions/?q=食品", "/decisions/?q=罚款&page=2", "/decisions/withdrawn/",
            "/decisions/export.csv", "/decisions/export.csv?q=银行卡",
            f"/decisions/feed/{world.amr_changan.pk}/", "/api/v1/publicity/search?q=食品&page_size=100",
            "/api/v1/publicity/search?page_size=100&page=1", "/api/v1/publicity/withdrawals", "/officers/"]
    for pk in ids:
        urls += [f"/decisions/{pk}/", f"/api/v1/publicity/public/{pk}"]
    return urls


def test_no_public_response_contains_any_private_value(leaky_world):
    world, secrets = leaky_world
    client = Client()
    scanned = 0
    for url in public_urls(world):
        r = client.get(url)
        assert r.status_code in (200, 404, 410), url  # 404/410: the withdrawn one
        body = (b"".join(r.streaming_content) if r.streaming else r.content).decode("utf-8")  # the CSV export streams
        if r["Content-Type"].startswith("application/json"):
            body += json.dumps(r.json(), ensure_ascii=False)
        leaked = [s for s in secrets if s in body]
        assert leaked == [], f"{url} leaks {leaked[:3]}"
        scanned += 1
    assert scanned >= 2 * N_RECORDS


def test_the_private_record_keeps_every_original_value(leaky_world):
    world, secrets = leaky_world
    stored = json.dumps(list(Decision.objects.values_list("data", flat=True)), ensure_ascii=False)
    assert all(s in stored for s in secrets)
