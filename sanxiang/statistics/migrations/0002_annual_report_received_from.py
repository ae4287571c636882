"""AnnualReport.received_from: the lower platform a report published there
came from (docking, issue 13 item 2; docs/docking.md "Annual statistics");
updated_by may be empty for such a report (no account of this platform wrote
it). A small table (one row per agency and year): Django's own operations."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('statistics', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='annualreport',
            name='received_from',
            field=models.CharField(blank=True, default='', editable=False, max_length=255, verbose_name='received from lower platform'),
        ),
        migrations.AlterField(
            model_name='annualreport',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='updated by'),
        ),
    ]
