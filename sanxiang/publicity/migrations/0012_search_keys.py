"""PostgreSQL search: the keys table (issue 12, docs/search.md,
docs/decisions/0013-postgresql-search-plan.md).

For each row of the search index, a small tsvector kept in the row (no
TOAST): the pairs of adjacent tokens of which one is an ASCII word, with the
position of their left token, and the filter tags. A query holding such a
phrase (a document number: 〔2026〕12号) takes its candidates from the GIN
index on the keys and tests only their full tsvectors. The rows are filled
from the indexed public copies with the tokeniser of
sanxiang/publicity/search.py (what indexing writes; a test compares them).
SQLite: nothing changes.
"""

from django.db import migrations

PG_CREATE = [
    "CREATE TABLE publicity_search_keys (public_id integer PRIMARY KEY, day date NOT NULL, keys tsvector NOT NULL)",
]
PG_INDEXES = [
    "CREATE INDEX publicity_search_keys_keys ON publicity_search_keys USING gin (keys) WITH (fastupdate = off)",
    "ANALYZE publicity_search_keys",
]
FIELDS = ("id", "agency_id", "region_path", "kind", "doc_number", "party_name", "title", "data", "main_category",
          "decision_date")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from sanxiang.publicity.search import _keys_literal, document_tokens

    PublicDecision = apps.get_model("publicity", "PublicDecision")
    for sql in PG_CREATE:
        schema_editor.execute(sql)
    with schema_editor.connection.cursor() as cursor:
        last = 0
        while True:
            cursor.execute("SELECT public_id FROM publicity_search_index WHERE public_id > %s ORDER BY public_id"
                           " LIMIT 5000", [last])
            ids = [r[0] for r in cursor.fetchall()]
            if not ids:
                break
            last = ids[-1]
            # Read before the COPY starts: the connection serves one statement.
            publics = list(PublicDecision.objects.filter(id__in=ids).only(*FIELDS).order_by("id"))
            with cursor.cursor.copy("COPY publicity_search_keys (public_id, day, keys) FROM STDIN") as copy:
                for p in publics:
                    copy.write_row((p.id, p.decision_date, _keys_literal(document_tokens(p))))
    for sql in PG_INDEXES:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS publicity_search_keys")


class Migration(migrations.Migration):

    dependencies = [("publicity", "0011_search_index_day_and_start_marks")]

    operations = [migrations.RunPython(forward, backward)]
