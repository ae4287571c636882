# The review catalogue becomes a catalogue kind of the catalog app (issue 10):
# step 1 of 3, a column for the case evaluation's catalogue version in its
# new home (filled by 0004, renamed by 0005).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0002_submission_withdrawn"),
        ("catalog", "0002_review_catalogue_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="casereview",
            name="catalogue_version_moved",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="catalog.catalogueversion"),
        ),
    ]
