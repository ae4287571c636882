"""Relevance ranking without normalising at query time (issue 12, item 3b;
docs/search.md "Relevance").

Both databases: a table holding, per indexed row, its indexed texts in the
form ranking searches them (sanxiang/publicity/search.py `rank_haystack`),
written by indexing with the index row. Deleting (PostgreSQL: or
truncating) public copies removes their rows, by triggers as for the index
tables (migration 0002 says why not a foreign key). The rows of what is
indexed now are filled here with the code indexing uses.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE TABLE publicity_search_rank (id INTEGER PRIMARY KEY, haystack TEXT NOT NULL)",
    "CREATE TRIGGER publicity_search_rank_cascade AFTER DELETE ON publicity_publicdecision BEGIN "
    "DELETE FROM publicity_search_rank WHERE id = old.id; END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS publicity_search_rank_cascade",
    "DROP TABLE IF EXISTS publicity_search_rank",
]
PG_FORWARD = [
    "CREATE TABLE publicity_search_rank (id bigint PRIMARY KEY, haystack text NOT NULL)",
    """CREATE OR REPLACE FUNCTION publicity_search_rank_cascade() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE publicity_search_rank;
        ELSE
            DELETE FROM publicity_search_rank WHERE id = OLD.id;
        END IF;
        RETURN NULL;
    END
    $body$""",
    "CREATE TRIGGER publicity_search_rank_delete AFTER DELETE ON publicity_publicdecision "
    "FOR EACH ROW EXECUTE FUNCTION publicity_search_rank_cascade()",
    "CREATE TRIGGER publicity_search_rank_truncate AFTER TRUNCATE ON publicity_publicdecision "
    "FOR EACH STATEMENT EXECUTE FUNCTION publicity_search_rank_cascade()",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS publicity_search_rank_truncate ON publicity_publicdecision",
    "DROP TRIGGER IF EXISTS publicity_search_rank_delete ON publicity_publicdecision",
    "DROP FUNCTION IF EXISTS publicity_search_rank_cascade()",
    "DROP TABLE IF EXISTS publicity_search_rank",
]
FIELDS = ("id", "doc_number", "party_name", "title", "data")


def forward(apps, schema_editor):
    from sanxiang.publicity.search import indexed_texts, rank_haystack

    pg = schema_editor.connection.vendor == "postgresql"
    for sql in PG_FORWARD if pg else SQLITE_FORWARD:
        schema_editor.execute(sql)
    PublicDecision = apps.get_model("publicity", "PublicDecision")
    indexed = ("SELECT public_id FROM publicity_search_index WHERE public_id > %s ORDER BY public_id LIMIT 2000" if pg
               else "SELECT id FROM publicity_search_doc WHERE id > %s ORDER BY id LIMIT 2000")
    with schema_editor.connection.cursor() as cursor:
        last = 0
        while True:
            cursor.execute(indexed, [last])
            ids = [r[0] for r in cursor.fetchall()]
            if not ids:
                break
            last = ids[-1]
            publics = PublicDecision.objects.filter(id__in=ids).only(*FIELDS)
            cursor.executemany("INSERT INTO publicity_search_rank (id, haystack) VALUES (%s, %s)",
                               [(p.id, rank_haystack(indexed_texts(p))) for p in publics])


def backward(apps, schema_editor):
    for sql in PG_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [("publicity", "0012_search_keys")]

    operations = [migrations.RunPython(forward, backward)]
