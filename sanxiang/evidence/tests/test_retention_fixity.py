"""Retention (the longest category wins), legal holds, soft deletion with a
recovery window and purge, and the fixity job (记录-12)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanxiang.core.models import AuditEntry
from sanxiang.evidence import services
from sanxiang.evidence.models import EvidenceItem, FixityAlert, RetentionCategory
from sanxiang.evidence.storage import get_storage
from sanxiang.rules import reload_rules
from sanxiang.rules.loader import DEFAULT_PARAMS_DIR, read_yaml

from .test_custody import login, upload
from .conftest import jpeg_bytes
from sanxiang.core import clock

pytestmark = pytest.mark.django_db


def close_case(case, on=date(2026, 4, 1)):
    case.status, case.closed_on = "closed", on
    case.save()


def expire_retention(item):
    item.retention_until = clock.today() - timedelta(days=1)
    item.save(update_fields=["retention_until"])


def test_the_longest_retention_category_wins(cases):
    assert RetentionCategory.objects.get(code="general").is_default
    item = upload(cases, jpeg_bytes(1000), category="confirmation")
    assert {c.code for c in item.retention_categories.all()} == {"general", "confirmation"}
    assert item.retention_until == date(item.captured_at.year + 30, item.captured_at.month,
                                        clock.local_date(item.captured_at).day)
    major = upload(cases, jpeg_bytes(1000, seed=5), category="major")
    assert major.retention_until is None  # permanent beats 30 years
    close_case(cases.case, on=date(2026, 4, 1))
    assert services.apply_retention(item=item).retention_until == date(2056, 4, 1)  # counted from closing


def test_retention_periods_are_the_dated_rules_of_the_cases_agency(cases, tmp_path):
    """How long is a legal value in the rules (evidence.retention_*), not a
    number in the database: an agency whose own rule keeps confirmation
    records 50 years gets 50 years; the permanent category stays permanent."""
    params = tmp_path / "params"
    shutil.copytree(DEFAULT_PARAMS_DIR, params)
    data = read_yaml(params / "evidence.yaml")
    confirmation = next(p for p in data if p["name"] == "evidence.retention_confirmation")
    confirmation["values"].append({"value": 50, "valid_from": date(2020, 1, 1),
                                   "scope": f"agency:{cases.case.agency.credit_code}", "reference": "本部门制度（测试）"})
    (params / "evidence.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    reload_rules(params)
    try:
        item = upload(cases, jpeg_bytes(1000, seed=11), category="confirmation")
        captured = clock.local_date(item.captured_at)
        assert item.retention_until == date(captured.year + 50, captured.month, captured.day)
        assert upload(cases, jpeg_bytes(1000, seed=12), category="major").retention_until is None
    finally:
        reload_rules()
    assert services.apply_retention(item=item).retention_until == date(captured.year + 30, captured.month, captured.day)


def test_evidence_on_an_open_case_is_never_deleted(cases):
    item = upload(cases, jpeg_bytes(1000))
    expire_retention(item)
    with pytest.raises(ValidationError, match="案件尚未办结"):
        services.delete_evidence(actor=cases.u_admin, item=item, reason="误传")
    assert EvidenceItem.objects.get(pk=item.pk).deleted_at is None


def test_evidence_under_legal_hold_is_never_deleted(cases):
    item = upload(cases, jpeg_bytes(1000))
    close_case(cases.case)
    expire_retention(item)
    services.set_legal_hold(actor=cases.u_admin, item=item, hold=True, reason="行政诉讼进行中")
    item.refresh_from_db()
    with pytest.raises(ValidationError, match="法律保全"):
        services.delete_evidence(actor=cases.u_admin, item=item, reason="到期销毁")
    services.set_legal_hold(actor=cases.u_admin, item=item, hold=False, reason="判决生效")
    item.refresh_from_db()
    services.delete_evidence(actor=cases.u_admin, item=item, reason="到期销毁")
    assert AuditEntry.objects.filter(action__in=["evidence.hold", "evidence.release_hold", "evidence.delete"]).count() == 3


def test_retention_not_over_refuses_deletion(cases):
    item = upload(cases, jpeg_bytes(1000))
    close_case(cases.case)
    assert "期满前不能删除" in services.deletion_refusal(item)


def test_soft_delete_restore_and_purge_after_the_window(cases, settings, django_capture_on_commit_callbacks):
    settings.EVIDENCE_RECOVERY_DAYS = 30
    data = jpeg_bytes(2000)
    item = upload(cases, data)
    twin = upload(cases, data)  # same bytes, another item: one object
    close_case(cases.case)
    for i in (item, twin):
        expire_retention(i)
    services.delete_evidence(actor=cases.u_admin, item=item, reason="保存期满销毁")
    assert not login(cases.u_changan).get(f"/workbench/evidence/{item.pk}/content").status_code == 200
    services.restore_evidence(actor=cases.u_admin, item=item)
    item.refresh_from_db()
    services.delete_evidence(actor=cases.u_admin, item=item, reason="保存期满销毁")
    # within the window nothing is purged
    assert services.purge_deleted_evidence() == 0
    later = timezone.now() + timedelta(days=31)
    assert services.purge_deleted_evidence(now=later) == 1
    assert get_storage().exists(item.sha256)  # the twin still names the object
    twin.refresh_from_db()
    services.delete_evidence(actor=cases.u_admin, item=twin, reason="保存期满销毁")
    with django_capture_on_commit_callbacks(execute=True):  # the object goes once the purge is committed
        assert services.purge_deleted_evidence(now=later) == 1
    assert not get_storage().exists(item.sha256)
    item.refresh_from_db()
    with pytest.raises(ValidationError, match="无法恢复"):
        services.restore_evidence(actor=cases.u_admin, item=item)
    assert AuditEntry.objects.filter(action="evidence.purge").count() == 2


def test_delete_page_refuses_on_an_open_case_and_officers_cannot_delete(cases, settings):
    item = upload(cases, jpeg_bytes(1000))
    admin = login(cases.u_admin)
    settings.REQUIRE_TOTP = False
    r = admin.post(f"/workbench/evidence/{item.pk}/delete/", {"reason": "误传"}, follow=True)
    assert "案件尚未办结" in r.content.decode()
    assert login(cases.u_changan).post(f"/workbench/evidence/{item.pk}/delete/", {"reason": "x"}).status_code == 403
    assert EvidenceItem.objects.get(pk=item.pk).deleted_at is None


def test_fixity_detects_a_flipped_byte_and_a_missing_object(cases, settings):
    settings.REQUIRE_TOTP = False
    good = upload(cases, jpeg_bytes(50_000, seed=1))
    bad = upload(cases, jpeg_bytes(50_000, seed=2))
    gone = upload(cases, jpeg_bytes(50_000, seed=3))
    assert services.check_fixity() == {"checked": 3, "alerts": 0, "bytes": 150_000}
    path = get_storage().path(bad.sha256)
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[12345] ^= 0x01
    path.write_bytes(bytes(raw))
    get_storage().path(gone.sha256).unlink()
    # nothing is due again within the interval, unless forced
    assert services.check_fixity()["checked"] == 0
    result = services.check_fixity(force=True)
    assert result["alerts"] == 2
    alerts = {a.sha256: a for a in FixityAlert.objects.all()}
    assert alerts[bad.sha256].problem == "mismatch" and alerts[bad.sha256].actual_sha256 not in ("", bad.sha256)
    assert alerts[gone.sha256].problem == "missing" and good.sha256 not in alerts
    assert AuditEntry.objects.filter(action="evidence.fixity_alert").count() == 2
    # a second run does not repeat open alerts
    assert services.check_fixity(force=True)["alerts"] == 0
    page = login(cases.u_admin).get("/workbench/evidence/fixity/").content.decode()
    assert bad.sha256 in page and gone.sha256 in page
    assert login(cases.u_changan).get("/workbench/evidence/fixity/").content.decode().count(bad.sha256) == 0


def test_fixity_budget_spreads_a_large_store_over_runs(cases):
    for seed in range(3):
        upload(cases, jpeg_bytes(10_000, seed=seed + 10))
    assert services.check_fixity(budget_bytes=15_000)["checked"] == 2
    assert services.check_fixity(budget_bytes=15_000)["checked"] == 1


def test_the_scheduled_job_is_registered_and_runs(cases):
    from sanxiang.core.jobs import run_jobs

    upload(cases, jpeg_bytes(1000))
    assert run_jobs(names=["evidence"]) == {"evidence": 0}
    assert EvidenceItem.objects.get().fixity_checked_at is not None


def test_orphan_objects_are_swept_but_not_while_an_upload_names_them(cases, tmp_path):
    from .conftest import sha256_hex

    data = b"orphan bytes"
    path = tmp_path / "o"
    path.write_bytes(data)
    get_storage().put_file(path, sha256_hex(data))
    assert services.sweep_orphan_objects() == 1
    assert not get_storage().exists(sha256_hex(data))


def test_ending_a_case_counts_each_items_retention_from_the_closing_day(cases, django_capture_on_commit_callbacks,
                                                                        settings, tmp_path):
    """docs/evidence.md: retention counts from the case's closing (归档), not
    from capture. Terminating the case through the cases app (its case-ended
    hook) sets it on every item, audited."""
    import json

    from sanxiang.cases import services as case_services
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role

    settings.ARCHIVE_DIR = tmp_path / "archives"
    item = upload(cases, jpeg_bytes(1000), captured_at="2026-03-10T09:00:00+08:00")
    assert item.retention_until == date(2056, 3, 10)  # from capture while the case is open
    head = core_services.create_user(actor="t", username="changan_head_r", password=cases.password,
                                     role=Role.AGENCY_HEAD, agency=cases.amr_changan)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.terminate_case(actor=head, case=cases.case, reason="违法事实不能成立。", on=clock.today())
    item.refresh_from_db()
    closed = clock.today()
    expected = date(closed.year + 30, closed.month, 28 if (closed.month, closed.day) == (2, 29) else closed.day)
    assert item.retention_until == expected
    entry = AuditEntry.objects.get(action="evidence.retention_from_closing", object_id=str(item.pk))
    assert json.loads(entry.payload)["after"] == expected.isoformat()


def test_the_page_of_a_soft_deleted_item_says_when_its_recovery_window_ends(cases, settings):
    settings.EVIDENCE_RECOVERY_DAYS = 30
    settings.REQUIRE_TOTP = False  # the administrator logs in without the authenticator here
    item = upload(cases, jpeg_bytes(1500))
    close_case(cases.case)
    expire_retention(item)
    services.delete_evidence(actor=cases.u_admin, item=item, reason="保存期满销毁")
    item.refresh_from_db()
    until = clock.local_time(item.deleted_at + timedelta(days=30))
    assert item.recoverable_until == item.deleted_at + timedelta(days=30)
    page = login(cases.u_admin).get(f"/workbench/evidence/{item.pk}/").content.decode()
    assert f"可恢复至 {until:%Y-%m-%d %H:%M}" in page
