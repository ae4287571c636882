"""The built-in alert rules (预警, issue 15 item 2), registered in
``SupervisionConfig.ready`` through ``alerts.register_alert_rule``.

Each source reads the due dates its app already keeps — it never computes a
legal deadline again:

- ``publicity.publication_due``: a decision waiting for publication,
  ``Decision.publication_due`` (公示-14, 7 or 20 working days);
- ``publicity.withdrawal_late``: a withdrawal recorded after its due date
  (``WithdrawalNotice.on_time`` false; penalty law art. 48). Withdrawals are
  written at once (publicity/todo.py), so none is ever "near": only the
  late ones are alerts (red), until a supervisor closes them;
- ``cases.decision_limit``: the decision limit of an open case (the 90-day
  limit of penalty law art. 60, licensing law art. 42), ``CaseDeadline``
  kind ``decision``;
- ``cases.step_deadline``: the agency's other step limits (service,
  evidence preservation), ``CaseDeadline`` kinds ``service`` and
  ``preservation``;
- ``cases.seizure_period``: seizure and its extension (coercion law art.
  25), ``CaseDeadline`` kinds ``seizure`` and ``seizure_extension``;
- ``review.review_limit``: an open legal review round, ``Submission.due_on``
  (审核-7, moved by an approved extension);
- ``core.certificate_expiry``: an officer's certificate (status 正常)
  reaching ``Officer.valid_to`` (red once expired and still 正常);
- ``evidence.av_missing``: a step in progress that needs AV under the
  agency's AV list (记录-4) with no AV evidence nor approved exemption, due
  ``supervision.av_upload_limit`` working days after the step started;
- ``supervision.instrument_rectification``: a supervision instrument's
  rectification not yet accepted (item 4), ``Instrument.rectification_due``.

Every source is one query (the case rules share one; none per object),
bounded by the rule's yellow horizon.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanxiang.cases.models import AvExemption, CaseOfficer, CaseDeadline, CaseStep, DeadlineKind, Obligor, OfficerRole, StepStatus
from sanxiang.core import clock
from sanxiang.core.calendar import calendar_session
from sanxiang.core.deadlines import add_rule_period
from sanxiang.core.models import Officer, OfficerStatus
from sanxiang.evidence.models import AV_KINDS, EvidenceItem
from sanxiang.publicity.models import Decision, DecisionStatus, WithdrawalNotice
from sanxiang.review.models import Submission
from sanxiang.rules.loader import get_rule

from .alerts import AlertCandidate, horizon, register_alert_rule
from .models import OWED_STATUSES, Instrument

AV_UPLOAD_RULE = "supervision.av_upload_limit"

CASE_RULES = {
    "cases.decision_limit": (DeadlineKind.DECISION,),
    "cases.step_deadline": (DeadlineKind.SERVICE, DeadlineKind.PRESERVATION),
    "cases.seizure_period": (DeadlineKind.SEIZURE, DeadlineKind.SEIZURE_EXTENSION),
}


def _lead_user(case_ref: str):
    """The lead officer's login account of a case, as a subquery (no query per object)."""
    return Subquery(CaseOfficer.objects.filter(case=OuterRef(case_ref), role=OfficerRole.LEAD)
                    .order_by("pk").values("officer__user")[:1])


def publication_due(*, today: date) -> Iterator[AlertCandidate]:
    until = horizon("publicity.publication_due", today=today)
    rows = (Decision.objects.filter(status=DecisionStatus.PENDING, publication_due__isnull=False,
                                    publication_due__lte=until)
            .only("pk", "doc_number", "party_name", "publication_due", "agency_id").order_by("pk"))
    for d in rows.iterator(chunk_size=2000):
        yield AlertCandidate(key=f"decision:{d.pk}", title=f"决定待公示：{d.doc_number}（{d.party_name}）"[:255],
                             due=d.publication_due, agency=d.agency_id,
                             object_url=reverse("publicity:private", kwargs={"pk": d.pk}))


def withdrawal_late(*, today: date) -> Iterator[AlertCandidate]:
    rows = (WithdrawalNotice.objects.filter(on_time=False, due__lte=horizon("publicity.withdrawal_late", today=today))
            .only("pk", "decision_id", "doc_number", "due", "agency_id").order_by("pk"))
    for n in rows.iterator(chunk_size=2000):
        yield AlertCandidate(key=f"withdrawal:{n.pk}", title=f"决定变更后逾期撤回公示：{n.doc_number}"[:255], due=n.due,
                             agency=n.agency_id, object_url=reverse("publicity:private", kwargs={"pk": n.decision_id}))


def _case_deadlines(code: str, *, today: date) -> Iterator[AlertCandidate]:
    until = horizon(code, today=today)
    rows = (CaseDeadline.objects.filter(kind__in=CASE_RULES[code], obligor=Obligor.AGENCY, met_at__isnull=True,
                                        superseded=False, case__status="open", due_on__lte=until)
            .select_related("case").only("pk", "kind", "due_on", "case_id", "case__title", "case__agency_id")
            .annotate(lead_user=_lead_user("case")).order_by("pk"))
    for d in rows.iterator(chunk_size=2000):
        yield AlertCandidate(key=f"deadline:{d.pk}", title=f"{d.get_kind_display()}期限：{d.case.title}"[:255],
                             due=d.due_on, agency=d.case.agency_id, user=d.lead_user,
                             object_url=reverse("cases:detail", kwargs={"pk": d.case_id}))


def decision_limit(*, today: date) -> Iterator[AlertCandidate]:
    return _case_deadlines("cases.decision_limit", today=today)


def step_deadline(*, today: date) -> Iterator[AlertCandidate]:
    return _case_deadlines("cases.step_deadline", today=today)


def seizure_period(*, today: date) -> Iterator[AlertCandidate]:
    return _case_deadlines("cases.seizure_period", today=today)


def review_limit(*, today: date) -> Iterator[AlertCandidate]:
    until = horizon("review.review_limit", today=today)
    rows = (Submission.objects.filter(outcome="", withdrawn_at__isnull=True, case__status="open", due_on__lte=until)
            .select_related("case", "reviewer").order_by("pk"))
    for s in rows.iterator(chunk_size=2000):
        yield AlertCandidate(key=f"submission:{s.pk}", title=f"法制审核期限（第{s.round}次送审）：{s.case.title}"[:255],
                             due=s.due_on, agency=s.case.agency_id, user=s.reviewer.user_id if s.reviewer_id else None,
                             object_url=reverse("review:case", kwargs={"pk": s.case_id}))


def certificate_expiry(*, today: date) -> Iterator[AlertCandidate]:
    until = horizon("core.certificate_expiry", today=today)
    rows = (Officer.objects.filter(status=OfficerStatus.ACTIVE, valid_to__lte=until, agency__is_active=True)
            .only("pk", "name", "certificate_number", "valid_to", "agency_id").order_by("pk"))
    for o in rows.iterator(chunk_size=2000):
        # The key carries the end date: a renewed certificate is a new item (the old alert resolves).
        yield AlertCandidate(key=f"officer:{o.pk}:{o.valid_to.isoformat()}",
                             title=f"执法证件有效期届满：{o.name}（{o.certificate_number}）"[:255], due=o.valid_to,
                             agency=o.agency_id,
                             object_url=reverse("core:staff_officer_detail", kwargs={"pk": o.pk}))


def av_missing(*, today: date) -> Iterator[AlertCandidate]:
    """Steps in progress needing AV with none yet (the same test as the
    officer's "AV to upload" to-do, evidence/todo.py), due the AV upload
    limit after the step started. The query takes the steps started before
    the horizon's end (the due date is after the start); the exact due date
    is counted per step on one calendar session (no query per step)."""
    until = horizon("evidence.av_missing", today=today)
    av = EvidenceItem.objects.filter(step=OuterRef("pk"), kind__in=AV_KINDS, deleted_at__isnull=True,
                                     purged_at__isnull=True)
    exempted = AvExemption.objects.filter(step=OuterRef("pk"), approved_at__isnull=False)
    started_before = datetime.combine(until + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)
    rows = (CaseStep.objects.filter(status=StepStatus.IN_PROGRESS, case__status="open", started_at__lt=started_before)
            .exclude(av_requirement="").exclude(Exists(av)).exclude(Exists(exempted))
            .select_related("case").annotate(lead_user=_lead_user("case")).order_by("pk"))
    oracle = calendar_session()
    for step in rows.iterator(chunk_size=2000):
        started_on = clock.local_date(step.started_at)
        rule = get_rule(AV_UPLOAD_RULE, on=started_on)
        due = add_rule_period(start=started_on, rule=rule, oracle=oracle).date
        if due > until:
            continue
        yield AlertCandidate(key=f"step:{step.pk}", title=f"音像记录缺失：{step.name} · {step.case.title}"[:255], due=due,
                             agency=step.case.agency_id, user=step.lead_user,
                             object_url=reverse("evidence:step", kwargs={"case_id": step.case_id, "step_id": step.pk}))


def instrument_rectification(*, today: date) -> Iterator[AlertCandidate]:
    """A supervision instrument whose rectification the agency still owes
    (issued, or its report returned), by its rectification deadline."""
    until = horizon("supervision.instrument_rectification", today=today)
    rows = (Instrument.objects.filter(status__in=OWED_STATUSES, rectification_due__lte=until)
            .select_related("agency").order_by("pk"))
    for i in rows.iterator(chunk_size=2000):
        yield AlertCandidate(key=f"instrument:{i.pk}", title=f"{i.title}整改期限：{i.number}（{i.agency.name}）"[:255],
                             due=i.rectification_due, agency=i.agency_id,
                             object_url=reverse("supervision:instrument", kwargs={"pk": i.pk}))


BUILT_IN = [
    ("publicity.publication_due", _("Publication due"), publication_due),
    ("publicity.withdrawal_late", _("Withdrawal recorded late"), withdrawal_late),
    ("cases.decision_limit", _("Case decision limit"), decision_limit),
    ("cases.step_deadline", _("Case step limit"), step_deadline),
    ("cases.seizure_period", _("Seizure period"), seizure_period),
    ("review.review_limit", _("Legal review limit"), review_limit),
    ("core.certificate_expiry", _("Certificate expiring"), certificate_expiry),
    ("evidence.av_missing", _("AV record missing"), av_missing),
    ("supervision.instrument_rectification", _("Supervision instrument rectification due"), instrument_rectification),
]


def register_built_in_rules() -> None:
    for code, label, source in BUILT_IN:
        register_alert_rule(code, label, source)
