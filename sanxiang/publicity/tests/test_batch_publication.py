"""A pushed batch with automatic publication is stored set-based (issue 12,
throughput): the public copies, their history and the audit entries are
written in a few statements for the whole batch, the audit chain is locked
once, after every other write of the batch, and each record still gets its
own publication entry in the hash chain, its redacted public copy, its due
dates and its search index row.

Runs on SQLite and PostgreSQL (DATABASE_URL=postgres://...)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanxiang.core.audit import verify_chain
from sanxiang.core.models import Agency, AuditEntry
from sanxiang.publicity import search, services
from sanxiang.publicity.intake import validate_record
from sanxiang.publicity.models import Decision, DecisionStatus, PublicDecision, PublicVersion

from .test_intake import id_number, penalty_record, person_penalty

ID = id_number()


def _records(numbers, make=penalty_record, **overrides):
    records = [validate_record(make(n, **overrides), index=0) for n in numbers]
    assert not [errors for _, errors in records if errors]
    return [record for record, _ in records]


def _push(world, records):
    services.set_auto_publish(actor="console", agency=world.amr_changan, enabled=True)
    with CaptureQueriesContext(connection) as queries:
        agency = Agency.objects.get(pk=world.amr_changan.pk)  # as the push API reads it, per request
        results = services.receive_records(actor="t", agency=agency, source="api", records=records)
    return results, [q["sql"] for q in queries.captured_queries]


def _count(sqls, *fragments):
    return sum(1 for s in sqls if all(f in s for f in fragments))


def test_an_auto_published_batch_writes_public_rows_and_audit_entries_in_one_statement_each(world):
    results, sqls = _push(world, _records(range(1, 31)))
    assert [r.outcome for r in results] == ["created"] * 30 and all(r.published for r in results)
    assert _count(sqls, "INSERT INTO", "publicity_publicdecision") == 1
    assert _count(sqls, "INSERT INTO", "publicity_publicversion") == 1
    assert _count(sqls, "INSERT INTO", "core_auditentry") == 1
    assert _count(sqls, "FROM", "core_auditentry", "ORDER BY") == 1  # the chain's head read once
    assert _count(sqls, "UPDATE", "publicity_decision") <= 2  # status by (published_at, publicity_end) group
    # the search index: one statement per index table for the whole batch
    text_table = "publicity_search_index" if connection.vendor == "postgresql" else "publicity_search_fts"
    assert _count(sqls, "INSERT", text_table) == 1
    assert _count(sqls, "INSERT", "publicity_search_rank") == 1
    assert search.search_public(q="保质期").count == 30
    # each record still has its own entry, in order, then the batch's
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", "object_id"))[-31:]
    assert actions[:30] == [("publicity.publish", str(r.decision_id)) for r in results]
    assert actions[30] == ("publicity.receive", str(world.amr_changan.pk))
    assert verify_chain().ok


def test_the_audit_chain_is_locked_after_every_other_write_of_the_batch(world):
    _, sqls = _push(world, _records(range(1, 11)))
    head = next(i for i, s in enumerate(sqls) if "core_auditentry" in s and "ORDER BY" in s)
    business = [i for i, s in enumerate(sqls) if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                and "core_audit" not in s]
    assert business and max(business) < head
    if connection.vendor == "postgresql":
        assert [i for i, s in enumerate(sqls) if "pg_advisory_xact_lock" in s] == [head - 1]


def test_a_batch_published_at_once_is_what_one_by_one_publication_gives(world):
    """Same public copy (redacted), history, due dates and index as the
    pre-publication check's single publication."""
    person = dict(party_name="张三丰", party_id_number=ID,
                  facts=f"当事人张三丰（身份证号{ID}，电话13912345678）经营超过保质期的食品。")
    [single] = services.receive_records(actor="t", agency=world.amr_changan, source="api",
                                        records=_records([1], make=person_penalty, **person))
    services.publish_decision(actor="system", decision=Decision.objects.get(pk=single.decision_id))
    results, _ = _push(world, _records([2, 3], make=person_penalty, **person))
    assert [(r.outcome, r.published) for r in results] == [("created", True)] * 2, results
    one, *batch = PublicDecision.objects.order_by("decision__external_id")
    assert len(batch) == 2 and "张三丰" not in one.party_name and "13912345678" not in str(one.data)
    for public in batch:
        assert public.party_name == one.party_name and public.title == one.title
        assert public.data["facts"] == one.data["facts"]
        assert ID not in str(public.data) and "13912345678" not in str(public.data)
        decision = public.decision
        assert decision.status == DecisionStatus.PUBLISHED and decision.published_at is not None
        assert public.publicity_end == decision.publicity_end == one.publicity_end
        assert decision.publication_due == one.decision.publication_due
        assert list(PublicVersion.objects.filter(public=public).values_list("number", "reason")) == [(1, "")]
    assert {p.pk for p in batch} <= _indexed_ids()


def test_a_correction_of_published_records_in_a_batch_republishes_each_with_the_reason(world):
    _push(world, _records([1, 2]))
    results, sqls = _push(world, _records([1, 2], content="罚款40000元。", fine_yuan="40000", correction_reason="复议变更"))
    assert [(r.outcome, r.version, r.published) for r in results] == [("corrected", 2, True)] * 2
    for public in PublicDecision.objects.all():
        assert public.version == 2 and "40000" in public.data["content"]
        assert list(public.history.values_list("number", "reason")) == [(1, ""), (2, "复议变更")]
    assert list(AuditEntry.objects.filter(action="publicity.correct").values_list("object_id", flat=True)) == [
        str(r.decision_id) for r in results]
    assert verify_chain().ok


def _indexed_ids() -> set[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT public_id FROM {search.PG_TABLE}")
        else:
            cursor.execute(f"SELECT id FROM {search.DOC_TABLE}")
        return {row[0] for row in cursor.fetchall()}



def test_the_number_check_of_a_push_looks_up_its_numbers_not_every_decision_of_the_agency(world):
    """Every push checks its 文号 against the agency's namespace
    (services.number_holders). On SQLite (no statistics) the check walked
    all of the agency's decisions through the agency index, so a county's
    push cost grew with every record it had stored; it now reads the
    (agency, doc_number) index. PostgreSQL plans by its statistics; the
    index is there for it too."""
    _push(world, _records(range(1, 21)))
    numbers = list(Decision.objects.values_list("doc_number", flat=True)[:2]) + ["no such number"]
    held = list(services.number_holders(agency=world.amr_changan, numbers=numbers))
    assert sorted(h.number for h in held) == sorted(numbers[:2])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'publicity_decision'")
            indexes = {row[0] for row in cursor.fetchall()}
        else:
            indexes = {row[1] for row in cursor.execute("PRAGMA index_list('publicity_decision')").fetchall()}
    assert "decision_agency_number" in indexes
    if connection.vendor == "sqlite":
        plan = Decision.objects.filter(agency=world.amr_changan, doc_number__in=numbers).explain()
        assert "decision_agency_number" in plan, plan
