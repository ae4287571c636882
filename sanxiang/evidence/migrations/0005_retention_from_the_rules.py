"""Retention periods leave the database for the dated legal parameters
(sanxiang/rules/params/evidence.yaml): each category names its rule, and
the months column (360, 120, empty = permanent, written by 0002) goes in
0006 (its own transaction: PostgreSQL refuses to alter a table with
pending trigger events from the updates here)."""

from django.db import migrations, models

RULES = {
    "general": ("evidence.retention_general", "随案卷归档，与案卷同期保存"),
    "scene": ("evidence.retention_scene", None),
    "interview": ("evidence.retention_interview", None),
    "confirmation": ("evidence.retention_confirmation", None),
    "major": ("evidence.retention_major", "重大执法决定"),
}
OLD_MONTHS = {"evidence.retention_general": 360, "evidence.retention_scene": 360,
              "evidence.retention_interview": 360, "evidence.retention_confirmation": 120,
              "evidence.retention_major": None}


def name_rules(apps, schema_editor):
    RetentionCategory = apps.get_model("evidence", "RetentionCategory")
    for category in RetentionCategory.objects.all():
        rule, source = RULES.get(category.code, ("evidence.retention_general", None))
        category.rule = rule
        if source is not None:
            category.source = source
        category.save(update_fields=["rule", "source"])


def months_back(apps, schema_editor):
    RetentionCategory = apps.get_model("evidence", "RetentionCategory")
    for category in RetentionCategory.objects.all():
        category.months = OLD_MONTHS.get(category.rule, 360)
        category.save(update_fields=["months"])


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_share_tokens")]
    operations = [
        migrations.AddField(
            model_name="retentioncategory", name="rule",
            field=models.CharField(default="evidence.retention_general", max_length=100, verbose_name="retention rule",
                                   help_text="The legal parameter that gives the period, e.g. evidence.retention_general."),
            preserve_default=False,
        ),
        migrations.RunPython(name_rules, months_back),
    ]
