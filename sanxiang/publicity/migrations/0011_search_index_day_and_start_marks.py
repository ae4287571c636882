"""PostgreSQL search at a million records (issue 12, docs/search.md,
docs/decisions/0013-postgresql-search-plan.md).

The index table gets the decision date (`day`) and an index on
(day, public_id): newest-first walks and date ranges read the narrow index
table only. The GIN index stops using a pending list (fastupdate off), and
the tsvector column keeps more statistics (the planner's estimate of a
query's matches chooses how a search runs). Existing rows get the start marks
of their CJK tokens (START_MARK + first character, at the token's position),
computed from the stored tsvector itself. SQLite: nothing changes.

The SQL is frozen here; sanxiang/publicity/search.py (PG_INDEXES,
PG_STATISTICS) repeats the index definitions for a rebuild.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE publicity_search_index ADD COLUMN day date",
    "UPDATE publicity_search_index s SET day = p.decision_date FROM publicity_publicdecision p WHERE p.id = s.public_id",
    "DELETE FROM publicity_search_index WHERE day IS NULL",
    "ALTER TABLE publicity_search_index ALTER COLUMN day SET NOT NULL",
    # Rebuild each tsvector from its lexemes plus the start marks (|| would
    # shift the positions of its right operand).
    r"""UPDATE publicity_search_index s SET tsv = coalesce((
        SELECT string_agg(quote_literal(x.lexeme) || ':' || array_to_string(x.pos, ','), ' ')::tsvector
        FROM (
            SELECT u.lexeme, u.positions AS pos FROM unnest(s.tsv) u
            UNION ALL
            SELECT m.lexeme, (array_agg(m.p ORDER BY m.p))[1:256]
            FROM (SELECT chr(57346) || left(u.lexeme, 1) AS lexeme, p
                  FROM unnest(s.tsv) u, unnest(u.positions) p
                  WHERE ascii(left(u.lexeme, 1)) > 127 AND ascii(left(u.lexeme, 1)) NOT IN (57344, 57345)) m
            GROUP BY m.lexeme
        ) x), ''::tsvector)""",
    "CREATE INDEX publicity_search_index_day ON publicity_search_index (day, public_id)",
    "ALTER INDEX publicity_search_index_tsv SET (fastupdate = off)",
    "ALTER TABLE publicity_search_index ALTER COLUMN tsv SET STATISTICS 1000",
]
PG_BACKWARD = [
    "ALTER TABLE publicity_search_index ALTER COLUMN tsv SET STATISTICS -1",
    "ALTER INDEX publicity_search_index_tsv RESET (fastupdate)",
    "DROP INDEX IF EXISTS publicity_search_index_day",
    "ALTER TABLE publicity_search_index DROP COLUMN day",
    r"""UPDATE publicity_search_index s SET tsv = coalesce((
        SELECT string_agg(quote_literal(u.lexeme) || ':' || array_to_string(u.positions, ','), ' ')::tsvector
        FROM unnest(s.tsv) u WHERE ascii(left(u.lexeme, 1)) <> 57346), ''::tsvector)""",
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

    dependencies = [("publicity", "0010_help_texts_in_chinese")]

    operations = [migrations.RunPython(forward, backward)]
