"""Publication rules stored before issue 11 item 8 read the period's unit as
a code ("7 working_days · 《…》第…条"); the due-date computation now writes
"7个工作日 · 《…》" (core.deadlines.period_text), but a decision keeps its
stored text until its due date is recomputed, which only provisional ones
ever are. This rewrites every stored publication rule of the old form into
the new one. The due dates are not touched, and the audit entries that
quoted the old text stay as they were (the chain is append-only)."""

import re

from django.db import migrations

from sanxiang.core.deadlines import PERIOD_UNITS, period_text

OLD_FORM = re.compile(r"^(\d+) (" + "|".join(sorted(PERIOD_UNITS)) + r")(?= · |$)")


def chinese_publication_rule(text: str) -> str:
    """The stored rule text with an old "N unit_code" period in the words
    period_text gives it; any other text unchanged."""
    return OLD_FORM.sub(lambda m: period_text(int(m.group(1)), m.group(2)), text or "", count=1)


def rewrite(apps, schema_editor):
    Decision = apps.get_model("publicity", "Decision")
    changed = []
    for decision in Decision.objects.filter(publication_rule__regex=r"^[0-9]+ [a-z_]+").only("id", "publication_rule").iterator():
        new = chinese_publication_rule(decision.publication_rule)[:255]
        if new != decision.publication_rule:
            decision.publication_rule = new
            changed.append(decision)
    Decision.objects.bulk_update(changed, ["publication_rule"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("publicity", "0008_field_labels_in_chinese")]
    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
