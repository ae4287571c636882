"""The annual report's pages (行政执法数据年度报告, issue 16 part 1): the
agency's edit page (computed figures with their rule and source, the manual
figures with notes, the 情况说明; save, publish), the legal office's status
list of its agencies against 31 January with its 通报, and the public pages
per agency and per region (no login; published reports only). Thin: the
services write, annual/annual_status read."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sanxiang.core import clock
from sanxiang.core.models import Agency, Region
from sanxiang.core.refusals import Refused
from sanxiang.core.views import staff_required

from . import annual, annual_exports, annual_predicates, annual_rules, annual_services, annual_status
from .models import AnnualReport, RegionalSummary, ReportStatus


default_year = annual_status.default_year


def _year(request, today) -> int:
    raw = (request.GET.get("year") or request.POST.get("year") or "").strip()
    if not raw:
        return default_year(today)
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise Http404("year")
    year = int(raw)
    try:
        annual_rules.template_for(year)
    except annual_rules.UnknownYear:
        raise Http404("year")
    if year > today.year:
        raise Http404("year")
    return year


def table(figures_json: dict, rows_meta: list[dict]) -> list[dict]:
    """The table from the JSON figures and the rows' label/rule/sources
    (live: annual.as_json and the template; published: the snapshot's):
    "—" for no such duty, the category breakdown under its row."""
    rows = []
    for meta in rows_meta:
        section, field = meta["key"].split(".", 1)
        value = (figures_json.get(section) or {}).get(field)
        if isinstance(value, dict):
            for category, n in value.items():
                if n:
                    rows.append({"label": f"{annual.sub_row_prefix(meta['key'])}{category}", "value": n, "rule": "",
                                 "sources": [], "sub": True})
            continue
        rows.append({"label": meta["label"], "value": "—" if value is None else value, "rule": meta["rule"],
                     "sources": meta["sources"]})
    return rows


def rows_meta(template) -> list[dict]:
    return [{"key": r.key, "label": r.label, "rule": r.rule, "sources": list(r.sources)} for r in template.rows]


def _manual_rows(template, manual: dict) -> list[dict]:
    return [{"key": m.key, "label": m.label, "value": (manual.get(m.key) or {}).get("value", ""),
             "note": (manual.get(m.key) or {}).get("note", ""), "sources": m.sources} for m in template.manual]


def _edit_context(request, agency, year, today, report, *, manual=None, explanation=None, errors=None):
    result = annual.for_agencies([agency], year=year, today=today)[agency.pk]
    template = result.template
    status = annual_status.status_of(agency, report, year=year, today=today)
    return {
        "agency": agency, "year": year, "report": report, "status": status, "template": template,
        "rows": (table(report.snapshot["figures"], report.snapshot["rows"]) if report and report.snapshot
                 else table(annual.as_json(result), rows_meta(template))),
        "manual_rows": _manual_rows(template, manual if manual is not None else (report.manual if report else {})),
        "explanation": explanation if explanation is not None else (report.explanation if report else ""),
        "errors": errors or {}, "published": bool(report and report.status == ReportStatus.PUBLISHED),
    }


def _writer_agency(request) -> Agency:
    agency = request.user.agency
    verdict = annual_predicates.can_edit_report(request.user, agency or Agency(pk=0))
    if not verdict:
        raise Refused(verdict)
    return agency


@staff_required
def edit(request):
    agency = _writer_agency(request)
    today = clock.today()
    year = _year(request, today)
    report = AnnualReport.objects.filter(agency=agency, year=year).first()
    ctx = _edit_context(request, agency, year, today, report)
    return render(request, "statistics/annual_edit.html", ctx)


def _posted_manual(request, template) -> dict:
    return {m.key: {"value": request.POST.get(f"manual-{m.key}-value", ""), "note": request.POST.get(f"manual-{m.key}-note", "")}
            for m in template.manual}


@staff_required
@require_POST
def save(request):
    agency = _writer_agency(request)
    today = clock.today()
    year = _year(request, today)
    template = annual_rules.template_for(year)
    manual = _posted_manual(request, template)
    explanation = request.POST.get("explanation", "")
    try:
        report = annual_services.save_draft(actor=request.user, agency=agency, year=year, explanation=explanation,
                                            manual=manual)
        if request.POST.get("action") == "publish":
            annual_services.publish(actor=request.user, report=report)
    except ValidationError as exc:
        report = AnnualReport.objects.filter(agency=agency, year=year).first()
        ctx = _edit_context(request, agency, year, today, report, manual=manual, explanation=explanation,
                            errors=exc.message_dict)
        return render(request, "statistics/annual_edit.html", ctx, status=400)
    return redirect(f"{reverse('statistics:annual_edit')}?year={year}")


def _office_region(request) -> Region:
    region = getattr(request.user, "region", None)
    if region is None or not annual_predicates.can_view_status(request.user, region):
        raise Refused(annual_predicates.can_view_status(request.user, region or Region(path="-")))
    return region


@staff_required
def status(request):
    region = _office_region(request)
    today = clock.today()
    year = _year(request, today)
    rows = annual_status.region_status(region=region, year=year, today=today)
    counts = {code: sum(1 for r in rows if r.code == code) for code in annual_status.STATUS_LABELS}
    return render(request, "statistics/annual_status.html", {
        "region": region, "year": year, "rows": rows, "due": annual_status.due_date(year),
        "counts": [(annual_status.STATUS_LABELS[c], n) for c, n in counts.items()],
        "summary": RegionalSummary.objects.filter(region=region, year=year).first(),
        "can_publish": bool(annual_predicates.can_publish_summary(request.user, region)), "errors": {},
    })


@staff_required
@require_POST
def publish_summary(request):
    region = _office_region(request)
    today = clock.today()
    year = _year(request, today)
    try:
        annual_services.publish_summary(actor=request.user, region=region, year=year, text=request.POST.get("text", ""))
    except ValidationError as exc:
        rows = annual_status.region_status(region=region, year=year, today=today)
        return render(request, "statistics/annual_status.html", {
            "region": region, "year": year, "rows": rows, "due": annual_status.due_date(year), "counts": [],
            "summary": None, "can_publish": True, "errors": exc.message_dict, "text": request.POST.get("text", ""),
        }, status=400)
    return redirect(f"{reverse('statistics:annual_status')}?year={year}")


# --- public pages (no login) ----------------------------------------------------------


def public_index(request):
    """Every published report and 通报, newest year first (the portal's entry)."""
    reports = (AnnualReport.objects.filter(status=ReportStatus.PUBLISHED).select_related("agency", "agency__region")
               .order_by("-year", "agency__region__code", "agency__name"))
    summaries = RegionalSummary.objects.select_related("region").order_by("-year", "region__code")
    years = sorted({r.year for r in reports} | {s.year for s in summaries}, reverse=True)
    return render(request, "statistics/annual_index.html", {
        "years": [{"year": y, "reports": [r for r in reports if r.year == y],
                   "summaries": [s for s in summaries if s.year == y]} for y in years]})


def public_agency(request, pk: int, year: int):
    report = get_object_or_404(AnnualReport.objects.select_related("agency", "agency__region"),
                               agency_id=pk, year=year, status=ReportStatus.PUBLISHED)
    snap = report.snapshot
    return render(request, "statistics/annual_public.html", {
        "report": report, "agency": report.agency, "year": year, "rows": table(snap["figures"], snap["rows"]),
        "manual_rows": snap["manual"], "explanation": snap["explanation"], "formats": annual_exports.FORMATS})


def public_region(request, code: str, year: int):
    region = get_object_or_404(Region, code=code)
    reports = (AnnualReport.objects.filter(agency__region__path__startswith=region.path, year=year,
                                           status=ReportStatus.PUBLISHED)
               .select_related("agency").order_by("agency__region__code", "agency__name"))
    summary = RegionalSummary.objects.filter(region=region, year=year).first()
    if summary is None and not reports:
        raise Http404("nothing published")
    return render(request, "statistics/annual_region.html", {"region": region, "year": year, "reports": reports,
                                                             "summary": summary})


def public_export(request, pk: int, year: int, fmt: str):
    if fmt not in annual_exports.FORMATS:
        raise Http404("format")
    report = get_object_or_404(AnnualReport.objects.select_related("agency"), agency_id=pk, year=year,
                               status=ReportStatus.PUBLISHED)
    response = HttpResponse(annual_exports.render(report, fmt), content_type=annual_exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{report.agency.name}{year}年度行政执法数据年度报告.{fmt}")
    return response
