"""Relevance ranking reads the haystacks stored with the index rows
(search.RANK_TABLE, issue 12 item 3b) and orders exactly as the ranking rule
applied to the records' own texts; the highlight pattern of a query is built
once."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.db import connection

from sanxiang.publicity import search
from sanxiang.publicity.models import PublicDecision
from sanxiang.publicity.redaction import public_copy
from sanxiang.publicity.search import field_haystack, index_public, indexed_texts, rank_haystack, rebuild_index, search_public
from sanxiang.publicity.tests.test_search import CASES, _call, corpus  # noqa: F401 (corpus: a fixture)

pytestmark = pytest.mark.django_db


def _stored() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, haystack FROM {search.RANK_TABLE}")
        return dict(cursor.fetchall())


def _indexed_ids() -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT public_id FROM {search.PG_TABLE}")
        else:
            cursor.execute(f"SELECT id FROM {search.DOC_TABLE}")
        return [r[0] for r in cursor.fetchall()]


def _expected() -> dict[int, str]:
    """What indexing should have stored: every indexed copy's texts."""
    return {p.id: rank_haystack(indexed_texts(p)) for p in PublicDecision.objects.filter(id__in=_indexed_ids())}


class _Editor:
    """What a migration's functions use of Django's schema editor (SQLite's
    refuses to open inside a test's transaction)."""

    def __init__(self, cursor):
        self.connection, self.execute = connection, cursor.execute


def _score_by_the_rule(record: PublicDecision, terms) -> int:
    """10 per term found in the party, document number or title; 1 per
    occurrence in the facts, basis or content."""
    texts = [field_haystack(t) for t in indexed_texts(record)]
    return sum(10 * sum(term.pattern in t for t in texts[:3]) + sum(t.count(term.pattern) for t in texts[3:])
               for term in terms)


def _ranked_by_the_rule(q: str, filters: dict, world) -> list[int]:
    """The relevance order computed from the records themselves: the matches
    newest first, then by score (10 per term found in the party, document
    number or title; 1 per occurrence in the facts, basis or content),
    stable."""
    newest = [p.id for p in _call(q, filters, world, sort="newest", page_size=100).items]
    terms = search.query_tokens(q)
    records = PublicDecision.objects.in_bulk(newest)

    return sorted(newest, key=lambda i: -_score_by_the_rule(records[i], terms))


def test_indexing_stores_each_rows_haystack_and_removing_it_drops_it(corpus):
    stored = _stored()
    assert stored == _expected() and len(stored) >= 8
    assert corpus["withdrawn"].id not in stored and corpus["hidden"].id not in stored
    assert all(search.FIELD_BARRIER in h for h in stored.values())
    public = corpus["waste_facts_only"]
    public.data = public_copy({**public.data, "facts": "当事人擅自倾倒建筑垃圾。"}, party_is_natural_person=False).data
    public.save()
    index_public(public)
    assert "|当事人擅自倾倒建筑垃圾|" in _stored()[public.id]
    gone = corpus["waste"].id
    corpus["waste"].delete()  # the trigger removes its row
    assert gone not in _stored()
    assert _stored() == _expected()


@pytest.mark.parametrize("cap,handover", [(5000, False), (1, False), (1, True)],
                         ids=["few-matches", "walk", "walk-hands-over-to-sort"])
def test_relevance_order_equals_the_rule_over_the_records_texts(corpus, world, cap, handover, monkeypatch):
    """For every case of the fixed query set, with the database sorting all
    matches (cap 5000), with the walk (cap 1) and (SQLite) with the walk
    handing over to the database sorting every match after its first batch,
    the relevance order equals the rule computed from the records; and the
    same again once the stored haystacks are gone (rows indexed before they
    existed are read from the record)."""
    if handover:
        monkeypatch.setattr(search, "SQLITE_SWITCH_SAMPLE", 1)
        monkeypatch.setattr(search, "SQLITE_SORT_MATCH_US", 0)
        monkeypatch.setattr(search, "WALK_BATCH", 2)
        monkeypatch.setattr(search, "WALK_BATCH_MAX", 3)
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "PG_SORT_MAX", 20000 if cap > 1 else 0)
    checked = 0
    for stored in (True, False):
        if not stored:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {search.RANK_TABLE}")
        for q, filters in CASES:
            ranked = [p.id for p in _call(q, filters, world, sort="relevance", page_size=100).items]
            assert ranked == _ranked_by_the_rule(q, filters, world), (q, filters, stored)
            checked += len(ranked) > 1 and ranked != [p.id for p in _call(q, filters, world, page_size=100).items]
    assert checked >= 4  # some cases rank differently from newest first


def test_a_rebuild_rewrites_every_haystack(corpus):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {search.RANK_TABLE} SET haystack = %s", ["|stale|"])
        cursor.execute(f"INSERT INTO {search.RANK_TABLE} (id, haystack) VALUES (%s, %s)", [10 ** 9, "|orphan|"])
    rebuild_index()
    assert _stored() == _expected()


def test_the_migration_fills_the_haystacks_as_indexing_writes_them(corpus):
    migration = importlib.import_module("sanxiang.publicity.migrations.0013_search_rank_haystacks")
    written = _stored()

    with connection.cursor() as cursor:
        migration.backward(apps, _Editor(cursor))
        migration.forward(apps, _Editor(cursor))
    assert _stored() == written
    gone = corpus["no_licence"].id
    corpus["no_licence"].delete()  # the trigger the migration made follows a delete
    assert gone in written and gone not in _stored()


def test_the_highlight_pattern_of_a_query_is_built_once():
    assert search._match_pattern("危险 废物 abc") is search._match_pattern("危险 废物 abc")
    assert search._match_pattern("  ，  ") is None
    assert str(search.highlight("危险废物ABC", "废物 abc")) == "危险<mark>废物</mark><mark>ABC</mark>"


@pytest.mark.parametrize("margin,window_rows", [(1.5, 50000), (0.0001, 1)],
                         ids=["windows-by-estimate", "one-day-windows"])
def test_past_the_rank_cap_relevance_ranks_the_latest_matches_and_pages_continue_in_their_order(
        corpus, world, monkeypatch, margin, window_rows):
    """With more matches than RANK_CAP, the relevance candidates are the
    RANK_CAP latest matches (SQLite: published last, highest ids;
    PostgreSQL: newest by decision date), ranked by the rule with ties in
    date order; the positions after them follow in that same order; the
    pages together hold every match once; the count is exact when every
    match was read and an estimate (never below what was found) when not.
    PostgreSQL reads them a few days at a time: the same answer when every
    window is one day and has to grow."""
    monkeypatch.setattr(search, "PG_LATEST_MARGIN", margin)
    monkeypatch.setattr(search, "PG_LATEST_WINDOW_ROWS", window_rows)
    q = "罚款"
    matches = [p.id for p in _call(q, {}, world, sort="newest", page_size=100).items]
    assert len(matches) >= 5
    monkeypatch.setattr(search, "RANK_CAP", 3)
    records = PublicDecision.objects.in_bulk(matches)
    if connection.vendor == "postgresql":
        # Few matches: force the windows, not the GIN statement sorting all.
        monkeypatch.setattr(search, "PG_SORT_MAX", 0)
        latest = sorted(matches, key=lambda i: (records[i].decision_date, i), reverse=True)
    else:
        latest = sorted(matches, reverse=True)
    window = sorted(latest[:3], key=lambda i: (records[i].decision_date, i), reverse=True)
    terms = search.query_tokens(q)

    expected = sorted(window, key=lambda i: -_score_by_the_rule(records[i], terms)) + latest[3:]
    whole = search_public(q=q, sort="relevance", page_size=100)
    assert [p.id for p in whole.items] == expected
    assert whole.count == len(matches) and not whole.count_is_estimate
    paged = []
    for page in range(1, len(matches) + 1):
        paged += [p.id for p in search_public(q=q, sort="relevance", page=page, page_size=2).items]
    assert paged == expected
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    capped = search_public(q=q, sort="relevance", page_size=2)
    assert [p.id for p in capped.items] == expected[:2]
    assert capped.count_is_estimate and capped.count >= 2
    # With a date range the count is the newest-first search's (here it
    # reads every match: exact), never below the matches read.
    dated = search_public(q=q, sort="relevance", date_from=date(2000, 1, 1), page_size=2)
    assert [p.id for p in dated.items] == expected[:2]
    assert dated.count == len(matches) and not dated.count_is_estimate


def test_on_postgresql_every_index_row_holds_its_decision_day_and_the_migration_adds_it_to_older_rows(corpus):
    """The lexeme of the decision date (relevance's windows of days) is in
    every row indexing writes, moves when the date is corrected, and
    migration publicity.0018 adds it to rows indexed without it."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index only")
    migration = importlib.import_module("sanxiang.publicity.migrations.0018_search_day_lexemes")

    def days() -> dict[int, set[str]]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT public_id, lexeme FROM {search.PG_TABLE}, unnest(tsv)"
                           f" WHERE left(lexeme, 2) = %s", [search.TAG_MARK + "d"])
            found: dict[int, set[str]] = {}
            for public_id, lexeme in cursor.fetchall():
                found.setdefault(public_id, set()).add(lexeme)
            return found

    records = PublicDecision.objects.in_bulk(_indexed_ids())
    written = {i: {search.day_tag(p.decision_date)} for i, p in records.items()}
    assert days() == written and len(written) >= 5

    with connection.cursor() as cursor:
        migration.backward(apps, _Editor(cursor))
        assert days() == {}
        migration.forward(apps, _Editor(cursor))
    assert days() == written

    moved = corpus["waste"]
    moved.decision_date = date(2025, 2, 3)
    index_public(moved)
    assert days()[moved.id] == {search.day_tag(date(2025, 2, 3))}
