"""The filing workflow (备案): draft → submitted → accepted | returned, and
which version is public when (公示-3 … 公示-7)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.catalog import selectors, services
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, VersionStatus
from sanxiang.core.models import AuditEntry

from .conftest import draft_with, enforcement_row, filed

ITEMS = CatalogueKind.ENFORCEMENT_ITEMS


def test_a_submitted_version_is_not_public_until_the_legal_office_accepts_it(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2026, 6, 1)) is None
    assert not selectors.public_versions(agency=cw.amr_changan, kind=ITEMS).exists()

    services.accept_version(actor=cw.u_legal_sjz, version=version)
    in_force = selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2026, 6, 1))
    assert in_force == version and in_force.items().count() == 3


def test_a_returned_version_carries_the_reason_and_stays_private(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    services.return_version(actor=cw.u_legal_sjz, version=version, reason="第2项法律依据条款有误，请核实。")
    version.refresh_from_db()
    assert version.status == VersionStatus.RETURNED
    assert version.return_reason == "第2项法律依据条款有误，请核实。"
    assert version.events.filter(action="returned", text__contains="法律依据").exists()
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2027, 1, 1)) is None

    # The agency fixes it and files again; the reason stays in the timeline.
    services.import_items(actor=cw.u_pub_changan, version=version, data=_rows_file([enforcement_row(1)]))
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 2, 1))
    services.accept_version(actor=cw.u_legal_sjz, version=version)
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2026, 3, 1)).items().count() == 1
    assert [e.action for e in version.events.all()] == ["created", "imported", "submitted", "returned", "imported", "submitted", "accepted"]


def test_returning_needs_a_reason(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.return_version(actor=cw.u_legal_sjz, version=version, reason="  ")
    assert "reason" in exc.value.message_dict


def test_a_legal_office_of_another_city_cannot_accept_it(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    with pytest.raises(PermissionDenied):
        services.accept_version(actor=cw.u_legal_ts, version=version)
    with pytest.raises(PermissionDenied):
        services.return_version(actor=cw.u_legal_ts, version=version, reason="越权")
    assert selectors.filing_queue(user=cw.u_legal_ts) == []
    assert selectors.filing_queue(user=cw.u_legal_sjz) == [version]
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


@pytest.mark.parametrize("decider", [
    "u_legal_hebei",  # the province office: a county filing belongs to the city office
    "u_pub_changan",  # the agency itself
])
def test_only_the_city_legal_office_accepts_a_county_filing(cw, decider):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    with pytest.raises(PermissionDenied):
        services.accept_version(actor=getattr(cw, decider), version=version)


def test_only_the_agencys_publicity_admin_or_head_edits_and_submits(cw):
    with pytest.raises(PermissionDenied):
        services.start_draft(actor=cw.u_changan, agency=cw.amr_changan, kind=ITEMS)  # an officer
    with pytest.raises(PermissionDenied):
        services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_zhengding, kind=ITEMS)  # another agency
    with pytest.raises(PermissionDenied):
        services.start_draft(actor=cw.u_legal_sjz, agency=cw.amr_changan, kind=ITEMS)  # the legal office
    version = services.start_draft(actor=cw.u_head_zhengding, agency=cw.amr_zhengding, kind=ITEMS)
    assert version.status == VersionStatus.DRAFT and version.number == 1


def test_the_version_in_force_switches_on_its_effective_date(cw):
    v1 = filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=ITEMS, effective=date(2026, 1, 1))
    v2 = filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=ITEMS,
               effective=date(2027, 1, 1), rows=[enforcement_row(9)])
    assert v2.number == 2
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2025, 12, 31)) is None
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2026, 12, 31)) == v1
    assert selectors.version_in_force(agency=cw.amr_changan, kind=ITEMS, on=date(2027, 1, 1)) == v2
    assert list(selectors.public_versions(agency=cw.amr_changan, kind=ITEMS)) == [v2, v1]


def test_a_new_draft_starts_from_the_latest_accepted_items(cw):
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=ITEMS)
    draft = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    assert [i.code for i in draft.items()] == ["SJ-CF-001", "SJ-CF-002", "SJ-CF-003"]


def test_one_version_in_the_works_per_list(cw):
    services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    with pytest.raises(ValidationError):
        services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    # another list of the same agency is independent
    services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.FLOWCHARTS)


def test_a_version_cannot_take_effect_before_one_already_filed(cw):
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=ITEMS, effective=date(2026, 6, 1))
    draft = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    with pytest.raises(ValidationError) as exc:
        services.submit_version(actor=cw.u_pub_changan, version=draft, effective_date=date(2026, 5, 31))
    assert "effective_date" in exc.value.message_dict


def test_an_empty_list_cannot_be_submitted_and_a_submitted_one_cannot_be_edited(cw):
    draft = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    with pytest.raises(ValidationError):
        services.submit_version(actor=cw.u_pub_changan, version=draft, effective_date=date(2026, 1, 1))
    services.import_items(actor=cw.u_pub_changan, version=draft, data=_rows_file([enforcement_row(1)]))
    services.submit_version(actor=cw.u_pub_changan, version=draft, effective_date=date(2026, 1, 1))
    with pytest.raises(ValidationError):
        services.import_items(actor=cw.u_pub_changan, version=draft, data=_rows_file([enforcement_row(2)]))


def test_every_transition_appends_to_the_audit_chain(cw):
    start = AuditEntry.objects.count()
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    services.return_version(actor=cw.u_legal_sjz, version=version, reason="补充依据")
    services.submit_version(actor=cw.u_pub_changan, version=version, effective_date=date(2026, 1, 1))
    services.accept_version(actor=cw.u_legal_sjz, version=version)
    entries = list(AuditEntry.objects.order_by("seq")[start:])
    assert [e.action for e in entries] == ["catalog.draft_start", "catalog.import", "catalog.submit", "catalog.return",
                                           "catalog.submit", "catalog.accept"]
    assert entries[3].actor == "legal_sjz" and "补充依据" in entries[3].payload
    assert all(e.object_id == str(version.pk) for e in entries)
    from sanxiang.core.audit import verify_chain

    assert verify_chain().ok


def test_a_never_submitted_draft_can_be_discarded(cw):
    draft = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    services.discard_draft(actor=cw.u_pub_changan, version=draft)
    assert not CatalogueVersion.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(action="catalog.draft_discard").exists()


def test_private_versions_are_read_within_jurisdiction(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    assert version in selectors.versions_for(user=cw.u_legal_sjz)
    assert version in selectors.versions_for(user=cw.u_changan)  # same agency
    assert version not in selectors.versions_for(user=cw.u_zhengding)
    assert version not in selectors.versions_for(user=cw.u_legal_ts)


def _rows_file(rows):
    from .conftest import headers, xlsx

    return xlsx(headers(ITEMS), rows)
