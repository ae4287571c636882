"""Writes of the annual reports: save the draft (manual figures with their
notes, the explanation), publish (freezes the snapshot; the listeners of
registry.register_report_published — docking's outbox — in the same
transaction), publish the legal office's regional summary (通报). Each asks
its predicate, writes in one transaction and appends its audit entry. A
report published at a lower platform is stored by ``docked.py``."""

from __future__ import annotations

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency, Region
from sanxiang.core.refusals import Refused, reject

from . import annual, annual_predicates, annual_rules, annual_status, registry
from .models import AnnualReport, RegionalSummary, ReportStatus

MAX_TEXT = 20000
MAX_NOTE = 500
MAX_FIGURE = 10 ** 9


def _check(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _year(year) -> int:
    if not isinstance(year, int) or isinstance(year, bool):
        reject("year", "年度应为四位数字。", "invalid")
    today = clock.today()
    if year > today.year:
        reject("year", f"{year}年度尚未开始。", "future")
    try:
        annual_rules.template_for(year)
    except annual_rules.UnknownYear:
        reject("year", f"{year}年度没有统计模板。", "no_template")
    return year


def _manual(template: annual_rules.Template, manual) -> dict:
    """{key: {"value": "12", "note": "..."}}: a whole number >= 0 or empty."""
    if manual is None:
        manual = {}
    if not isinstance(manual, dict):
        reject("manual", "人工填报数据格式不正确。", "invalid")
    known = {row.key: row for row in template.manual}
    unknown = sorted(set(manual) - set(known))
    if unknown:
        reject(f"manual.{unknown[0]}", "模板中没有这一项。", "unknown")
    out = {}
    for key, row in known.items():
        entry = manual.get(key) or {}
        if not isinstance(entry, dict):
            reject(f"manual.{key}", f"“{row.label}”格式不正确。", "invalid")
        raw = entry.get("value")
        raw = "" if raw is None else str(raw).strip()
        note = entry.get("note")
        note = "" if note is None else str(note).strip()
        if raw and not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_FIGURE):
            reject(f"manual.{key}", f"“{row.label}”应为不小于0的整数。", "invalid")
        if len(note) > MAX_NOTE:
            reject(f"manual.{key}.note", f"“{row.label}”的说明不得超过 {MAX_NOTE} 字。", "too_long")
        if raw or note:
            out[key] = {"value": str(int(raw)) if raw else "", "note": note}
    return out


def save_draft(*, actor, agency: Agency, year: int, explanation: str = "", manual=None) -> AnnualReport:
    """Create or update the agency's report of the year (已起草)."""
    _check(annual_predicates.can_edit_report(actor, agency))
    year = _year(year)
    template = annual_rules.template_for(year)
    if explanation is not None and not isinstance(explanation, str):
        reject("explanation", "情况说明应为文字。", "invalid")
    explanation = (explanation or "").strip()
    if len(explanation) > MAX_TEXT:
        reject("explanation", f"情况说明不得超过 {MAX_TEXT} 字。", "too_long")
    figures = _manual(template, manual)
    with transaction.atomic():
        report = (AnnualReport.objects.select_for_update(of=("self",)).filter(agency=agency, year=year).first())
        created = report is None
        if created:
            report = AnnualReport(agency=agency, year=year)
        else:
            _check(annual_predicates.can_change(report))
        report.template = template.version
        report.manual = figures
        report.explanation = explanation
        report.updated_by = actor
        report.save()
        append_audit(actor=actor, action="statistics.annual_save", obj=report,
                     payload={"agency": agency.pk, "year": year, "created": created, "manual": figures})
    return report


def publish(*, actor, report: AnnualReport) -> AnnualReport:
    """Publish the report: the figures computed now, the manual figures and
    the explanation are frozen in the snapshot; the report is public."""
    _check(annual_predicates.can_edit_report(actor, report.agency))
    with transaction.atomic():
        report = AnnualReport.objects.select_for_update(of=("self",)).select_related("agency", "agency__region").get(pk=report.pk)
        _check(annual_predicates.can_change(report))
        if not report.explanation:
            reject("explanation", "发布前请填写情况说明。", "required")
        computed = annual.for_agencies([report.agency], year=report.year, today=clock.today())[report.agency_id]
        report.snapshot = annual_status.snapshot(computed, report)
        report.status = ReportStatus.PUBLISHED
        report.published_at = clock.now()
        report.published_by = actor
        report.save()
        append_audit(actor=actor, action="statistics.annual_publish", obj=report,
                     payload={"agency": report.agency_id, "year": report.year, "snapshot": report.snapshot})
        # Docking sends it to the platform above (issue 13 item 2), in this transaction.
        registry.report_published(report)
    return report


def publish_summary(*, actor, region: Region, year: int, text: str) -> RegionalSummary:
    """The legal office's 通报: its text and the status of each agency of the
    region against the due day and the region's summed figures, frozen."""
    _check(annual_predicates.can_publish_summary(actor, region))
    year = _year(year)
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    if not text:
        reject("text", "请填写通报内容。", "required")
    if len(text) > MAX_TEXT:
        reject("text", f"通报内容不得超过 {MAX_TEXT} 字。", "too_long")
    with transaction.atomic():
        if RegionalSummary.objects.select_for_update(of=("self",)).filter(region=region, year=year).exists():
            reject("year", f"{region.name}{year}年度的通报已经发布。", "duplicate")
        today = clock.today()
        rows = annual_status.region_status(region=region, year=year, today=today)
        total = annual.for_region(region, year=year, today=today)
        snapshot = {"statuses": [r.as_json() for r in rows], "figures": annual.as_json(total)}
        summary = RegionalSummary.objects.create(region=region, year=year, text=annual_status.public_text(text),
                                                 snapshot=snapshot,
                                                 published_at=clock.now(), published_by=actor)
        append_audit(actor=actor, action="statistics.annual_summary_publish", obj=summary,
                     payload={"region": region.code, "year": year})
    return summary
