"""Reads for legal review, always taking the acting user (jurisdiction as
``sanxiang.core.selectors``: an agency's people see its own, a legal office
the agencies of its region, administrators everything). Out of scope is
"not found", never "forbidden"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from sanxiang.catalog import selectors as catalog_selectors
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion
from sanxiang.core.models import Agency, AgencyKind, Officer, OfficerStatus
from sanxiang.core.selectors import agencies_for, get_in_scope
from sanxiang.rules import RuleNotFound, get_rule

from .models import (
    CaseReview, Consultation, Discussion, Extension, Notice, Outcome, Resolution, Reviewer, Submission,
)
from sanxiang.core import clock
from sanxiang.cases.models import Case
from sanxiang.core import exports


def submissions_for(*, user) -> QuerySet[Submission]:
    return Submission.objects.select_related("case", "case__agency", "reviewer").filter(
        case__agency__in=agencies_for(user=user))


def get_submission_for(*, user, pk) -> Submission:
    return get_in_scope(submissions_for(user=user), "submission", pk=pk)


def get_extension_for(*, user, pk) -> Extension:
    return get_in_scope(Extension.objects.select_related("submission"), "extension", pk=pk, submission__in=submissions_for(user=user))


def get_consultation_for(*, user, pk) -> Consultation:
    return get_in_scope(Consultation.objects.select_related("submission"), "consultation", pk=pk, submission__in=submissions_for(user=user))


def discussions_for(*, user) -> QuerySet[Discussion]:
    return Discussion.objects.select_related("case", "case__agency").filter(case__agency__in=agencies_for(user=user))


def get_discussion_for(*, user, pk) -> Discussion:
    return get_in_scope(discussions_for(user=user), "discussion", pk=pk)


def reviewers_for(*, user) -> QuerySet[Reviewer]:
    return Reviewer.objects.select_related("user", "agency").filter(agency__in=agencies_for(user=user))


def get_reviewer_for(*, user, pk) -> Reviewer:
    return get_in_scope(reviewers_for(user=user), "reviewer", pk=pk)


# The review catalogue is a catalogue kind of the catalog app: read through
# its selectors (jurisdiction-scoped, Http404 out of scope).
REVIEW_KINDS = (CatalogueKind.REVIEW_CATALOGUE,)


def catalogue_versions_for(*, user) -> QuerySet[CatalogueVersion]:
    return catalog_selectors.versions_for(user=user, kinds=REVIEW_KINDS)


def get_catalogue_version_for(*, user, pk) -> CatalogueVersion:
    return catalog_selectors.get_version_for(user=user, pk=pk, kinds=REVIEW_KINDS)


def filing_queue(*, user) -> list[CatalogueVersion]:
    """Review catalogues the user's legal office has to accept or return."""
    return catalog_selectors.filing_queue(user=user, kinds=REVIEW_KINDS)


def latest_submission(case) -> Submission | None:
    return Submission.objects.filter(case=case).order_by("-round").first()


def notices_for(*, user) -> QuerySet[Notice]:
    """Reminders and escalations addressed to the user, within scope."""
    qs = Notice.objects.select_related("submission", "submission__case").filter(
        submission__case__agency__in=agencies_for(user=user))
    return [n for n in qs[:200] if user.username in (n.recipients or [])]


def case_review_of(case) -> dict:
    """What the case page shows: flags and evaluation, rounds, discussions."""
    return {
        "flags": CaseReview.objects.filter(case=case).first(),
        "rounds": list(Submission.objects.filter(case=case).select_related("reviewer").prefetch_related(
            "parts", "checklist", "extensions", "consultations", "notices").order_by("round")),
        "discussions": list(Discussion.objects.filter(case=case).order_by("requested_at", "id")),
    }


# --------------------------------------------------------------------------
# Training against the standard (审核-4)

TRAINING_RULE = "legal_review_staffing.training_hours_per_year_min"


@dataclass
class TrainingStanding:
    """A reviewer's training hours: in total, in the year, and the year's
    standard from the dated rule (None where no value is in force)."""

    total: Decimal
    year: int
    year_hours: Decimal
    standard: Decimal | None
    reference: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.standard is None else self.year_hours >= self.standard

    @property
    def missing(self) -> Decimal:
        return max(Decimal(0), (self.standard or Decimal(0)) - self.year_hours)


def training_standing(reviewer: Reviewer, *, on: date | None = None) -> TrainingStanding:
    """Hours of the reviewer's training records (prefetched ``trainings``
    used when present) against the yearly standard in force on the day."""
    on = on or clock.today()
    trainings = list(reviewer.trainings.all())
    try:
        rule = get_rule(TRAINING_RULE, on=on, agency=reviewer.agency)
    except RuleNotFound:
        rule = None
    return TrainingStanding(
        total=sum((t.hours for t in trainings), Decimal(0)), year=on.year,
        year_hours=sum((t.hours for t in trainings if t.held_on.year == on.year and t.held_on <= on), Decimal(0)),
        standard=Decimal(rule.value) if rule else None, reference=rule.reference if rule else "")


# --------------------------------------------------------------------------
# Staffing (审核-2/3) and figures for supervisors


@dataclass
class Staffing:
    officers: int
    reviewers: int
    qualified: int
    ratio_percent: Decimal | None
    qualified_percent: Decimal | None
    ratio_min: Decimal | None
    qualified_min: Decimal | None
    ratio_reference: str = ""
    qualified_reference: str = ""

    @property
    def ratio_ok(self) -> bool | None:
        if self.ratio_min is None or self.ratio_percent is None:
            return None
        return self.ratio_percent >= self.ratio_min

    @property
    def qualified_ok(self) -> bool | None:
        if self.qualified_min is None or self.qualified_percent is None:
            return None
        return self.qualified_percent >= self.qualified_min


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def staffing_of(agency: Agency, *, on: date | None = None) -> Staffing:
    on = on or clock.today()
    officers = Officer.objects.filter(agency=agency, status=OfficerStatus.ACTIVE, valid_from__lte=on, valid_to__gte=on).count()
    reviewers = list(Reviewer.objects.filter(agency=agency, active=True))
    qualified = sum(1 for r in reviewers if r.qualified)

    def rule(name):
        try:
            return get_rule(name, on=on, agency=agency)
        except RuleNotFound:
            return None

    ratio, share = rule("legal_review_staffing.reviewer_ratio_min"), rule("legal_review_staffing.qualified_share_min")
    return Staffing(officers=officers, reviewers=len(reviewers), qualified=qualified,
                    ratio_percent=_percent(len(reviewers), officers), qualified_percent=_percent(qualified, len(reviewers)),
                    ratio_min=Decimal(ratio.value) if ratio else None, qualified_min=Decimal(share.value) if share else None,
                    ratio_reference=ratio.reference if ratio else "", qualified_reference=share.reference if share else "")


@dataclass
class Figures:
    label: str
    region: str = ""
    major_decided: int = 0
    reviewed_before: int = 0
    opinions: int = 0
    on_time: int = 0
    returned: int = 0
    days_total: int = 0
    staffing: Staffing | None = None
    officers: int = 0
    reviewers: int = 0
    qualified: int = 0

    @property
    def reviewed_before_percent(self):
        return _percent(self.reviewed_before, self.major_decided)

    @property
    def on_time_percent(self):
        return _percent(self.on_time, self.opinions)

    @property
    def return_percent(self):
        return _percent(self.returned, self.opinions)

    @property
    def average_days(self):
        if not self.opinions:
            return None
        return (Decimal(self.days_total) / self.opinions).quantize(Decimal("0.1"))

    @property
    def ratio_percent(self):
        return _percent(self.reviewers, self.officers)

    @property
    def qualified_percent(self):
        return _percent(self.qualified, self.reviewers)


def _reviewed_before(case, rounds, discussions) -> bool:
    decided = case.decided_on
    for s in rounds:
        if s.outcome == Outcome.AGREE and s.opinion_at and clock.local_date(s.opinion_at) <= decided:
            return True
    for d in discussions:
        if d.resolution == Resolution.DECIDE and d.recorded_at and clock.local_date(d.recorded_at) <= decided \
                and d.reason == "disagreement":
            return True
    return False


def figures_for(*, user, start: date | None = None, end: date | None = None) -> tuple[list[Figures], list[Figures]]:
    """Per agency and per region (the agency's region), within the user's
    jurisdiction: share of major decisions reviewed before the decision,
    reviews on time, return rate, average days (calendar days from receipt to
    opinion), staffing against the standard. Decisions and opinions are
    counted in [start, end] when given."""
    agencies = list(agencies_for(user=user).exclude(kind=AgencyKind.LEGAL_OFFICE).order_by("region__code", "name"))
    ids = [a.pk for a in agencies]
    rounds = defaultdict(list)
    for s in Submission.objects.filter(case__agency_id__in=ids).select_related("case"):
        rounds[s.case_id].append(s)
    discussions = defaultdict(list)
    for d in Discussion.objects.filter(case__agency_id__in=ids):
        discussions[d.case_id].append(d)
    major = CaseReview.objects.filter(case__agency_id__in=ids, required=True, case__decided_on__isnull=False) \
        .select_related("case")
    if start:
        major = major.filter(case__decided_on__gte=start)
    if end:
        major = major.filter(case__decided_on__lte=end)
    rows = {a.pk: Figures(label=a.name, region=a.region.name) for a in agencies}
    for row in major:
        f = rows[row.case.agency_id]
        f.major_decided += 1
        if _reviewed_before(row.case, rounds[row.case_id], discussions[row.case_id]):
            f.reviewed_before += 1
    for case_rounds in rounds.values():
        for s in case_rounds:
            if not s.opinion_at:
                continue
            day = clock.local_date(s.opinion_at)
            if (start and day < start) or (end and day > end):
                continue
            f = rows[s.case.agency_id]
            f.opinions += 1
            f.on_time += 1 if day <= s.due_on else 0
            f.returned += 1 if s.outcome == Outcome.ISSUES else 0
            f.days_total += (day - s.received_on).days
    by_region: dict[str, Figures] = {}
    for a in agencies:
        f = rows[a.pk]
        f.staffing = staffing_of(a)
        f.officers, f.reviewers, f.qualified = f.staffing.officers, f.staffing.reviewers, f.staffing.qualified
        r = by_region.setdefault(a.region.code, Figures(label=a.region.name, region=a.region.code))
        for attr in ("major_decided", "reviewed_before", "opinions", "on_time", "returned", "days_total", "officers",
                     "reviewers", "qualified"):
            setattr(r, attr, getattr(r, attr) + getattr(f, attr))
    return [rows[a.pk] for a in agencies], list(by_region.values())


def figures_xlsx(*, user, start: date | None = None, end: date | None = None) -> bytes:
    import io

    agencies, regions = figures_for(user=user, start=start, end=end)
    out = io.BytesIO()
    book = exports.workbook(out)
    bold = book.add_format({"bold": True})
    headers = ["名称", "所在地区", "已作出的重大执法决定", "决定前经审核通过", "审核前置率(%)", "出具审核意见", "按期审核",
               "按期率(%)", "退回(存在问题)", "退回率(%)", "平均审核用时(日)", "执法人员", "法制审核人员",
               "审核人员占比(%)", "取得法律职业资格", "资格占比(%)"]

    def sheet(name, rows):
        ws = book.add_worksheet(name)
        ws.write_row(0, 0, headers, bold)
        for i, f in enumerate(rows, start=1):
            values = [f.label, f.region, f.major_decided, f.reviewed_before, f.reviewed_before_percent, f.opinions,
                      f.on_time, f.on_time_percent, f.returned, f.return_percent, f.average_days, f.officers, f.reviewers,
                      f.ratio_percent, f.qualified, f.qualified_percent]
            ws.write_row(i, 0, [float(v) if isinstance(v, Decimal) else ("" if v is None else v) for v in values])
        ws.set_column(0, 0, 36)
        ws.set_column(1, len(headers) - 1, 14)

    sheet("按部门", agencies)
    sheet("按地区", regions)
    book.close()
    return out.getvalue()
