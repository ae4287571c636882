"""The review catalogue (法制审核目录清单, 审核-6/7) is one more catalogue kind,
filed through the one workflow (issue 10): the same statuses, events,
effective-date rule (checked again at acceptance) and coded refusals as the
public lists, with its rules added and removed one by one on the draft."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.catalog import selectors, services
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, ReviewRule, VersionStatus
from sanxiang.core import services as core_services
from sanxiang.core.audit import verify_chain
from sanxiang.core.models import AuditEntry, Role

REVIEW = CatalogueKind.REVIEW_CATALOGUE


def _code(exc: ValidationError, field: str) -> str:
    return exc.error_dict[field][0].code


@pytest.fixture
def rc(world):
    """world + 长安区's legal reviewer and publicity admin."""
    def user(username, role):
        return core_services.create_user(actor="test-fixture", username=username, password=world.password, role=role,
                                         agency=world.amr_changan)

    world.u_reviewer = user("rc_reviewer", Role.LEGAL_REVIEWER)
    world.u_pub = user("rc_pub", Role.PUBLICITY_ADMIN)
    return world


def _draft(rc, *, rules=("较大数额罚款",)) -> CatalogueVersion:
    version = services.start_draft(actor=rc.u_reviewer, agency=rc.amr_changan, kind=REVIEW)
    for title in rules:
        services.add_review_rule(actor=rc.u_reviewer, version=version, title=title, act_kinds=["penalty"],
                                 fine_organisation_yuan="100000")
    return version


def _filed(rc, *, effective: date) -> CatalogueVersion:
    version = _draft(rc)
    services.submit_version(actor=rc.u_reviewer, version=version, effective_date=effective)
    return services.accept_version(actor=rc.u_legal_sjz, version=version)


def test_a_returned_review_catalogue_carries_the_reason_stays_out_of_force_and_is_resubmitted(rc):
    version = _draft(rc)
    services.submit_version(actor=rc.u_reviewer, version=version, effective_date=date(2026, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.return_version(actor=rc.u_legal_sjz, version=version, reason="  ")
    assert _code(exc.value, "reason") == "required"
    services.return_version(actor=rc.u_legal_sjz, version=version, reason="第1项缺少依据")
    version.refresh_from_db()
    assert version.status == VersionStatus.RETURNED and version.return_reason == "第1项缺少依据"
    assert selectors.version_in_force(agency=rc.amr_changan, kind=REVIEW, on=date(2026, 6, 1)) is None
    # returned: editable again, then resubmitted and accepted
    services.add_review_rule(actor=rc.u_reviewer, version=version, title="听证后作出的决定", hearing_held=True,
                             citation="《行政处罚法》第五十八条")
    services.submit_version(actor=rc.u_reviewer, version=version, effective_date=date(2026, 1, 1))
    services.accept_version(actor=rc.u_legal_sjz, version=version)
    assert selectors.version_in_force(agency=rc.amr_changan, kind=REVIEW, on=date(2026, 6, 1)) == version
    assert [e.action for e in version.events.all()] == ["created", "submitted", "returned", "submitted", "accepted"]
    returned = AuditEntry.objects.get(action="catalog.return", object_id=str(version.pk))
    assert returned.object_type == "catalog.catalogueversion" and "第1项缺少依据" in returned.payload


def test_a_rule_is_removed_from_a_draft_audited_and_never_from_a_submitted_version(rc):
    version = _draft(rc, rules=("较大数额罚款", "吊销许可证"))
    first, second = ReviewRule.objects.filter(version=version).order_by("position")
    services.remove_review_rule(actor=rc.u_reviewer, rule=first)
    assert [r.title for r in version.items()] == ["吊销许可证"]
    entry = AuditEntry.objects.get(action="catalog.rule_remove")
    assert entry.object_id == str(version.pk) and "较大数额罚款" in entry.payload
    with pytest.raises(PermissionDenied):
        services.remove_review_rule(actor=rc.u_pub, rule=second)  # the publicity admin edits the public lists only
    services.submit_version(actor=rc.u_reviewer, version=version, effective_date=date(2026, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.remove_review_rule(actor=rc.u_reviewer, rule=second)
    assert _code(exc.value, "status") == "not_editable"
    assert ReviewRule.objects.filter(pk=second.pk).exists()


def test_acceptance_checks_the_effective_date_again(rc):
    """A filing accepted after the submission (here: a version moved in by a
    migration) may make the submitted date earlier than one already filed:
    acceptance refuses it, as submission would."""
    v1 = _filed(rc, effective=date(2026, 1, 1))
    v2 = _draft(rc)
    services.submit_version(actor=rc.u_reviewer, version=v2, effective_date=date(2026, 3, 1))
    CatalogueVersion.objects.filter(pk=v1.pk).update(effective_date=date(2026, 4, 1))
    with pytest.raises(ValidationError) as exc:
        services.accept_version(actor=rc.u_legal_sjz, version=v2)
    assert _code(exc.value, "effective_date") == "before_filed"
    v2.refresh_from_db()
    assert v2.status == VersionStatus.SUBMITTED


def test_every_refusal_of_the_filing_workflow_carries_a_code(rc):
    version = services.start_draft(actor=rc.u_reviewer, agency=rc.amr_changan, kind=REVIEW)
    refusals = [
        (lambda: services.start_draft(actor=rc.u_reviewer, agency=rc.amr_changan, kind=REVIEW), "kind", "open_version"),
        (lambda: services.start_draft(actor=rc.u_reviewer, agency=rc.amr_changan, kind="nonsense"), "actor", "not_catalogue_editor"),
        (lambda: services.submit_version(actor=rc.u_reviewer, version=version, effective_date=None), "effective_date", "required"),
        (lambda: services.submit_version(actor=rc.u_reviewer, version=version, effective_date=date(2026, 1, 1)), "items", "empty"),
        (lambda: services.add_review_rule(actor=rc.u_reviewer, version=version, title=""), "title", "required"),
        (lambda: services.add_review_rule(actor=rc.u_reviewer, version=version, title="x", act_kinds=["nope"]),
         "act_kinds", "invalid"),
        (lambda: services.import_items(actor=rc.u_reviewer, version=version, data=b""), "kind", "no_import"),
        (lambda: services.accept_version(actor=rc.u_legal_sjz, version=version), "status", "not_submitted"),
        (lambda: services.accept_version(actor=rc.u_reviewer, version=version), "actor", "not_filing_office"),
    ]
    for call, field, code in refusals:
        with pytest.raises((ValidationError, PermissionDenied)) as exc:
            call()
        if isinstance(exc.value, ValidationError):
            assert (field, _code(exc.value, field)) == (field, code)
        else:
            assert (exc.value.field, exc.value.code) == (field, code)


def test_the_review_catalogue_is_not_a_public_list(rc):
    _filed(rc, effective=date(2026, 1, 1))
    assert not selectors.public_catalogue_agencies(on=date(2026, 6, 1)).filter(pk=rc.amr_changan.pk).exists()
    assert [row["kind"] for row in selectors.lists_overview(user=rc.u_pub, agency=rc.amr_changan)] == [
        CatalogueKind.ENFORCEMENT_ITEMS, CatalogueKind.INSPECTION_ITEMS, CatalogueKind.SERVICE_GUIDES,
        CatalogueKind.FLOWCHARTS]
    assert verify_chain().ok


def test_the_review_catalogue_pages_file_through_the_one_workflow(rc, settings):
    from django.test import Client
    from django.urls import reverse

    settings.REQUIRE_TOTP = False
    editor, office = Client(), Client()
    editor.force_login(rc.u_reviewer)
    office.force_login(rc.u_legal_sjz)
    r = editor.post(reverse("review:catalogue_start"), {"note": "首版"})
    version = CatalogueVersion.objects.get(kind=REVIEW, agency=rc.amr_changan)
    assert r["Location"].endswith(reverse("review:catalogue_version", kwargs={"vid": version.pk}))
    act = lambda who, action, data=None: who.post(  # noqa: E731
        reverse("review:catalogue_action", kwargs={"vid": version.pk, "action": action}), data or {}, follow=True)
    act(editor, "rule", {"title": "较大数额罚款", "act_kinds": ["penalty"], "fine_organisation_yuan": "100000"})
    act(editor, "rule", {"title": "临时条目"})
    temporary = ReviewRule.objects.get(version=version, title="临时条目")
    act(editor, "remove", {"rule": temporary.pk})
    assert [r.title for r in version.items()] == ["较大数额罚款"]
    act(editor, "submit", {"effective_date": "2026-01-01"})
    assert "退回须写明理由" in act(office, "return", {"reason": ""}).content.decode()
    act(office, "return", {"reason": "缺少依据"})
    version.refresh_from_db()
    assert (version.status, version.return_reason) == (VersionStatus.RETURNED, "缺少依据")
    act(editor, "submit", {"effective_date": "2026-01-01"})
    act(office, "accept")
    version.refresh_from_db()
    assert version.status == VersionStatus.ACCEPTED
    assert [e.action for e in version.events.all()] == ["created", "submitted", "returned", "submitted", "accepted"]
    # the public lists' pages do not serve it
    assert office.get(reverse("catalog:version", kwargs={"pk": version.pk})).status_code == 404
