"""Every public free-text field goes through the same redactor, enforced in
one place (issue 9, section 3): the public models' text fields are filled
only by redaction.public_copy, and a secret planted in each private input
(every free-text field of a record, the correction reason, the withdrawal
reason) in a bypass format never reaches a public channel: portal pages,
search, the feed, the public API, the public CSV export, or any text field
of a public row."""

from __future__ import annotations

import json
import random
from importlib import import_module

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.publicity import services
from sanxiang.publicity.intake import validate_records
from sanxiang.publicity.models import Decision, PublicDecision, PublicTextGuard, PublicVersion, WithdrawalNotice
from sanxiang.publicity.redaction import (
    PUBLIC_STRUCTURAL_FIELDS,
    PUBLIC_TEXT_FIELDS,
    UnredactedPublicText,
    public_copy,
)

from .redaction_corpus import Planted, leaks, make_id, make_mobile
from .test_intake import company_code, id_number

# Names that occur nowhere else in the world fixture (officers' names are public).
WITNESSES = tuple(["趙子龍", "歐陽修竹", "上官飛燕", "钱多多", "诸葛青云", "完颜阿骨", "司马相如", "纳兰性德", "孙悟净", "冯宝宝",
                  "陆小凤", "花满楼", "楚留香", "胡铁花", "姬冰雁", "李寻欢", "阿飞燕", "龙啸云", "林诗音", "孙小红"])
_names = iter(())


def _secret_text(field: str, rng: random.Random, planted: list[Planted], *, short: bool = False) -> str:
    """A text for one private input holding its own secrets in bypass formats."""
    witness = next(_names)
    mobile = make_mobile(rng)
    number = make_id(rng)
    dotted = f"{mobile[:3]}.{mobile[3:7]}.{mobile[7:]}"
    planted += [Planted("witness", field, witness), Planted("mobile", field, mobile[3:])]
    if short:
        return f"證人{witness}電話{dotted}"
    user = "".join(rng.choice("abcdefghij") for _ in range(7))
    planted += [Planted("id_number", field, number[6:17]), Planted("email", field, user)]
    return (f"經查，證人{witness}（電話{dotted}，身份证号{number[:6]}\u200b{number[6:]}，"
            f"邮箱{user}@例子.中国）在場。")


@pytest.fixture
def planted_world(world):
    global _names
    _names = iter(WITNESSES)
    rng = random.Random(20261201)
    admin = core_services.create_user(actor="t", username="pub_fields", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    planted: list[Planted] = []
    party, party_id, named = "钱七七", id_number(birth="19800101", serial="777"), "欧阳晓晓"
    planted += [Planted("party", "party_name", party), Planted("id_number", "party_id_number", party_id[6:17]),
                Planted("witness", "other_person_names", named)]
    person = {
        "external_id": "FIELDS-1", "kind": "penalty", "doc_number": "石长市监罚〔2026〕901号", "party_name": party,
        "party_type": "natural_person", "party_id_type": "身份证", "party_id_number": party_id, "decision_date": "2026-11-02",
        "penalty_categories": ["罚款"], "fine_yuan": "500", "other_person_names": [named],
    }
    for field in ("facts", "basis", "content", "remark", "violation_type", "party_other_codes"):
        person[field] = f"当事人{party}、{named}。" + _secret_text(field, rng, planted)
    person["licence_affected"] = _secret_text("licence_affected", rng, planted, short=True)
    company = {
        "external_id": "FIELDS-2", "kind": "penalty", "doc_number": "石长市监罚〔2026〕902号",
        "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person", "party_credit_code": company_code(9),
        "legal_representative": "张三", "decision_date": "2026-11-02", "penalty_categories": ["警告"],
        "violation_type": "销售不合格食品",
        "basis": "《中华人民共和国食品安全法》第一百二十六条", "content": "警告。",
        "facts": "法定代表人张三家住正定县和平路620号4单元1858室，货款转入账户6222020200112233445。"
                 + _secret_text("company_facts", rng, planted),
    }
    planted += [Planted("address", "company_facts", "620号4单元1858室"), Planted("bank_card", "company_facts", "6222020200112233445")]
    licence = {
        "external_id": "FIELDS-3", "kind": "license", "doc_number": "石长市监许〔2026〕903号",
        "party_name": "长安区某某便利店", "party_type": "individual_business", "party_credit_code": company_code(10),
        "legal_representative": "孙八", "decision_date": "2026-10-08", "valid_from": "2026-10-08",
        "licence_category": "普通", "licence_number": "JY11301020099999",
        "licence_doc_name": _secret_text("licence_doc_name", rng, planted, short=True),
        "licence_cert_name": _secret_text("licence_cert_name", rng, planted, short=True),
        "content": _secret_text("licence_content", rng, planted), "remark": _secret_text("licence_remark", rng, planted),
    }
    good, errors = validate_records([person, company, licence])
    assert errors == []
    services.receive_records(actor="t", agency=world.amr_changan, records=[r for _, r in good], source="api")
    for decision in Decision.objects.all():
        services.publish_decision(actor=admin, decision=decision)
    # a correction with a reason, and a withdrawal with a reason: both public notes
    corrected = dict(good[0][1], facts=good[0][1]["facts"] + "（更正）",
                     correction_reason=_secret_text("correction_reason", rng, planted))
    services.receive_records(actor="t", agency=world.amr_changan, records=[corrected], source="api")
    services.withdraw_decision(actor=admin, decision=Decision.objects.get(external_id="FIELDS-2"), ground="changed",
                               reason=_secret_text("withdrawal_reason", rng, planted))
    return world, planted


def _public_urls(world) -> list[str]:
    urls = ["/", "/decisions/", "/decisions/?q=證人", "/decisions/?q=经查", "/decisions/withdrawn/",
            "/decisions/export.csv", "/decisions/export.csv?q=经查", f"/decisions/feed/{world.amr_changan.pk}/",
            "/api/v1/publicity/search?q=經查&page_size=100", "/api/v1/publicity/search?page_size=100",
            "/api/v1/publicity/withdrawals"]
    for pk in PublicDecision.objects.values_list("pk", flat=True):
        urls += [f"/decisions/{pk}/", f"/api/v1/publicity/public/{pk}"]
    return urls


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode("utf-8")
    if response["Content-Type"].startswith("application/json"):
        body += json.dumps(response.json(), ensure_ascii=False)
    return body


def test_a_secret_planted_in_each_private_input_reaches_no_public_channel(planted_world):
    world, planted = planted_world
    inputs = {p.fmt for p in planted}
    assert {"facts", "basis", "content", "remark", "violation_type", "party_other_codes", "licence_affected",
            "party_name", "party_id_number", "other_person_names", "company_facts", "licence_doc_name",
            "licence_cert_name", "licence_content", "licence_remark", "correction_reason", "withdrawal_reason"} <= inputs
    client = Client()
    scanned = []
    for url in _public_urls(world):
        response = client.get(url)
        assert response.status_code in (200, 404, 410), url  # 404/410: the withdrawn one
        body = _body(response)
        leaked = [(p.fmt, p.kind) for p in planted if leaks(body, p)]
        assert leaked == [], f"{url} leaks {leaked}"
        scanned.append(url)
    assert len(scanned) >= 15
    # every text field of every public row, whatever channel reads it next
    for label, fields in PUBLIC_TEXT_FIELDS.items():
        for row in apps.get_model(label).objects.all():
            text = json.dumps([getattr(row, f) for f in fields], ensure_ascii=False)
            leaked = [(p.fmt, p.kind) for p in planted if leaks(text, p)]
            assert leaked == [], f"{label} #{row.pk} holds {leaked}"
    # search finds nothing by a secret
    for p in planted:
        if p.kind in ("witness", "party"):
            assert client.get("/api/v1/publicity/search", {"q": p.value}).json()["count"] == 0, p


def test_the_private_record_and_the_notes_still_hold_every_planted_secret(planted_world):
    """The check above can fail: every secret is readable on the private side."""
    _, planted = planted_world
    private = json.dumps([list(Decision.objects.values_list("data", flat=True)),
                          list(Decision.objects.values_list("versions__reason", flat=True))], ensure_ascii=False)
    from sanxiang.core.models import AuditEntry

    private += json.dumps(list(AuditEntry.objects.filter(action="publicity.withdraw").values_list("payload", flat=True)),
                          ensure_ascii=False)
    assert [(p.fmt, p.kind) for p in planted if not leaks(private, p)] == []


def test_every_text_field_of_the_public_models_is_declared_and_guarded():
    guarded = {m._meta.label: m for m in apps.get_models() if issubclass(m, PublicTextGuard)}
    assert set(guarded) == set(PUBLIC_TEXT_FIELDS) == {"publicity.PublicDecision", "publicity.PublicVersion",
                                                       "publicity.WithdrawalNotice"}
    for label, model in guarded.items():
        text_fields = {f.name for f in model._meta.concrete_fields
                       if isinstance(f, (models.CharField, models.TextField, models.JSONField))}
        assert text_fields == set(PUBLIC_TEXT_FIELDS[label]) | set(PUBLIC_STRUCTURAL_FIELDS[label]), label
        assert not set(PUBLIC_TEXT_FIELDS[label]) & set(PUBLIC_STRUCTURAL_FIELDS[label])


def test_a_public_row_with_text_not_made_by_public_copy_is_refused(planted_world):
    world, _ = planted_world
    public = PublicDecision.objects.exclude(decision__external_id="FIELDS-2").first()
    decision = Decision.objects.get(external_id="FIELDS-2")
    with pytest.raises(UnredactedPublicText, match="WithdrawalNotice.reason"):
        WithdrawalNotice(decision=decision, agency=decision.agency, doc_number=public_copy(
            decision.data, party_is_natural_person=False).doc_number, ground="changed", reason="證人王五在場",
            withdrawn_at=public.published_at, due=public.decision_date, on_time=True).save()
    with pytest.raises(UnredactedPublicText, match="PublicVersion.data"):
        PublicVersion.objects.create(public=public, number=99, data=dict(public.data), reason="",
                                     published_at=public.published_at)
    public.data["facts"] = "證人王五電話13811112206"  # changed in place after reading
    with pytest.raises(UnredactedPublicText, match="PublicDecision.data"):
        public.save()
    public = PublicDecision.objects.get(pk=public.pk)
    public.party_name = "王五"
    with pytest.raises(UnredactedPublicText, match="PublicDecision.party_name"):
        public.save()
    # a row read and saved with its text unchanged is fine (e.g. hiding it)
    public = PublicDecision.objects.get(pk=public.pk)
    public.visible = False
    public.save()
    only = PublicDecision.objects.only("id", "visible").get(pk=public.pk)
    only.visible = True
    only.save()


@pytest.mark.django_db(transaction=True)
def test_public_text_stored_before_the_fix_is_redacted_by_the_migration(world):
    """Rows written by the old redactor (or, for withdrawal reasons, by none)
    go through public_copy once: migration 0004."""
    from datetime import date, datetime, timezone

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from sanxiang.publicity import search
    from sanxiang.publicity.search import search_public

    # The migration's own writer: today's index_public writes columns and
    # tables that later migrations add (0011 day, 0012 keys, 0013 rank).
    index_as_of_0004 = import_module("sanxiang.publicity.migrations.0004_reredact_public_text").index_as_of_0004

    def index_rows():
        table, key = (search.PG_TABLE, "public_id") if connection.vendor == "postgresql" else (search.FTS_TABLE, "rowid")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {key} = %s", [public.pk])
            return cursor.fetchone()[0]

    before, after = [("publicity", "0003_early_end_powers")], [("publicity", "0004_reredact_public_text")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    agency = world.amr_changan
    facts = "当事人钱七七销售过期食品。證人趙子龍（電話138.1111.2206）在場。"
    data = {"party_name": "钱七七", "party_type": "natural_person", "doc_number": "石长市监罚〔2026〕911号", "facts": facts,
            "kind": "penalty", "party_id_number": id_number(serial="911")}
    decision = old.get_model("publicity", "Decision").objects.create(
        agency_id=agency.pk, external_id="OLD-1", kind="penalty", status="withdrawn", data=data, version=1,
        doc_number=data["doc_number"], party_name="钱七七", party_type="natural_person", decision_date=date(2026, 11, 2))
    old.get_model("publicity", "DecisionVersion").objects.create(decision=decision, number=1, data=data, source="api",
                                                                actor="t")
    when = datetime(2026, 11, 3, tzinfo=timezone.utc)
    public = old.get_model("publicity", "PublicDecision").objects.create(
        decision=decision, agency_id=agency.pk, region_path=agency.region.path, kind="penalty", version=1,
        doc_number=data["doc_number"], party_name="钱某某", title="钱某某行政处罚决定", data={**data, "party_name": "钱某某"},
        decision_date=date(2026, 11, 2), published_at=when)
    old.get_model("publicity", "PublicVersion").objects.create(public=public, number=1, data=public.data,
                                                              reason="據證人趙子龍電話138.1111.2206更正", published_at=when)
    old.get_model("publicity", "WithdrawalNotice").objects.create(
        decision=decision, agency_id=agency.pk, doc_number=data["doc_number"], ground="changed",
        reason="复议变更：證人趙子龍（電話138.1111.2206）证言不实。", withdrawn_at=when, due=date(2026, 11, 6), on_time=True)
    with connection.cursor() as cursor:
        index_as_of_0004(cursor, connection.vendor, [public], search)
    assert index_rows() == 1

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    # Read as of 0004 (the models of today may have columns added later).
    at = executor.loader.project_state(after).apps
    public = at.get_model("publicity", "PublicDecision").objects.get(pk=public.pk)
    notices = at.get_model("publicity", "WithdrawalNotice").objects
    texts = json.dumps([public.data, public.party_name, public.title,
                        list(at.get_model("publicity", "PublicVersion").objects.values_list("reason", "data")),
                        list(notices.values_list("reason", flat=True))], ensure_ascii=False)
    assert "趙子龍" not in texts and "1111" not in texts and "钱七七" not in texts
    assert notices.get().reason == "复议变更：證人趙某某（電話[电话已隐去]）证言不实。"
    assert "party_id_number" not in public.data
    assert index_rows() == 1

    # All migrations applied (every later test expects them; later ones than
    # 0004 add columns filled from the rows 0004 wrote): the index holds the
    # re-redacted text, not the old one.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert search_public(q="趙子龍").count == 0
    assert search_public(q="过期食品").count == 1
