"""The annual enforcement statistics (行政执法数据年度报告, issue 16 part 1):
the figures of one agency, or of a region summed over its agencies, for one
calendar year, laid out by the year's counting template (annual_rules).

Every number comes from the figures layer (``figures.compute`` over
1 January … 31 December): no second counting path. What this module adds is
the template's layout and the difference between 0 and "no such duty": a row
whose power (act kind) the agency does not hold — no enforcement item of
that kind in an accepted 行政执法事项清单 in force by the year's end — and
which counts nothing is ``None`` ("—" on pages, null in JSON), not 0. An
agency that holds the power and did nothing shows 0. A region holds a duty
when one of its agencies does.

A read: nothing is written. The caller decides who may see which agencies
(the console command is an operator's tool; pages go through selectors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sanxiang.catalog.models import CatalogueKind, EnforcementItem, VersionStatus
from sanxiang.core.models import Agency, Region
from sanxiang.core.vocabulary import PENALTY_SEVERITY

from . import annual_rules, figures

NO_DUTY = None  # "—": the agency has no such power


def year_period(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def duties(agency_ids: list[int], *, on: date) -> dict[int, set[str]]:
    """The act kinds each agency holds: the kinds of the enforcement items
    of its accepted 行政执法事项清单 versions effective on or before ``on``
    (one query)."""
    held: dict[int, set[str]] = {pk: set() for pk in agency_ids}
    rows = (EnforcementItem.objects.filter(version__agency_id__in=agency_ids,
                                           version__kind=CatalogueKind.ENFORCEMENT_ITEMS,
                                           version__status=VersionStatus.ACCEPTED,
                                           version__effective_date__lte=on)
            .values_list("version__agency_id", "act_kind").distinct().order_by())
    for agency_id, kind in rows:
        held[agency_id].add(kind)
    return held


@dataclass
class AnnualFigures:
    """The computed figures of one agency or one region for a year."""

    year: int
    template: annual_rules.Template
    tally: figures.Tally
    duties: set[str]
    agency: Agency | None = None
    region: Region | None = None
    agency_count: int = 1
    values: dict[str, object] = field(default_factory=dict)  # row key -> int | Decimal | dict | None

    def section(self, name: str) -> dict[str, object]:
        return {row.field: self.values[row.key] for row in self.template.rows if row.section == name}


def _value(row: annual_rules.Row, tally: figures.Tally):
    """(value, whether it counts nothing)."""
    if row.figure.endswith(".*"):
        prefix = row.figure[:-1]
        if prefix.startswith("origin."):  # where the decisions came from (figures.ORIGINS)
            keys = [*figures.ORIGINS.values(), figures.UNKNOWN_ORIGIN]
            value = {k: int(tally[prefix + k]) for k in keys if tally[prefix + k] or k != figures.UNKNOWN_ORIGIN}
            return value, not any(value.values())
        value = {c: int(tally[prefix + c]) for c in PENALTY_SEVERITY}
        if tally[prefix + "unknown"]:
            value["unknown"] = int(tally[prefix + "unknown"])
        return value, not any(value.values())
    if row.figure.endswith("_fen"):
        return figures.yuan(tally[row.figure]), not tally[row.figure]
    value = int(tally[row.figure])
    return value, not value


def sub_row_prefix(key: str) -> str:
    """How a breakdown's lines are named under their row: the decisions'
    sources (``*.by_origin``) as 来源, the categories as 其中."""
    return "来源：" if key.endswith(".by_origin") else "其中："


def _lay_out(result: AnnualFigures) -> AnnualFigures:
    """Fill the rows; the rows of a power the agency (region) does not hold
    become "—" when all of them count nothing. Records of that kind prove
    the power even where the list lacks it, so they are shown."""
    empty_by_duty: dict[str, bool] = {}
    for row in result.template.rows:
        value, empty = _value(row, result.tally)
        result.values[row.key] = value
        if row.duty:
            empty_by_duty[row.duty] = empty_by_duty.get(row.duty, True) and empty
    for row in result.template.rows:
        if row.duty and row.duty not in result.duties and empty_by_duty[row.duty]:
            result.values[row.key] = NO_DUTY
    return result


def for_agencies(agencies: list[Agency], *, year: int, today: date) -> dict[int, AnnualFigures]:
    """Each agency's annual figures (a fixed number of queries)."""
    template = annual_rules.template_for(year)
    date_from, date_to = year_period(year)
    ids = [a.pk for a in agencies]
    tallies = figures.compute(agency_ids=ids, date_from=date_from, date_to=date_to, today=today, origins=True)
    held = duties(ids, on=date_to)
    return {a.pk: _lay_out(AnnualFigures(year=year, template=template, tally=tallies[a.pk], duties=held[a.pk], agency=a))
            for a in agencies}


def region_agencies(region: Region) -> list[Agency]:
    return list(Agency.objects.filter(region__path__startswith=region.path).select_related("region").order_by("pk"))


def for_region(region: Region, *, year: int, today: date) -> AnnualFigures:
    """The region's figures: the sum of its agencies' (its whole subtree)."""
    agencies = region_agencies(region)
    per_agency = for_agencies(agencies, year=year, today=today)
    template = annual_rules.template_for(year)
    held: set[str] = set()
    for f in per_agency.values():
        held |= f.duties
    return _lay_out(AnnualFigures(year=year, template=template, tally=figures.add(f.tally for f in per_agency.values()),
                                  duties=held, region=region, agency_count=len(agencies)))


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def as_json(result: AnnualFigures) -> dict:
    """The interface object (issue 16): amounts as decimal strings, "no
    such duty" as null."""
    out: dict = {"year": result.year, "template": result.template.version,
                 "agency": result.agency.credit_code if result.agency else None}
    if result.region is not None:
        out["region"] = result.region.code
        out["agencies"] = result.agency_count
    else:
        out["agency_name"] = result.agency.name
    for row in result.template.rows:
        out.setdefault(row.section, {})[row.field] = _json_value(result.values[row.key])
    return out
