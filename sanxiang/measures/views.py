"""Pages of the task table (issue 16 part 2): the legal office's matrix of
units × measures with its Excel export and the roll-out button, a unit's
task list, the task page (reports, evidence, marking done, acceptance,
filing), and the list of filings. Thin: reads through selectors, writes
through services."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanxiang.core import clock, exports
from sanxiang.core.parsing import parse_int
from sanxiang.core.refusals import run_shown
from sanxiang.core.selectors import get_in_scope
from sanxiang.core.views import staff_required

from . import predicates, selectors, services
from .models import FilingStatus, TaskEvidence, TaskStatus
from .proofs import PROOFS
from .table import SYSTEMS, table_named

STATUS_CSS = {TaskStatus.DONE: "done", TaskStatus.IN_PROGRESS: "progress", TaskStatus.OVERDUE: "overdue",
              TaskStatus.NOT_STARTED: "todo"}


def _system_choices():
    return [(code, label) for code, (_short, label) in SYSTEMS.items()]


def _matrix(request):
    g = request.GET
    status = g.get("status", "")
    return selectors.matrix(user=request.user, region_code=g.get("region", "").strip()[:12],
                            system=g.get("system", "") if g.get("system", "") in SYSTEMS else "",
                            status=status if status in TaskStatus.values else "")


@staff_required
@require_GET
def matrix(request):
    if not predicates.can_see_matrix(request.user):
        return redirect("measures:tasks")  # a unit: its own tasks
    m = _matrix(request)
    for row in m.rows:
        for cell in row["cells"]:
            if cell:
                cell["css"] = STATUS_CSS[cell["status"]]
    legend = [(code, label, STATUS_CSS[code], m.counts.get(code, 0)) for code, label in TaskStatus.choices]
    return render(request, "measures/matrix.html", {
        "m": m, "systems": _system_choices(), "statuses": TaskStatus.choices, "legend": legend,
        "may_roll_out": m.rollout is None and predicates.can_roll_out(request.user).ok,
        "today": clock.today(), "query": request.GET.urlencode(),
    })


@staff_required
@require_GET
def matrix_export(request):
    if not predicates.can_see_matrix(request.user):
        raise PermissionDenied(predicates.can_see_matrix(request.user).reason)
    m = _matrix(request)
    buf = io.BytesIO()
    book = exports.workbook(buf)
    sheet = book.add_worksheet(_("Task matrix")[:31])
    head = book.add_format({"bold": True, "bg_color": "#F1F3F4", "border": 1, "text_wrap": True, "valign": "top"})
    fills = {TaskStatus.DONE: "#D9F2E3", TaskStatus.IN_PROGRESS: "#FFF2CC", TaskStatus.OVERDUE: "#F8D7DA",
             TaskStatus.NOT_STARTED: "#FFFFFF"}
    formats = {s: book.add_format({"bg_color": c, "border": 1}) for s, c in fills.items()}
    sheet.write_string(0, 0, _("Region"), head)
    sheet.write_string(0, 1, _("Unit"), head)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 28)
    for c, measure in enumerate(m.measures, start=2):
        sheet.write_string(0, c, f"{measure.code} {measure.measure}", head)
        sheet.set_column(c, c, 10)
    done_col = len(m.measures) + 2
    sheet.write_string(0, done_col, _("Done / tasks"), head)
    for r, row in enumerate(m.rows, start=1):
        sheet.write_string(r, 0, row["agency"].region.name)
        sheet.write_string(r, 1, row["agency"].name)
        for c, cell in enumerate(row["cells"], start=2):
            if cell:
                sheet.write_string(r, c, str(cell["label"]), formats[cell["status"]])
        sheet.write_string(r, done_col, f"{row['done']}/{row['total']}")
    sheet.freeze_panes(1, 2)
    totals = book.add_worksheet(_("Totals")[:31])
    for r, (value, label) in enumerate(TaskStatus.choices):
        totals.write_string(r, 0, str(label))
        totals.write_number(r, 1, m.counts.get(value, 0))
    book.close()
    response = HttpResponse(buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = _("task-matrix") + f"-{clock.today():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@staff_required
@require_POST
def roll_out(request):
    year = request.POST.get("year", "").strip()
    done = {}

    def act():
        done["result"] = services.roll_out(
            actor=request.user, year=parse_int(year, field="year", minimum=2000, maximum=2100) if year else None)

    if run_shown(request, act):
        result = done["result"]
        messages.success(request, _("Rolled out: %(n)s tasks, %(f)s filings.") % {"n": result.created, "f": result.filings})
    return redirect("measures:matrix")


@staff_required
@require_GET
def task_list(request):
    status = request.GET.get("status", "")
    rows = selectors.unit_tasks(user=request.user)
    if status in TaskStatus.values:
        rows = [r for r in rows if r[1] == status]
    tables = {}
    items = []
    for task, s in rows:
        table = tables.setdefault(task.rollout.table, table_named(task.rollout.table))
        items.append({"task": task, "status": s, "label": TaskStatus(s).label, "css": STATUS_CSS[s],
                      "measure": table.measure(task.measure_code)})
    return render(request, "measures/tasks.html", {
        "items": items, "statuses": TaskStatus.choices, "status": status,
        "may_see_matrix": predicates.can_see_matrix(request.user).ok,
    })


def _task_context(request, task):
    measure = table_named(task.rollout.table).measure(task.measure_code)
    status = selectors.task_status(task)
    filing = getattr(task, "filing", None) if hasattr(task, "filing") else None
    filing_view = selectors.filing_views([filing])[filing.pk] if filing else None
    user = request.user
    return {
        "task": task, "measure": measure, "status": status, "status_label": TaskStatus(status).label,
        "status_css": STATUS_CSS[status], "filing": filing, "filing_view": filing_view,
        "reports": task.reports.select_related("by"), "evidence": task.evidence.select_related("by"),
        "may_work": predicates.can_work_on_task(user, task).ok, "may_decide": predicates.can_decide_task(user, task).ok,
        "may_see_matrix": predicates.can_see_matrix(user).ok, "checkable": task.measure_code in PROOFS,
        "today": clock.today(), "max_upload_mb": services.MAX_UPLOAD_BYTES // (1024 * 1024),
        "filing_statuses": FilingStatus,
    }


@staff_required
@require_GET
def task_detail(request, pk: int):
    task = selectors.get_task_for(user=request.user, pk=pk)
    return render(request, "measures/task.html", _task_context(request, task))


@staff_required
@require_POST
def task_action(request, pk: int, action: str):
    task = selectors.get_task_for(user=request.user, pk=pk)
    user, p = request.user, request.POST
    actions = {
        "report": (lambda: services.add_report(actor=user, task=task, text=p.get("text", "")), _("Progress recorded.")),
        "upload": (lambda: services.upload_evidence(actor=user, task=task, upload=request.FILES.get("file"),
                                                    label=p.get("label", "")), _("Document added as evidence.")),
        "check": (lambda: services.check_platform_evidence(actor=user, tasks=[task]), _("The platform was checked for evidence.")),
        "submit": (lambda: services.submit_task(actor=user, task=task), _("Marked done: waiting for the legal office.")),
        "accept": (lambda: services.accept_task(actor=user, task=task), _("Task accepted.")),
        "return": (lambda: services.return_task(actor=user, task=task, reason=p.get("reason", "")), _("Task returned.")),
    }
    filing = getattr(task, "filing", None) if hasattr(task, "filing") else None
    if filing is not None:
        actions["file-submit"] = (lambda: services.submit_filing(actor=user, filing=filing, reference=p.get("reference", "")),
                                  _("Filing submitted."))
        actions["file-accept"] = (lambda: services.decide_filing(actor=user, filing=filing, accept=True), _("Filed."))
        actions["file-return"] = (lambda: services.decide_filing(actor=user, filing=filing, accept=False,
                                                                 reason=p.get("reason", "")), _("Filing returned."))
    if action not in actions:
        raise Http404("no such action")
    act, success = actions[action]
    run_shown(request, act, success)
    return redirect("measures:task", pk=task.pk)


@staff_required
@require_GET
def evidence_file(request, pk: int):
    evidence = get_in_scope(TaskEvidence.objects.filter(task__in=selectors.tasks_for(user=request.user)).exclude(file=""),
                            "evidence", pk=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.file.name.rsplit("/", 1)[-1],
                        content_type=evidence.file_type or "application/octet-stream")


@staff_required
@require_http_methods(["GET"])
def filing_list(request):
    status = request.GET.get("status", "")
    rows = selectors.filings_for(user=request.user, status=status if status in FilingStatus.values else "")
    return render(request, "measures/filings.html", {
        "rows": rows, "statuses": FilingStatus.choices, "status": status,
        "back_url": reverse("measures:matrix") if predicates.can_see_matrix(request.user) else reverse("measures:tasks"),
    })

