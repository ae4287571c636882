"""Reads of the annual reports: the due day (31 January of the following
year, the dated rule ``statistics.annual_report_due``), each agency's status
against it (not started / drafted / published / late), and the snapshot a
publication freezes. Nothing is written here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sanxiang.core import clock
from sanxiang.core.models import Agency, AgencyKind, Region
from sanxiang.rules.loader import get_rule

from . import annual
from .models import AnnualReport, ReportStatus

NOT_STARTED, DRAFTED, PUBLISHED, LATE = "not_started", "drafted", "published", "late"
STATUS_LABELS = {NOT_STARTED: "未开始", DRAFTED: "已起草", PUBLISHED: "已发布", LATE: "逾期"}


def due_date(year: int, *, agency: Agency | None = None) -> date:
    """The last day to publish the report of ``year``: day N of the
    following year (N = 31: 31 January, 国办发〔2018〕118号)."""
    first = date(year + 1, 1, 1)
    rule = get_rule("statistics.annual_report_due", on=first, agency=agency,
                    region_code=agency.region.code if agency is not None else None)
    return first + timedelta(days=int(rule.value) - 1)


@dataclass
class AgencyStatus:
    agency: Agency
    report: AnnualReport | None
    due: date
    code: str  # NOT_STARTED | DRAFTED | PUBLISHED | LATE (not published after the due day)
    published_late: bool = False

    @property
    def label(self) -> str:
        text = STATUS_LABELS[self.code]
        return text + "（逾期发布）" if self.published_late else text

    def as_json(self) -> dict:
        return {"agency": self.agency.credit_code, "name": self.agency.name, "status": self.code,
                "published_late": self.published_late, "due": self.due.isoformat(),
                "published_at": self.report.published_at.isoformat() if self.report and self.report.published_at else None}


def status_of(agency: Agency, report: AnnualReport | None, *, year: int, today: date) -> AgencyStatus:
    due = due_date(year, agency=agency)
    if report is not None and report.status == ReportStatus.PUBLISHED:
        late = clock.local_date(report.published_at) > due
        return AgencyStatus(agency, report, due, PUBLISHED, published_late=late)
    if today > due:
        return AgencyStatus(agency, report, due, LATE)
    return AgencyStatus(agency, report, due, DRAFTED if report is not None else NOT_STARTED)


def region_status(*, region: Region, year: int, today: date) -> list[AgencyStatus]:
    """Every enforcement agency of the region's subtree (legal offices
    excluded) with its report's status (two queries)."""
    agencies = [a for a in annual.region_agencies(region) if a.kind != AgencyKind.LEGAL_OFFICE]
    reports = {r.agency_id: r for r in AnnualReport.objects.filter(agency__in=agencies, year=year)}
    return [status_of(a, reports.get(a.pk), year=year, today=today) for a in agencies]


def snapshot(computed: annual.AnnualFigures, report: AnnualReport) -> dict:
    """What a publication freezes: the computed figures with each row's
    rule and sources, the manual figures with their notes, the explanation."""
    template = computed.template
    return {
        "figures": annual.as_json(computed),
        "rows": [{"key": r.key, "label": r.label, "rule": r.rule, "sources": list(r.sources)} for r in template.rows],
        "manual": [{"key": m.key, "label": m.label, **(report.manual.get(m.key) or {"value": "", "note": ""})}
                   for m in template.manual],
        "explanation": report.explanation,
        "computed_on": clock.today().isoformat(),
    }
