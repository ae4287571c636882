"""Pages of 双随机一公开: the public draws on the portal (公示-15) with
their records and the verifier anyone can download and run."""

from __future__ import annotations

import io
import json
from datetime import date
from urllib.parse import quote
from pathlib import Path

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from sanxiang.api.api import api
from sanxiang.core import clock, exports
from sanxiang.core.db_router import public_read
from sanxiang.core.parsing import MAX_COUNT, MAX_DAY, MIN_DAY, parse_int
from sanxiang.core.refusals import reject, run_shown
from sanxiang.core.views import staff_required

from . import drawv1, selectors, services
from .models import InspectionResult, RiskTier

PAGE_SIZE = 20
VERIFIER = Path(drawv1.__file__)


@require_GET
@public_read
def public_draws(request):
    page = Paginator(selectors.public_draws(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inspections/public_draws.html", {"page": page, "total": page.paginator.count})


@require_GET
@public_read
def public_draw(request, pk: int):
    draw = selectors.public_draw(pk=pk)
    if draw is None:
        raise Http404("no such public draw")
    record = selectors.draw_record(draw)
    names = selectors.public_object_names(o["object"] for o in record["result"])
    strata = {}
    for obj in record["snapshot"]["objects"]:
        strata[obj["stratum"]] = strata.get(obj["stratum"], 0) + 1
    tiers = [{"tier": t, "label": RiskTier(t).label if t in RiskTier.values else t, "population": n,
              "ratio": record["ratios"].get(t, "0"),
              "selected": drawv1.selected_count(drawv1.ratio_of(t, record["ratios"].get(t, "0")), n)}
             for t, n in sorted(strata.items())]
    published = selectors.published_result_labels(draw)
    rows = [{"object": r["object"], "name": names.get(r["object"], ""), "inspectors": r["inspectors"],
             "result": published.get(r["object"], "")} for r in record["result"]]
    record_url = reverse(f"{api.urls_namespace}:inspections_draw_record", kwargs={"draw_id": draw.pk})
    return render(request, "inspections/public_draw.html", {
        "draw": draw, "record": record, "tiers": tiers, "rows": rows, "record_url": record_url,
        "verifier_url": reverse("inspections:verifier"), "back_url": reverse("inspections:public_draws"),
        "back_label": _("Random inspection draws"),
        "record_json": json.dumps(record, ensure_ascii=False, indent=1)[:200000],
    })


@require_GET
def verifier(request):
    """drawv1.py as it runs on this platform: the verifier to download."""
    response = HttpResponse(VERIFIER.read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="drawv1.py"'
    return response


# --- the back office ------------------------------------------------------------


def _day(request, name: str):
    """A date of the form, or None when it is missing or not a date (the
    service then refuses naming the field)."""
    try:
        value = date.fromisoformat(request.POST.get(name, "").strip())
    except ValueError:
        return None
    return value if MIN_DAY <= value <= MAX_DAY else None


def _int_or_none(request, name: str):
    raw = request.POST.get(name, "").strip()
    return parse_int(raw, field=name, minimum=0, maximum=MAX_COUNT) if raw else None


@staff_required
def office(request):
    data = selectors.office_for(user=request.user)
    choices = selectors.batch_choices(user=request.user) if data["organiser"] else {}
    return render(request, "inspections/office.html", {
        **data, **choices, "tiers": RiskTier.choices, "year": clock.today().year, "today": clock.today(),
        "results": InspectionResult.choices,
        "back_url": reverse("core:workbench"), "back_label": _("Back to the workbench"),
    })


def _done(request, call, success: str):
    run_shown(request, call, success)
    return redirect("inspections:office")


@staff_required
@require_POST
def plan_create(request):
    year = _int_or_none(request, "year")
    return _done(request, lambda: services.create_plan(actor=request.user, agency=request.user.agency, year=year,
                                                       title=request.POST.get("title", "")), _("Plan created."))


@staff_required
@require_POST
def batch_add(request, pk: int):
    plan = selectors.get_plan_for(user=request.user, pk=pk)
    choices = selectors.batch_choices(user=request.user)
    region = choices["regions"].filter(code=request.POST.get("region", "").strip()).first()
    ratios = {t: request.POST.get(f"ratio_{t}", "").strip() for t in RiskTier.values if request.POST.get(f"ratio_{t}", "").strip()}
    asked = {int(v) for v in request.POST.getlist("joint") if v.isascii() and v.isdigit() and len(v) <= 18}
    # Every agency asked for goes to the service, which refuses one it may
    # not inspect jointly with, naming it (not silently dropped here).
    joint = selectors.agencies_by_id(asked)

    def call():
        if region is None:
            reject("region", "请选择抽查范围的行政区划。", "required")
        if len(joint) != len(asked):
            reject("joint_agencies", "所选的联合抽查部门不存在。", "unknown")
        services.add_batch(actor=request.user, plan=plan, title=request.POST.get("title", ""),
                           item_code=request.POST.get("item_code", ""), scope_region=region, ratios=ratios,
                           starts_on=_day(request, "starts_on"), ends_on=_day(request, "ends_on"),
                           inspectors_per_object=_int_or_none(request, "k") or 0,
                           limit_per_inspector=_int_or_none(request, "limit"),
                           scope_industry=request.POST.get("industry", ""), scope_label=request.POST.get("label", ""),
                           joint_agencies=joint)
    return _done(request, call, _("Batch added."))


@staff_required
@require_POST
def plan_submit(request, pk: int):
    plan = selectors.get_plan_for(user=request.user, pk=pk)
    return _done(request, lambda: services.submit_plan(actor=request.user, plan=plan),
                 _("Submitted to the legal office for filing."))


@staff_required
@require_POST
def plan_decide(request, pk: int):
    plan = selectors.get_plan_for(user=request.user, pk=pk)
    accept = request.POST.get("decision") == "file"
    return _done(request, lambda: services.decide_plan(actor=request.user, plan=plan, accept=accept,
                                                       reason=request.POST.get("reason", "")),
                 _("The plan is filed.") if accept else _("The plan was returned with the reason."))


@staff_required
@require_POST
def draw_start(request, pk: int):
    batch = selectors.get_batch_for(user=request.user, pk=pk)
    return _done(request, lambda: services.create_draw(actor=request.user, batch=batch,
                                                       public_value_note=request.POST.get("public_value_note", "")),
                 _("The draw is started: the snapshot is frozen. Each participant now gives its commitment."))


@staff_required
@require_POST
def draw_commit(request, pk: int):
    draw = selectors.get_draw_for(user=request.user, pk=pk)
    return _done(request, lambda: services.commit(actor=request.user, draw=draw, agency=request.user.agency,
                                                  commitment=request.POST.get("commitment", "")),
                 _("Commitment recorded. Keep the secret: you reveal it once every participant has committed."))


@staff_required
@require_POST
def draw_reveal(request, pk: int):
    draw = selectors.get_draw_for(user=request.user, pk=pk)
    return _done(request, lambda: services.reveal(actor=request.user, draw=draw, agency=request.user.agency,
                                                  secret=request.POST.get("secret", "")),
                 _("Secret recorded. The draw runs when the last secret is in."))


@staff_required
@require_POST
def draw_public_value(request, pk: int):
    draw = selectors.get_draw_for(user=request.user, pk=pk)
    return _done(request, lambda: services.enter_public_value(actor=request.user, draw=draw,
                                                              value=request.POST.get("public_value", "")),
                 _("Public value recorded."))


@staff_required
@require_POST
def draw_redraw(request, pk: int):
    draw = selectors.get_draw_for(user=request.user, pk=pk)
    return _done(request, lambda: services.redraw(actor=request.user, draw=draw, reason=request.POST.get("reason", ""),
                                                  public_value_note=request.POST.get("public_value_note", "")),
                 _("A new draw is started; the reason is published with it."))


@staff_required
@require_POST
def inspection_start(request, pk: int):
    inspection = selectors.get_inspection_for(user=request.user, pk=pk)
    started = []
    if not run_shown(request, lambda: started.append(services.start_inspection(actor=request.user, inspection=inspection)),
                     _("The inspection case is opened: record the on-site inspection in it.")):
        return redirect("inspections:office")
    return redirect("cases:detail", pk=started[0].case_id)


@staff_required
@require_POST
def inspection_result(request, pk: int):
    inspection = selectors.get_inspection_for(user=request.user, pk=pk)
    return _done(request, lambda: services.record_result(
        actor=request.user, inspection=inspection, result=request.POST.get("result", ""),
        inspected_on=_day(request, "inspected_on"), note=request.POST.get("note", "")),
        _("The result is recorded and public on the portal."))


@require_GET
@public_read
def public_results(request):
    q = request.GET.get("q", "").strip()[:50]
    page = Paginator(selectors.public_results(q=q), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [selectors.public_result(i) for i in page]
    return render(request, "inspections/public_results.html", {"page": page, "rows": rows, "q": q,
                                                               "total": page.paginator.count})


FIGURE_COLUMNS = [("agency", _lazy("Agency"), 24), ("batch", _lazy("Batch"), 28), ("item", _lazy("Inspection item"), 28),
                  ("tier", _lazy("Tier"), 8), ("planned", _lazy("Planned ratio"), 10), ("population", _lazy("Objects in scope"), 10),
                  ("drawn", _lazy("Drawn"), 8), ("drawn_ratio", _lazy("Drawn / in scope"), 10),
                  ("inspected", _lazy("Inspected"), 8), ("inspected_ratio", _lazy("Inspected / in scope"), 10),
                  ("problems", _lazy("Problems found"), 10), ("cases", _lazy("Cases opened"), 10),
                  ("published", _lazy("Results published"), 10), ("on_time", _lazy("Published on time"), 10),
                  ("on_time_ratio", _lazy("On time / published"), 10)]


def _figures(request):
    year = parse_int(request.GET.get("year") or clock.today().year, field="year", minimum=2000, maximum=2100)
    rows = selectors.figures_for(user=request.user, year=year)
    for row in rows:
        row["tier_label"] = row["tier"] or _("Total")
    return year, rows


@staff_required
@require_GET
def figures(request):
    year, rows = _figures(request)
    return render(request, "inspections/figures.html", {
        "year": year, "rows": rows, "columns": FIGURE_COLUMNS,
        "back_url": reverse("inspections:office"), "back_label": _("Random inspections")})


@staff_required
@require_GET
def figures_export(request):
    year, rows = _figures(request)
    buf = io.BytesIO()
    book = exports.workbook(buf)
    sheet = book.add_worksheet(_("Random inspection figures")[:31])
    head = book.add_format({"bold": True, "bg_color": "#F1F3F4", "border": 1, "text_wrap": True, "valign": "top"})
    for c, (_key, label, width) in enumerate(FIGURE_COLUMNS):
        sheet.write_string(0, c, str(label), head)
        sheet.set_column(c, c, width)
    for r, row in enumerate(rows, start=1):
        for c, (key, _label, _width) in enumerate(FIGURE_COLUMNS):
            value = row["tier_label"] if key == "tier" else row[key]
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    sheet.freeze_panes(1, 0)
    book.close()
    response = HttpResponse(buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_('random-inspections') + f'-{year}.xlsx')}"
    return response
