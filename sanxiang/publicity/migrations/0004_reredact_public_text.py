"""Public text stored before issue 9 goes through today's redactor once.

Withdrawal reasons, correction reasons and public copies written by the
older redactor (or, for withdrawal notices, by none) may hold what it
missed: phones with dots, IDN e-mails, witnesses after traditional role
words ... Every text field of the public models (redaction.PUBLIC_TEXT_FIELDS)
is rebuilt by redaction.public_copy from the private version it was made
from, each note (correction or withdrawal reason) re-redacted with its
record known (redacting text twice changes nothing), and the search index
rows of what changed are rewritten (from these historical rows, so later
schema changes do not break this migration)."""

from django.db import migrations


def reredact(apps, schema_editor):
    from sanxiang.publicity import search
    from sanxiang.publicity.redaction import public_copy

    PublicDecision = apps.get_model("publicity", "PublicDecision")
    PublicVersion = apps.get_model("publicity", "PublicVersion")
    WithdrawalNotice = apps.get_model("publicity", "WithdrawalNotice")
    DecisionVersion = apps.get_model("publicity", "DecisionVersion")
    PublicitySettings = apps.get_model("publicity", "PublicitySettings")
    rules = dict(PublicitySettings.objects.values_list("agency_id", "name_rule"))

    def version_data(decision, number):
        data = DecisionVersion.objects.filter(decision=decision, number=number).values_list("data", flat=True).first()
        return data if data is not None else decision.data

    def copy_of(decision, data, notes=None):
        return public_copy(data, party_is_natural_person=decision.party_type == "natural_person", kind=decision.kind,
                           name_rule=rules.get(decision.agency_id), notes=notes)

    reindex = []
    for public in PublicDecision.objects.select_related("decision").iterator():
        copy = copy_of(public.decision, version_data(public.decision, public.version))
        new = {"doc_number": str(copy.doc_number), "party_name": str(copy.party_name), "title": str(copy.title),
               "data": dict(copy.data)}
        if any(getattr(public, k) != v for k, v in new.items()):
            for k, v in new.items():
                setattr(public, k, v)
            public.save(update_fields=list(new))
            if public.visible:
                reindex.append(public)
    for version in PublicVersion.objects.select_related("public__decision").iterator():
        decision = version.public.decision
        copy = copy_of(decision, version_data(decision, version.number), notes={"reason": version.reason})
        new = {"data": dict(copy.data), "reason": str(copy.notes["reason"])}
        if any(getattr(version, k) != v for k, v in new.items()):
            for k, v in new.items():
                setattr(version, k, v)
            version.save(update_fields=list(new))
    for notice in WithdrawalNotice.objects.select_related("decision").iterator():
        copy = copy_of(notice.decision, notice.decision.data, notes={"reason": notice.reason})
        if str(copy.notes["reason"]) != notice.reason:
            notice.reason = str(copy.notes["reason"])
            notice.save(update_fields=["reason"])
    if reindex:
        with schema_editor.connection.cursor() as cursor:
            index_as_of_0004(cursor, schema_editor.connection.vendor, reindex, search)


def index_as_of_0004(cursor, vendor, publics, search):
    """Rewrite the index rows of ``publics`` in the tables and columns this
    migration's schema has (migration 0002's), never through today's
    ``search._write_rows``: later migrations add columns and tables
    (0011 day, 0012 keys, 0013 rank) and fill them from what is indexed
    here. Tokens come from today's tokeniser, as 0011 expects."""
    if vendor == "postgresql":
        cursor.executemany(
            f"INSERT INTO {search.PG_TABLE} (public_id, tsv) VALUES (%s, %s::tsvector)"
            " ON CONFLICT (public_id) DO UPDATE SET tsv = EXCLUDED.tsv",
            [(p.pk, search._tsvector_literal(search.document_tokens(p))) for p in publics])
        return
    for p in publics:
        cursor.execute(f"DELETE FROM {search.FTS_TABLE} WHERE rowid = %s", [p.pk])
    cursor.executemany(f"INSERT INTO {search.FTS_TABLE} (rowid, tokens) VALUES (%s, %s)",
                       [(p.pk, " ".join(search.document_tokens(p))) for p in publics])
    cursor.executemany(f"INSERT OR REPLACE INTO {search.DOC_TABLE} (id, day) VALUES (%s, %s)",
                       [(p.pk, p.decision_date.toordinal()) for p in publics])


class Migration(migrations.Migration):

    dependencies = [
        ("publicity", "0003_early_end_powers"),
    ]

    operations = [
        migrations.RunPython(reredact, migrations.RunPython.noop),
    ]
