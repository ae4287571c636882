"""PostgreSQL search: every index row's tsvector holds the lexeme of its
decision date (`search.day_tag`), so that relevance reads its newest
matches a few days at a time inside the GIN index (issue 12, decision
0019, docs/search.md). SQLite: nothing changes.

The GIN index is dropped, the lexeme added to every row in one UPDATE and
the index built again in one pass (updating it row by row would take far
longer). Measured at 1,000,000 decisions: docs/performance.md. The update
leaves the table's old row versions for autovacuum to clear.
"""

from django.db import migrations

TABLE = "publicity_search_index"
# The same lexeme as search.day_tag: the tag mark, "d", then the hex of the
# UTF-8 of YYYYMMDD.
DAY_LEXEME = "E'\\ue001d' || encode(convert_to(to_char(day, 'YYYYMMDD'), 'UTF8'), 'hex')"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_tsv")
    schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    schema_editor.execute(f"UPDATE {TABLE} SET tsv = tsv || array_to_tsvector(ARRAY[{DAY_LEXEME}])")
    schema_editor.execute(f"CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv) WITH (fastupdate = off)")
    schema_editor.execute(f"ANALYZE {TABLE}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_tsv")
    schema_editor.execute(f"UPDATE {TABLE} SET tsv = ts_delete(tsv, {DAY_LEXEME})")
    schema_editor.execute(f"CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv) WITH (fastupdate = off)")


class Migration(migrations.Migration):

    dependencies = [("publicity", "0017_decision_agency_number")]

    operations = [migrations.RunPython(forward, backward)]
