from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_securityevent"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduledJob",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False, verbose_name="job")),
                ("owner", models.CharField(blank=True, help_text="host:pid:thread of the runner holding the lock", max_length=160, verbose_name="held by")),
                ("locked_until", models.DateTimeField(blank=True, null=True, verbose_name="locked until")),
                ("last_started_at", models.DateTimeField(blank=True, null=True, verbose_name="last started")),
                ("last_finished_at", models.DateTimeField(blank=True, null=True, verbose_name="last finished")),
                ("last_ok", models.BooleanField(null=True, verbose_name="last run succeeded")),
                ("last_result", models.BigIntegerField(blank=True, null=True, verbose_name="last result")),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("consecutive_failures", models.PositiveIntegerField(default=0, verbose_name="consecutive failures")),
            ],
            options={
                "verbose_name": "scheduled job",
                "verbose_name_plural": "scheduled jobs",
                "ordering": ["name"],
            },
        ),
    ]
