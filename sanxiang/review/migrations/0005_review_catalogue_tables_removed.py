# The review catalogue becomes a catalogue kind of the catalog app (issue 10):
# step 3 of 3, the case evaluation points at the moved version and the review
# app's own catalogue tables (moved by 0004) are dropped.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0004_move_review_catalogue_to_catalog"),
    ]

    operations = [
        migrations.RemoveField(model_name="casereview", name="catalogue_version"),
        migrations.RenameField(model_name="casereview", old_name="catalogue_version_moved", new_name="catalogue_version"),
        migrations.AlterField(
            model_name="casereview",
            name="catalogue_version",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="catalog.catalogueversion"),
        ),
        migrations.DeleteModel(name="FilingEvent"),
        migrations.DeleteModel(name="CatalogueRule"),
        migrations.DeleteModel(name="ReviewCatalogueVersion"),
    ]
