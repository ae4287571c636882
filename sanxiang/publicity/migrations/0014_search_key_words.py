"""PostgreSQL search: the keys hold each row's ASCII words too (issue 12,
docs/search.md "Keys", docs/decisions/0013-postgresql-search-plan.md).

A query with a phrase holding an ASCII word takes its candidates from the
keys table (migration 0012). Its other terms that are one ASCII word alone
("2025" in "2025 12号") now narrow those candidates as well: every row's
keys hold its ASCII words (without positions), as
sanxiang/publicity/search.py `key_words` writes them.

The words are exactly the full tsvector's lexemes made of ASCII letters and
digits, so they are copied from there in SQL (no text is tokenised again):
a new table is filled in one statement, indexed once at the end (a GIN index
built in one pass, as `rebuild_index` does) and takes the old one's place.
Measured at 1,000,000 rows: see docs/search.md. Running it again changes
nothing (a tsvector's `||` merges equal lexemes). SQLite: nothing changes.
"""

from django.db import migrations

TABLE = "publicity_search_keys"
NEW = "publicity_search_keys_words"
WORD = "^[0-9a-z]+$"

PG_FORWARD = [
    f"DROP TABLE IF EXISTS {NEW}",
    f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)",
    f"""INSERT INTO {NEW} (public_id, day, keys)
    SELECT k.public_id, k.day,
           k.keys || array_to_tsvector(ARRAY(SELECT l FROM unnest(tsvector_to_array(s.tsv)) l WHERE l ~ '{WORD}'))
    FROM {TABLE} k JOIN publicity_search_index s ON s.public_id = k.public_id""",
    # A keys row without its index row (none is written so) keeps its keys.
    f"""INSERT INTO {NEW} (public_id, day, keys)
    SELECT k.public_id, k.day, k.keys FROM {TABLE} k
    WHERE NOT EXISTS (SELECT 1 FROM publicity_search_index s WHERE s.public_id = k.public_id)""",
    "SET LOCAL maintenance_work_mem = '256MB'",
    f"CREATE UNIQUE INDEX {NEW}_pkey ON {NEW} (public_id)",
    f"ALTER TABLE {NEW} ADD PRIMARY KEY USING INDEX {NEW}_pkey",
    f"CREATE INDEX {NEW}_keys ON {NEW} USING gin (keys) WITH (fastupdate = off)",
    f"DROP TABLE {TABLE}",
    f"ALTER TABLE {NEW} RENAME TO {TABLE}",
    f"ALTER INDEX {NEW}_pkey RENAME TO {TABLE}_pkey",
    f"ALTER INDEX {NEW}_keys RENAME TO {TABLE}_keys",
    f"ANALYZE {TABLE}",
]
# Back: the words taken out again (what 0012 wrote: pairs and tags).
PG_BACKWARD = [
    f"""UPDATE {TABLE} SET keys = ts_delete(keys, ARRAY(SELECT l FROM unnest(tsvector_to_array(keys)) l
    WHERE l ~ '{WORD}'))""",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [("publicity", "0013_search_rank_haystacks")]

    operations = [migrations.RunPython(forward, backward)]
