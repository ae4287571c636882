"""The page of the directory of inspection objects (检查对象名录库) in the
双随机抽查 back office, /inspections/office/directory/: the list with its
search and region and tier filters, the import of an XLSX/CSV file with
its per-row error report (shown, and downloadable as XLSX for this
session), the template, adding one object, and declaring a 回避 from an
object's row. Who: the people of an agency read it; its organisers (and
console processes) maintain it; an officer declares their own 回避, an
organiser anyone's of the agency (services.declare_conflict decides)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanxiang.core.refusals import message_of, reject, run_shown
from sanxiang.core.views import staff_required

from . import imports, predicates, selectors, services
from .models import RiskTier

PAGE_SIZE = 50
ERRORS_SHOWN = 200
REPORTS_KEPT = 5  # error reports remembered per session
SESSION_KEY = "inspections_directory_reports"
_REPORT_ID = re.compile(r"[0-9a-f]{32}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _reports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "import-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _readable(request) -> None:
    if not selectors.can_read_directory(request.user):
        raise PermissionDenied


def _page(request, *, result=None, report_id: str = "", error: str = "", status: int = 200):
    q = request.GET.get("q", "").strip()[:100]
    region = request.GET.get("region", "").strip()[:12]
    tier = request.GET.get("tier", "").strip()[:1]
    rows = selectors.directory_for(user=request.user, q=q, region=region, tier=tier)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    officers = list(selectors.conflict_officers_for(user=request.user))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "inspections/directory.html", {
        "page": page, "total": page.paginator.count, "q": q, "region": region, "tier": tier,
        "query": query.urlencode(), "tiers": RiskTier.choices, "regions": selectors.directory_regions(user=request.user),
        "can_maintain": bool(predicates.can_maintain_directory(request.user)), "officers": officers,
        "result": result, "refused": result.refused[:ERRORS_SHOWN] if result else [], "errors_shown": ERRORS_SHOWN,
        "report_id": report_id, "error": error, "max_rows": imports.MAX_ROWS,
        "back_url": reverse("inspections:office"), "back_label": _("Random inspections"),
    }, status=status)


@staff_required
@require_GET
def directory(request):
    _readable(request)
    return _page(request)


@staff_required
@require_GET
def directory_template(request):
    """The import template (XLSX; ?fmt=csv for CSV)."""
    _readable(request)
    if request.GET.get("fmt") == "csv":
        response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
        name = "检查对象名录导入模板.csv"
    else:
        response = HttpResponse(imports.template_xlsx(), content_type=XLSX)
        name = "检查对象名录导入模板.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@staff_required
@require_http_methods(["POST"])
def directory_import(request):
    _readable(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, error=_("Choose an XLSX or CSV file to upload."), status=400)
    if upload.size > imports.MAX_BYTES:
        return _page(request, error=_("The file is larger than 50 MB; split it into several files."), status=400)
    try:
        result = services.import_objects(actor=request.user, data=b"".join(upload.chunks()), filename=upload.name)
    except (ValidationError, PermissionDenied) as exc:
        return _page(request, error=message_of(exc), status=400)
    report_id = ""
    if result.refused:
        report_id = uuid.uuid4().hex
        (_reports_dir() / f"{report_id}.xlsx").write_bytes(imports.error_report_xlsx(result))
        kept = [report_id, *request.session.get(SESSION_KEY, [])]
        for old in kept[REPORTS_KEPT:]:
            (_reports_dir() / f"{old}.xlsx").unlink(missing_ok=True)
        request.session[SESSION_KEY] = kept[:REPORTS_KEPT]
    return _page(request, result=result, report_id=report_id)


@staff_required
@require_GET
def directory_report(request, report_id: str):
    """The error report of an import made in this session, as XLSX."""
    _readable(request)
    if not _REPORT_ID.fullmatch(report_id) or report_id not in request.session.get(SESSION_KEY, []):
        raise Http404
    path = _reports_dir() / f"{report_id}.xlsx"
    if not path.exists():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"名录导入错误报告-{report_id[:8]}.xlsx",
                        content_type=XLSX)


_ADD_FIELDS = ("name", "credit_code", "id_number", "legal_representative", "address", "industry", "region",
               "risk_tier", "labels")


@staff_required
@require_POST
def directory_add(request):
    _readable(request)
    data = {f: request.POST.get(f, "") for f in _ADD_FIELDS}
    run_shown(request, lambda: services.add_object(actor=request.user, data=data),
              _("The object is added to the directory."))
    return redirect("inspections:directory")


@staff_required
@require_POST
def directory_conflict(request, pk: int):
    """回避 declared from an object's row: one of the officers this person
    may declare for, and the reason."""
    obj = selectors.get_object_for(user=request.user, pk=pk)
    raw = request.POST.get("officer", "").strip()
    officer = selectors.conflict_officers_for(user=request.user).filter(
        pk=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else 0).first()

    def call():
        if officer is None:
            reject("officer", "请选择须回避的执法人员。", "required")
        services.declare_conflict(actor=request.user, officer=officer, obj=obj, reason=request.POST.get("reason", ""))
    run_shown(request, call, _("The conflict of interest is recorded: the draw never assigns this officer to this object."))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/inspections/office/directory/") and "//" not in back else "inspections:directory")
