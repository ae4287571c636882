"""Full-text search over published decisions returns exactly what a
substring search over the indexed fields would, on SQLite and PostgreSQL.

The query set below is data: the same cases run on both databases, and every
case is checked against a brute-force truth computed here in Python.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timezone
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from sanxiang.core import queue
from sanxiang.publicity import search
from sanxiang.publicity.models import Decision, PublicDecision
from sanxiang.publicity.redaction import public_copy
from sanxiang.publicity.search import (document_tokens, index_public, query_tokens, rebuild_index, search_public,
                                       tokenize_document, unindex_public)

# (key, agency attribute on the world fixture, kind, main category, decision date, party, doc number, title,
#  facts, basis, content)
ROWS = [
    ("food_expired", "amr_changan", "penalty", "罚款", date(2026, 3, 2), "张某某", "冀石市监罚〔2026〕12号",
     "张某某销售过期食品案",
     "当事人张某某于2026年1月5日在长安区中山路18号经营的便利店销售超过保质期的牛奶12盒，违反了《中华人民共和国食品安全法》第三十四条第（十）项的规定。",
     "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", "罚款人民币5000元；没收违法所得120元"),
    ("no_licence", "amr_changan", "penalty", "罚款", date(2026, 3, 2), "石家庄市长安区好运来商行", "冀石市监罚〔2026〕112号",
     "石家庄市长安区好运来商行无照经营案",
     "当事人自2025年10月起从事日用百货销售，未依法取得营业执照，违法所得3200元。统一社会信用代码91130102MA0ABCDE1X。",
     "《无证无照经营查处办法》第十三条", "罚款人民币10000元"),
    ("food_2025", "amr_zhengding", "penalty", "警告", date(2025, 12, 30), "王某", "冀石正市监罚〔2025〕12号",
     "王某食品经营许可证过期案",
     "当事人王某的食品经营许可证已过期，仍从事食品销售。店招：李张小卖部",
     "《中华人民共和国食品安全法》第一百二十二条", "给予警告"),
    ("waste", "amr_lunan", "penalty", "责令停产停业", date(2026, 5, 20), "唐山市鑫达化工有限公司", "冀唐南环罚〔2026〕3号",
     "唐山市鑫达化工有限公司违规贮存危险废物案",
     "经现场检查，当事人将废矿物油约3吨露天堆放，未设置危险废物识别标志。危险废物管理台账缺失。",
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条", "罚款人民币80000元；责令停产整治"),
    ("waste_facts_only", "amr_zhengding", "penalty", "罚款", date(2026, 6, 1), "正定县宏发汽修厂", "冀石正环罚〔2026〕7号",
     "正定县宏发汽修厂环境违法案",
     "当事人将含油废抹布混入生活垃圾，属于危险废物处置不当。",
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条", "罚款人民币20000元"),
    ("licence_grant", "amr_changan", "license", "", date(2026, 2, 10), "石家庄市长安区张记面馆", "冀石长市监许〔2026〕45号",
     "食品经营许可",
     "申请人申请从事热食类食品制售，经审查符合《中华人民共和国食品安全法》第三十五条规定的条件，准予许可。",
     "《食品经营许可和备案管理办法》第十三条", "准予许可，许可证编号JY11301020012345"),
    ("punctuation", "amr_lunan", "penalty", "罚款", date(2026, 4, 8), "赵某某", "冀唐南市监罚〔2026〕21号",
     "赵某某违法经营案",
     "当事人销售的食，品名不详；（张）记账本缺失。经营场所位于路南区。",
     "《中华人民共和国产品质量法》第五十条", "罚款人民币3000元"),
    ("fullwidth", "amr_zhengding", "penalty", "罚款", date(2026, 1, 15), "正定县ＡＢＣ食品有限公司", "冀石正市监罚〔２０２６〕１２号",
     "正定县ＡＢＣ食品有限公司标签违法案",
     "当事人生产的饼干标签未标注生产日期，违反《中华人民共和国食品安全法》第六十七条。",
     "《中华人民共和国食品安全法》第一百二十五条", "罚款人民币8000元"),
    ("hidden", "amr_changan", "penalty", "罚款", date(2026, 7, 1), "张某", "冀石市监罚〔2026〕99号",
     "张某销售过期食品案", "当事人销售过期食品，危险废物。", "《中华人民共和国食品安全法》", "罚款人民币2000元"),
    ("withdrawn", "amr_lunan", "penalty", "罚款", date(2026, 7, 2), "张某某", "冀唐南市监罚〔2026〕30号",
     "张某某食品安全违法案", "当事人销售不合格食品。营业执照已吊销。", "《中华人民共和国食品安全法》", "罚款人民币2000元"),
]

# (query, filters) cases; a filter value naming a world attribute is resolved at run time.
CASES = [
    ("张", {}), ("罚款", {}), ("食品", {}), ("食品安全法", {}), ("营业执照", {}), ("危险废物", {}),
    ("冀石市监罚〔2026〕12号", {}), ("冀石市监罚", {}), ("〔2026〕", {}), ("2026", {}), ("12号", {}), ("12", {}),
    ("112号", {}), ("〔2026〕12号", {}), ("食品 罚款", {}), ("安全法 第三十四条", {}), ("品", {}), ("法", {}),
    ("91130102ma0abcde1x", {}), ("91130102MA0ABCDE1X", {}), ("ＡＢＣ", {}), ("abc食品", {}), ("食，品", {}), ("食品，罚款", {}),
    ("李张", {}), ("张记", {}), ("不存在的词语", {}), ("", {}), ("  ，  ", {}),
    ("罚款", {"region_code": "130100"}), ("罚款", {"region_code": "130102"}), ("食品", {"region_code": "130200"}),
    ("食品", {"agency": "amr_changan"}), ("食品", {"kind": "license"}), ("食品", {"category": "罚款"}),
    ("危险废物", {"category": "责令停产停业"}), ("食品", {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 2)}),
    ("张", {"region_code": "130100", "kind": "penalty", "date_from": date(2026, 1, 1)}),
    ("", {"region_code": "130100"}), ("", {"kind": "license"}), ("", {"date_to": date(2026, 1, 31)}),
    ("罚款", {"region_code": "999999"}),
    # Phrases with an ASCII word (PostgreSQL: candidates from the keys table).
    ("2026 12号", {}), ("罚〔2026〕", {}), ("12号", {"region_code": "130100"}), ("〔2025〕12号", {"kind": "penalty"}),
    ("〔2026〕12号", {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}), ("abc食品", {"region_code": "130100"}),
    # A lone ASCII word beside such a phrase (PostgreSQL: a word of the keys too) or beside CJK words.
    ("2025 12号", {}), ("2025 12号", {"region_code": "130100"}), ("12号 2026", {"kind": "penalty"}),
    ("91130102ma0abcde1x 112号", {}), ("2026 罚款", {}), ("12 食品", {}), ("2025 食品安全", {}),
]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch == "\u3007"


def _segments(text: str) -> list[str]:
    """ASCII words and CJK runs, written out by hand (not the module's regex)."""
    out, current, kind = [], "", None
    for ch in _norm(text):
        k = "a" if ch.isascii() and ch.isalnum() else ("c" if _is_cjk(ch) else None)
        if k != kind and current:
            out.append(current)
            current = ""
        kind = k
        if k:
            current += ch
    if current:
        out.append(current)
    return out


def _term_in(term: str, text: str) -> bool:
    """The truth for one term in one field: a plain substring test for a term
    of Chinese characters only; otherwise the term's words and runs must
    follow each other in the field, ASCII words matching whole words."""
    term = _norm(term)
    if all(_is_cjk(ch) for ch in term):
        return term in _norm(text)
    segs = _segments(term)
    if not segs:
        return True
    pattern = "|".join(segs)
    if segs[0].isascii():
        pattern = "|" + pattern
    if segs[-1].isascii():
        pattern += "|"
    return pattern in "|" + "|".join(_segments(text)) + "|"


def _fields(p: PublicDecision) -> list[str]:
    return [p.party_name, p.doc_number, p.title, p.data.get("facts", ""), p.data.get("basis", ""), p.data.get("content", "")]


def _truth(q: str, filters: dict, world) -> list[int]:
    rows = []
    region = None
    if filters.get("region_code"):
        from sanxiang.core.models import Region

        region = Region.objects.filter(code=filters["region_code"]).first()
        if region is None:
            return []
    agency = getattr(world, filters["agency"]) if filters.get("agency") else None
    for p in PublicDecision.objects.filter(visible=True):
        if not _in_index(p.id):
            continue
        if region and not p.region_path.startswith(region.path):
            continue
        if agency and p.agency_id != agency.id:
            continue
        if filters.get("kind") and p.kind != filters["kind"]:
            continue
        if filters.get("category") and p.main_category != filters["category"]:
            continue
        if filters.get("date_from") and p.decision_date < filters["date_from"]:
            continue
        if filters.get("date_to") and p.decision_date > filters["date_to"]:
            continue
        terms = [t for t in _norm(q).split() if _segments(t)]
        if all(any(_term_in(t, f) for f in _fields(p)) for t in terms):
            rows.append(p)
    rows.sort(key=lambda p: (p.decision_date, p.id), reverse=True)
    return [p.id for p in rows]


_UNINDEXED: set[int] = set()


def _in_index(public_id: int) -> bool:
    return public_id not in _UNINDEXED


def _call(q: str, filters: dict, world, **kw):
    args = {k: v for k, v in filters.items() if k != "agency"}
    if filters.get("agency"):
        args["agency_id"] = getattr(world, filters["agency"]).id
    return search_public(q=q, **args, **kw)


@pytest.fixture
def corpus(world):
    """The ROWS as decisions with public copies, indexed; 'hidden' is not
    visible and 'withdrawn' was unindexed after publication."""
    _UNINDEXED.clear()
    made = {}
    for n, (key, agency_attr, kind, category, day, party, doc, title, facts, basis, content) in enumerate(ROWS):
        agency = getattr(world, agency_attr)
        data = {"facts": facts, "basis": basis, "content": content, "violation_type": title,
                "penalty_categories": [category] if category else []}
        decision = Decision.objects.create(agency=agency, external_id=f"t{n}", kind=kind, status="published", data=data,
                                           doc_number=doc, party_name=party, party_type="legal_person", decision_date=day)
        copy = public_copy({**data, "doc_number": doc, "party_name": party}, party_is_natural_person=False, kind=kind,
                           title=title)  # the only way to a public row (redaction.PUBLIC_TEXT_FIELDS)
        public = PublicDecision.objects.create(
            decision=decision, agency=agency, region_path=agency.region.path, kind=kind, version=1,
            doc_number=copy.doc_number, party_name=copy.party_name, title=copy.title, data=copy.data,
            main_category=category, decision_date=day,
            published_at=datetime(2026, 8, 1, tzinfo=timezone.utc), visible=key != "hidden")
        index_public(public)
        made[key] = public
    unindex_public(made["withdrawn"].id)
    _UNINDEXED.add(made["withdrawn"].id)
    return made


# --- tokens -------------------------------------------------------------------


def test_cjk_runs_become_bigrams_and_a_trailing_unigram_ascii_whole_words():
    assert tokenize_document("食品安全") == "食品 品安 安全 全"
    assert tokenize_document("冀石市监罚〔2026〕12号") == "冀石 石市 市监 监罚 罚 2026 12 号"
    assert tokenize_document("代码91130102MA0ABCDE1X。张") == "代码 码 91130102ma0abcde1x 张"
    assert tokenize_document("１２号") == "12 号"  # full-width digits are digits


def test_a_query_is_a_phrase_of_bigrams_and_one_character_a_prefix():
    [term] = query_tokens("食品安全法")
    assert term.tokens == ("食品", "品安", "安全", "全法") and not term.prefix_last
    [term] = query_tokens("张")
    assert term.tokens == ("张",) and term.prefix_last
    [term] = query_tokens("〔2026〕12号")
    assert term.tokens == ("2026", "12", "号") and term.prefix_last
    assert [t.tokens for t in query_tokens("食品  罚款 食品")] == [("食品",), ("罚款",)]
    assert query_tokens(" ，。 ") == []


def test_tokens_reach_the_index_intact(corpus):
    """The tokenizer of the database keeps every token as it was written."""
    public = corpus["waste"]
    expected = set(document_tokens(public))
    if connection.vendor == "postgresql":
        # Plus the start mark of every CJK token (one-character queries)
        # and the lexeme of the decision date (relevance's windows).
        expected = set(search.pg_lexemes(document_tokens(public))) | {search.day_tag(public.decision_date)}
        assert expected > set(document_tokens(public)) and search.START_MARK + "危" in expected
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT lexeme FROM publicity_search_index, unnest(tsv) WHERE public_id = %s", [public.id])
        else:
            cursor.execute("CREATE VIRTUAL TABLE temp.sx_vocab USING fts5vocab(main, publicity_search_fts, 'instance')")
            cursor.execute("SELECT DISTINCT term FROM temp.sx_vocab WHERE doc = %s", [public.id])
        stored = {row[0] for row in cursor.fetchall()}
    assert stored == expected


# --- the fixed query set against the truth -------------------------------------


@pytest.mark.parametrize("q,filters", CASES, ids=[f"{q or '∅'}|{','.join(f)}" for q, f in CASES])
@pytest.mark.parametrize("cap,probe_span,budget,handover", [
    (5000, search.RANGE_PROBE_SPAN, None, None), (1, search.RANGE_PROBE_SPAN, None, None),
    (1, 0, None, None), (1, search.RANGE_PROBE_SPAN, 2, None),
    (1, search.RANGE_PROBE_SPAN, None, 20000), (1, search.RANGE_PROBE_SPAN, None, 0)],
    ids=["few-matches", "walk", "walk-probing-by-list", "walk-gives-up", "walk-hands-over-to-sort",
         "walk-handover-refused"])
def test_search_returns_exactly_the_substring_truth(corpus, world, q, filters, cap, probe_span, budget, handover,
                                                     monkeypatch):
    """With the normal count cap (the database sorts all matches) and with a
    cap of 1 (every query takes the walk used for very common terms, in tiny
    batches, its batches probed by id range or, with a span of 0, by id
    list; on PostgreSQL, where the planner's estimate chooses, with a sort
    limit of 0 instead; with a budget of 2 rows, the PostgreSQL walk gives up
    after its first batch and the GIN index finds every match; on SQLite,
    with a sorted match costing nothing, the walk hands over to the database
    sorting every match after its first batch, or with a sort limit of 0
    tries and is refused, and walks on), the ids and their newest-first
    order equal the truth."""
    if handover is not None:
        monkeypatch.setattr(search, "SQLITE_SWITCH_SAMPLE", 1)
        monkeypatch.setattr(search, "SQLITE_SORT_MATCH_US", 0)
        monkeypatch.setattr(search, "SQLITE_SORT_MAX", handover)
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "PG_SORT_MAX", 20000 if cap > 1 else 0)
    monkeypatch.setattr(search, "PG_WALK_BUDGET", budget if budget else 10 ** 9)
    monkeypatch.setattr(search, "RANGE_PROBE_SPAN", probe_span)
    monkeypatch.setattr(search, "WALK_BATCH", 2)
    monkeypatch.setattr(search, "WALK_BATCH_MAX", 3)
    expected = _truth(q, filters, world)
    result = _call(q, filters, world, page_size=100)
    assert [p.id for p in result.items] == expected
    if not result.count_is_estimate:
        assert result.count == len(expected)
    hidden = {corpus["hidden"].id, corpus["withdrawn"].id}
    assert not hidden & {p.id for p in result.items}


def test_the_query_set_is_not_trivial(corpus, world):
    """Guard against a truth that matches nothing or everything."""
    sizes = {q: len(_truth(q, f, world)) for q, f in CASES if not f}
    assert sizes["张"] >= 4 and sizes["罚款"] >= 6 and sizes["危险废物"] == 2 and sizes["食品 罚款"] == 2
    assert sizes["冀石市监罚〔2026〕12号"] == 1 and sizes["12号"] == 3 and sizes["112号"] == 1
    assert sizes["食，品"] == 1 and sizes["食品"] > sizes["食，品"] and sizes["2025 12号"] == 1
    assert sizes["不存在的词语"] == 0 and sizes[""] == 8


def test_a_withdrawn_or_hidden_copy_is_never_found(corpus, world):
    withdrawn, hidden = corpus["withdrawn"], corpus["hidden"]
    assert withdrawn.doc_number not in {p.doc_number for p in search_public(q="营业执照").items}
    assert search_public(q="冀唐南市监罚〔2026〕30号").count == 0
    assert search_public(q="冀石市监罚〔2026〕99号").count == 0
    # Indexing a copy that is not visible removes it; making it visible again brings it back.
    index_public(hidden)
    assert search_public(q="冀石市监罚〔2026〕99号").count == 0
    hidden.visible = True
    hidden.save()
    index_public(hidden)
    assert [p.id for p in search_public(q="冀石市监罚〔2026〕99号").items] == [hidden.id]


def test_an_update_replaces_the_index_row(corpus):
    public = corpus["waste_facts_only"]
    public.data = public_copy({**public.data, "facts": "当事人擅自倾倒建筑垃圾。"}, party_is_natural_person=False).data
    public.save()
    index_public(public)
    assert public.id not in {p.id for p in search_public(q="含油废抹布").items}
    assert [p.id for p in search_public(q="建筑垃圾").items] == [public.id]


def test_deleting_a_public_copy_removes_its_index_row(corpus):
    public = corpus["waste"]
    public.delete()
    assert search_public(q="鑫达化工").count == 0
    with connection.cursor() as cursor:
        table = "publicity_search_index" if connection.vendor == "postgresql" else "publicity_search_fts"
        key = "public_id" if connection.vendor == "postgresql" else "rowid"
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {key} = %s", [public.id])
        assert cursor.fetchone()[0] == 0


# --- pages, counts, order -------------------------------------------------------


@pytest.mark.parametrize("cap", [5000, 1])
def test_pages_cover_the_results_once_in_order(corpus, world, cap, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "PG_SORT_MAX", 20000 if cap > 1 else 0)
    expected = _truth("罚款", {}, world)
    seen = []
    for page in range(1, 5):
        result = search_public(q="罚款", page=page, page_size=2)
        assert result.page == page and result.page_size == 2
        seen += [p.id for p in result.items]
    assert seen == expected
    first = search_public(q="罚款", page_size=2)
    # The walk reads the whole small corpus, so even then the count is exact.
    assert first.count == len(expected) and not first.count_is_estimate and first.num_pages == 3


def test_oldest_first_is_the_reverse_and_ties_break_by_id(corpus, world):
    newest = [p.id for p in search_public(q="食品", page_size=100).items]
    oldest = [p.id for p in search_public(q="食品", sort="oldest", page_size=100).items]
    assert oldest == list(reversed(newest)) == list(reversed(_truth("食品", {}, world)))
    same_day = [p.id for p in search_public(q="罚款", date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)).items]
    assert same_day == sorted(same_day, reverse=True) and len(same_day) == 2


@pytest.mark.parametrize("cap", [5000, 1])
def test_relevance_puts_a_match_in_the_title_first(corpus, world, cap, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "PG_SORT_MAX", 20000 if cap > 1 else 0)
    result = search_public(q="危险废物", sort="relevance")
    assert [p.id for p in result.items] == [corpus["waste"].id, corpus["waste_facts_only"].id]
    assert {p.id for p in search_public(q="食品", sort="relevance", page_size=100).items} == set(_truth("食品", {}, world))


def test_bad_sort_is_refused(db):
    with pytest.raises(ValueError):
        search_public(q="罚款", sort="best")


def test_rebuild_index_indexes_exactly_the_visible_copies(corpus, world):
    progress = []
    assert rebuild_index(progress=lambda done, total: progress.append((done, total))) == 9
    assert progress[-1] == (9, 9)
    # The withdrawn copy is still visible in this fixture, so a rebuild indexes it again.
    assert [p.id for p in search_public(q="冀唐南市监罚〔2026〕30号").items] == [corpus["withdrawn"].id]
    assert search_public(q="冀石市监罚〔2026〕99号").count == 0


def test_the_rebuild_command_queues_the_rebuild_and_a_consumer_runs_it(corpus, world):
    """Issue 12 item 1: `sanxiang search rebuild` is heavy work for the job
    queue. The command only enqueues it (the index is untouched until a
    consumer runs); the consumer's run (queue.run_pending, the real
    storage) indexes every visible copy again."""
    for public in PublicDecision.objects.all():
        search.unindex_public(public.id)
    assert search_public(q="冀唐南市监罚〔2026〕30号").count == 0
    out = StringIO()
    call_command("search", "rebuild", stdout=out)
    assert "queued" in out.getvalue()
    assert search_public(q="冀唐南市监罚〔2026〕30号").count == 0
    assert queue.run_pending() == 1
    assert [p.id for p in search_public(q="冀唐南市监罚〔2026〕30号").items] == [corpus["withdrawn"].id]


@pytest.mark.django_db(transaction=True)
def test_the_index_follows_a_flush_between_transactional_tests(world):
    """Django's flush truncates (PostgreSQL) or deletes from (SQLite) the
    public copies; the index goes with them instead of blocking the flush or
    keeping rows whose ids could be reused."""
    agency = world.amr_changan
    decision = Decision.objects.create(agency=agency, external_id="flush", kind="penalty", data={}, doc_number="冀石市监罚〔2026〕1号",
                                       party_name="刘某", party_type="natural_person", decision_date=date(2026, 1, 2))
    copy = public_copy({"facts": "刘某销售假冒食品。", "doc_number": decision.doc_number, "party_name": "刘某"},
                       party_is_natural_person=False, kind="penalty", title="刘某案")
    public = PublicDecision.objects.create(decision=decision, agency=agency, region_path=agency.region.path, kind="penalty",
                                           version=1, doc_number=copy.doc_number, party_name=copy.party_name,
                                           title=copy.title, data=copy.data, decision_date=date(2026, 1, 2),
                                           published_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    index_public(public)
    assert search_public(q="假冒").count == 1
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE publicity_publicdecision CASCADE")
            cursor.execute("SELECT count(*) FROM publicity_search_index")
        else:
            cursor.execute("DELETE FROM publicity_publicdecision")
            cursor.execute("SELECT count(*) FROM publicity_search_fts")
        assert cursor.fetchone()[0] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index only")
def test_the_migration_gives_old_index_rows_the_same_start_marks_as_a_rebuild(corpus):
    """Migration 0011 adds the start marks to rows indexed before it from
    their stored tsvector alone; the result equals what indexing writes."""
    import importlib

    migration = importlib.import_module("sanxiang.publicity.migrations.0011_search_index_day_and_start_marks")
    [mark_sql] = [sql for sql in migration.PG_FORWARD if "chr(57346)" in sql]
    [unmark_sql] = [sql for sql in migration.PG_BACKWARD if "57346" in sql]

    def stored() -> dict[int, dict[str, list[int]]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT public_id, lexeme, positions FROM publicity_search_index, unnest(tsv)")
            out: dict[int, dict[str, list[int]]] = {}
            for public_id, lexeme, positions in cursor.fetchall():
                if positions is not None:  # the day lexeme (migration 0018, after this one) has none
                    out.setdefault(public_id, {})[lexeme] = list(positions)
            return out

    written = stored()
    assert any(search.START_MARK + "张" in lexemes for lexemes in written.values())
    with connection.cursor() as cursor:
        cursor.execute(unmark_sql)
    assert not any(lexeme.startswith(search.START_MARK) for lexemes in stored().values() for lexeme in lexemes)
    with connection.cursor() as cursor:
        cursor.execute(mark_sql)
    assert stored() == written


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's keys table only")
def test_the_keys_of_a_phrase_with_an_ascii_word_hold_every_match_and_few_others(corpus, world):
    """For every case with a phrase holding an ASCII word, the rows the keys
    table offers as candidates include every true match (the full tsvector
    only removes rows), and the distances between pairs count: 〔2026〕12号
    does not offer the decision numbered 〔2026〕112号."""
    from sanxiang.publicity.search import _PostgresBackend

    def candidates(q: str, filters: dict) -> set[int] | None:
        args = {k: v for k, v in filters.items() if k != "agency"}
        region = args.pop("region_code", "")
        path = search._region_path(region) if region else ""
        tags = search.filter_tags(kind=args.get("kind", ""), region_path="/".join((path or "").split("/")[-2:]),
                                  category=args.get("category", ""))
        with connection.cursor() as cursor:
            backend = _PostgresBackend(cursor, terms=query_tokens(q), tags=tags, date_from=args.get("date_from"),
                                       date_to=args.get("date_to"))
            if not backend.keys_query:
                return None
            cursor.execute(f"SELECT public_id FROM {search.PG_KEYS_TABLE} s WHERE keys @@ %s::tsquery"
                           + backend.day_sql, [backend.keys_query, *backend.day_params])
            return {r[0] for r in cursor.fetchall()}

    checked = 0
    for q, filters in CASES:
        offered = candidates(q, filters)
        if offered is None:
            continue
        checked += 1
        assert set(_truth(q, filters, world)) <= offered, q
    assert checked >= 10
    assert corpus["no_licence"].id not in candidates("〔2026〕12号", {})
    assert corpus["food_2025"].id not in candidates("〔2026〕12号", {})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's keys table only")
def test_the_migration_fills_the_keys_table_as_indexing_writes_it(corpus):
    """Migration 0012 creates the keys table and fills it from the indexed
    public copies; the rows equal what indexing writes."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("sanxiang.publicity.migrations.0012_search_keys")

    def stored() -> dict[int, tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT public_id, day, keys::text FROM {search.PG_KEYS_TABLE}")
            return {r[0]: (r[1], r[2]) for r in cursor.fetchall()}

    written = stored()
    assert written and any(search.PAIR_MARK in keys for _day, keys in written.values())
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {search.PG_KEYS_TABLE}")
    with connection.schema_editor() as editor:
        migration.forward(apps, editor)
    assert stored() == written


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's keys table only")
def test_a_lone_ascii_word_beside_a_phrase_narrows_the_keys_candidates_to_rows_holding_it(corpus, world):
    """Every row's keys hold its ASCII words, so in "2026 12号" the word 2026
    keeps out of the candidates a row numbered 〔2025〕12号 that holds no
    2026 anywhere; the search still finds exactly the rows holding both."""
    from sanxiang.publicity.search import _PostgresBackend

    with connection.cursor() as cursor:
        backend = _PostgresBackend(cursor, terms=query_tokens("2026 12号"), tags=[], date_from=None, date_to=None)
        cursor.execute(f"SELECT public_id FROM {search.PG_KEYS_TABLE} WHERE keys @@ %s::tsquery", [backend.keys_query])
        offered = {r[0] for r in cursor.fetchall()}
    assert corpus["food_2025"].id not in offered
    assert set(_truth("2026 12号", {}, world)) <= offered
    assert [p.id for p in search_public(q="2025 12号").items] == [corpus["food_2025"].id] == _truth("2025 12号", {}, world)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's keys table only")
def test_the_migration_adds_the_ascii_words_to_the_keys_as_indexing_writes_them(corpus):
    """Migration 0014 copies each row's ASCII words from its full tsvector
    into its keys; the rows equal what indexing writes, and going back
    leaves the pairs and tags alone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("sanxiang.publicity.migrations.0014_search_key_words")

    def stored() -> dict[int, tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT public_id, day, keys::text FROM {search.PG_KEYS_TABLE}")
            return {r[0]: (r[1], r[2]) for r in cursor.fetchall()}

    written = stored()
    assert "'91130102ma0abcde1x'" in written[corpus["no_licence"].id][1]
    with connection.schema_editor() as editor:
        migration.backward(apps, editor)
    without = stored()
    assert "'91130102ma0abcde1x'" not in without[corpus["no_licence"].id][1]
    assert all(search.PAIR_MARK in keys and search.TAG_MARK in keys for _day, keys in without.values())
    with connection.schema_editor() as editor:
        migration.forward(apps, editor)
    assert stored() == written
    with connection.schema_editor() as editor:
        migration.forward(apps, editor)  # again: nothing changes
    assert stored() == written
    assert [p.id for p in search_public(q="91130102ma0abcde1x 112号").items] == [corpus["no_licence"].id]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's tables only")
def test_the_index_tables_are_never_scanned_in_parallel_even_after_a_rebuild(corpus):
    """Migration 0015 sets parallel_workers = 0 on the index and keys tables
    (a walk batch planned as a Gather Merge spent ~20 ms starting workers);
    a rebuild swaps in new tables with the same setting, and a walk batch
    is then planned without a Gather."""

    def options() -> dict[str, list]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
                           [[search.PG_TABLE, search.PG_KEYS_TABLE]])
            return {name: opts for name, opts in cursor.fetchall()}

    assert options() == {search.PG_TABLE: ["parallel_workers=0"], search.PG_KEYS_TABLE: ["parallel_workers=0"]}
    rebuild_index()
    assert options() == {search.PG_TABLE: ["parallel_workers=0"], search.PG_KEYS_TABLE: ["parallel_workers=0"]}
    with connection.cursor() as cursor:
        # Planned as on a large table: parallel plans made as cheap as can be.
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")
        cursor.execute("SET LOCAL min_parallel_table_scan_size = 0")
        cursor.execute("SET LOCAL min_parallel_index_scan_size = 0")
        cursor.execute(f"EXPLAIN SELECT s.public_id FROM {search.PG_TABLE} s JOIN {search.PG_KEYS_TABLE} k"
                       " ON k.public_id = s.public_id ORDER BY s.day DESC, s.public_id DESC LIMIT 2048")
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "Gather" not in plan and "Parallel" not in plan


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_a_first_page_of_few_matches_shows_their_exact_count_though_it_fills_before_the_last_match(
        corpus, sort, monkeypatch):
    """With at most COUNT_CAP matches, the date-ordered search sorts them all
    and counts exactly, even when one page holds fewer than all of them (a
    walk, here one row a batch, fills the page first and would only
    estimate the count)."""
    monkeypatch.setattr(search, "WALK_BATCH", 1)
    monkeypatch.setattr(search, "WALK_BATCH_MAX", 1)
    everything = search_public(q="罚款", sort=sort, page_size=100)
    assert len(everything.items) >= 3 and not everything.count_is_estimate
    first = search_public(q="罚款", sort=sort, page_size=1)
    assert [p.id for p in first.items] == [p.id for p in everything.items][:1]
    assert first.count == len(everything.items) and not first.count_is_estimate
