"""Writes for catalogues: drafting, Excel import, submission and filing (备案).

    start_draft → import_items (any number of times) → submit_version
        → accept_version (public from its effective date)
        → return_version (with reasons; the agency edits and resubmits)

The one filing workflow for every catalogue kind, the review catalogue
(法制审核目录清单, 审核-6/7) included: its rules are added one by one
(``add_review_rule``, ``remove_review_rule``, ``set_all_non_summary``)
instead of imported from Excel.

Every function is keyword-only, checks who acts (predicates.py), writes in
one transaction and appends to the audit chain inside it. Every refusal
carries a stable code: a ValidationError naming the field with the problem
in Chinese, or ``Refused`` (a PermissionDenied carrying the predicate's
verdict) for the wrong actor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.vocabulary import ActKind

from . import excel, registry
from .models import (
    EDITABLE_STATUSES, ITEM_MODELS, OPEN_STATUSES, PUBLIC_KINDS, CatalogueKind, CatalogueVersion, FilingEvent, Flowchart,
    ImportAttempt, ReviewRule, VersionStatus,
)
from .predicates import can_decide_filing, can_edit_catalogues
from .processes import get_process

ITEM_COPY_EXCLUDE = {"id", "version", "version_id"}
REVIEW = CatalogueKind.REVIEW_CATALOGUE


def _require_editor(actor, agency: Agency, kind: str) -> None:
    verdict = can_edit_catalogues(actor, agency, kind)
    if not verdict:
        raise Refused(verdict)


def _require_editable(version: CatalogueVersion) -> None:
    if version.status not in EDITABLE_STATUSES:
        reject("status", f"该版本状态为“{version.get_status_display()}”，不能修改。", "not_editable")


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
    _require_editor(actor, agency, kind if kind in CatalogueKind.values else CatalogueKind.ENFORCEMENT_ITEMS)
    if kind not in CatalogueKind.values:
        reject("kind", "清单类别无效。", "invalid")
    Agency.objects.select_for_update().filter(pk=agency.pk).first()  # serialise numbering per agency
    if CatalogueVersion.objects.filter(agency=agency, kind=kind, status__in=OPEN_STATUSES).exists():
        reject("kind", "该清单已有正在编辑或报送中的版本，请先处理该版本。", "open_version")
    number = (CatalogueVersion.objects.filter(agency=agency, kind=kind).aggregate(n=Max("number"))["n"] or 0) + 1
    base = CatalogueVersion.objects.filter(agency=agency, kind=kind, status=VersionStatus.ACCEPTED).order_by("-number").first()
    version = CatalogueVersion(agency=agency, kind=kind, number=number, note=(note or "").strip(), created_by=actor,
                               all_non_summary=base.all_non_summary if base else False)
    version.full_clean()
    version.save()
    copied = _copy_items(base, version) if base else 0
    _event(version, FilingEvent.Action.CREATED, actor, f"v{base.number}" if base else "")
    _audit(actor, "catalog.draft_start", version, based_on=base.number if base else None, items=copied)
    return version


@transaction.atomic
def discard_draft(*, actor, version: CatalogueVersion) -> None:
    """Throw away a draft that was never submitted."""
    version = _locked(version)
    _require_editor(actor, version.agency, version.kind)
    if version.status != VersionStatus.DRAFT or version.submitted_at is not None:
        reject("status", "只有从未报送的草稿可以删除。", "not_discardable")
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
        _require_editor(actor, version.agency, version.kind)
        _require_editable(version)
        if version.kind not in PUBLIC_KINDS:
            reject("kind", "法制审核目录清单逐项添加审核事项，不能从 Excel 导入。", "no_import")
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
    _require_editor(actor, version.agency, version.kind)
    _require_editable(version)
    if effective_date is None:
        reject("effective_date", "请填写生效日期。", "required")
    if version.kind == REVIEW:
        if not version.items().exists() and not version.all_non_summary:
            reject("items", "目录清单为空，不能报送：请先添加审核事项。", "empty")
    elif not version.items().exists():
        reject("items", "清单为空，不能报送：请先导入清单内容。", "empty")
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
        reject("effective_date", f"生效日期不得早于已备案的第 {latest.number} 版的生效日期（{latest.effective_date:%Y-%m-%d}）。",
               "before_filed")


def _require_decider(actor, version: CatalogueVersion) -> None:
    verdict = can_decide_filing(actor, version.agency)
    if not verdict:
        raise Refused(verdict)
    if version.status != VersionStatus.SUBMITTED:
        reject("status", f"该版本状态为“{version.get_status_display()}”，不在待备案状态。", "not_submitted")


@transaction.atomic
def accept_version(*, actor, version: CatalogueVersion) -> CatalogueVersion:
    """The legal office accepts the filing: the version becomes public from
    its effective date (公示-4: the public site shows the list in force; a
    review catalogue applies to cases from it). The effective date is checked
    again: another version of the list may have been filed since submission."""
    version = _locked(version)
    _require_decider(actor, version)
    _check_effective_date(version, version.effective_date)
    version.status = VersionStatus.ACCEPTED
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.save(update_fields=["status", "decided_at", "decided_by"])
    _event(version, FilingEvent.Action.ACCEPTED, actor)
    _audit(actor, "catalog.accept", version, effective_date=version.effective_date.isoformat())
    registry.version_accepted(version)  # docking sends it upward (catalog/registry.py)
    return version


@transaction.atomic
def return_version(*, actor, version: CatalogueVersion, reason: str) -> CatalogueVersion:
    """The legal office returns the filing with its reasons; it stays private
    and the agency may edit and resubmit it."""
    version = _locked(version)
    _require_decider(actor, version)
    reason = (reason or "").strip()
    if not reason:
        reject("reason", "退回须写明理由。", "required")
    version.status = VersionStatus.RETURNED
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.return_reason = reason
    version.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    _event(version, FilingEvent.Action.RETURNED, actor, reason)
    _audit(actor, "catalog.return", version, reason=reason)
    return version


# --------------------------------------------------------------------------
# The review catalogue's rules (审核-6/7), added one by one to its draft


RULE_FIELDS = ("title", "act_kinds", "domain", "penalty_categories", "fine_citizen_fen", "fine_organisation_fen",
               "confiscation_citizen_fen", "confiscation_organisation_fen", "hearing_held", "major_public_interest",
               "complex", "social_impact", "outside_benchmark", "citation")


def _review_draft(actor, version: CatalogueVersion) -> CatalogueVersion:
    version = _locked(version)
    if version.kind != REVIEW:
        reject("kind", "只有法制审核目录清单逐项编制审核事项。", "wrong_kind")
    _require_editor(actor, version.agency, version.kind)
    _require_editable(version)
    return version


def yuan_to_fen(value) -> int | None:
    """An amount in yuan (text or number) as fen; None for blank."""
    if value in (None, ""):
        return None
    return int((Decimal(str(value)) * 100).to_integral_value())


@transaction.atomic
def add_review_rule(*, actor, version: CatalogueVersion, title: str, act_kinds=(), domain: str = "",
                    penalty_categories=(), fine_citizen_yuan=None, fine_organisation_yuan=None,
                    confiscation_citizen_yuan=None, confiscation_organisation_yuan=None, hearing_held: bool = False,
                    major_public_interest: bool = False, complex: bool = False, social_impact: bool = False,
                    outside_benchmark: bool = False, citation: str = "") -> ReviewRule:
    """One rule of the review catalogue: act kinds, domain, penalty
    categories, fine and confiscation thresholds (达到此数额含本数) for
    citizens and for organisations, hearing held, and the flags."""
    version = _review_draft(actor, version)
    if not (title or "").strip():
        reject("title", "请填写事项名称。", "required")
    bad = [k for k in act_kinds if k not in ActKind.values]
    if bad:
        reject("act_kinds", f"执法行为类别无效：{'、'.join(bad)}。", "invalid")
    amounts = {}
    for name, value in (("fine_citizen_fen", fine_citizen_yuan), ("fine_organisation_fen", fine_organisation_yuan),
                        ("confiscation_citizen_fen", confiscation_citizen_yuan),
                        ("confiscation_organisation_fen", confiscation_organisation_yuan)):
        try:
            amounts[name] = yuan_to_fen(value)
        except ArithmeticError:
            reject(name, "金额格式无效。", "invalid")
        if amounts[name] is not None and amounts[name] < 0:
            reject(name, "金额不能为负数。", "invalid")
    position = (ReviewRule.objects.filter(version=version).aggregate(n=Max("position"))["n"] or 0) + 1
    rule = ReviewRule.objects.create(
        version=version, position=position, title=title.strip(), act_kinds=list(act_kinds), domain=domain.strip(),
        penalty_categories=[c.strip() for c in penalty_categories if c.strip()], hearing_held=hearing_held,
        major_public_interest=major_public_interest, complex=complex, social_impact=social_impact,
        outside_benchmark=outside_benchmark, citation=citation.strip(), **amounts)
    _audit(actor, "catalog.rule_add", version, rule={f: getattr(rule, f) for f in RULE_FIELDS}, position=position)
    return rule


@transaction.atomic
def remove_review_rule(*, actor, rule: ReviewRule) -> None:
    version = _review_draft(actor, rule.version)
    _audit(actor, "catalog.rule_remove", version, position=rule.position, title=rule.title)
    rule.delete()


@transaction.atomic
def set_all_non_summary(*, actor, version: CatalogueVersion, enabled: bool) -> CatalogueVersion:
    """审核-7: extend review to every decision outside the summary procedure."""
    version = _review_draft(actor, version)
    version.all_non_summary = bool(enabled)
    version.save(update_fields=["all_non_summary"])
    _audit(actor, "catalog.review_switch", version, all_non_summary=version.all_non_summary)
    return version
