"""The figures layer: what the platform's records say, per agency and period.

One function, ``compute``, counts every figure of the cockpit (and of the
annual statistics, issue 16) for a list of agencies over a period
[date_from, date_to] with a fixed number of aggregate queries — each a
GROUP BY agency over one table, never a query per agency or per case — and
returns a flat tally per agency (figure key -> number). Tallies add up, so a
region's figures are the sum of its agencies' (``add``); rates are never
stored, they are derived from their numerator and denominator when shown
(``rate``). Each key's exact definition is in docs/statistics.md
("Figures"); the comments here say which record each one reads.

No acting user here: the caller (``selectors``) has already limited the
agency ids to the user's jurisdiction. A read: nothing is written.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Case as SqlCase, CharField, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Cast, TruncDate

from sanxiang.cases.models import AvExemption, Case, CaseStatus, CaseStep, Procedure, StepStatus
from sanxiang.core.models import Officer, OfficerStatus
from sanxiang.core.vocabulary import PENALTY_SEVERITY, ActKind
from sanxiang.evidence.models import AV_KINDS, EvidenceItem
from sanxiang.inspections.models import DrawStatus, Inspection
from sanxiang.publicity.intake import LICENCE_STATUSES
from sanxiang.publicity.models import Decision, DecisionStatus, DecisionVersion
from sanxiang.review.models import Outcome, Submission

from .registry import figure_sources

Tally = Counter  # figure key -> int (counts, fen) or Decimal (a registered source may answer one)

FEN_PER_YUAN = Decimal(100)


def _within(field: str, date_from: date, date_to: date) -> Q:
    return Q(**{f"{field}__gte": date_from, f"{field}__lte": date_to})


def compute(*, agency_ids: list[int], date_from: date, date_to: date, today: date,
            origins: bool = False) -> dict[int, Tally]:
    """Every figure for each agency id over [date_from, date_to] (both
    included); ``today`` decides what is overdue and whose certificate is
    valid (on the period's last day, or today if the period ends later).
    ``origins``: also split the decisions by where they came from
    (``origin.*``, shown by the annual report only; one more query)."""
    ids = list(agency_ids)
    tallies: dict[int, Tally] = {pk: Tally() for pk in ids}
    if not ids:
        return tallies
    _cases(tallies, ids, date_from, date_to)
    _penalty_decisions(tallies, ids, date_from, date_to)
    _licence_decisions(tallies, ids, date_from, date_to)
    if origins:
        _decision_origins(tallies, ids, date_from, date_to)
    _publication(tallies, ids, date_from, date_to, today)
    _reviews(tallies, ids, date_from, date_to)
    _av(tallies, ids, date_from, date_to)
    _certificates(tallies, ids, min(date_to, today))
    _inspections(tallies, ids, date_from, date_to)
    for source in figure_sources():
        values = source.fn(agency_ids=ids, date_from=date_from, date_to=date_to, today=today)
        for pk, value in values.items():
            if pk in tallies and value:
                tallies[pk][f"source.{source.code}"] += value
    return tallies


def add(tallies) -> Tally:
    """The sum of several tallies (a region's figures from its agencies')."""
    total = Tally()
    for t in tallies:
        for key, value in t.items():
            total[key] += value
    return total


def rate(part, whole) -> Decimal | None:
    """part / whole as a percentage with one decimal; None without a whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def average(total, n) -> Decimal | None:
    """total / n with one decimal; None when n is 0."""
    if not n:
        return None
    return (Decimal(total) / Decimal(n)).quantize(Decimal("0.1"))


def yuan(fen) -> Decimal:
    return (Decimal(fen or 0) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def heaviest_category(categories) -> str:
    """The heaviest of a decision's penalty categories (the penalty law's
    order, vocabulary.PENALTY_SEVERITY): a decision counts once, under it."""
    known = [c for c in (categories or []) if c in PENALTY_SEVERITY]
    return max(known, key=PENALTY_SEVERITY.__getitem__) if known else ""


# --- the queries ---------------------------------------------------------------------


def _cases(tallies, ids, date_from, date_to) -> None:
    """Cases of the platform (cases.Case): opened, closed (结案), terminated,
    decided by procedure, hearings — one GROUP BY (agency, act kind)."""
    opened = _within("opened_on", date_from, date_to)
    ended = _within("closed_on", date_from, date_to)
    decided = _within("decided_on", date_from, date_to)
    heard = _within("hearing_on", date_from, date_to)
    requested = _within("hearing_requested_on", date_from, date_to) & Q(hearing_requested=True)
    # A decided case whose decision has no publicity record: for a licence,
    # 不予许可 (a grant is published, a refusal is not: 双公示 holds grants).
    unpublished = ~Exists(Decision.objects.filter(case=OuterRef("pk")))
    rows = (Case.objects.filter(agency_id__in=ids).filter(opened | ended | decided | heard | requested)
            .values("agency_id", "act_kind")
            .annotate(opened=Count("id", filter=opened),
                      accepted=Count("id", filter=opened & ~Q(status=CaseStatus.TERMINATED)),
                      refused=Count("id", filter=decided & unpublished),
                      closed=Count("id", filter=ended & Q(status=CaseStatus.CLOSED)),
                      terminated=Count("id", filter=ended & Q(status=CaseStatus.TERMINATED)),
                      summary=Count("id", filter=decided & Q(procedure=Procedure.SUMMARY)),
                      general=Count("id", filter=decided & Q(procedure=Procedure.GENERAL)),
                      hearings=Count("id", filter=heard), requests=Count("id", filter=requested))
            .order_by())
    for row in rows:
        t, kind = tallies[row["agency_id"]], row["act_kind"]
        t["cases.opened"] += row["opened"]
        t[f"cases.opened.{kind}"] += row["opened"]
        t["cases.closed"] += row["closed"]
        t[f"cases.closed.{kind}"] += row["closed"]
        t["cases.terminated"] += row["terminated"]
        if kind == ActKind.PENALTY:  # 简易/一般程序 are the penalty law's procedures (arts. 51, 54)
            t["procedure.summary"] += row["summary"]
            t["procedure.general"] += row["general"]
        t["hearings.held"] += row["hearings"]
        t["hearings.requested"] += row["requests"]
        if kind == ActKind.LICENSE:  # licensing law arts. 32 (受理) and 38 (不予)
            t["license.accepted"] += row["accepted"]
            t["license.refused"] += row["refused"]


def _penalty_decisions(tallies, ids, date_from, date_to) -> None:
    """Penalty decisions (publicity.Decision: the platform's own cases,
    pushed by case systems, imported, received by docking) dated in the
    period and not withdrawn: count by heaviest category, fines and
    confiscations — one GROUP BY (agency, category list)."""
    fine = Cast(KT("data__fine_fen"), BigIntegerField())
    confiscation = Cast(KT("data__confiscation_fen"), BigIntegerField())
    # An amount is determined where the key holds a number, not JSON null
    # (SQLite reads a JSON null as the text 'null', which would cast to 0).
    has_fine = Q(data__fine_fen__isnull=False) & ~Q(data__fine_fen=None)
    has_confiscation = Q(data__confiscation_fen__isnull=False) & ~Q(data__confiscation_fen=None)
    rows = (Decision.objects.filter(agency_id__in=ids, kind=ActKind.PENALTY)
            .filter(_within("decision_date", date_from, date_to)).exclude(status=DecisionStatus.WITHDRAWN)
            .values("agency_id", categories=KeyTransform("penalty_categories", "data"))
            .annotate(n=Count("id"), fine=Sum(fine, filter=has_fine), fines=Count("id", filter=has_fine),
                      confiscation=Sum(confiscation, filter=has_confiscation),
                      confiscations=Count("id", filter=has_confiscation))
            .order_by())
    for row in rows:
        t = tallies[row["agency_id"]]
        categories = row["categories"]
        if isinstance(categories, str):  # one category given as text by an older record
            categories = [categories]
        t["penalty.decisions"] += row["n"]
        t[f"penalty.category.{heaviest_category(categories) or 'unknown'}"] += row["n"]
        t["penalty.fine_fen"] += row["fine"] or 0
        t["penalty.fines"] += row["fines"]
        t["penalty.confiscation_fen"] += row["confiscation"] or 0
        t["penalty.confiscations"] += row["confiscations"]


def _licence_decisions(tallies, ids, date_from, date_to) -> None:
    """Licence decisions (publicity.Decision of kind licence, every source):
    granted (准予) — dated in the period and not withdrawn; revoked (撤销) —
    a version recorded in the period set its 当前状态 to 无效 and it still
    says so — one GROUP BY agency."""
    made_invalid = Exists(DecisionVersion.objects.filter(decision=OuterRef("pk"), data__licence_status=LICENCE_INVALID)
                          .annotate(on=TruncDate("created_at")).filter(on__gte=date_from, on__lte=date_to))
    granted = _within("decision_date", date_from, date_to) & ~Q(status=DecisionStatus.WITHDRAWN)
    revoked = Q(data__licence_status=LICENCE_INVALID) & made_invalid
    rows = (Decision.objects.filter(agency_id__in=ids, kind=ActKind.LICENSE).filter(granted | revoked)
            .values("agency_id")
            .annotate(granted=Count("id", filter=granted), revoked=Count("id", filter=revoked))
            .order_by())
    for row in rows:
        t = tallies[row["agency_id"]]
        t["license.granted"] += row["granted"]
        t["license.revoked"] += row["revoked"]


# Where a decision record came from (the annual statistics show each
# figure with its source, issue 16): a decision of a case on this platform,
# else how its first version arrived (publicity.DecisionVersion.source).
# Keys as the report shows them, like the penalty categories.
ORIGINS = {"case": "本平台办案", "web": "本平台录入", "api": "办案系统推送", "import": "双公示文件导入",
           "docking": "下级平台报送"}
UNKNOWN_ORIGIN = "其他"


def _decision_origins(tallies, ids, date_from, date_to) -> None:
    """The penalty and licence decisions counted above (dated in the period,
    not withdrawn) by where they came from: ``origin.<kind>.<origin>`` —
    one GROUP BY (agency, kind, origin); they sum to penalty.decisions and
    license.granted."""
    first_source = Subquery(DecisionVersion.objects.filter(decision=OuterRef("pk"), number=1).values("source")[:1])
    origin = SqlCase(When(case__isnull=False, then=Value("case")), default=first_source, output_field=CharField())
    rows = (Decision.objects.filter(agency_id__in=ids, kind__in=(ActKind.PENALTY, ActKind.LICENSE))
            .filter(_within("decision_date", date_from, date_to)).exclude(status=DecisionStatus.WITHDRAWN)
            .annotate(origin=origin).values("agency_id", "kind", "origin").annotate(n=Count("id")).order_by())
    for row in rows:
        tallies[row["agency_id"]][f"origin.{row['kind']}.{ORIGINS.get(row['origin'], UNKNOWN_ORIGIN)}"] += row["n"]


LICENCE_INVALID = LICENCE_STATUSES[1]  # 无效: the 双公示 licence record's 当前状态


def _publication(tallies, ids, date_from, date_to, today) -> None:
    """Publication timeliness (公示-14): decisions whose publication was due
    in the period — published by the due day, published after it, or still
    unpublished with the due day passed (overdue) — one GROUP BY agency."""
    published = Q(published_at__isnull=False)
    rows = (Decision.objects.filter(agency_id__in=ids, publication_due__isnull=False)
            .filter(_within("publication_due", date_from, date_to))
            .values("agency_id")
            .annotate(on_time=Count("id", filter=published & Q(published_at__date__lte=F("publication_due"))),
                      late=Count("id", filter=published & Q(published_at__date__gt=F("publication_due"))),
                      overdue=Count("id", filter=Q(published_at__isnull=True, status=DecisionStatus.PENDING,
                                                   publication_due__lt=today)))
            .order_by())
    for row in rows:
        t = tallies[row["agency_id"]]
        t["publication.on_time"] += row["on_time"]
        t["publication.late"] += row["late"]
        t["publication.overdue"] += row["overdue"]


def _reviews(tallies, ids, date_from, date_to) -> None:
    """Legal reviews (审核): opinions given in the period (review.Submission
    rounds with an opinion), passed (同意), on time, and the calendar days
    from receipt to opinion — one GROUP BY (agency, day received, day of
    opinion), the days summed here."""
    rows = (Submission.objects.filter(case__agency_id__in=ids, opinion_at__isnull=False)
            .annotate(opinion_on=TruncDate("opinion_at"))
            .filter(opinion_on__gte=date_from, opinion_on__lte=date_to)
            .values("case__agency_id", "received_on", "opinion_on")
            .annotate(n=Count("id"), passed=Count("id", filter=Q(outcome=Outcome.AGREE)),
                      on_time=Count("id", filter=Q(opinion_on__lte=F("due_on"))))
            .order_by())
    for row in rows:
        t = tallies[row["case__agency_id"]]
        t["reviews.opinions"] += row["n"]
        t["reviews.passed"] += row["passed"]
        t["reviews.on_time"] += row["on_time"]
        t["reviews.days_total"] += row["n"] * (row["opinion_on"] - row["received_on"]).days


def _av(tallies, ids, date_from, date_to) -> None:
    """AV coverage (记录-4): steps completed in the period whose AV
    requirement (kept on the step when it started) is not empty — with AV
    evidence attached (not deleted), else with an approved exemption, else
    missing — one GROUP BY agency."""
    has_av = Exists(EvidenceItem.objects.filter(step=OuterRef("pk"), kind__in=AV_KINDS, deleted_at__isnull=True,
                                                purged_at__isnull=True))
    exempted = Exists(AvExemption.objects.filter(step=OuterRef("pk"), approved_at__isnull=False))
    rows = (CaseStep.objects.filter(case__agency_id__in=ids, status=StepStatus.COMPLETED)
            .exclude(av_requirement="")
            .annotate(completed_on=TruncDate("completed_at"))
            .filter(completed_on__gte=date_from, completed_on__lte=date_to)
            .values("case__agency_id")
            .annotate(required=Count("id"), with_av=Count("id", filter=has_av),
                      exempted=Count("id", filter=~has_av & exempted))
            .order_by())
    for row in rows:
        t = tallies[row["case__agency_id"]]
        t["av.required"] += row["required"]
        t["av.with_av"] += row["with_av"]
        t["av.exempted"] += row["exempted"]
        t["av.missing"] += row["required"] - row["with_av"] - row["exempted"]


def _certificates(tallies, ids, on: date) -> None:
    """持证率: officers on record (certificate not revoked) and, among them,
    those whose certificate is valid on ``on`` (status active, within its
    validity) — one GROUP BY agency."""
    valid = Q(status=OfficerStatus.ACTIVE, valid_from__lte=on, valid_to__gte=on)
    rows = (Officer.objects.filter(agency_id__in=ids).exclude(status=OfficerStatus.REVOKED)
            .values("agency_id").annotate(total=Count("id"), valid=Count("id", filter=valid)).order_by())
    for row in rows:
        t = tallies[row["agency_id"]]
        t["officers.total"] += row["total"]
        t["officers.certified"] += row["valid"]


def _inspections(tallies, ids, date_from, date_to) -> None:
    """Random inspections (双随机, 公示-5/15): objects drawn for the agency
    by draws made in the period (a replaced draw not counted) and, among
    them, those inspected (a result recorded) — one GROUP BY agency."""
    rows = (Inspection.objects.filter(agency_id__in=ids, draw__status=DrawStatus.DRAWN)
            .annotate(drawn_on=TruncDate("draw__drawn_at"))
            .filter(drawn_on__gte=date_from, drawn_on__lte=date_to)
            .values("agency_id")
            .annotate(drawn=Count("id"), done=Count("id", filter=~Q(result="")))
            .order_by())
    for row in rows:
        t = tallies[row["agency_id"]]
        t["inspections.drawn"] += row["drawn"]
        t["inspections.done"] += row["done"]
