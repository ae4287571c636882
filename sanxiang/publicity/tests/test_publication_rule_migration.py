"""A publication rule stored in the old form ("7 working_days · citation")
reads Chinese after publicity migration 0009 (issue 11 item 8)."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

from sanxiang.publicity.models import Decision

migration = importlib.import_module("sanxiang.publicity.migrations.0009_publication_rule_in_chinese")
CITATION = "《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见》"


def test_the_old_period_code_becomes_chinese_and_the_citation_stays():
    convert = migration.chinese_publication_rule
    assert convert(f"7 working_days · {CITATION}") == f"7个工作日 · {CITATION}"
    assert convert("20 calendar_days · 某规定第3条") == "20日 · 某规定第3条"
    assert convert("6 months") == "6个月"


def test_text_already_chinese_or_empty_is_left_alone():
    convert = migration.chinese_publication_rule
    for text in (f"7个工作日 · {CITATION}", "", "7 working_days_extra · x", "按 7 working_days · 计算"):
        assert convert(text) == text


@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_stored_rules_and_leaves_the_due_date(world):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("publicity", "0008_field_labels_in_chinese")], [("publicity", "0009_publication_rule_in_chinese")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("publicity", "Decision")
    common = dict(agency_id=world.amr_changan.pk, kind="penalty", status="pending", version=1, party_type="legal_person",
                  decision_date=date(2026, 11, 2), publication_due=date(2026, 11, 11))
    stale = old.objects.create(external_id="OLD-RULE", data={}, doc_number="石长市监罚〔2026〕901号", party_name="甲公司",
                               publication_rule=f"7 working_days · {CITATION}", **common)
    fresh = old.objects.create(external_id="NEW-RULE", data={}, doc_number="石长市监罚〔2026〕902号", party_name="乙公司",
                               publication_rule=f"7个工作日 · {CITATION}", **common)

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    stale, fresh = Decision.objects.get(pk=stale.pk), Decision.objects.get(pk=fresh.pk)
    assert stale.publication_rule == f"7个工作日 · {CITATION}"
    assert stale.publication_due == date(2026, 11, 11)
    assert fresh.publication_rule == f"7个工作日 · {CITATION}"

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
