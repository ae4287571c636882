"""Make the audit tables append-only in the database itself.

The database refuses UPDATE and DELETE on core_auditentry and
core_auditcheckpoint (and, on PostgreSQL, TRUNCATE of a non-empty table),
whatever code or console issues them. Emptying an already empty table is a
no-op and stays allowed, so Django's test flush works on a clean log.

The SQL is frozen here on purpose (a migration must not change meaning when
application code changes later). Note for future migrations: on SQLite,
Django alters a table by rebuilding it, which silently drops its triggers;
any later migration that alters these two tables must recreate them
(``sanxiang audit verify`` warns when they are missing).
"""

from django.db import migrations

TABLES = ("core_auditentry", "core_auditcheckpoint")
MESSAGE = "{table} is append-only: {op} refused / 审计日志只允许追加，禁止{op_zh}"

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE.format(table=table, op=op, op_zh=op_zh)}'); END"
    for table in TABLES
    for op, op_zh in (("UPDATE", "修改"), ("DELETE", "删除"))
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in TABLES for op in ("update", "delete")
]

PG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION sanxiang_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    has_rows boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- Emptying an empty table destroys nothing (and is what Django's
        -- test flush does to a clean log); refuse only if rows exist.
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO has_rows;
        IF NOT has_rows THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused / 审计日志只允许追加，禁止修改或删除', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$body$
"""
PG_INSTALL = [PG_FUNCTION] + [
    stmt
    for table in TABLES
    for stmt in (
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION sanxiang_audit_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION sanxiang_audit_append_only()",
    )
]
PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}" for table in TABLES for name in ("append_only", "no_truncate")
] + ["DROP FUNCTION IF EXISTS sanxiang_audit_append_only()"]

STATEMENTS = {
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
    "postgresql": (PG_INSTALL, PG_REMOVE),
}


def _run(schema_editor, which: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"audit append-only triggers are not written for the {vendor!r} database")
    with schema_editor.connection.cursor() as cursor:
        for sql in STATEMENTS[vendor][which]:
            cursor.execute(sql)


def install(apps, schema_editor):
    _run(schema_editor, 0)


def remove(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):

    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
