"""The full-text index of published decisions (sanxiang/publicity/search.py).

SQLite: an FTS5 table of token strings (rowid = PublicDecision.id), tokenizer
`ascii` (every non-ASCII character is a token character, so CJK bigrams and
the private-use barrier/tag tokens pass through intact), a one-character
prefix index for one-character queries, a narrow (id, day) table for order
and date ranges, and a trigger that removes a row's index entries when the
public copy is deleted (also during Django's test flush).

PostgreSQL: a side table holding a stored tsvector per public copy with a GIN
index; deleting (or truncating) public copies removes their rows (triggers).

The SQL is frozen here; the index is empty after migrating and is filled by
index_public()/rebuild_index().
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS publicity_search_fts USING fts5(tokens, tokenize='ascii', prefix='1')",
    # (id, decision date as a day number) of every indexed row: ordering and
    # date ranges without reading the wide public-copy rows.
    "CREATE TABLE IF NOT EXISTS publicity_search_doc (id INTEGER PRIMARY KEY, day INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS publicity_search_doc_day ON publicity_search_doc (day, id)",
    "CREATE TRIGGER IF NOT EXISTS publicity_search_cascade AFTER DELETE ON publicity_publicdecision BEGIN "
    "DELETE FROM publicity_search_fts WHERE rowid = old.id; DELETE FROM publicity_search_doc WHERE id = old.id; END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS publicity_search_cascade",
    "DROP TABLE IF EXISTS publicity_search_doc",
    "DROP TABLE IF EXISTS publicity_search_fts",
]

# Not a foreign key, on purpose: Django's flush (between transactional tests)
# truncates the model tables without CASCADE, and PostgreSQL refuses to
# truncate a table that an unlisted table references (measured). Triggers do
# what "REFERENCES ... ON DELETE CASCADE" would, and follow TRUNCATE too.
PG_FORWARD = [
    "CREATE TABLE IF NOT EXISTS publicity_search_index (public_id bigint PRIMARY KEY, tsv tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS publicity_search_index_tsv ON publicity_search_index USING gin (tsv)",
    """CREATE OR REPLACE FUNCTION publicity_search_index_cascade() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE publicity_search_index;
        ELSE
            DELETE FROM publicity_search_index WHERE public_id = OLD.id;
        END IF;
        RETURN NULL;
    END
    $body$""",
    "CREATE TRIGGER publicity_search_index_delete AFTER DELETE ON publicity_publicdecision "
    "FOR EACH ROW EXECUTE FUNCTION publicity_search_index_cascade()",
    "CREATE TRIGGER publicity_search_index_truncate AFTER TRUNCATE ON publicity_publicdecision "
    "FOR EACH STATEMENT EXECUTE FUNCTION publicity_search_index_cascade()",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS publicity_search_index_truncate ON publicity_publicdecision",
    "DROP TRIGGER IF EXISTS publicity_search_index_delete ON publicity_publicdecision",
    "DROP FUNCTION IF EXISTS publicity_search_index_cascade()",
    "DROP TABLE IF EXISTS publicity_search_index",
]


def forward(apps, schema_editor):
    statements = PG_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = PG_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [("publicity", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
