"""The review catalogue becomes a catalogue kind of the catalog app (issue
10), step 2 of 3: every review catalogue version moves to
catalog.CatalogueVersion (kind "review_catalogue") with its rules
(catalog.ReviewRule), its filing events (their times kept) and its dates and
actors; each case evaluation's reference follows its version.

The audit chain is append-only and never rewritten: the entries about a
version filed before this migration name it "review.reviewcatalogueversion"
with its old id. The new row keeps that reference (former_object_type,
former_object_id), through which ``CatalogueVersion.audit_references`` and
``catalog.selectors.audit_entries_for`` still find them; ``audit verify`` is
unaffected because no entry changes.

Forward only: going back leaves the moved rows where they are.
"""

from django.db import migrations

FORMER_TYPE = "review.reviewcatalogueversion"
RULE_FIELDS = ("title", "act_kinds", "domain", "penalty_categories", "fine_citizen_fen", "fine_organisation_fen",
               "confiscation_citizen_fen", "confiscation_organisation_fen", "hearing_held", "major_public_interest",
               "complex", "social_impact", "outside_benchmark", "citation")
VERSION_FIELDS = ("agency_id", "number", "status", "effective_date", "all_non_summary", "note", "created_by_id",
                  "submitted_at", "submitted_by_id", "decided_at", "decided_by_id", "return_reason")


def move(apps, schema_editor):
    OldVersion = apps.get_model("review", "ReviewCatalogueVersion")
    OldRule = apps.get_model("review", "CatalogueRule")
    OldEvent = apps.get_model("review", "FilingEvent")
    CaseReview = apps.get_model("review", "CaseReview")
    Version = apps.get_model("catalog", "CatalogueVersion")
    Rule = apps.get_model("catalog", "ReviewRule")
    Event = apps.get_model("catalog", "FilingEvent")
    moved = {}
    for old in OldVersion.objects.order_by("pk"):
        new = Version.objects.create(kind="review_catalogue", former_object_type=FORMER_TYPE, former_object_id=str(old.pk),
                                     **{f: getattr(old, f) for f in VERSION_FIELDS})
        Version.objects.filter(pk=new.pk).update(created_at=old.created_at)  # auto_now_add set it to now
        Rule.objects.bulk_create([Rule(version_id=new.pk, position=r.position, **{f: getattr(r, f) for f in RULE_FIELDS})
                                  for r in OldRule.objects.filter(version_id=old.pk).order_by("position", "pk")])
        for e in OldEvent.objects.filter(version_id=old.pk).order_by("at", "pk"):
            event = Event.objects.create(version_id=new.pk, action=e.action, actor_id=e.actor_id, text=e.text)
            Event.objects.filter(pk=event.pk).update(at=e.at)
        moved[old.pk] = new.pk
    for row in CaseReview.objects.filter(catalogue_version__isnull=False).only("pk", "catalogue_version_id"):
        CaseReview.objects.filter(pk=row.pk).update(catalogue_version_moved_id=moved[row.catalogue_version_id])


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0003_casereview_catalogue_version_moved"),
        ("catalog", "0002_review_catalogue_kind"),
    ]

    operations = [
        migrations.RunPython(move, migrations.RunPython.noop),
    ]
