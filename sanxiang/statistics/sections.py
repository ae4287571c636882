"""The cockpit's sections: each one chart and its table (and one worksheet
of the Excel export), built from the figures' tallies.

A section either has one row per unit (the regions and agencies of the
cockpit, with a total row), or one row per kind (act kinds, penalty
categories) counted over the whole scope. A column reads one number from a
tally; rates are derived there from their counts (``figures.rate``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext_lazy as _

from sanxiang.core.vocabulary import ActKind, PenaltyCategory

from .figures import Tally, average, rate, yuan
from .registry import figure_sources


@dataclass(frozen=True)
class Column:
    code: str
    label: object  # lazy text
    value: Callable[[Tally], object]
    charted: bool = True
    percent: bool = False


@dataclass
class Row:
    label: str
    values: list
    url: str = ""


@dataclass
class Section:
    code: str
    title: str
    chart: str  # "bar" | "stack" | "pie"
    row_heading: str
    columns: list[Column]
    rows: list[Row]
    total: Row | None
    note: str = ""

    @property
    def sheet_name(self) -> str:
        return str(self.title)[:31]  # Excel's limit on a worksheet's name

    @property
    def percent(self) -> bool:
        return all(c.percent for c in self.columns if c.charted)

    def chart_data(self) -> dict:
        charted = [(i, c) for i, c in enumerate(self.columns) if c.charted]
        return {
            "code": self.code, "title": str(self.title), "chart": self.chart, "percent": self.percent,
            "categories": [r.label for r in self.rows],
            "series": [{"name": str(c.label), "data": [_json_number(r.values[i]) for r in self.rows]} for i, c in charted],
        }


def _json_number(value):
    if value is None:
        return None
    return float(value) if not isinstance(value, int) else value


def count(key: str) -> Callable[[Tally], int]:
    return lambda t: t[key]


@dataclass(frozen=True)
class UnitSection:
    """One row per unit, and a total row."""

    code: str
    title: object
    chart: str
    columns: tuple[Column, ...]
    note: object = ""

    def columns_now(self) -> list[Column]:
        return list(self.columns)

    def build(self, units, total: Tally) -> Section:
        columns = self.columns_now()
        rows = [Row(u.label, [c.value(u.tally) for c in columns], u.url) for u in units]
        return Section(self.code, str(self.title), self.chart, str(_("Region or agency")), columns, rows,
                       Row(str(_("Total")), [c.value(total) for c in columns]) if len(units) > 1 else None,
                       str(self.note))


@dataclass(frozen=True)
class SourcesSection(UnitSection):
    """The figures registered by higher apps (registry.py): one column each."""

    def columns_now(self) -> list[Column]:
        return [Column(s.code, s.label, count(f"source.{s.code}")) for s in figure_sources()]

    def build(self, units, total):
        section = super().build(units, total)
        if not section.columns:
            section.rows, section.total = [], None
        return section


@dataclass(frozen=True)
class KindSection:
    """One row per kind (act kind, penalty category) over the whole scope;
    kinds with nothing to count are left out."""

    code: str
    title: object
    chart: str
    row_heading: object
    kinds: tuple  # (value, label)
    columns: tuple[tuple[str, object], ...]  # (key pattern with {kind}, label)
    note: object = ""

    def build(self, units, total: Tally) -> Section:
        columns = [Column(pattern, label, count(pattern)) for pattern, label in self.columns]
        rows = []
        for value, label in self.kinds:
            values = [total[pattern.format(kind=value)] for pattern, _label in self.columns]
            if any(values):
                rows.append(Row(str(label), values))
        sums = [sum(r.values[i] for r in rows) for i in range(len(columns))]
        return Section(self.code, str(self.title), self.chart, str(self.row_heading), columns, rows,
                       Row(str(_("Total")), sums) if rows else None, str(self.note))


SECTIONS = [
    UnitSection("cases", _("Cases opened and closed"), "bar", (
        Column("opened", _("cases opened"), count("cases.opened")),
        Column("closed", _("cases closed"), count("cases.closed")),
        Column("terminated", _("cases terminated"), count("cases.terminated")),
    )),
    KindSection("act_kinds", _("Cases by act kind"), "bar", _("act kind"), tuple(ActKind.choices), (
        ("cases.opened.{kind}", _("cases opened")),
        ("cases.closed.{kind}", _("cases closed")),
    )),
    KindSection("categories", _("Penalty decisions by heaviest category"), "pie", _("penalty category"),
                tuple(PenaltyCategory.choices) + (("unknown", _("category not given")),), (
                    ("penalty.category.{kind}", _("penalty decisions")),
                ), _("A decision with several penalties counts once, under the heaviest.")),
    UnitSection("money", _("Fines and confiscations (yuan)"), "bar", (
        Column("decisions", _("penalty decisions"), count("penalty.decisions"), charted=False),
        Column("fine", _("fines (yuan)"), lambda t: yuan(t["penalty.fine_fen"])),
        Column("confiscation", _("confiscations (yuan)"), lambda t: yuan(t["penalty.confiscation_fen"])),
    )),
    UnitSection("procedure", _("Summary and general procedure"), "stack", (
        Column("summary", _("summary procedure"), count("procedure.summary")),
        Column("general", _("general procedure"), count("procedure.general")),
        Column("summary_share", _("summary share (%)"),
               lambda t: rate(t["procedure.summary"], t["procedure.summary"] + t["procedure.general"]),
               charted=False, percent=True),
    ), _("Penalty cases decided in the period.")),
    UnitSection("reviews", _("Legal reviews"), "bar", (
        Column("opinions", _("review opinions"), count("reviews.opinions")),
        Column("passed", _("passed"), count("reviews.passed")),
        Column("pass_rate", _("pass rate (%)"), lambda t: rate(t["reviews.passed"], t["reviews.opinions"]),
               charted=False, percent=True),
        Column("on_time", _("on time"), count("reviews.on_time"), charted=False),
        Column("average_days", _("average days taken"),
               lambda t: average(t["reviews.days_total"], t["reviews.opinions"]), charted=False),
    )),
    UnitSection("hearings", _("Hearings"), "bar", (
        Column("requested", _("hearings requested"), count("hearings.requested")),
        Column("held", _("hearings held"), count("hearings.held")),
    )),
    UnitSection("publication", _("Publication timeliness"), "stack", (
        Column("on_time", _("published on time"), count("publication.on_time")),
        Column("late", _("published late"), count("publication.late")),
        Column("overdue", _("overdue, not published"), count("publication.overdue")),
        Column("on_time_rate", _("on-time rate (%)"),
               lambda t: rate(t["publication.on_time"],
                              t["publication.on_time"] + t["publication.late"] + t["publication.overdue"]),
               charted=False, percent=True),
    ), _("Decisions whose publication was due in the period.")),
    UnitSection("rates", _("AV coverage, certificate rate, inspection coverage (%)"), "bar", (
        Column("av_rate", _("AV coverage (%)"), lambda t: rate(t["av.with_av"], t["av.required"]), percent=True),
        Column("certificate_rate", _("certificate rate (%)"),
               lambda t: rate(t["officers.certified"], t["officers.total"]), percent=True),
        Column("inspection_rate", _("inspection coverage (%)"),
               lambda t: rate(t["inspections.done"], t["inspections.drawn"]), percent=True),
        Column("av_required", _("steps needing AV"), count("av.required"), charted=False),
        Column("av_with", _("with AV"), count("av.with_av"), charted=False),
        Column("av_exempted", _("exempted"), count("av.exempted"), charted=False),
        Column("officers", _("officers"), count("officers.total"), charted=False),
        Column("certified", _("valid certificates"), count("officers.certified"), charted=False),
        Column("drawn", _("objects drawn"), count("inspections.drawn"), charted=False),
        Column("inspected", _("inspected"), count("inspections.done"), charted=False),
    )),
    SourcesSection("supervision", _("Complaints and alerts"), "bar", ()),
]
