"""Back-office pages of the 双公示 exchange (seed 公示-19; 公示-14):
upload a CSV/XLSX file of penalties or licences, see the counts and every
bad row, download the per-row error report; download the agency's own
decisions in the same layout. A file in the older 2016 layout is read too
(shuanggongshi_legacy): the page says which layout was read and lists per
row what was inferred and what was not imported (the report has them too).

Who: the agency's publicity administrator or head (their own agency), or a
system administrator (any agency, chosen on the page). The export holds
private data (natural persons' ID numbers for CF_XDR_ZJHM): it needs login,
is audited, and is never linked from the public portal.

URLs (wired by the integrator): /workbench/publicity/import/ →
``import_page`` ("publicity:import"), /workbench/publicity/export/ →
``export_download`` ("publicity:export").
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency, AgencyKind, Role
from sanxiang.core.views import staff_required
from sanxiang.core.vocabulary import ACT_KIND_NAMES, EXCHANGE_KINDS, PUBLICITY_MANAGERS, ActKind

from . import shuanggongshi, shuanggongshi_legacy
from .models import DecisionStatus
from .selectors import decisions_for
from sanxiang.core import clock

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ERRORS_SHOWN = 200
REPORTS_KEPT = 5  # error reports remembered per session
_REPORT_ID = re.compile(r"[0-9a-f]{32}")


def _agencies_for(user):
    """The agencies whose decisions this user may import and export."""
    if user.role == Role.SYSADMIN or user.is_superuser:
        return Agency.objects.exclude(kind=AgencyKind.LEGAL_OFFICE).filter(is_active=True).order_by("region__code", "name")
    if user.role in PUBLICITY_MANAGERS and user.agency_id:
        return Agency.objects.filter(pk=user.agency_id)
    raise PermissionDenied


def _chosen_agency(request, agencies):
    code = (request.POST.get("agency") or request.GET.get("agency") or "").strip().upper()
    if code:
        agency = agencies.filter(credit_code=code).first()
        if agency is None:
            raise Http404
        return agency
    return agencies.first() if agencies.count() == 1 else None


def _reports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "import-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _kind_label(kind: str) -> str:
    return _("penalties") if kind == ActKind.PENALTY else _("licences")


def _layout_label(layout: str) -> str:
    if layout == shuanggongshi_legacy.LEGACY:
        return _("the older 2016 双公示 layout (CF_CFLB1, CF_JG, CF_XDR_ZDM …)")
    return _("the current 双公示 layout")


def _note_rows(report) -> list[tuple[int, str, str, str]]:
    names = {shuanggongshi_legacy.INFERRED: _("inferred"), shuanggongshi_legacy.NOT_MAPPED: _("not imported")}
    return [(row, column, names.get(kind, kind), message) for row, column, kind, message in report.notes[:ERRORS_SHOWN]]


@staff_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    agencies = _agencies_for(request.user)
    report_id = request.GET.get("report", "")
    if report_id:
        # The error report of an import made in this session, as XLSX.
        if not _REPORT_ID.fullmatch(report_id) or report_id not in request.session.get("publicity_import_reports", []):
            raise Http404
        path = _reports_dir() / f"{report_id}.xlsx"
        if not path.exists():
            raise Http404
        return FileResponse(path.open("rb"), as_attachment=True, filename=f"导入错误报告-{report_id[:8]}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    context = {"agencies": agencies, "is_sysadmin": agencies.count() > 1, "report": None, "error": "",
               "errors_shown": ERRORS_SHOWN, "agency": _chosen_agency(request, agencies) if request.method == "GET" else None}
    status = 200
    if request.method == "POST":
        agency = _chosen_agency(request, agencies)
        upload = request.FILES.get("file")
        kind = request.POST.get("kind") or None
        context["agency"] = agency
        if agency is None:
            context["error"], status = _("Choose the agency the file belongs to."), 400
        elif upload is None:
            context["error"], status = _("Choose a CSV or XLSX file to upload."), 400
        elif upload.size > MAX_UPLOAD_BYTES:
            context["error"], status = _("The file is larger than 50 MB; split it into several files."), 400
        elif kind is not None and kind not in EXCHANGE_KINDS:
            context["error"], status = _("Unknown kind of record."), 400
        else:
            try:
                report = shuanggongshi.import_file(actor=request.user, agency=agency, file=upload,
                                                   filename=upload.name, kind=kind)
            except shuanggongshi.ImportFileError as exc:
                context["error"], status = str(exc), 400
            else:
                context["report"] = report
                context["kind_label"] = _kind_label(report.kind)
                context["layout_label"] = _layout_label(report.layout)
                context["notes"] = _note_rows(report)
                if report.errors or report.notes:
                    rid = uuid.uuid4().hex
                    (_reports_dir() / f"{rid}.xlsx").write_bytes(shuanggongshi.error_report_xlsx(report))
                    kept = [rid, *request.session.get("publicity_import_reports", [])]
                    for old in kept[REPORTS_KEPT:]:
                        (_reports_dir() / f"{old}.xlsx").unlink(missing_ok=True)
                    request.session["publicity_import_reports"] = kept[:REPORTS_KEPT]
                    context["report_id"] = rid
    return render(request, "publicity/import.html", context, status=status)


@staff_required
def export_download(request):
    """The agency's decisions of one kind in the 双公示 layout (CSV or XLSX),
    for the credit platform exchange. Records that must not be published
    (minors, secrets, privacy: penalty law art. 50) are left out."""
    agencies = _agencies_for(request.user)
    agency = _chosen_agency(request, agencies)
    kind = request.GET.get("kind", ActKind.PENALTY)
    fmt = request.GET.get("fmt", "xlsx")
    headers = request.GET.get("headers", "chinese")
    if agency is None or kind not in EXCHANGE_KINDS or fmt not in ("csv", "xlsx") \
            or headers not in ("chinese", "codes"):
        return HttpResponseBadRequest(_("Choose the agency, the kind (penalty or license) and the format (csv or xlsx)."))
    records = decisions_for(user=request.user).filter(agency=agency, kind=kind).exclude(status=DecisionStatus.NOT_PUBLIC)
    content = shuanggongshi.export_file(records=records, fmt=fmt, kind=kind, headers=headers)
    append_audit(actor=request.user, action="publicity.export", obj=agency,
                 payload={"kind": kind, "format": fmt, "records": records.count(), "purpose": "双公示 credit platform exchange"})
    name = f"{ACT_KIND_NAMES[kind]}-{agency.credit_code}-{clock.today():%Y%m%d}.{fmt}"
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=content_type)
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store, private"
    return response
