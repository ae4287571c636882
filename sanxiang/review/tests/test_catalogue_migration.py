"""Migrations review 0003-0005 move the review catalogue into the catalog
app (issue 10): every version, rule, filing event and case evaluation's
reference survives, and the audit entries written before the move (append-
only, never rewritten, naming "review.reviewcatalogueversion" and the old
id) are still found for the moved version and still verify."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sanxiang.cases import services as case_services
from sanxiang.catalog import selectors as catalog_selectors
from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, FilingEvent, ReviewRule
from sanxiang.core import services as core_services
from sanxiang.core.audit import append_audit, verify_chain
from sanxiang.core.models import AuditEntry, Role
from sanxiang.review.models import CaseReview

BEFORE = [("review", "0002_submission_withdrawn")]
T0 = datetime(2025, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.mark.django_db(transaction=True)
def test_review_catalogue_versions_events_and_audit_references_survive_the_move_to_the_catalog_app(world):
    head = core_services.create_user(actor="t", username="mig_head", password=world.password, role=Role.AGENCY_HEAD,
                                     agency=world.amr_changan)
    pub = core_services.create_user(actor="t", username="mig_pub", password=world.password, role=Role.PUBLICITY_ADMIN,
                                    agency=world.amr_changan)
    # A public list first, so the moved versions cannot keep their old ids.
    catalog_services.start_draft(actor=pub, agency=world.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    catalog_services.start_draft(actor=pub, agency=world.amr_changan, kind=CatalogueKind.INSPECTION_ITEMS)
    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="迁移前的案件", act_kind="penalty",
                                   procedure="general", party_name="石家庄某商贸有限公司", party_type="legal_person",
                                   opened_on=date(2026, 3, 1), officers=[world.changan_officer, world.changan_officer2])

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Version, Rule, Event = (old.get_model("review", name) for name in ("ReviewCatalogueVersion", "CatalogueRule", "FilingEvent"))
    v1 = Version.objects.create(agency_id=world.amr_changan.pk, number=1, status="accepted", effective_date=date(2026, 1, 1),
                                all_non_summary=True, note="首版", created_by_id=head.pk, submitted_at=T0,
                                submitted_by_id=head.pk, decided_at=T0, decided_by_id=world.u_legal_sjz.pk)
    v2 = Version.objects.create(agency_id=world.amr_changan.pk, number=2, status="returned", effective_date=date(2026, 7, 1),
                                created_by_id=head.pk, return_reason="缺少依据")
    Version.objects.filter(pk=v1.pk).update(created_at=T0)
    for version in (v1, v2):
        Rule.objects.create(version=version, position=1, title="较大数额罚款", act_kinds=["penalty"],
                            fine_organisation_fen=10_000_000, citation="《河北省重大行政执法决定法制审核办法》")
        Rule.objects.create(version=version, position=2, title="听证后作出的决定", hearing_held=True)
    events = [(v1, "created", head), (v1, "submitted", head), (v1, "accepted", world.u_legal_sjz), (v2, "created", head),
              (v2, "submitted", head), (v2, "returned", world.u_legal_sjz)]
    for i, (version, action, actor) in enumerate(events):
        event = Event.objects.create(version=version, action=action, actor_id=actor.pk, text="缺少依据" if action == "returned" else "")
        Event.objects.filter(pk=event.pk).update(at=T0.replace(hour=3 + i))
        append_audit(actor=actor, action=f"review.catalogue_{action}", obj=version, payload={"number": version.number})
    old.get_model("review", "CaseReview").objects.update_or_create(case_id=case.pk, defaults={
        "required": True, "catalogue_version": v1, "matches": [{"rule": "x", "citation": "y"}]})
    old_ids = {v1.number: str(v1.pk), v2.number: str(v2.pk)}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = {v.number: v for v in CatalogueVersion.objects.filter(kind=CatalogueKind.REVIEW_CATALOGUE)}
    assert sorted(moved) == [1, 2]
    new1, new2 = moved[1], moved[2]
    assert (new1.status, new1.effective_date, new1.all_non_summary, new1.note, new1.created_at, new1.decided_by_id) == (
        "accepted", date(2026, 1, 1), True, "首版", T0, world.u_legal_sjz.pk)
    assert (new2.status, new2.return_reason) == ("returned", "缺少依据")
    assert {str(new1.pk), str(new2.pk)} != set(old_ids.values())  # ids changed: the references below carry the old ones
    for version in (new1, new2):
        assert [(r.position, r.title) for r in ReviewRule.objects.filter(version=version).order_by("position")] == [
            (1, "较大数额罚款"), (2, "听证后作出的决定")]
        assert version.audit_references()[1] == ("review.reviewcatalogueversion", old_ids[version.number])
    assert [(e.action, e.at) for e in FilingEvent.objects.filter(version=new2)] == [
        ("created", T0.replace(hour=6)), ("submitted", T0.replace(hour=7)), ("returned", T0.replace(hour=8))]
    assert CaseReview.objects.get(case=case).catalogue_version == new1
    assert catalog_selectors.version_in_force(agency=world.amr_changan, kind=CatalogueKind.REVIEW_CATALOGUE,
                                              on=date(2026, 6, 1)) == new1

    # The entries written before the move are found for the moved version ...
    found = catalog_selectors.audit_entries_for(user=world.u_admin, version=new1)
    assert [e.action for e in found] == ["review.catalogue_created", "review.catalogue_submitted", "review.catalogue_accepted"]
    # ... and so are those written after it, under the version's new
    # reference (the returned version is resubmitted through the one workflow).
    catalog_services.submit_version(actor=head, version=new2, effective_date=date(2026, 7, 1))
    assert [e.action for e in catalog_selectors.audit_entries_for(user=world.u_admin, version=new2)][-1] == "catalog.submit"
    assert AuditEntry.objects.filter(object_type="review.reviewcatalogueversion").count() == 6
    # The chain was not rewritten: it verifies, and so does the command.
    assert verify_chain().ok
    call_command("audit", "verify")
