"""Idempotent intake (issue 9, section 2): the same record pushed or
imported again (same key, same content) is answered ``unchanged`` and makes
no new version; retries of the docking are harmless."""

from __future__ import annotations

import json

from django.test import Client

from sanxiang.core.models import AuditEntry
from sanxiang.publicity import services, shuanggongshi
from sanxiang.publicity.models import Decision, DecisionVersion, PublicVersion

from .test_intake import penalty_record
from .test_push_api import URL, publicity_api_mounted, token_for  # noqa: F401 (fixture)
from .test_shuanggongshi import csv_bytes, penalty_row, person_row, run_import


def push(token, records):
    return Client().post(URL, data=json.dumps({"records": records}, ensure_ascii=False), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}").json()


def test_pushing_an_identical_record_again_is_unchanged_and_makes_no_version(world):
    token = token_for(world.amr_changan, "publicity:push")
    first = push(token, [penalty_record(1), penalty_record(2)])
    retry = push(token, [penalty_record(1), penalty_record(2, fine_yuan="50000.00")])  # same amount, other spelling
    assert [r["status"] for r in first["results"]] == ["created", "created"]
    assert [r["status"] for r in retry["results"]] == ["unchanged", "unchanged"]
    assert [r["version"] for r in retry["results"]] == [1, 1]
    assert retry["results"][0]["decision_id"] == first["results"][0]["decision_id"]
    assert DecisionVersion.objects.count() == 2 and set(Decision.objects.values_list("version", flat=True)) == {1}
    changed = push(token, [penalty_record(1, content="罚款40000元。", fine_yuan="40000", correction_reason="复议变更")])
    assert changed["results"][0]["status"] == "corrected" and changed["results"][0]["version"] == 2


def test_an_identical_record_twice_in_one_batch_is_stored_once(world):
    results = services.receive_records(actor="t", agency=world.amr_changan, source="api",
                                       records=[_valid(1), _valid(1)])
    assert [r.outcome for r in results] == ["created", "unchanged"]
    assert DecisionVersion.objects.count() == 1


def test_an_identical_push_of_a_published_decision_publishes_no_phantom_correction(world):
    services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[_valid(1)])
    services.publish_decision(actor="system", decision=Decision.objects.get())
    results = services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[_valid(1)])
    assert results[0].outcome == "unchanged" and not results[0].published
    assert PublicVersion.objects.count() == 1
    assert not AuditEntry.objects.filter(action="publicity.correct").exists()


def test_reimporting_the_same_shuanggongshi_file_changes_nothing(world):
    data = csv_bytes([penalty_row(1), person_row(2)], chinese=True)
    run_import(world, data, "a.csv")
    report = run_import(world, data, "a.csv", reason="重新报送")
    assert (report.created, report.corrected, report.unchanged, report.rejected) == (0, 0, 2, 0)
    assert set(Decision.objects.values_list("version", flat=True)) == {1} and DecisionVersion.objects.count() == 2


def test_export_then_reimport_is_unchanged(world):
    run_import(world, csv_bytes([penalty_row(1), person_row(2)], chinese=True), "a.csv")
    for fmt in ("csv", "xlsx"):
        exported = shuanggongshi.export_file(records=Decision.objects.filter(agency=world.amr_changan), fmt=fmt,
                                             kind="penalty")
        report = run_import(world, exported, f"out.{fmt}")
        assert (report.unchanged, report.corrected, report.rejected) == (2, 0, 0), report.errors
    assert DecisionVersion.objects.count() == 2


def _valid(n):
    from sanxiang.publicity.intake import validate_record

    return validate_record(penalty_record(n), index=0)[0]


def test_reimporting_a_redacted_export_keeps_the_private_text_and_is_unchanged(world):
    """The 双公示 export carries the portal's redacted free text; reading it
    back must not overwrite the private record with its redacted copy."""
    facts = "当事人销售不合格产品，证人王小明电话13811112206。"
    run_import(world, csv_bytes([penalty_row(1, CF_SY=facts), person_row(2)], chinese=True), "a.csv")
    exported = shuanggongshi.export_file(records=Decision.objects.filter(agency=world.amr_changan), fmt="csv",
                                         kind="penalty")
    assert "13811112206" not in exported.decode("utf-8-sig")
    report = run_import(world, exported, "out.csv")
    assert (report.unchanged, report.corrected) == (2, 0)
    assert Decision.objects.get(external_id=penalty_row(1)["CF_WSH"]).data["facts"] == facts
    changed = csv_bytes([penalty_row(1, CF_SY="当事人销售不合格产品（复核更正）。"), person_row(2)], chinese=True)
    assert run_import(world, changed, "b.csv").corrected == 1  # a real correction still corrects
