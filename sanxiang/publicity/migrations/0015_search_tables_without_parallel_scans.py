"""PostgreSQL search: no parallel scans of the index and keys tables
(issue 12, docs/search.md "Parallel workers").

A walk batch (a few thousand rows of the day index, each joined to its keys
row) was planned as a Gather Merge over two workers: on the 2-core machine
under load the workers' start alone took ~20 ms of a 40-60 ms batch, for a
statement that reads a few thousand rows in order and stops. Measured at
1,000,000 decisions (load average 8): p95 of the bench's mix 33.5 ms with
parallel workers off against ~50 ms with them. The storage parameter
`parallel_workers = 0` keeps every scan of these two tables in the one
backend (no table rewrite; `rebuild_index` sets it on the tables it swaps
in). SQLite: nothing changes.
"""

from django.db import migrations

TABLES = ("publicity_search_index", "publicity_search_keys")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (parallel_workers = 0)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (parallel_workers)")


class Migration(migrations.Migration):

    dependencies = [("publicity", "0014_search_key_words")]

    operations = [migrations.RunPython(forward, backward)]
