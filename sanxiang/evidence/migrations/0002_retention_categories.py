"""Retention categories with sensible defaults, as data (editable later;
the cases app's AV list may name its own per agency — the longest wins).

Periods follow common practice in provincial implementing rules for
whole-process recording (记录-12): AV material used as evidence is archived
with the case file and kept with it; the case file of a general penalty
case 30 years; confirmation and service records 10 years; major cases
permanently."""

from django.db import migrations

CATEGORIES = [
    # code, name, months (None = permanent), applies to every item, source
    ("general", "执法案卷证据材料", 360, True, "随案卷归档，与案卷同期保存（30年）"),
    ("scene", "现场执法音像记录", 360, False, "音像记录事项清单：现场执法"),
    ("interview", "询问、听证音像记录", 360, False, "音像记录事项清单：询问、听证"),
    ("confirmation", "告知、送达确认记录", 120, False, "音像记录事项清单：告知、送达、签收确认"),
    ("major", "重大案件音像记录", None, False, "重大执法决定：永久保存"),
]


def add(apps, schema_editor):
    RetentionCategory = apps.get_model("evidence", "RetentionCategory")
    for code, name, months, default, source in CATEGORIES:
        RetentionCategory.objects.update_or_create(
            code=code, defaults={"name": name, "months": months, "is_default": default, "source": source})


def remove(apps, schema_editor):
    apps.get_model("evidence", "RetentionCategory").objects.filter(code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
