"""PublicDecision.received_from: the lower platform a received decision
came from (docking; docs/docking.md "Where a received record shows its
source").

One plain ALTER TABLE ... ADD COLUMN with a constant default on both
databases, instead of the AddField Django would run: on SQLite that
rebuilds the table (copying every public row of a 1M-row portal) and drops
the search index's triggers on it (0002, 0013); on PostgreSQL 11+ adding a
column with a constant default is a change of the catalogue only."""

from django.db import migrations, models

ADD = "ALTER TABLE publicity_publicdecision ADD COLUMN received_from varchar(255) DEFAULT '' NOT NULL"
DROP = "ALTER TABLE publicity_publicdecision DROP COLUMN received_from"


class Migration(migrations.Migration):

    dependencies = [
        ('publicity', '0015_search_tables_without_parallel_scans'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, DROP)],
            state_operations=[
                migrations.AddField(
                    model_name='publicdecision',
                    name='received_from',
                    field=models.CharField(blank=True, db_default='', default='', max_length=255,
                                           verbose_name='received from lower platform'),
                ),
            ],
        ),
    ]
