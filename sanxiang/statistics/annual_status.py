"""Reads of the annual reports: the due day (31 January of the following
year, the dated rule ``publicity.annual_report_deadline``), each agency's status
against it (not started / drafted / published / late), and the snapshot a
publication freezes. Nothing is written here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.core import clock
from sanxiang.core.models import Role
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS
from sanxiang.core.models import Agency, AgencyKind, Region
from sanxiang.publicity.redaction import redact_text
from sanxiang.rules.loader import get_rule

from . import annual, annual_rules
from .models import AnnualReport, ReportStatus

NOT_STARTED, DRAFTED, PUBLISHED, LATE = "not_started", "drafted", "published", "late"
STATUS_LABELS = {NOT_STARTED: "未开始", DRAFTED: "已起草", PUBLISHED: "已发布", LATE: "逾期"}


def due_date(year: int, *, agency: Agency | None = None) -> date:
    """The last day to publish the report of ``year``: day N of the
    following year (N = 31: 31 January, 国办发〔2018〕118号)."""
    first = date(year + 1, 1, 1)
    rule = get_rule("publicity.annual_report_deadline", on=first, agency=agency,
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


def public_text(text: str) -> str:
    """Free text people wrote for the public (情况说明, a manual figure's
    note, a legal office's 通报) as it is published: through the redactor
    like every public text (an ID number or a phone written into it is not
    shown)."""
    return redact_text(text, address_mode="residence").text if text else text


def snapshot(computed: annual.AnnualFigures, report: AnnualReport) -> dict:
    """What a publication freezes: the computed figures with each row's
    rule and sources, the manual figures with their notes, the explanation
    (the free text redacted: public_text)."""
    template = computed.template
    manual = []
    for m in template.manual:
        entry = dict(report.manual.get(m.key) or {"value": "", "note": ""})
        if isinstance(entry.get("note"), str):
            entry["note"] = public_text(entry["note"])
        manual.append({"key": m.key, "label": m.label, **entry})
    return {
        "figures": annual.as_json(computed),
        "rows": [{"key": r.key, "label": r.label, "rule": r.rule, "sources": list(r.sources)} for r in template.rows],
        "manual": manual,
        "explanation": public_text(report.explanation),
        "computed_on": clock.today().isoformat(),
    }


def default_year(today: date) -> int:
    """The year whose report is being written: last year (from the first
    template's year on)."""
    return max(annual_rules.templates()[0].applies_from_year, today.year - 1)


def todo(*, user, today):
    """core/todo.py provider: the agency's report of the year not yet
    published (its head and publicity administrator; due 31 January), and
    for a legal office the agencies of its region late with theirs (one
    line). A bounded number of queries."""
    if not getattr(user, "is_authenticated", False):
        return []
    year = default_year(today)
    role = getattr(user, "role", None)
    if role in PUBLICITY_MANAGERS and user.agency_id and user.agency.kind != AgencyKind.LEGAL_OFFICE:
        published = AnnualReport.objects.filter(agency_id=user.agency_id, year=year, status=ReportStatus.PUBLISHED).exists()
        if not published:
            return [TodoItem(kind="statistics.annual_report", label=_("Annual enforcement statistics report"),
                             title=f"{year}年度行政执法数据年度报告", detail=user.agency.name,
                             url=f"{reverse('statistics:annual_edit')}?year={year}", due=due_date(year, agency=user.agency))]
    if role == Role.LEGAL_SUPERVISOR and user.region_id and today > due_date(year):
        late = [r for r in region_status(region=user.region, year=year, today=today) if r.code == LATE]
        if late:
            return [TodoItem(kind="statistics.annual_late", label=_("Annual reports not published on time"),
                             title=f"{year}年度：{len(late)}个部门逾期未发布", detail="、".join(r.agency.name for r in late[:5]),
                             url=f"{reverse('statistics:annual_status')}?year={year}", due=due_date(year))]
    return []
