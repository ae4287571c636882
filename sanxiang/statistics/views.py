"""The supervision cockpit's pages (驾驶舱, issue 15 item 1): region →
agency → case, over a period, with charts (cockpit.js draws them with the
vendored ECharts from the figures in a json_script tag), their tables and
an Excel export of the tables. Thin: the form checks the period, the
selectors read."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from sanxiang.core import clock
from sanxiang.core.refusals import Refused
from sanxiang.core.views import staff_required

from . import predicates, selectors
from .forms import period_form

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CASES_PER_PAGE = 50


def _allowed(request) -> None:
    verdict = predicates.can_view_cockpit(request.user)
    if not verdict:
        raise Refused(verdict)


def _region_of(request):
    code = request.GET.get("region", "").strip()
    if code:
        return selectors.get_region_for(user=request.user, code=code[:12])
    return selectors.home_region(request.user)


def _xlsx(cockpit, filename: str) -> HttpResponse:
    response = HttpResponse(selectors.cockpit_xlsx(cockpit), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required
def cockpit(request):
    _allowed(request)
    today = clock.today()
    region = _region_of(request)
    form = period_form(request.GET, today=today)
    if not form.is_valid():
        return render(request, "statistics/cockpit.html", {"form": form, "region": region}, status=400)
    data = selectors.region_cockpit(user=request.user, region=region, date_from=form.cleaned_data["date_from"],
                                    date_to=form.cleaned_data["date_to"], today=today)
    return render(request, "statistics/cockpit.html", {
        "form": form, "region": region, "cockpit": data, "charts": selectors.chart_data(data),
    })


@staff_required
def cockpit_export(request):
    _allowed(request)
    today = clock.today()
    region = _region_of(request)
    form = period_form(request.GET, today=today)
    if not form.is_valid():
        return render(request, "statistics/cockpit.html", {"form": form, "region": region}, status=400)
    data = selectors.region_cockpit(user=request.user, region=region, date_from=form.cleaned_data["date_from"],
                                    date_to=form.cleaned_data["date_to"], today=today)
    return _xlsx(data, f"cockpit-{region.code}-{data.date_from:%Y%m%d}-{data.date_to:%Y%m%d}.xlsx")


@staff_required
def agency_page(request, pk):
    _allowed(request)
    today = clock.today()
    agency = selectors.get_agency(user=request.user, pk=pk)  # 404 outside the jurisdiction, whatever the dates
    form = period_form(request.GET, today=today)
    if not form.is_valid():
        return render(request, "statistics/agency.html", {"form": form, "agency": agency}, status=400)
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    data = selectors.agency_cockpit(user=request.user, agency_id=pk, date_from=date_from, date_to=date_to, today=today)
    cases = selectors.agency_cases(user=request.user, agency_id=pk, date_from=date_from, date_to=date_to)
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "statistics/agency.html", {
        "form": form, "agency": agency, "cockpit": data, "charts": selectors.chart_data(data), "page": page,
    })


@staff_required
def agency_export(request, pk):
    _allowed(request)
    today = clock.today()
    agency = selectors.get_agency(user=request.user, pk=pk)
    form = period_form(request.GET, today=today)
    if not form.is_valid():
        return render(request, "statistics/agency.html", {"form": form, "agency": agency}, status=400)
    data = selectors.agency_cockpit(user=request.user, agency_id=pk, date_from=form.cleaned_data["date_from"],
                                    date_to=form.cleaned_data["date_to"], today=today)
    return _xlsx(data, f"cockpit-agency-{data.agency.pk}-{data.date_from:%Y%m%d}-{data.date_to:%Y%m%d}.xlsx")
