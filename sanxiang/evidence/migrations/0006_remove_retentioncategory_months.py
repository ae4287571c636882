"""The retention periods are read from the rules (0005): the months column goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("evidence", "0005_retention_from_the_rules")]
    operations = [migrations.RemoveField(model_name="retentioncategory", name="months")]
