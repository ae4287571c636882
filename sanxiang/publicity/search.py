"""Chinese full-text search over published decisions (公示-16/17).

Reads only `PublicDecision` (the redacted public copy). The same code runs on
SQLite (an FTS5 table) and PostgreSQL (a stored tsvector with a GIN index);
both are fed the same token stream built here in Python, so both return the
same ids for the same query. docs/search.md explains the moving parts and
docs/decisions/0006-chinese-search-tokenisation.md why they were chosen.

Tokens (one space-separated string per decision):
- a run of CJK characters becomes its overlapping bigrams followed by its
  last character alone ("食品安全" -> 食品 品安 安全 全). The trailing unigram
  marks the end of a run, so a phrase of bigrams never spans two runs, and
  every character of the text is the first character of some token;
- a run of ASCII letters/digits becomes one lowercase word ("〔2026〕12号" ->
  2026 12 号); other characters only separate (text is NFKC-normalised first,
  so full-width digits and letters count as ASCII);
- fields are separated by a barrier token (a private-use character no query
  can produce), so a match never spans two fields;
- filter tags (kind, agency, every region on the path, main category) are
  appended as tokens that start with another private-use character, so the
  text index also answers "text AND filters" in one intersection.

A query: whitespace separates terms, all of which must match (AND). A term
matches where its normalised text occurs in one indexed field, CJK as a
substring and ASCII words as whole words: see `term_pattern`, which states
the same rule over plain strings (the tests' brute-force truth uses it).
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterable

from django.db.models import Q
from django.db import connection, connections, router, transaction
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import PublicDecision, display_only
from sanxiang.core import clock
from sanxiang.core.models import Region

# What is indexed. PublicDecision holds the redacted public copy only, so
# nothing here can leak a private field.
INDEXED_COLUMNS = ("party_name", "doc_number", "title")
INDEXED_DATA_FIELDS = ("facts", "basis", "content")

FIELD_BARRIER = "\ue000"  # between fields: no query token can equal it
TAG_MARK = "\ue001"  # first character of filter tags
# PostgreSQL only: START_MARK + a character is a lexeme at the position of
# every token starting with that character (see pg_lexemes).
START_MARK = "\ue002"
# PostgreSQL only: PAIR_MARK + left token + PAIR_MARK + right key is a lexeme
# of the small keys table for two adjacent tokens of which one is an ASCII
# word (see pair_lexemes).
PAIR_MARK = "\ue003"

FTS_TABLE = "publicity_search_fts"  # SQLite: the text index
DOC_TABLE = "publicity_search_doc"  # SQLite: (id, day) of each indexed row
PG_TABLE = "publicity_search_index"  # PostgreSQL
# PostgreSQL: per indexed row, a small tsvector of its filter tags and of its
# ASCII-word pairs (the keys), stored in the row (no TOAST), with its day.
PG_KEYS_TABLE = "publicity_search_keys"
# Both databases: per indexed row, its indexed texts already in the form
# relevance ranking searches (`rank_haystack`), written with the index row,
# so ranking reads one narrow column and normalises nothing at query time.
RANK_TABLE = "publicity_search_rank"

# Counting: at most COUNT_CAP matches are counted exactly; beyond that the
# count is an estimate (SearchPage.count_is_estimate).
COUNT_CAP = 2000
# sort="relevance" ranks at most this many of the newest matches.
RANK_CAP = 500
# Probing walk: rows of the filtered list looked at per batch.
WALK_BATCH = 256
WALK_BATCH_MAX = 4096
# A batch of the walk is checked with one rowid-range query when its ids lie
# within this many times its size of each other, else by its list of ids.
RANGE_PROBE_SPAN = 64
PAGE_SIZE_MAX = 100
# PostgreSQL: the GIN statement (find every match, sort and count them) or
# the walk, whichever the planner's estimate says costs less, counting one
# row read by the walk (its tsvector fetched from TOAST and tested) as 1, a
# GIN match that needs no recheck as PG_MATCH_COST (its small heap tuple
# only) and one whose phrase is rechecked as 1 (measured at 1M: ~11-20 us a
# walked row at 256-4,096 a batch, ~2.5 us a visited match). The GIN
# statement visits every match of text and tags, in the date range or not
# (the range filters the rows it visited). A walk under a filter tests the
# row's tags in its keys row first (PG_KEYS_ROW_COST, like a GIN match: an
# index probe and a small heap tuple; measured at 1M under load 8: ~4.6 us)
# and reads the tsvector (1) only of the share of rows the tags keep. Never
# the GIN statement above PG_SORT_MAX estimated matches. A walk that has
# looked at PG_WALK_BUDGET rows without filling its page goes back to the
# GIN statement.
PG_MATCH_COST = 0.25
# SQLite: the walk may hand over to the database sorting every match (of at
# most SQLITE_SORT_MAX) once it has looked at SQLITE_SWITCH_SAMPLE rows and the
# matches look rare: measured at 1M, a walked row costs ~0.6 us (its id and
# day fetched into Python, its batch probed: 38 ms for 61,184 rows), a sorted
# match ~1-1.8 us (found in FTS5, its day looked up, sorted); "牛奶 警告"
# (5,343 matches) walked 93,952 rows in 41 ms for the 500 newest, sorted all
# in 9.5 ms.
SQLITE_SWITCH_SAMPLE = 768
SQLITE_WALK_ROW_US = 0.6
SQLITE_SORT_MATCH_US = 1.5
SQLITE_SORT_MAX = 20000
# The share of matches seen early in the walk is a rough guide (matches are
# not spread evenly over time): the sort must look this many times cheaper.
SQLITE_SWITCH_MARGIN = 2
PG_KEYS_ROW_COST = 0.25
# PostgreSQL relevance candidates (`_PostgresBackend.latest_matches`): each
# window of days is this many times as wide as the matches a day is
# expected (or was seen) to hold say it needs.
PG_LATEST_MARGIN = 1.5
# A window holds the days of at most this many index rows (the GIN index
# reads each day's list whole; ~40 ns an entry measured at 1M).
PG_LATEST_WINDOW_ROWS = 50000
# PostgreSQL relevance reads on from RANK_CAP to COUNT_CAP matches (for an
# exact count) only when the RANK_CAP it read estimate fewer than this.
PG_RECOUNT_BELOW = 2 * COUNT_CAP
PG_SORT_MAX = 20000
PG_WALK_BUDGET = 16384
# PostgreSQL keeps at most 16383 positions in a tsvector; both databases
# index the same first MAX_TOKENS tokens so they stay identical.
MAX_TOKENS = 16000

SORTS = ("newest", "oldest", "relevance")

_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SEGMENT = re.compile(rf"[0-9a-z]+|[{_CJK}]+")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def segments(text: str) -> list[str]:
    """ASCII words and CJK runs of a text, in order; everything else separates."""
    return _SEGMENT.findall(normalise(text))


def _is_ascii(segment: str) -> bool:
    return segment[0] < "\x80"


def _segment_tokens(segs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for seg in segs:
        if _is_ascii(seg):
            out.append(seg)
        else:
            out.extend(seg[i:i + 2] for i in range(len(seg) - 1))
            out.append(seg[-1])
    return out


def tokenize_document(text: str) -> str:
    """The token string of one text (as stored in the index)."""
    return " ".join(_segment_tokens(segments(text)))


def indexed_texts(public: PublicDecision) -> list[str]:
    """The texts of a public copy that search covers, one per field."""
    return _field_texts([getattr(public, name) for name in INDEXED_COLUMNS], public.data)


def _field_texts(columns: Iterable, data) -> list[str]:
    """`indexed_texts` of a record given as values: its INDEXED_COLUMNS (in
    that order) and its stored data."""
    data = data if isinstance(data, dict) else {}
    texts = [value or "" for value in columns]
    for name in INDEXED_DATA_FIELDS:
        value = data.get(name)
        if isinstance(value, (list, tuple)):
            value = "\n".join(str(v) for v in value if v is not None)
        texts.append("" if value is None else str(value))
    return texts


def _tag(kind: str, value) -> str:
    return f"{TAG_MARK}{kind}{str(value).encode('utf-8').hex()}"


def day_tag(day: date) -> str:
    """PostgreSQL only: the lexeme every index row holds for its decision
    date, so that "the newest matches" can be read a few days at a time
    inside the GIN index (`_PostgresBackend.latest_matches`). Migration
    publicity.0018 adds it to rows indexed before."""
    return _tag("d", f"{day.year:04d}{day.month:02d}{day.day:02d}")


def filter_tags(*, kind: str = "", agency_id: int | None = None, region_path: str = "", category: str = "") -> list[str]:
    tags = []
    if kind:
        tags.append(_tag("k", kind))
    if agency_id is not None:
        tags.append(_tag("a", agency_id))
    for code in (c for c in region_path.split("/") if c):
        tags.append(_tag("r", code))
    if category:
        tags.append(_tag("c", category))
    return tags


def document_tokens(public: PublicDecision) -> list[str]:
    tokens: list[str] = []
    for text in indexed_texts(public):
        tokens.extend(_segment_tokens(segments(text)))
        tokens.append(FIELD_BARRIER)
    tokens = tokens[:MAX_TOKENS]
    tokens.extend(filter_tags(kind=public.kind, agency_id=public.agency_id, region_path=public.region_path,
                              category=public.main_category))
    return tokens


# --- queries ------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTerm:
    """One whitespace-separated term: a phrase of tokens, the last one
    possibly a prefix. `pattern` is the same condition over normalised text
    (see `term_pattern`)."""

    tokens: tuple[str, ...]
    prefix_last: bool
    pattern: str


def _term(segs: list[str]) -> QueryTerm:
    tokens: list[str] = []
    prefix_last = False
    last = len(segs) - 1
    for i, seg in enumerate(segs):
        if _is_ascii(seg):
            tokens.append(seg)  # a whole word
        elif i < last:
            # The text's run must end here (the next segment starts a new
            # run): its bigrams, then the trailing unigram.
            tokens.extend(seg[j:j + 2] for j in range(len(seg) - 1))
            tokens.append(seg[-1])
        elif len(seg) >= 2:
            tokens.extend(seg[j:j + 2] for j in range(len(seg) - 1))
        else:
            # One character at the end: any token starting with it (a
            # bigram, or the trailing unigram of a run ending in it).
            tokens.append(seg)
            prefix_last = True
    return QueryTerm(tokens=tuple(tokens), prefix_last=prefix_last, pattern=term_pattern(segs))


def term_pattern(segs: list[str]) -> str:
    """The substring a term stands for in `field_haystack(text)`: segments
    joined by '|', with a '|' before a leading and after a trailing ASCII word
    so that ASCII words match whole words only."""
    pattern = "|".join(segs)
    if _is_ascii(segs[0]):
        pattern = "|" + pattern
    if _is_ascii(segs[-1]):
        pattern += "|"
    return pattern


def field_haystack(text: str) -> str:
    """A field's text in the form `QueryTerm.pattern` is searched in."""
    return "|" + "|".join(segments(text)) + "|"


def rank_haystack(texts: Iterable[str]) -> str:
    """The stored form of a record's indexed texts (`indexed_texts`): their
    field haystacks joined by FIELD_BARRIER, which no haystack holds (they
    hold only '|', ASCII words and CJK runs)."""
    return FIELD_BARRIER.join(field_haystack(t) for t in texts)


def query_tokens(q: str) -> list[QueryTerm]:
    """The terms of a query (duplicates dropped); empty if nothing searchable."""
    terms: list[QueryTerm] = []
    seen = set()
    for word in normalise(q).split():
        segs = _SEGMENT.findall(word)
        if segs:
            term = _term(segs)
            if term.tokens not in seen:
                seen.add(term.tokens)
                terms.append(term)
    return terms


def _fts_expression(terms: list[QueryTerm], tags: list[str]) -> str:
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.tokens) + '"'
        parts.append(phrase + ("*" if term.prefix_last else ""))
    parts.extend(f'"{tag}"' for tag in tags)
    return " AND ".join(parts)


def _tsquery_literal(terms: list[QueryTerm], tags: list[str]) -> str:
    parts = []
    for term in terms:
        lexemes = [f"'{t}'" for t in term.tokens]
        if term.prefix_last:
            # "Any token starting with this character": its start mark, one
            # exact lexeme (a GIN partial match of '张':* would read and
            # merge the posting lists of every bigram starting with 张).
            lexemes[-1] = f"'{START_MARK}{term.tokens[-1]}'"
        parts.append("(" + " <-> ".join(lexemes) + ")" if len(lexemes) > 1 else lexemes[0])
    parts.extend(f"'{tag}'" for tag in tags)
    return " & ".join(parts)


def _starts_cjk(token: str) -> bool:
    return token[0] >= "\x80" and token[0] not in (FIELD_BARRIER, TAG_MARK)


def pg_lexemes(tokens: list[str]) -> dict[str, list[int]]:
    """The lexemes of a PostgreSQL index row with their positions: every
    token, plus for every CJK token a start mark (START_MARK + its first
    character) at the same position, so a one-character query is one exact
    lexeme instead of a prefix match (docs/decisions/0013)."""
    positions: dict[str, list[int]] = {}
    for pos, token in enumerate(tokens, start=1):
        pos = min(pos, 16383)
        positions.setdefault(token, []).append(pos)
        if _starts_cjk(token):
            positions.setdefault(START_MARK + token[0], []).append(pos)
    return positions


def _is_text(token: str) -> bool:
    return token not in (FIELD_BARRIER,) and not token.startswith((TAG_MARK, START_MARK))


# A pair key keeps at most this many characters of each side (a lexeme may
# not exceed 2,047 bytes); cut the same way in documents and queries, equal
# words still give equal keys.
PAIR_SIDE_MAX = 200


def _pair(left: str, right: str) -> str:
    """The key of two adjacent tokens: the left token, and the right one if
    it is an ASCII word or its first character (a CJK token: what a query's
    bigram, unigram or one-character prefix all determine)."""
    right = right if _is_ascii(right) else right[0]
    return f"{PAIR_MARK}{left[:PAIR_SIDE_MAX]}{PAIR_MARK}{right[:PAIR_SIDE_MAX]}"


def pair_lexemes(tokens: list[str]) -> dict[str, list[int]]:
    """The pairs of a document's tokens (the indexed ones, as in the
    tsvector) with the position of their left token: two adjacent text tokens
    of one field of which at least one is an ASCII word. A phrase holding an
    ASCII word (a document number: 2026 <-> 12 <-> 号) is then a phrase of
    pairs in the small keys tsvector (docs/decisions/0013)."""
    positions: dict[str, list[int]] = {}
    for pos in range(1, len(tokens)):
        left, right = tokens[pos - 1], tokens[pos]
        if _is_text(left) and _is_text(right) and (_is_ascii(left) or _is_ascii(right)):
            positions.setdefault(_pair(left, right), []).append(min(pos, 16383))
    return positions


def term_pairs(term: QueryTerm) -> list[tuple[int, str]]:
    """(index of the left token, pair key) of each pair of a term's phrase
    that the keys hold: a document matching the term holds each of them, at
    the same distances from one another."""
    return [(i, _pair(a, b)) for i, (a, b) in enumerate(zip(term.tokens, term.tokens[1:]))
            if _is_ascii(a) or _is_ascii(b)]


def _keys_query(terms: list[QueryTerm], tags: list[str]) -> str:
    """The tsquery on the keys of a search whose terms include a phrase with
    an ASCII word, else "": the pairs of each such term at their distances,
    and the tags. A superset of the matches (the full tsvector decides)."""
    parts = []
    for term in terms:
        pairs = term_pairs(term)
        if not pairs:
            continue
        phrase = f"'{pairs[0][1]}'"
        for (i, _), (j, key) in zip(pairs, pairs[1:]):
            phrase = f"({phrase} <{j - i}> '{key}')"
        parts.append(phrase)
    if not parts:
        return ""
    # A term that is one ASCII word alone ("2025" in "2025 12号") is a word
    # of the keys: only rows holding it too are candidates.
    parts.extend(f"'{term.tokens[0]}'" for term in terms if len(term.tokens) == 1 and _is_ascii(term.tokens[0]))
    parts.extend(f"'{tag}'" for tag in tags)
    return " & ".join(parts)


def _positions_literal(positions: dict[str, list[int]]) -> str:
    return " ".join(f"'{t}':" + ",".join(map(str, p[:256])) for t, p in positions.items())


def key_words(tokens: list[str]) -> list[str]:
    """The ASCII words of a document's indexed tokens, once each: words of
    its keys (without positions), so that a lone ASCII word of a query
    narrows the keys' candidates as a pair does. Exactly the lexemes of the
    full tsvector made of ASCII letters and digits (migration 0014 copies
    them from there)."""
    return sorted({t for t in tokens if _is_text(t) and _is_ascii(t)})


def _keys_literal(tokens: list[str]) -> str:
    """The keys tsvector of a document: its pairs with positions, its ASCII
    words and its tags (the tokens after the text, as in the full tsvector)
    without."""
    tags = [t for t in tokens if t.startswith(TAG_MARK)]
    return " ".join(filter(None, [_positions_literal(pair_lexemes(tokens)), " ".join(f"'{w}'" for w in key_words(tokens)),
                                  " ".join(f"'{t}'" for t in tags)]))


def _tsvector_literal(tokens: list[str]) -> str:
    # Built directly rather than with to_tsvector('simple', ...): the default
    # parser drops the private-use barrier and tag characters (measured).
    return _positions_literal(pg_lexemes(tokens))


# --- storage ------------------------------------------------------------------


def _vendor() -> str:
    return connection.vendor


def index_public(public: PublicDecision) -> None:
    """Insert or replace the index row of a public copy. Call it whenever a
    public copy is created or updated (the publishing service does, visibly).
    A copy that is not visible is removed from the index instead."""
    index_publics([public])


def index_publics(publics: list[PublicDecision]) -> None:
    """``index_public`` for many copies at once (a published batch): one
    statement per index table for all of them, not one per copy. The last
    state of a copy listed twice wins."""
    for public in publics:
        if not public.visible:
            unindex_public(public.pk)
    visible = list({p.pk: p for p in publics if p.visible}.values())
    if visible:
        with transaction.atomic(), connection.cursor() as cursor:
            _write_rows(cursor, visible, replace=True)


def unindex_public(public_id: int) -> None:
    """Remove a public copy from the index (withdrawal, expiry, early end)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if _has_rank_table(cursor):
            cursor.execute(f"DELETE FROM {RANK_TABLE} WHERE id = %s", [public_id])
        if _vendor() == "postgresql":
            cursor.execute(f"DELETE FROM {PG_TABLE} WHERE public_id = %s", [public_id])
            cursor.execute(f"DELETE FROM {PG_KEYS_TABLE} WHERE public_id = %s", [public_id])
        else:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [public_id])
            cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE id = %s", [public_id])


def _has_rank_table(cursor) -> bool:
    """False only on a schema before migration publicity.0013 (which creates
    the table and fills it from the index): earlier migrations, and tests
    that migrate back to them, index with this module."""
    if _vendor() == "postgresql":
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [RANK_TABLE])
    else:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %s", [RANK_TABLE])
    return bool(cursor.fetchone()[0])


def _write_haystacks(cursor, publics: list[PublicDecision]) -> None:
    if not _has_rank_table(cursor):
        return
    cursor.executemany(f"INSERT INTO {RANK_TABLE} (id, haystack) VALUES (%s, %s)"
                       " ON CONFLICT (id) DO UPDATE SET haystack = excluded.haystack",
                       [(p.pk, rank_haystack(indexed_texts(p))) for p in publics])


def _write_rows(cursor, publics: list[PublicDecision], *, replace: bool, table: str = "",
                keys_table: str = "") -> None:
    _write_haystacks(cursor, publics)
    if _vendor() == "postgresql":
        sql = f"INSERT INTO {table or PG_TABLE} (public_id, day, tsv) VALUES (%s, %s, %s::tsvector)"
        keys_sql = f"INSERT INTO {keys_table or PG_KEYS_TABLE} (public_id, day, keys) VALUES (%s, %s, %s::tsvector)"
        if replace:
            sql += " ON CONFLICT (public_id) DO UPDATE SET day = EXCLUDED.day, tsv = EXCLUDED.tsv"
            keys_sql += " ON CONFLICT (public_id) DO UPDATE SET day = EXCLUDED.day, keys = EXCLUDED.keys"
        tokens = [(p, document_tokens(p)) for p in publics]
        # The day lexeme has no position: no phrase ever includes it.
        cursor.executemany(sql, [(p.pk, p.decision_date, f"{_tsvector_literal(t)} '{day_tag(p.decision_date)}'")
                                 for p, t in tokens])
        cursor.executemany(keys_sql, [(p.pk, p.decision_date, _keys_literal(t)) for p, t in tokens])
        return
    if replace:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(p.pk,) for p in publics])
    cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, tokens) VALUES (%s, %s)",
                       [(p.pk, " ".join(document_tokens(p))) for p in publics])
    cursor.executemany(f"INSERT OR REPLACE INTO {DOC_TABLE} (id, day) VALUES (%s, %s)",
                       [(p.pk, p.decision_date.toordinal()) for p in publics])


REBUILD_FIELDS = ("id", "agency_id", "region_path", "kind", "doc_number", "party_name", "title", "data",
                  "main_category", "decision_date", "visible")


# PostgreSQL: the index table's indexes, as migration 0011 creates them
# ({table} is the table's name). A rebuild fills a fresh table and creates
# them once at the end (a GIN index built in one pass is smaller and much
# faster to make than one updated row by row), then swaps the tables.
PG_INDEXES = (
    "CREATE UNIQUE INDEX {table}_pkey ON {table} (public_id)",
    # Newest-first walks and date ranges, without reading the wide rows.
    "CREATE INDEX {table}_day ON {table} (day, public_id)",
    # No pending list: every search would scan it (docs/search.md).
    "CREATE INDEX {table}_tsv ON {table} USING gin (tsv) WITH (fastupdate = off)",
)
# The keys table's indexes, as migration 0012 creates them.
PG_KEYS_INDEXES = (
    "CREATE UNIQUE INDEX {table}_pkey ON {table} (public_id)",
    "CREATE INDEX {table}_keys ON {table} USING gin (keys) WITH (fastupdate = off)",
)
# Both tables are read by short ordered scans that stop early (a walk batch)
# or by GIN bitmaps: never in parallel (migration 0015: the workers' start
# cost more than the scans on a busy 2-core machine).
PG_TABLE_OPTIONS = "parallel_workers = 0"
# ANALYZE samples 300 x this many rows of the tsvector column; the planner's
# estimate of a query's matches (which decides how a search runs) comes from
# the most common lexemes it keeps.
PG_STATISTICS = 1000


def rebuild_index(*, progress: Callable[[int, int], None] | None = None, batch_size: int = 2000) -> int:
    """Rebuild the whole index from the visible public copies; returns how
    many were indexed. `progress(done, total)` is called after each batch.
    Searches go on meanwhile (they read the old index until the end)."""
    pg = _vendor() == "postgresql"
    visible = PublicDecision.objects.filter(visible=True)
    done = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Searches meanwhile still read the rows as they were (until commit).
        if _has_rank_table(cursor):
            cursor.execute(f"DELETE FROM {RANK_TABLE}")
        if pg:
            # Publishing waits for the rebuild (as it did when the rebuild
            # deleted every row first); reading does not.
            cursor.execute(f"LOCK TABLE {PublicDecision._meta.db_table} IN SHARE MODE")
            table = f"{PG_TABLE}_rebuild"
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} (LIKE {PG_TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)")
            keys_table = f"{PG_KEYS_TABLE}_rebuild"
            cursor.execute(f"DROP TABLE IF EXISTS {keys_table}")
            cursor.execute(f"CREATE TABLE {keys_table} (LIKE {PG_KEYS_TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)")
        else:
            table = keys_table = ""
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
            cursor.execute(f"DELETE FROM {DOC_TABLE}")
        total = visible.count()
        last_id = 0
        while True:
            batch = list(visible.filter(id__gt=last_id).order_by("id").only(*REBUILD_FIELDS)[:batch_size])
            if not batch:
                break
            last_id = batch[-1].id
            _write_rows(cursor, batch, replace=False, table=table, keys_table=keys_table)
            done += len(batch)
            if progress:
                progress(done, total)
        if pg:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for ddl in PG_INDEXES:
                cursor.execute(ddl.format(table=table))
            cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY USING INDEX {table}_pkey")
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN tsv SET STATISTICS {PG_STATISTICS}")
            cursor.execute(f"ALTER TABLE {table} SET ({PG_TABLE_OPTIONS})")
            cursor.execute(f"ALTER TABLE {keys_table} SET ({PG_TABLE_OPTIONS})")
            cursor.execute(f"DROP TABLE {PG_TABLE}")
            cursor.execute(f"ALTER TABLE {table} RENAME TO {PG_TABLE}")
            for suffix in ("pkey", "day", "tsv"):
                cursor.execute(f"ALTER INDEX {table}_{suffix} RENAME TO {PG_TABLE}_{suffix}")
            for ddl in PG_KEYS_INDEXES:
                cursor.execute(ddl.format(table=keys_table))
            cursor.execute(f"ALTER TABLE {keys_table} ADD PRIMARY KEY USING INDEX {keys_table}_pkey")
            cursor.execute(f"DROP TABLE {PG_KEYS_TABLE}")
            cursor.execute(f"ALTER TABLE {keys_table} RENAME TO {PG_KEYS_TABLE}")
            for suffix in ("pkey", "keys"):
                cursor.execute(f"ALTER INDEX {keys_table}_{suffix} RENAME TO {PG_KEYS_TABLE}_{suffix}")
        else:
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    analyse_index()
    return done


def analyse_index() -> None:
    """Fresh planner statistics for the index (and on PostgreSQL the
    visibility map, so the day index answers without reading rows, and the
    hint bits set, so the first searches do not write the pages they read;
    the ranking haystacks too, which a rebuild deletes and writes again):
    after a rebuild or a bulk load. VACUUM cannot run inside a transaction;
    there (tests) ANALYZE alone."""
    pg = _vendor() == "postgresql"
    with connection.cursor() as cursor:
        for table in ((PG_TABLE, PG_KEYS_TABLE, RANK_TABLE) if pg else (DOC_TABLE,)):
            if pg and not connection.in_atomic_block:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            else:
                cursor.execute(f"ANALYZE {table}")


# --- search -------------------------------------------------------------------


@dataclass
class SearchPage:
    items: list[PublicDecision]
    count: int
    count_is_estimate: bool
    page: int
    page_size: int
    query: str
    timings: dict = field(default_factory=dict, repr=False)

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))


class _Backend:
    """The index of one database. Both answer the same four questions; the
    rows of the index are the visible public copies (index_public removes a
    copy that is not visible), and every filter except the date range is a
    tag inside the index."""

    # Set by each backend: the order table with its alias, its day and id
    # columns, and the condition every searchable row meets.
    day_col = id_col = ""
    always = ""

    def __init__(self, cursor, *, terms, tags, date_from, date_to):
        self.cursor = cursor
        self.has_match = bool(terms or tags)
        self.date_from, self.date_to = date_from, date_to
        self.day_sql, self.day_params = self.always, []
        if date_from:
            self.day_sql += f" AND {self.day_col} >= %s"
            self.day_params.append(self.day_value(date_from))
        if date_to:
            self.day_sql += f" AND {self.day_col} <= %s"
            self.day_params.append(self.day_value(date_to))

    @property
    def dated(self) -> bool:
        """Whether the search has a date range."""
        return bool(self.date_from or self.date_to)

    @staticmethod
    def day_value(day):
        return day

    def rows_sql(self) -> str:
        raise NotImplementedError

    def fetch(self, sql: str, params) -> list[tuple]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def order_sql(self, desc: bool) -> str:
        order = "DESC" if desc else "ASC"
        return f" ORDER BY {self.day_col} {order}, {self.id_col} {order}"

    def count(self, limit: int | None) -> int:
        source, params = self._source()
        inner = f"SELECT 1 {source}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self.fetch(f"SELECT count(*) FROM ({inner}) c", params)[0][0]

    def page(self, desc: bool, limit: int, offset: int) -> list[int]:
        source, params = self._source()
        sql = f"SELECT {self.id_col} {source}" + self.order_sql(desc) + f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [r[0] for r in self.fetch(sql, params)]

    def match_sql(self) -> tuple[str, list]:
        """The ids of the index rows that match (date range aside)."""
        raise NotImplementedError

    def exact(self, desc: bool, offset: int, limit: int) -> tuple[int, list[int]] | None:
        """(count, page ids) when at most COUNT_CAP rows match the index
        (date range aside: counting inside a range would read every match
        of a common term); else None. Two steps on purpose: the match is
        evaluated once (phrases of common bigrams are the dear part), then
        the order table sorts the ids it returned; left to itself the
        PostgreSQL planner walks the date index and tests every row against
        the tsquery (measured: 0.45 s for an agency with 73 rows at 100k)."""
        sql, params = self.match_sql()
        ids = [r[0] for r in self.fetch(f"{sql} LIMIT {COUNT_CAP + 1}", params)]
        if len(ids) > COUNT_CAP:
            return None
        if not ids:
            return 0, []
        among, among_params = self.among_sql(ids)
        rows = self.fetch(f"SELECT {self.id_col} FROM {self.rows_sql()} WHERE {self.id_col} {among}"
                          + self.day_sql + self.order_sql(desc), [*among_params, *self.day_params])
        return len(rows), [r[0] for r in rows[offset:offset + limit]]

    def among_sql(self, ids: list[int]) -> tuple[str, list]:
        return f"IN ({','.join(['%s'] * len(ids))})", list(ids)

    def latest_matches(self, limit: int) -> list[tuple]:
        """(id, day) of the `limit` matches ranked as candidates by
        relevance (`_relevance`), in the date range, in the order the
        positions past RANK_CAP follow."""
        raise NotImplementedError

    def estimate_from_latest(self, found: int, oldest: tuple) -> int:
        """The matches, estimated from the `found` that `latest_matches`
        returned, the last of them `oldest` (id, day)."""
        raise NotImplementedError

    def probe_sql(self, key: str) -> tuple[str, list]:
        """(sql, params) giving (id, matches) for the index rows whose id
        satisfies `key` (SQL after the id column; its params come after)."""
        raise NotImplementedError

    def matching_among(self, ids: list[int]) -> set[int]:
        """Those of `ids` that match the index."""
        lo, hi = min(ids), max(ids)
        if hi - lo < RANGE_PROBE_SPAN * len(ids):
            # Ids close together (the usual case: ids follow publication
            # order): one range scan of the matches.
            key, key_params = "BETWEEN %s AND %s", [lo, hi]
        else:
            key, key_params = self.among_sql(ids)
        sql, params = self.probe_sql(key)
        return {r[0] for r in self.fetch(sql, [*params, *key_params]) if r[1]}.intersection(ids)

    def walk_batch(self, desc: bool, after, limit: int) -> tuple[list[tuple], set[int]]:
        """The next `limit` (id, day) of all indexed rows in sort order and
        the ids among them that match."""
        rows = self.ordered_batch(desc, after, limit)
        return rows, (self.matching_among([r[0] for r in rows]) if rows else set())

    def ordered_batch(self, desc: bool, after, limit: int) -> list[tuple]:
        """The next `limit` (id, day) of all indexed rows in sort order."""
        sql = f"SELECT {self.id_col}, {self.day_col} FROM {self.rows_sql()} WHERE 1 = 1" + self.day_sql
        params = list(self.day_params)
        if after:
            op = "<" if desc else ">"
            # A row-value comparison: an index range, not a filter.
            sql += f" AND ({self.day_col}, {self.id_col}) {op} (%s, %s)"
            params += [after[1], after[0]]
        return self.fetch(sql + self.order_sql(desc) + f" LIMIT {int(limit)}", params)


class _SQLiteBackend(_Backend):
    """FTS5 for the match, publicity_search_doc (id, day) for order and the
    date range: a small table, so sorting candidates never reads the wide
    public-copy rows."""

    day_col, id_col = "d.day", "d.id"

    def __init__(self, cursor, *, terms, tags, date_from, date_to):
        super().__init__(cursor, terms=terms, tags=tags, date_from=date_from, date_to=date_to)
        self.expr = _fts_expression(terms, tags) if self.has_match else ""
        self._switch_tried = False
        self._total: int | None = None
        self._sorted: tuple[int, list[int]] = (0, [])

    @staticmethod
    def day_value(day):
        return day.toordinal()

    def rows_sql(self) -> str:
        return f"{DOC_TABLE} d"

    def _source(self) -> tuple[str, list]:
        if self.has_match:
            return (f"FROM {FTS_TABLE} f JOIN {DOC_TABLE} d ON d.id = f.rowid WHERE {FTS_TABLE} MATCH %s"
                    + self.day_sql, [self.expr, *self.day_params])
        return f"FROM {DOC_TABLE} d WHERE 1 = 1" + self.day_sql, list(self.day_params)

    def match_sql(self) -> tuple[str, list]:
        return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [self.expr]

    def probe_sql(self, key: str) -> tuple[str, list]:
        return f"SELECT rowid, 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid {key}", [self.expr]

    def sort_instead(self, desc: bool, need: int, hits: int, looked: int) -> bool:
        """Whether the walk, having found `hits` matches among `looked` rows,
        should stop and let the database sort every match instead (the
        answer is then kept for `all_matches`). Asked after every batch once
        SQLITE_SWITCH_SAMPLE rows were looked at; the sort is tried once. With an upper estimate of the share of
        matches, the walk still has (need - hits) / share rows to read
        (SQLITE_WALK_ROW_US each: ids and days fetched into Python), the sort
        reads every match of the index (SQLITE_SORT_MATCH_US each). When the
        sort looks cheaper, it runs with at most the matches the rest of the
        walk would cost; if there are more (the share seen is not the
        share of the whole index) the walk goes on. The sort must look
        SQLITE_SWITCH_MARGIN times cheaper, so that a wrong guess (a sort
        tried and refused) is rare."""
        if self._switch_tried or looked < SQLITE_SWITCH_SAMPLE:
            return False
        if self._total is None:
            self._total = self.total_rows()
        share = min(1.0, (hits + 3) / looked)
        walk_cost = SQLITE_WALK_ROW_US * max(0, need - hits) / share
        if SQLITE_SWITCH_MARGIN * SQLITE_SORT_MATCH_US * share * self._total >= walk_cost:
            return False  # asked again after the next batch, with a better share
        self._switch_tried = True
        cap = int(min(SQLITE_SORT_MAX, walk_cost / max(SQLITE_SORT_MATCH_US, 1e-9)))
        order = "DESC" if desc else "ASC"
        rows = self.fetch(
            f"WITH m AS MATERIALIZED (SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
            f" LIMIT {cap + 1}) SELECT d.id, (SELECT count(*) FROM m), count(*) OVER () FROM m"
            f" JOIN {DOC_TABLE} d ON d.id = m.id WHERE 1 = 1" + self.day_sql
            + f" ORDER BY d.day {order}, d.id {order} LIMIT {int(need)}", [self.expr, *self.day_params])
        if rows:
            matched = rows[0][1]
        else:
            matched = self.fetch(f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
                                 f" LIMIT {cap + 1})", [self.expr])[0][0]
        if matched > cap:
            return False
        self._sorted = (rows[0][2] if rows else 0, [r[0] for r in rows])
        return True

    def all_matches(self, desc: bool, offset: int, limit: int) -> tuple[int, list[int]]:
        """(count, ids) of every match sorted, as `sort_instead` found them."""
        count, ids = self._sorted
        return count, ids[offset:offset + limit]

    def total_rows(self) -> int | None:
        """The indexed rows as ANALYZE counted them (rebuild_index runs it);
        counted if it never ran."""
        if self.fetch("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'", []):
            rows = self.fetch("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [DOC_TABLE])
            if rows:
                return int(str(rows[0][0]).split()[0])
        return self.fetch(f"SELECT count(*) FROM {DOC_TABLE}", [])[0][0]

    def latest_matches(self, limit: int) -> list[tuple[int, int]]:
        """(id, day) of the `limit` matches published last (highest id
        first), in the date range: FTS5 reads a match's rows in id order
        and stops at `limit`, so the cost follows `limit`, not how far
        apart the matches lie in date order (the relevance candidates,
        `_relevance`)."""
        return self.fetch(
            f"SELECT f.rowid, d.day FROM {FTS_TABLE} f JOIN {DOC_TABLE} d ON d.id = f.rowid"
            f" WHERE {FTS_TABLE} MATCH %s" + self.day_sql + f" ORDER BY f.rowid DESC LIMIT {int(limit)}",
            [self.expr, *self.day_params])

    def estimate_from_latest(self, found: int, oldest: tuple) -> int:
        """The matches in the date range, estimated from `found` matches
        among the rows with an id from `oldest`'s up: their share of those
        rows (ids follow publication; the rows counted by the id span times
        the index's density, from ANALYZE's row count) scaled to every
        row."""
        # Two statements: SQLite answers a lone min() or max() from the index.
        low = self.fetch(f"SELECT min(id) FROM {DOC_TABLE}", [])[0][0]
        high = self.fetch(f"SELECT max(id) FROM {DOC_TABLE}", [])[0][0]
        total = self.total_rows() or 0
        if not total or low is None:
            return found
        looked = (high - oldest[0] + 1) * total / (high - low + 1)
        return max(found, round(found * total / max(looked, 1.0)))

    def total_in_range(self) -> int | None:
        """An estimate of the indexed rows in the date range, cheap: the row
        count ANALYZE recorded (rebuild_index runs it) times the share of the
        indexed days the range covers. None if ANALYZE never ran."""
        if not self.fetch("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'", []):
            return None
        rows = self.fetch("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [DOC_TABLE])
        if not rows:
            return None
        total = int(str(rows[0][0]).split()[0])
        # Two statements: SQLite answers a lone min() or max() from the index.
        first = self.fetch(f"SELECT min(day) FROM {DOC_TABLE}", [])[0][0]
        last = self.fetch(f"SELECT max(day) FROM {DOC_TABLE}", [])[0][0]
        if first is None:
            return 0
        lo = max(first, self.date_from.toordinal()) if self.date_from else first
        hi = min(last, self.date_to.toordinal()) if self.date_to else last
        return max(0, round(total * (hi - lo + 1) / (last - first + 1)))


class _PostgresBackend(_Backend):
    """One table: the stored tsvector (GIN) for the match, its `day` column
    and the (day, public_id) index for order and the date range. How a
    search runs is chosen by the planner's estimate of its matches: few
    enough, and the GIN index finds them all and the database sorts and
    counts them in one statement (exact count); many, and the walk goes
    down the day index testing each row's tsvector, stopping when the page
    is full (a common term stops early)."""

    day_col, id_col = "s.day", "s.public_id"

    def __init__(self, cursor, *, terms, tags, date_from, date_to):
        super().__init__(cursor, terms=terms, tags=tags, date_from=date_from, date_to=date_to)
        self.terms, self.tags = terms, tags
        self._plans: dict[tuple, int] = {}
        self.tsquery = _tsquery_literal(terms, tags) if self.has_match else ""
        # The tags and the text apart (`_source`, the walk, the estimates).
        self.tags_query = _tsquery_literal([], tags) if tags else ""
        self.text_query = _tsquery_literal(terms, [])
        # A phrase with an ASCII word (a document number): its candidates
        # come from the keys table (its pairs at their distances), and only
        # they have their full tsvector tested.
        self.keys_query = _keys_query(terms, tags)

    def rows_sql(self) -> str:
        return f"{PG_TABLE} s"

    def among_sql(self, ids: list[int]) -> tuple[str, list]:
        # One array literal: psycopg dumps a list of 500 ints element by
        # element (~0.5 ms), a string once.
        return "= ANY(%s::bigint[])", ["{" + ",".join(str(int(i)) for i in ids) + "}"]

    def _source(self) -> tuple[str, list]:
        if self.has_match and self.tags and self.terms:
            # The tags and the text as two conditions: the GIN index then
            # takes each as a key of its own and skips through the text's
            # long lists by the tags' short ones; one tsquery of both read
            # the text's lists whole (measured at 1M: 罚款 under an agency,
            # 31.5 against 3.2 ms; 食品 罚款 under another, 40.4 against
            # 3.6 ms).
            return (f"FROM {PG_TABLE} s WHERE s.tsv @@ %s::tsquery AND s.tsv @@ %s::tsquery" + self.day_sql,
                    [self.tags_query, self.text_query, *self.day_params])
        if self.has_match:
            return f"FROM {PG_TABLE} s WHERE s.tsv @@ %s::tsquery" + self.day_sql, [self.tsquery, *self.day_params]
        return f"FROM {PG_TABLE} s WHERE TRUE" + self.day_sql, list(self.day_params)

    def _match_source(self) -> tuple[str, list]:
        """Like _source, through the keys' candidates when there are keys:
        the tsvectors of the candidates only are read."""
        if not self.keys_query:
            return self._source()
        return (f"FROM {PG_TABLE} s WHERE s.public_id = ANY(ARRAY(SELECT k.public_id FROM {PG_KEYS_TABLE} k"
                f" WHERE k.keys @@ %s::tsquery{self.day_sql.replace('s.day', 'k.day')}))"
                f" AND s.tsv @@ %s::tsquery" + self.day_sql,
                [self.keys_query, *self.day_params, self.tsquery, *self.day_params])

    def count(self, limit: int | None) -> int:
        source, params = self._match_source()
        inner = f"SELECT 1 {source}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self.fetch(f"SELECT count(*) FROM ({inner}) c", params)[0][0]

    def candidates(self) -> int | None:
        """The planner's estimate of the keys' candidates, or None without
        keys."""
        if not self.keys_query:
            return None
        return self._planned_rows(f"FROM {PG_KEYS_TABLE} s WHERE s.keys @@ %s::tsquery" + self.day_sql,
                                  [self.keys_query, *self.day_params])

    def match_sql(self) -> tuple[str, list]:
        return f"SELECT public_id FROM {PG_TABLE} s WHERE tsv @@ %s::tsquery", [self.tsquery]

    def probe_sql(self, key: str) -> tuple[str, list]:
        return f"SELECT public_id, tsv @@ %s::tsquery FROM {PG_TABLE} WHERE public_id {key}", [self.tsquery]

    def _planned_rows(self, source: str, params) -> int:
        key = (source, tuple(params))
        if key not in self._plans:
            plan = self.fetch(f"EXPLAIN (FORMAT JSON) SELECT 1 {source}", params)[0][0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            self._plans[key] = int(plan[0]["Plan"]["Plan Rows"])
        return self._plans[key]

    def estimated_matches(self, days: bool = True) -> int:
        """The planner's estimate of the rows matching text, tags and (if
        `days`) date range. A phrase (a term of several lexemes) counts as
        its rarest lexeme: the planner multiplies the lexemes' frequencies
        as if they were independent, and the bigrams of one word are not
        (食品 品安 安全: product 5 %, truth 35 %, at 1M), which sent common
        phrases under a filter to the GIN statement with tens of thousands
        of rows to recheck."""
        day_sql, day_params = (self.day_sql, self.day_params) if days else ("", [])
        if all(len(term.tokens) == 1 for term in self.terms):
            return self._planned_rows(f"FROM {PG_TABLE} s WHERE s.tsv @@ %s::tsquery" + day_sql,
                                      [self.tsquery, *day_params])
        rows = self._tag_rows(day_sql, day_params)
        everything = self._everything()
        for term in self.terms:
            lexemes = [QueryTerm(tokens=(t,), prefix_last=term.prefix_last and i == len(term.tokens) - 1, pattern="")
                       for i, t in enumerate(term.tokens)]
            rarest = min(self._planned_rows(f"FROM {PG_TABLE} s WHERE s.tsv @@ %s::tsquery",
                                            [_tsquery_literal([lexeme], [])]) for lexeme in lexemes)
            rows = rows * rarest / everything
        return round(rows)

    def _everything(self) -> int:
        return max(1, self._planned_rows(f"FROM {PG_TABLE} s WHERE TRUE", []))

    def _tag_rows(self, day_sql: str, day_params: list) -> int:
        """The planner's estimate of the rows the tags keep (all, without
        tags) in the date range given."""
        return self._planned_rows(f"FROM {PG_TABLE} s WHERE "
                                  + ("s.tsv @@ %s::tsquery" if self.tags else "TRUE") + day_sql,
                                  ([self.tags_query] if self.tags else []) + day_params)

    def walk_row_cost(self) -> float:
        """What one row looked at by the walk costs: its tsvector read and
        tested (1), or under a filter its keys' tags tested and, for the
        share of rows they keep, its tsvector (see PG_KEYS_ROW_COST)."""
        if not self.tags:
            return 1.0
        return PG_KEYS_ROW_COST + min(1.0, self._tag_rows("", []) / self._everything())

    def exact(self, desc: bool, offset: int, limit: int, *, by_days: bool = False
              ) -> tuple[int, list[int]] | None:
        """All matches sorted and counted by the database when that is
        expected to cost less than the walk (or, `by_days`, than reading
        the newest a few days at a time, `latest_matches`); else None. The
        GIN statement visits every match of text and tags, whatever the
        date range (and, for a phrase, reads its tsvector to check
        positions); the walk looks at about need x rows in range / matches
        rows, each costing `walk_row_cost`; the days visit about
        PG_LATEST_MARGIN x need matches, each costing what a match of the
        GIN statement costs."""
        matches = self.matches = max(1, self.estimated_matches())
        candidates = self.candidates()
        if candidates is not None:
            # Every candidate of the keys has its tsvector tested (1 each);
            # the keys apply the date range before that.
            candidates = max(1, candidates)
            matches = self.matches = min(matches, candidates)
            gin_cost = float(candidates)
            match_cost = 1.0
        else:
            phrase = any(len(term.tokens) > 1 for term in self.terms)
            visited = self.estimated_matches(days=False) if self.day_params else matches
            match_cost = 1.0 if phrase else PG_MATCH_COST
            gin_cost = max(visited, matches) * match_cost
        if (candidates or matches) > PG_SORT_MAX:
            return None
        if by_days:
            other_cost = PG_LATEST_MARGIN * (offset + limit + 1) * match_cost
        else:
            other_cost = (offset + limit) * max(1, self.total_in_range()) / matches * self.walk_row_cost()
        if gin_cost > other_cost:
            return None
        return self.all_matches(desc, offset, limit)

    def walk_budget(self, need: int) -> int:
        """Rows the walk may look at before it goes back to the GIN
        statement: four times what the estimate says it needs (an estimate
        far too high, as for a document number whose words are common while
        their sequence is rare), at most PG_WALK_BUDGET."""
        return int(min(PG_WALK_BUDGET, max(2 * WALK_BATCH, 4 * self.expected_rows(need))))

    def expected_rows(self, need: int) -> float:
        """Rows the walk is expected to look at to find `need` matches."""
        return need * max(1, self.total_in_range()) / getattr(self, "matches", 1)

    def first_batch(self, need: int) -> int:
        """The walk's first batch: the rows it is expected to need and a
        quarter more (within WALK_BATCH..WALK_BATCH_MAX), so a walk of a
        few thousand rows is one statement instead of four doubling ones
        that overshoot by up to half (measured at 1M: 3,840 rows read for
        ~2,600 needed)."""
        return int(min(WALK_BATCH_MAX, max(WALK_BATCH, 1.25 * self.expected_rows(need))))

    def all_matches(self, desc: bool, offset: int, limit: int) -> tuple[int, list[int]]:
        # MATERIALIZED: the matches first (GIN), then order and count. Given
        # the ORDER BY and LIMIT together with the match, the planner walks
        # the day index testing every row's tsvector instead, whose cost it
        # does not see (measured at 1M: 9.8 s for an agency's 4,911 rows,
        # 975,118 rows read and rejected).
        source, params = self._match_source()
        order = "DESC" if desc else "ASC"
        rows = self.fetch(f"WITH m AS MATERIALIZED (SELECT s.public_id, s.day {source}) "
                          f"SELECT public_id, count(*) OVER () FROM m ORDER BY day {order}, public_id {order}"
                          f" LIMIT {int(limit)} OFFSET {int(offset)}", params)
        if rows:
            return rows[0][1], [r[0] for r in rows]
        return (self.count(None) if offset else 0), []

    def walk_batch(self, desc: bool, after, limit: int) -> tuple[list[tuple], set[int]]:
        # One statement per batch: the day index gives the rows in order,
        # each row's own tsvector says whether it matches.
        if self.tags:
            # The row's keys (in the row, no TOAST) hold its tags: a row
            # outside the filter is rejected without reading its tsvector
            # (a region filter keeps about one row in ten).
            # A listing by filters alone: the keys' tags decide.
            test = "s.tsv @@ %s::tsquery" if self.terms else "true"
            sql = (f"SELECT s.public_id, s.day, CASE WHEN k.keys @@ %s::tsquery THEN {test}"
                   f" ELSE false END FROM {PG_TABLE} s JOIN {PG_KEYS_TABLE} k ON k.public_id = s.public_id"
                   f" WHERE TRUE" + self.day_sql)
            params = [self.tags_query, *([self.tsquery] if self.terms else []), *self.day_params]
        else:
            sql = f"SELECT s.public_id, s.day, s.tsv @@ %s::tsquery FROM {PG_TABLE} s WHERE TRUE" + self.day_sql
            params = [self.tsquery, *self.day_params]
        if after:
            sql += f" AND (s.day, s.public_id) {'<' if desc else '>'} (%s, %s)"
            params += [after[1], after[0]]
        rows = self.fetch(sql + self.order_sql(desc) + f" LIMIT {int(limit)}", params)
        return [(r[0], r[1]) for r in rows], {r[0] for r in rows if r[2]}

    def latest_matches(self, limit: int) -> list[tuple]:
        """(id, day) of the `limit` newest matches in the date range, newest
        first (by decision date, then id), read a few days at a time: each
        row's tsvector holds the lexeme of its decision date (`day_tag`), so
        the GIN index intersects the text with a window of days itself, the
        heap is visited only for the matches of those days, and only their
        tsvectors are read when a phrase needs its positions checked (a walk
        down the day index reads the tsvector of every row it passes; months
        instead of days read up to a month's matches of a common phrase for
        500; measured at 1M, docs/performance.md). The first window is sized
        by the planner's estimate of the matches a day holds
        (PG_LATEST_MARGIN times what it should need), each later one by the
        matches a day held so far, at most doubling the days read (so a
        window overshoots by at most what was read before it)."""
        bounds = self.fetch(f"SELECT min(day), max(day) FROM {PG_TABLE}", [])[0]
        if bounds[0] is None:
            return []
        first = max(bounds[0], self.date_from) if self.date_from else bounds[0]
        last = min(bounds[1], self.date_to) if self.date_to else bounds[1]
        # Day n of the range, newest first, is last - n days (not a list of
        # every day: at 1M, ten years of dates cost ~1 ms to build a search).
        days = (last - first).days + 1
        per_day = max(1.0, self.estimated_matches()) / max(1, days)
        size = math.ceil(PG_LATEST_MARGIN * limit / per_day)
        # The GIN index reads every row of each day in a window: at most
        # PG_LATEST_WINDOW_ROWS (by the index's rows a day) a statement.
        widest = max(1, int(PG_LATEST_WINDOW_ROWS * max(1, (bounds[1] - bounds[0]).days + 1)
                            / self._everything()))
        rows: list[tuple] = []
        done = 0
        source, params = self._match_source()
        while done < days and len(rows) < limit:
            # All the matches left at once when they are expected to be
            # about as many as the windows would read anyway.
            rest = per_day * (days - done) <= 2 * PG_LATEST_MARGIN * (limit - len(rows))
            if self.dated or not (rest or done + size >= days):
                # Under a date range windows go on to its end: its days in
                # the GIN index, rather than the range tested on the heap
                # row after a phrase's positions were (measured at 1M: 大气污染
                # under a city since 2025, 5,674 of 8,087 tsvectors read for
                # nothing, 92 ms).
                window = min(size, widest, days - done)
                where, where_params = " AND s.tsv @@ %s::tsquery", [" | ".join(
                    f"'{day_tag(last - timedelta(days=n))}'" for n in range(done, done + window))]
            else:
                # Few matches left, or every day: all of them in one
                # statement, without day lexemes (a window of many days costs
                # the GIN index more than the matches it leaves out); the
                # days already read are left out by the day column, on the
                # heap rows the matches visit anyway.
                window = days - done
                where, where_params = (" AND s.day < %s", [last - timedelta(days=done - 1)]) if done else ("", [])
            # MATERIALIZED, as in all_matches: the matches first (GIN), then
            # the order; given ORDER BY and LIMIT with the match, the planner
            # would walk the day index instead.
            rows += self.fetch(
                f"WITH m AS MATERIALIZED (SELECT s.public_id, s.day {source}{where})"
                f" SELECT public_id, day FROM m ORDER BY day DESC, public_id DESC LIMIT {int(limit - len(rows))}",
                [*params, *where_params])
            done += window
            # The next window: what the matches a day so far say it needs,
            # at most as many days as were read (the newest days can be
            # sparse, as decisions of the last weeks are still arriving).
            per_day = (len(rows) + 1) / done
            size = max(1, min(done, math.ceil(PG_LATEST_MARGIN * (limit - len(rows)) / per_day)))
        return rows

    def estimate_from_latest(self, found: int, oldest: tuple) -> int:
        """The matches, estimated from `found` matches among the rows decided
        on or after the day of `oldest` (the last of them): their share of
        those rows (the planner's estimate) scaled to every row."""
        looked = self._planned_rows(f"FROM {PG_TABLE} s WHERE s.day >= %s", [oldest[1]])
        return max(found, round(found * self._everything() / max(looked, 1)))

    def total_in_range(self) -> int:
        # The planner's estimate: an exact count of a large range costs a
        # scan, and this only scales an estimate.
        return self._planned_rows(f"FROM {PG_TABLE} s WHERE TRUE" + self.day_sql, self.day_params)


def _walk(backend: _Backend, desc: bool, need: int, budget: int | None = None,
          first: int | None = None, switch: Callable[[int, int], bool] | None = None
          ) -> tuple[list[int], int, bool] | None:
    """Go down all indexed rows in sort order keeping those that match, until
    `need` are found, in batches from `first` (default WALK_BATCH) rows
    doubling up to WALK_BATCH_MAX. Returns (hits, rows looked at, whether
    all were seen), or None when `budget` rows were looked at before that
    (the matches are rarer than the planner expected) or when `switch`
    (given the hits and rows looked at so far) says the database sorting
    every match is cheaper than walking on (it keeps that answer)."""
    hits: list[int] = []
    looked = 0
    after = None
    batch = first or WALK_BATCH
    while len(hits) < need:
        if budget is not None and looked >= budget:
            return None
        rows, found = backend.walk_batch(desc, after, batch)
        if not rows:
            return hits, looked, True
        looked += len(rows)
        hits.extend(r[0] for r in rows if r[0] in found)
        if len(rows) < batch:
            return hits, looked, True
        after = rows[-1]
        batch = min(batch * 2, WALK_BATCH_MAX)
        if switch is not None and len(hits) < need and switch(len(hits), looked):
            return None
    return hits, looked, False


def _region_path(region_code: str) -> str | None:
    return Region.objects.filter(code=region_code).values_list("path", flat=True).first()


def search_public(*, q: str = "", region_code: str = "", agency_id: int | None = None, kind: str = "",
                  category: str = "", date_from: date | None = None, date_to: date | None = None,
                  sort: str = "newest", page: int = 1, page_size: int = 20) -> SearchPage:
    """Search the visible public copies. Multi-word queries are AND; filters
    narrow (region: the region and everything under it; category: the main,
    i.e. heaviest, penalty category). Newest first by default; counts above
    COUNT_CAP are estimates (count_is_estimate)."""
    started = time.perf_counter()
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), PAGE_SIZE_MAX))
    empty = SearchPage(items=[], count=0, count_is_estimate=False, page=page, page_size=page_size, query=q)
    terms = query_tokens(q)
    region_path = ""
    if region_code:
        region_path = _region_path(region_code)
        if region_path is None:
            return empty
    # Every region on a row's path is one of its tags; a subtree filter needs
    # the tag of its own (deepest) region only.
    tags = filter_tags(kind=kind, agency_id=agency_id, region_path="/".join(region_path.split("/")[-2:]),
                       category=category)
    desc = sort != "oldest"
    offset = (page - 1) * page_size
    estimate = False
    pg = _vendor() == "postgresql"
    # The index is read where the router sends the search's reads (a read
    # replica for an anonymous portal visitor, core/db_router.py; default
    # otherwise), like the ORM queries around it.
    with connections[router.db_for_read(PublicDecision)].cursor() as cursor:
        backend = (_PostgresBackend if pg else _SQLiteBackend)(cursor, terms=terms, tags=tags,
                                                                date_from=date_from, date_to=date_to)
        if not backend.has_match:
            # A plain listing (at most a date range).
            ids = backend.page(desc, page_size, offset)
            count = backend.count(COUNT_CAP + 1)
            if count > COUNT_CAP:
                count, estimate = backend.total_in_range() or COUNT_CAP + 1, True
        elif sort == "relevance" and terms:
            count, estimate, ids = _relevance(backend, terms, offset, page_size, pg=pg)
        else:
            count, estimate, ids = _in_order(backend, desc, offset, page_size, pg=pg)
    # The scheduled job takes records off at their 公示截止期; until it has run
    # today, such a record is still indexed but never shown.
    today = clock.today()
    with display_only():  # the page shows these rows; nothing saves them
        objects = (PublicDecision.objects.filter(visible=True)
                   .filter(Q(publicity_end__isnull=True) | Q(publicity_end__gt=today)).select_related("agency")
                   .in_bulk(ids))
    items = [objects[i] for i in ids if i in objects]
    return SearchPage(items=items, count=count, count_is_estimate=estimate, page=page, page_size=page_size, query=q,
                      timings={"total_ms": (time.perf_counter() - started) * 1000})


def _walked(backend: _Backend, desc: bool, need: int, *, pg: bool) -> tuple[int, bool, list[int]]:
    """(count, count_is_estimate, the first `need` matches in sort order)
    when more than COUNT_CAP rows match the index (dates aside): the walk
    (`_walk`) keeps the matching rows until `need` are found, and the count
    is the share of matches among the rows looked at, scaled by the
    (estimated) rows in the date range."""
    walked = _walk(backend, desc, need, budget=backend.walk_budget(need) if pg else None,
                   first=backend.first_batch(need) if pg else None,
                   switch=None if pg else functools.partial(backend.sort_instead, desc, need))
    if walked is None:
        # Fewer matches than expected: PostgreSQL's GIN index finds them all
        # after all; SQLite sorted them already (exact count).
        count, hits = backend.all_matches(desc, 0, need)
        return count, False, hits
    hits, looked, complete = walked
    if complete:
        return len(hits), False, hits
    total = backend.total_in_range()
    count = COUNT_CAP + 1 if total is None else round(total * len(hits) / max(looked, 1))
    if not backend.dated:
        count = max(count, COUNT_CAP + 1)
    return max(count, len(hits)), True, hits


def _in_order(backend: _Backend, desc: bool, offset: int, page_size: int, *, pg: bool) -> tuple[int, bool, list[int]]:
    """(count, count_is_estimate, page ids) of a search in date order."""
    if (exact := backend.exact(desc, offset, page_size)) is not None:
        # Few matches: the database sorts them all (exact count).
        count, ids = exact
        return count, False, ids
    # Many matches: walk all rows in order, keep the matching ones until
    # the page is full; estimate the count.
    count, estimate, hits = _walked(backend, desc, offset + page_size, pg=pg)
    return count, estimate, hits[offset:offset + page_size]


def _relevance(backend: _Backend, terms: list[QueryTerm], offset: int, page_size: int,
               *, pg: bool) -> tuple[int, bool, list[int]]:
    """(count, count_is_estimate, page ids) of a relevance search: RANK_CAP
    candidates ranked by `_rank` (ties newest first by date), the positions
    after them in the order `latest_matches` reads.

    The candidates (docs/search.md): on SQLite the RANK_CAP matches
    published last (highest ids, read from FTS5 in id order, decision
    0018); on PostgreSQL the RANK_CAP newest by decision date, all matches
    sorted by the GIN statement when they are few (`exact`), else read a
    few days at a time (decision 0019). Both are bounded reads whatever
    the filters, where a walk down the date order grew as matches thinned
    out (超市 under a city: ~98,000 rows for 500 matches). The count is
    exact when every match was read (at most COUNT_CAP), else estimated:
    from the matches' share of the rows read through, or with a date range
    as the newest-first search estimates it. PostgreSQL reads RANK_CAP
    first and on to COUNT_CAP only when the estimate from those says the
    count may be exact (below PG_RECOUNT_BELOW): every match past RANK_CAP
    costs it a heap row, and for a phrase its tsvector."""
    need = max(RANK_CAP, offset + page_size)
    if pg and (exact := backend.exact(True, 0, need, by_days=True)) is not None:
        count, ids = exact
        ranked = _rank(backend, terms, ids[:RANK_CAP]) + ids[RANK_CAP:]
        return count, False, ranked[offset:offset + page_size]
    full = max(COUNT_CAP, need) + 1
    # PostgreSQL asks for COUNT_CAP at once only when the count would come
    # from them (no date range) and the planner expects few enough matches
    # for an exact count.
    asked = need + 1 if pg and (backend.dated or backend.estimated_matches() >= PG_RECOUNT_BELOW) else full
    rows = backend.latest_matches(asked)
    if (len(rows) == asked < full and not backend.dated
            and backend.estimate_from_latest(len(rows), rows[-1]) < PG_RECOUNT_BELOW):
        asked = full
        rows = backend.latest_matches(asked)
    if len(rows) < asked:
        count, estimate = len(rows), False
    elif backend.dated:
        # The rows read through need not be the range's share of it (on
        # SQLite ids follow publication, not decision dates; PostgreSQL read
        # RANK_CAP only): the count is the newest-first search's (one page
        # in date order).
        count, estimate, _ids = _in_order(backend, True, 0, page_size, pg=pg)
        count = max(count, len(rows))  # never below the matches read
    else:
        count, estimate = max(backend.estimate_from_latest(len(rows), rows[-1]), COUNT_CAP + 1), True
    window = sorted(rows[:RANK_CAP], key=lambda r: (r[1], r[0]), reverse=True)
    ids = _rank(backend, terms, [i for i, _day in window]) + [i for i, _day in rows[RANK_CAP:]]
    return count, estimate, ids[offset:offset + page_size]


def _rank(backend: _Backend, terms: list[QueryTerm], ids: list[int]) -> list[int]:
    """Order candidates by a simple, database-independent score: a term found
    in the party, title or document number weighs 10, each occurrence in the
    facts, basis or content 1; ties keep the given (newest first) order.
    Reads the haystacks stored with the index rows (RANK_TABLE); a row
    without one (indexed before it existed) is read as plain values of the
    record (no model instances: no public-text guard fingerprints). (Scoring
    in PostgreSQL's SQL instead, strpos and replace, was measured slower at
    1M: 5-8 ms for 500 haystacks against 2.5-3.3 ms read and scored here.)
    The ids go to PostgreSQL as one array (`among_sql`): a statement of 500
    placeholders is too long for psycopg's cache of parsed statements, and
    parsing it again took ~3 ms of the server's CPU a search."""
    patterns = [term.pattern for term in terms]
    scores: dict[int, int] = {}
    if ids:
        among, params = backend.among_sql(ids)
        scores = {i: _score(h, patterns) for i, h in backend.fetch(f"SELECT id, haystack FROM {RANK_TABLE}"
                                                                   f" WHERE id {among}", params)}
    missing = [i for i in ids if i not in scores]
    if missing:
        for row in PublicDecision.objects.filter(id__in=missing).values_list("id", *INDEXED_COLUMNS, "data"):
            scores[row[0]] = _score(rank_haystack(_field_texts(row[1:-1], row[-1])), patterns)
    scored = sorted((-scores[i], position, i) for position, i in enumerate(ids) if i in scores)
    return [i for _, _, i in scored]


def _score(haystack: str, patterns: list[str]) -> int:
    """The rule of `_rank` over one stored haystack: its three weighty
    fields, then the rest in one string (a term cannot span FIELD_BARRIER,
    so counting in the rest at once counts every field's occurrences)."""
    strong = len(INDEXED_COLUMNS)
    parts = haystack.split(FIELD_BARRIER, strong)
    rest = parts.pop() if len(parts) > strong else ""
    # Plain loops: scoring 500 candidates is on every relevance search, and
    # generator expressions took twice as long (1.8 ms against 0.9).
    score = 0
    for pattern in patterns:
        for part in parts:
            if pattern in part:
                score += 10
        score += rest.count(pattern)
    return score


# --- showing a match (公示-16: the matched words highlighted) ----------------------

SNIPPET_CHARS = 90


@functools.lru_cache(maxsize=256)
def _match_pattern(q: str) -> re.Pattern | None:
    """One regular expression finding every query segment in a text as the
    search matches it: CJK runs as substrings, ASCII words as whole words
    (case-insensitive)."""
    parts = []
    for seg in sorted(set(segments(q)), key=len, reverse=True):
        if _is_ascii(seg):
            parts.append(rf"(?<![0-9a-z]){re.escape(seg)}(?![0-9a-z])")
        else:
            parts.append(re.escape(seg))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def highlight(text: str, q: str):
    """`text` escaped for HTML with each matched word of `q` in <mark>: only
    the marks are markup, whatever the text or the query hold."""
    text = "" if text is None else str(text)
    pattern = _match_pattern(q)
    if pattern is None:
        return escape(text)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        last = m.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def snippet(public: PublicDecision, q: str, length: int = SNIPPET_CHARS):
    """A short excerpt of the decision's facts, content or basis around the
    first matched word (the start of the content when nothing matches),
    highlighted."""
    data = public.data if isinstance(public.data, dict) else {}
    texts = [str(data.get(name) or "") for name in ("content", "facts", "basis")]
    pattern = _match_pattern(q)
    chosen, start = texts[0], 0
    if pattern is not None:
        for text in texts:
            m = pattern.search(text)
            if m:
                chosen, start = text, max(0, m.start() - length // 3)
                break
    excerpt = chosen[start:start + length]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + length < len(chosen) else ""
    return mark_safe(f"{prefix}{highlight(excerpt, q)}{suffix}") if excerpt else ""
