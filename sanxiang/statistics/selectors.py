"""Reads of the supervision cockpit (驾驶舱): the figures of the acting
user's jurisdiction over a period, per region, agency and case.

Scope: ``core.selectors.agencies_for`` (a legal office's supervisor sees the
agencies of the supervised region and the regions below it; a region or
agency outside answers 404). The numbers come from ``figures.compute`` (a
fixed number of GROUP BY queries whatever the number of agencies); a
region's row is the sum of its agencies' tallies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from sanxiang.cases.models import Case
from sanxiang.core import exports
from sanxiang.core.models import Agency, Region
from sanxiang.core.selectors import agencies_for, get_agency_for

from . import figures, predicates
from .sections import SECTIONS, Section


@dataclass
class Unit:
    """One row of the cockpit: a region below the one shown (its whole
    subtree) or an agency."""

    kind: str  # "region" | "agency"
    key: str  # region code or agency id
    label: str
    url: str
    agency_ids: list[int] = field(default_factory=list)
    tally: figures.Tally = field(default_factory=figures.Tally)


@dataclass
class Cockpit:
    title: str
    date_from: date
    date_to: date
    units: list[Unit]
    total: figures.Tally
    sections: list[Section]
    region: Region | None = None
    agency: Agency | None = None
    trail: list[tuple[str, str]] = field(default_factory=list)  # (label, url) from the user's region down

    def query(self) -> str:
        return urlencode({"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()})


def _period_query(date_from: date, date_to: date) -> str:
    return urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})


def home_region(user) -> Region:
    """Where the user's cockpit starts: the supervised region (a system
    administrator: the top of the tree)."""
    if getattr(user, "region_id", None):
        return user.region
    region = Region.objects.filter(parent__isnull=True).order_by("code").first()
    if region is None:
        raise Http404("no region")
    return region


def get_region_for(*, user, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or not predicates.can_view_region(user, region):
        raise Http404("region not found")
    return region


def _trail(user, region: Region, date_from, date_to) -> list[tuple[str, str]]:
    """The regions from the user's own down to ``region``, as links."""
    top = home_region(user)
    codes = region.ancestors_and_self()
    codes = codes[codes.index(top.code):] if top.code in codes else [region.code]
    by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
    q = _period_query(date_from, date_to)
    return [(by_code[c].name, f"{reverse('statistics:cockpit')}?region={c}&{q}") for c in codes if c in by_code]


def region_cockpit(*, user, region: Region, date_from: date, date_to: date, today: date) -> Cockpit:
    """The cockpit of a region: one row per region directly below it (its
    whole subtree summed) and one per agency of the region itself."""
    if not predicates.can_view_region(user, region):
        raise Http404("region not found")
    agencies = list(agencies_for(user=user).filter(region__path__startswith=region.path)
                    .order_by("region__code", "name"))
    children = list(Region.objects.filter(parent=region).order_by("code"))
    q = _period_query(date_from, date_to)
    units: list[Unit] = []
    by_child: dict[str, Unit] = {}
    for child in children:
        unit = Unit("region", child.code, child.name, f"{reverse('statistics:cockpit')}?region={child.code}&{q}")
        by_child[child.path] = unit
    for agency in agencies:
        if agency.region_id == region.pk:
            units.append(Unit("agency", str(agency.pk), agency.name,
                              f"{reverse('statistics:agency', args=[agency.pk])}?{q}", [agency.pk]))
            continue
        for path, unit in by_child.items():
            if agency.region.path.startswith(path):
                unit.agency_ids.append(agency.pk)
                break
    units += [u for u in by_child.values() if u.agency_ids]
    tallies = figures.compute(agency_ids=[a.pk for a in agencies], date_from=date_from, date_to=date_to, today=today)
    for unit in units:
        unit.tally = figures.add(tallies[pk] for pk in unit.agency_ids)
    total = figures.add(tallies.values())
    return Cockpit(title=region.name, date_from=date_from, date_to=date_to, units=units, total=total,
                   sections=[s.build(units, total) for s in SECTIONS], region=region,
                   trail=_trail(user, region, date_from, date_to))


def get_agency(*, user, pk) -> Agency:
    return get_agency_for(user=user, pk=pk)


def agency_cockpit(*, user, agency_id, date_from: date, date_to: date, today: date) -> Cockpit:
    """The cockpit of one agency of the user's jurisdiction (404 outside it)."""
    agency = get_agency_for(user=user, pk=agency_id)
    tally = figures.compute(agency_ids=[agency.pk], date_from=date_from, date_to=date_to, today=today)[agency.pk]
    q = _period_query(date_from, date_to)
    unit = Unit("agency", str(agency.pk), agency.name, f"{reverse('statistics:agency', args=[agency.pk])}?{q}",
                [agency.pk], tally)
    trail = _trail(user, agency.region, date_from, date_to) if predicates.can_view_region(user, agency.region) else []
    return Cockpit(title=agency.name, date_from=date_from, date_to=date_to, units=[unit], total=tally,
                   sections=[s.build([unit], tally) for s in SECTIONS], agency=agency, trail=trail)


def agency_cases(*, user, agency_id, date_from: date, date_to: date) -> QuerySet[Case]:
    """The agency's cases behind its figures: opened, closed, decided or
    heard in the period (the case level of the drill-down)."""
    agency = get_agency_for(user=user, pk=agency_id)

    def within(name):
        return Q(**{f"{name}__gte": date_from, f"{name}__lte": date_to})

    return (Case.objects.filter(agency=agency)
            .filter(within("opened_on") | within("closed_on") | within("decided_on") | within("hearing_on"))
            .order_by("-opened_on", "-id"))


def chart_data(cockpit: Cockpit) -> dict:
    """What cockpit.js draws: per section its chart kind, category labels
    and series (the same numbers as the tables)."""
    return {"sections": [s.chart_data() for s in cockpit.sections if s.rows]}


def _cell(value):
    if value is None:
        return ""
    return float(value) if isinstance(value, Decimal) else value


def cockpit_xlsx(cockpit: Cockpit) -> bytes:
    """The cockpit's tables, one worksheet each, with the same numbers."""
    out = io.BytesIO()
    book = exports.workbook(out)
    bold = book.add_format({"bold": True})
    info = book.add_worksheet(_("Period")[:31])
    info.write_row(0, 0, [_("Scope"), cockpit.title], bold)
    info.write_row(1, 0, [_("From"), cockpit.date_from.isoformat()])
    info.write_row(2, 0, [_("To"), cockpit.date_to.isoformat()])
    info.set_column(0, 1, 30)
    for section in cockpit.sections:
        ws = book.add_worksheet(section.sheet_name)
        ws.write_row(0, 0, [section.row_heading] + [str(c.label) for c in section.columns], bold)
        n = 0
        for n, row in enumerate(section.rows, start=1):
            ws.write_row(n, 0, [row.label] + [_cell(v) for v in row.values])
        if section.total is not None:
            ws.write_row(n + 1, 0, [section.total.label] + [_cell(v) for v in section.total.values], bold)
        ws.set_column(0, 0, 36)
        ws.set_column(1, len(section.columns), 14)
    book.close()
    return out.getvalue()

