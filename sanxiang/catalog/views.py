"""Catalogue pages.

Public (anonymous, phone-sized): the index by region and agency; per agency
the lists in force — enforcement items searchable by name (公示-3/4),
random-inspection items (公示-5), service guides with all fifteen fields
(公示-7), flowcharts drawn from the process definitions (公示-6) — each
with its history of accepted versions.

Back office (login, scoped): drafting by Excel import, submission, and the
legal office's filing queue with accept / return-with-reason.

Views validate input and call selectors and services; nothing more.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanxiang.core import selectors as core_selectors
from sanxiang.core.refusals import message_of as _message, run_shown  # the one refusal helper of the pages
from sanxiang.core.views import staff_required

from . import excel, selectors, services
from .models import CatalogueKind, Flowchart, ServiceGuide, VersionStatus
from .predicates import can_decide_filing, can_edit_catalogues
from .processes import ProcessNotFound, get_process, render_flowchart_svg
from sanxiang.core.parsing import optional_id
from sanxiang.core import clock

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_SLUGS = {
    "items": CatalogueKind.ENFORCEMENT_ITEMS,
    "inspection": CatalogueKind.INSPECTION_ITEMS,
    "guides": CatalogueKind.SERVICE_GUIDES,
    "flowcharts": CatalogueKind.FLOWCHARTS,
}
SLUG_OF = {kind: slug for slug, kind in KIND_SLUGS.items()}


def _kind(slug: str) -> str:
    try:
        return KIND_SLUGS[slug]
    except KeyError:
        raise Http404("unknown catalogue")


def _version_number(request) -> int | None:
    return optional_id(request.GET.get("v", "").strip(), field="v")


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"catalog.xlsx\"; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


# --- public pages ----------------------------------------------------------------


def index(request):
    region_code = request.GET.get("region", "").strip()
    agencies = selectors.public_catalogue_agencies(region_code=region_code)
    page = Paginator(agencies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/index.html", {
        "page": page, "total": page.paginator.count, "region_code": region_code,
        "regions": selectors.public_regions(),
    })


def agency_detail(request, agency_id: int):
    agency = selectors.get_public_agency(pk=agency_id)
    lists = []
    for slug, kind in KIND_SLUGS.items():
        version = selectors.version_in_force(agency=agency, kind=kind)
        lists.append({"slug": slug, "kind": kind, "label": CatalogueKind(kind).label, "version": version,
                      "count": version.items().count() if version else 0})
    return render(request, "catalog/agency.html", {"agency": agency, "lists": lists})


def public_list(request, agency_id: int, slug: str):
    kind = _kind(slug)
    agency = selectors.get_public_agency(pk=agency_id)
    number = _version_number(request)
    version = selectors.public_version(agency=agency, kind=kind, number=number)
    if number is not None and version is None:
        raise Http404("no such accepted version")
    q = request.GET.get("q", "").strip() if kind == CatalogueKind.ENFORCEMENT_ITEMS else ""
    items = selectors.public_items(version=version, q=q)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    in_force = selectors.version_in_force(agency=agency, kind=kind)
    return render(request, f"catalog/public_{slug}.html", {
        "agency": agency, "kind": kind, "slug": slug, "label": CatalogueKind(kind).label, "version": version,
        "in_force": in_force, "page": page, "total": page.paginator.count, "q": q,
    })


def public_export(request, agency_id: int, slug: str):
    kind = _kind(slug)
    agency = selectors.get_public_agency(pk=agency_id)
    version = selectors.public_version(agency=agency, kind=kind, number=_version_number(request))
    if version is None:
        raise Http404("no list in force")
    return _xlsx(excel.export_items(kind, version.items()), f"{agency.name}-{excel.SHEET_NAMES[kind]}-v{version.number}.xlsx")


def history(request, agency_id: int, slug: str):
    kind = _kind(slug)
    agency = selectors.get_public_agency(pk=agency_id)
    in_force = selectors.version_in_force(agency=agency, kind=kind)
    return render(request, "catalog/history.html", {
        "agency": agency, "slug": slug, "label": CatalogueKind(kind).label,
        "versions": selectors.public_versions(agency=agency, kind=kind), "in_force": in_force,
        "today": clock.today(),
    })


def guide_detail(request, agency_id: int, pk: int):
    agency = selectors.get_public_agency(pk=agency_id)
    try:
        guide = ServiceGuide.objects.select_related("version").get(
            pk=pk, version__agency=agency, version__status=VersionStatus.ACCEPTED)
    except ServiceGuide.DoesNotExist:
        raise Http404("guide not found")
    fields = [(excel_header, getattr(guide, f)) for f, excel_header in
              ((c.field, c.header) for c in excel.COLUMNS[CatalogueKind.SERVICE_GUIDES]) if f != "code"]
    return render(request, "catalog/guide.html", {
        "agency": agency, "guide": guide, "fields": fields,
        "in_force": selectors.version_in_force(agency=agency, kind=CatalogueKind.SERVICE_GUIDES),
    })


def flowchart_detail(request, agency_id: int, act_kind: str, procedure: str):
    agency = selectors.get_public_agency(pk=agency_id)
    version = selectors.public_version(agency=agency, kind=CatalogueKind.FLOWCHARTS, number=_version_number(request))
    chart = Flowchart.objects.filter(version=version, act_kind=act_kind, procedure=procedure).first() if version else None
    if chart is None:
        raise Http404("flowchart not published")
    try:
        definition = get_process(act_kind, procedure)
    except ProcessNotFound:
        raise Http404("process not defined")
    svg = render_flowchart_svg(definition, agency=agency)
    return render(request, "catalog/flowchart.html", {
        "agency": agency, "chart": chart, "definition": definition, "version": version,
        "svg": mark_safe(svg),  # built by render_flowchart_svg, every text escaped there
        "changed_since_filing": bool(chart.definition_digest) and chart.definition_digest != definition.digest,
    })


# --- back office -------------------------------------------------------------------


@staff_required
def office(request):
    user = request.user
    overviews = []
    for agency in selectors.editable_agencies(user=user):
        lists = selectors.lists_overview(user=user, agency=agency)
        for row in lists:
            row["slug"] = SLUG_OF[row["kind"]]
        overviews.append({"agency": agency, "lists": lists})
    return render(request, "catalog/office.html", {
        "overviews": overviews,
        "queue_count": len(selectors.filing_queue(user=user)),
        "recent": selectors.versions_for(user=user).exclude(status=VersionStatus.DRAFT).order_by("-submitted_at", "-pk")[:30],
    })


@staff_required
def filing_queue(request):
    return render(request, "catalog/filing_queue.html", {"versions": selectors.filing_queue(user=request.user)})


@staff_required
@require_POST
def start_draft(request, agency_id: int, slug: str):
    agency = core_selectors.get_agency_for(user=request.user, pk=agency_id)
    try:
        version = services.start_draft(actor=request.user, agency=agency, kind=_kind(slug))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
        return redirect("catalog:office")
    messages.success(request, _("Draft started."))
    return redirect("catalog:version", pk=version.pk)


@staff_required
def version_detail(request, pk: int):
    user = request.user
    version = selectors.get_version_for(user=user, pk=pk)
    items = version.items()
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    last_import = version.imports.first()
    return render(request, "catalog/version.html", {
        "version": version, "page": page, "total": page.paginator.count,
        "columns": excel.COLUMNS[version.kind],
        "rows": [excel.row_values(version.kind, item) for item in page],
        "can_edit": can_edit_catalogues(user, version.agency) and version.is_editable,
        "can_discard": can_edit_catalogues(user, version.agency) and version.status == VersionStatus.DRAFT and version.submitted_at is None,
        "can_decide": can_decide_filing(user, version.agency) and version.status == VersionStatus.SUBMITTED,
        "events": version.events.select_related("actor"),
        "last_import": last_import,
        "default_effective": version.effective_date or clock.today(),
        "slug": SLUG_OF[version.kind],
    })


@staff_required
@require_POST
def import_view(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose an Excel file to import."))
        return redirect("catalog:version", pk=pk)
    if upload.size > 20 * 1024 * 1024:
        messages.error(request, _("The file is larger than 20 MB."))
        return redirect("catalog:version", pk=pk)
    try:
        result = services.import_items(actor=request.user, version=version, data=upload.read(), filename=upload.name)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
        return redirect("catalog:version", pk=pk)
    if result.ok:
        messages.success(request, _("Imported %(rows)d rows.") % {"rows": result.rows})
    else:
        messages.error(request, _("Nothing was imported: %(n)d problems found. See the report below.") % {"n": len(result.errors)})
    return redirect("catalog:version", pk=pk)


@staff_required
@require_POST
def submit_view(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    try:
        effective = date.fromisoformat(request.POST.get("effective_date", "").strip())
    except ValueError:
        messages.error(request, _("Enter the effective date as YYYY-MM-DD."))
        return redirect("catalog:version", pk=pk)
    run_shown(request, lambda: services.submit_version(actor=request.user, version=version, effective_date=effective),
              _("Submitted to the legal office for filing."))
    return redirect("catalog:version", pk=pk)


def _act(request, call, *, pk: int, success: str, done: str):
    """Run one filing service call: on a refusal show its message and go
    back to the version, else show `success` and go on to `done`."""
    if not run_shown(request, call, success):
        return redirect("catalog:version", pk=pk)
    return redirect(done)


@staff_required
@require_POST
def accept_view(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    return _act(request, lambda: services.accept_version(actor=request.user, version=version), pk=pk,
                success=_("Filing accepted. The version is public from its effective date."), done="catalog:filing_queue")


@staff_required
@require_POST
def return_view(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    return _act(request, lambda: services.return_version(actor=request.user, version=version,
                                                         reason=request.POST.get("reason", "")), pk=pk,
                success=_("Filing returned to the agency with the reason."), done="catalog:filing_queue")


@staff_required
@require_POST
def discard_view(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    return _act(request, lambda: services.discard_draft(actor=request.user, version=version), pk=pk,
                success=_("Draft discarded."), done="catalog:office")


@staff_required
def version_export(request, pk: int):
    version = selectors.get_version_for(user=request.user, pk=pk)
    return _xlsx(excel.export_items(version.kind, version.items()),
                 f"{version.agency.name}-{excel.SHEET_NAMES[version.kind]}-v{version.number}.xlsx")


@staff_required
def template_download(request, slug: str):
    kind = _kind(slug)
    return _xlsx(excel.export_items(kind, []), f"{excel.SHEET_NAMES[kind]}-模板.xlsx")


@staff_required
def import_report(request, pk: int):
    attempt = selectors.get_import_for(user=request.user, pk=pk)
    return _xlsx(excel.error_report(attempt.errors), f"导入错误报告-{attempt.pk}.xlsx")

