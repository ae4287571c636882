"""Writes for catalogues: drafting, Excel import, submission and filing (备案).

    start_draft → import_items (any number of times) → submit_version
        → accept_version (public from its effective date)
        → return_version (with reasons; the agency edits and resubmits)

Every function is keyword-only, checks who acts (permissions.py), writes in
one transaction and appends to the audit chain inside it. Errors name the
field and the problem in Chinese (ValidationError) or refuse the actor
(PermissionDenied).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency

from . import excel
from .models import (
    EDITABLE_STATUSES, ITEM_MODELS, CatalogueKind, CatalogueVersion, FilingEvent, Flowchart, ImportAttempt,
    VersionStatus,
)
from .permissions import can_decide_filing, can_edit_catalogues
from .processes import get_process

ITEM_COPY_EXCLUDE = {"id", "version", "version_id"}


def _require_editor(actor, agency: Agency) -> None:
    if not can_edit_catalogues(actor, agency):
        raise PermissionDenied("只有本部门的公示管理员或部门负责人可以编辑和报送清单。")


def _require_editable(version: CatalogueVersion) -> None:
    if version.status not in EDITABLE_STATUSES:
        raise ValidationError({"status": f"该版本状态为“{version.get_status_display()}”，不能修改。"})


def _event(version, action, actor, text=""):
    return FilingEvent.objects.create(version=version, action=action, actor=actor, text=text)


def _audit(actor, action: str, version: CatalogueVersion, **payload):
    append_audit(actor=actor, action=action, obj=version, payload={
        "agency": version.agency.credit_code, "kind": version.kind, "number": version.number,
        "status": version.status, **payload,
    })


def _locked(version: CatalogueVersion) -> CatalogueVersion:
    """Re-read the version under a row lock, so two decisions cannot cross."""
    return CatalogueVersion.objects.select_for_update().select_related("agency", "agency__region").get(pk=version.pk)


def _copy_items(source: CatalogueVersion, target: CatalogueVersion) -> int:
    model = ITEM_MODELS[source.kind]
    copies = []
    for item in model.objects.filter(version=source).order_by("position", "pk"):
        data = {f.attname: getattr(item, f.attname) for f in model._meta.concrete_fields if f.name not in ITEM_COPY_EXCLUDE}
        copies.append(model(version=target, **data))
    model.objects.bulk_create(copies)
    return len(copies)


@transaction.atomic
def start_draft(*, actor, agency: Agency, kind: str, note: str = "") -> CatalogueVersion:
    """Open the next version of a list as a draft, starting from the latest
    accepted version's items (so an update edits the list, not a blank)."""
    _require_editor(actor, agency)
    if kind not in CatalogueKind.values:
        raise ValidationError({"kind": "清单类别无效。"})
    Agency.objects.select_for_update().filter(pk=agency.pk).first()  # serialise numbering per agency
    if CatalogueVersion.objects.filter(agency=agency, kind=kind, status__in=[
            VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.RETURNED]).exists():
        raise ValidationError({"kind": "该清单已有正在编辑或报送中的版本，请先处理该版本。"})
    number = (CatalogueVersion.objects.filter(agency=agency, kind=kind).aggregate(n=Max("number"))["n"] or 0) + 1
    version = CatalogueVersion(agency=agency, kind=kind, number=number, note=note, created_by=actor)
    version.full_clean()
    version.save()
    base = CatalogueVersion.objects.filter(agency=agency, kind=kind, status=VersionStatus.ACCEPTED).order_by("-number").first()
    copied = _copy_items(base, version) if base else 0
    _event(version, FilingEvent.Action.CREATED, actor, f"v{base.number}" if base else "")
    _audit(actor, "catalog.draft_start", version, based_on=base.number if base else None, items=copied)
    return version


@transaction.atomic
def discard_draft(*, actor, version: CatalogueVersion) -> None:
    """Throw away a draft that was never submitted."""
    version = _locked(version)
    _require_editor(actor, version.agency)
    if version.status != VersionStatus.DRAFT or version.submitted_at is not None:
        raise ValidationError({"status": "只有从未报送的草稿可以删除。"})
    _audit(actor, "catalog.draft_discard", version, items=version.items().count())
    version.imports.all().delete()
    version.events.all().delete()
    ITEM_MODELS[version.kind].objects.filter(version=version).delete()
    version.delete()


@dataclass
class ImportResult:
    ok: bool
    rows: int
    errors: list[dict] = field(default_factory=list)
    attempt: ImportAttempt | None = None


def import_items(*, actor, version: CatalogueVersion, data: bytes, filename: str = "") -> ImportResult:
    """Replace the draft's items by the rows of an Excel file.

    All or nothing: if any row is bad, nothing of the draft changes and the
    result lists every bad row (row number, column, problem in Chinese). The
    attempt and its report are kept either way (ImportAttempt).
    """
    with transaction.atomic():
        version = _locked(version)
        _require_editor(actor, version.agency)
        _require_editable(version)
        items, errors, rows = excel.parse_rows(version.kind, data, agency=version.agency)
        error_dicts = [e.as_dict() for e in errors]
        digest = hashlib.sha256(data).hexdigest()
        ok = not errors
        if ok:
            model = ITEM_MODELS[version.kind]
            model.objects.filter(version=version).delete()
            for item in items:
                item.version = version
                if isinstance(item, Flowchart):
                    item.definition_digest = get_process(item.act_kind, item.procedure).digest
            model.objects.bulk_create(items)
            _event(version, FilingEvent.Action.IMPORTED, actor, f"{filename}（{rows} 行）")
        attempt = ImportAttempt.objects.create(version=version, actor=actor, filename=filename[:255], sha256=digest,
                                               rows=rows, ok=ok, errors=error_dicts)
        # Rows whose text the intake normalisation changed (core.text via excel.parse_rows).
        normalised = {str(item.source_row): item.normalised_fields for item in items
                      if getattr(item, "normalised_fields", None)} if ok else {}
        _audit(actor, "catalog.import" if ok else "catalog.import_rejected", version,
               file_sha256=digest, filename=filename, rows=rows, errors=len(error_dicts),
               **({"normalised": normalised} if normalised else {}))
    return ImportResult(ok=ok, rows=rows, errors=error_dicts, attempt=attempt)


@transaction.atomic
def submit_version(*, actor, version: CatalogueVersion, effective_date: date) -> CatalogueVersion:
    """The agency files the version with its legal office (报法制办备案)."""
    version = _locked(version)
    _require_editor(actor, version.agency)
    _require_editable(version)
    if effective_date is None:
        raise ValidationError({"effective_date": "请填写生效日期。"})
    if not version.items().exists():
        raise ValidationError({"items": "清单为空，不能报送：请先导入清单内容。"})
    _check_effective_date(version, effective_date)
    version.status = VersionStatus.SUBMITTED
    version.effective_date = effective_date
    version.submitted_at = timezone.now()
    version.submitted_by = actor
    version.return_reason = ""
    version.full_clean()
    version.save()
    _event(version, FilingEvent.Action.SUBMITTED, actor, effective_date.isoformat())
    _audit(actor, "catalog.submit", version, effective_date=effective_date.isoformat(), items=version.items().count())
    return version


def _check_effective_date(version: CatalogueVersion, effective_date: date) -> None:
    """A new version may not take effect before one already filed: history
    is never rewritten, and 'latest accepted with effective date ≤ day' stays
    the same as 'highest accepted number in force'."""
    latest = (CatalogueVersion.objects.filter(agency_id=version.agency_id, kind=version.kind, status=VersionStatus.ACCEPTED)
              .exclude(pk=version.pk).order_by("-effective_date", "-number").first())
    if latest and effective_date < latest.effective_date:
        raise ValidationError({"effective_date": f"生效日期不得早于已备案的第 {latest.number} 版的生效日期（{latest.effective_date:%Y-%m-%d}）。"})


def _require_decider(actor, version: CatalogueVersion) -> None:
    if not can_decide_filing(actor, version.agency):
        raise PermissionDenied("只有该部门所属的司法局（法制机构）可以审查备案。")
    if version.status != VersionStatus.SUBMITTED:
        raise ValidationError({"status": f"该版本状态为“{version.get_status_display()}”，不在待备案状态。"})


@transaction.atomic
def accept_version(*, actor, version: CatalogueVersion) -> CatalogueVersion:
    """The legal office accepts the filing: the version becomes public from
    its effective date (公示-4: the public site shows the list in force)."""
    version = _locked(version)
    _require_decider(actor, version)
    _check_effective_date(version, version.effective_date)
    version.status = VersionStatus.ACCEPTED
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.save(update_fields=["status", "decided_at", "decided_by"])
    _event(version, FilingEvent.Action.ACCEPTED, actor)
    _audit(actor, "catalog.accept", version, effective_date=version.effective_date.isoformat())
    return version


@transaction.atomic
def return_version(*, actor, version: CatalogueVersion, reason: str) -> CatalogueVersion:
    """The legal office returns the filing with its reasons; it stays private
    and the agency may edit and resubmit it."""
    version = _locked(version)
    _require_decider(actor, version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "退回须写明理由。"})
    version.status = VersionStatus.RETURNED
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.return_reason = reason
    version.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    _event(version, FilingEvent.Action.RETURNED, actor, reason)
    _audit(actor, "catalog.return", version, reason=reason)
    return version
