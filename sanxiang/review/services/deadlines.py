"""The review time limit: extension, reminders and escalation, and the
withdrawal of rounds whose case ended (the deadline job)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.calendar import add_working_days
from sanxiang.core.deadlines import add_rule_period, deadline_for
from sanxiang.core.models import Role, User
from sanxiang.rules import get_rule

from ..models import Extension, Notice, NoticeKind, Submission
from ._base import _head, _locked_submission, _pending, _refuse, _the_reviewer


def recompute_provisional_deadlines(*, actor, year: int) -> int:
    """Recompute every provisional review limit on the calendar as it now
    stands (called by the calendar load, core.calendar registry): the
    round's rule from its received day, then each approved extension from
    the limit it moved. Each round whose limit or flag changes is saved and
    audited. Returns how many were looked at."""
    rows = list(Submission.objects.select_for_update().filter(due_rule__provisional=True)
                .select_related("case__agency", "case__agency__region"))
    for submission in rows:
        agency = submission.case.agency
        base = deadline_for(rule=submission.due_rule["name"], start=submission.received_on, agency=agency)
        due, provisional = base.date, base.provisional
        moved = []
        for extension in submission.extensions.filter(approved_at__isnull=False).order_by("approved_at", "pk"):
            rule = get_rule(extension.rule["name"], on=submission.received_on, agency=agency)
            result = add_rule_period(start=due, rule=rule)
            moved.append((extension, due, result.date))
            due, provisional = result.date, provisional or result.provisional
        if (due, provisional) == (submission.due_on, submission.due_rule.get("provisional")):
            continue
        before = {"due_on": submission.due_on.isoformat(), "provisional": submission.due_rule.get("provisional")}
        for extension, old, new in moved:
            extension.old_due_on, extension.new_due_on = old, new
            extension.save(update_fields=["old_due_on", "new_due_on"])
        submission.due_on = due
        submission.due_rule = {**submission.due_rule, "provisional": provisional}
        submission.save(update_fields=["due_on", "due_rule"])
        append_audit(actor=actor, action="review.deadline_recompute", obj=submission, payload={
            "calendar_year": year, "before": before, "after": {"due_on": due.isoformat(), "provisional": provisional}})
    return len(rows)


@transaction.atomic
def request_extension(*, actor, submission: Submission, reason: str) -> Extension:
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if not reason.strip():
        _refuse("reason", "请写明延长审核期限的理由。", "required")
    if submission.extensions.exists():
        _refuse("submission", "本次送审已申请过延长审核期限。", "extension_used")
    extension = Extension.objects.create(submission=submission, reason=reason.strip(), requested_by=actor,
                                         requested_at=timezone.now())
    append_audit(actor=actor, action="review.extension_request", obj=submission, payload={"reason": extension.reason})
    return extension


@transaction.atomic
def approve_extension(*, actor, extension: Extension) -> Extension:
    """The agency head approves: the deadline moves by the dated rule
    legal_review.review_extension (working days) from the current one."""
    submission = _locked_submission(extension.submission)
    _head(actor, submission.case.agency_id, "延长审核期限须经本部门负责人批准。")
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if extension.approved_at is not None:
        _refuse("extension", "该延期申请已批准。", "already_approved")
    _pending(submission)
    rule = get_rule("legal_review.review_extension", on=submission.received_on, agency=submission.case.agency)
    if int(rule.value) <= 0:
        _refuse("extension", f"本地规定未设延长审核期限（{rule.reference}）。", "no_extension")
    moved = add_rule_period(start=submission.due_on, rule=rule)
    extension.old_due_on, extension.new_due_on = submission.due_on, moved.date
    extension.rule = {"name": rule.name, "value": int(rule.value), "unit": rule.unit, "reference": rule.reference}
    extension.approved_by, extension.approved_at = actor, timezone.now()
    extension.save()
    submission.due_on = moved.date
    submission.save(update_fields=["due_on"])
    append_audit(actor=actor, action="review.extension_approve", obj=submission, payload={
        "old_due_on": extension.old_due_on.isoformat(), "new_due_on": moved.date.isoformat(), "rule": extension.rule})
    return extension


def reminder_lead_days() -> int:
    """Working days before the deadline when the reminder is made: an
    operational setting, not a legal limit (SANXIANG_REVIEW_REMINDER_DAYS)."""
    return int(settings.REVIEW_REMINDER_DAYS)


def _recipients(submission: Submission, kind: str) -> list[str]:
    names = [submission.reviewer.user.username] if submission.reviewer else []
    if kind == NoticeKind.ESCALATION or submission.reviewer is None:
        names += list(User.objects.filter(agency_id=submission.case.agency_id, role=Role.AGENCY_HEAD, is_active=True)
                      .order_by("username").values_list("username", flat=True))
    return names


DEADLINE_JOB_ACTOR = "system:review-deadlines"
CASE_END_TEXT = {"closed": "结案", "terminated": "终止（撤销立案）"}


def _withdraw_with_case(submission: Submission, *, actor) -> None:
    """送审撤回: the case of a pending round was closed or terminated, so no
    decision will be made on what was submitted and there is nothing left to
    review (penalty law art. 58 reviews a decision about to be made). The
    round keeps its record (parts, reviewer, notices) and is marked withdrawn
    with the reason; the audit chain says when and why."""
    case = submission.case
    ended = CASE_END_TEXT.get(case.status, case.status)
    when = f"于{case.closed_on:%Y年%m月%d日}" if case.closed_on else ""
    submission.withdrawn_at = timezone.now()
    submission.withdrawn_reason = f"案件已{when}{ended}，本次送审撤回，不再审核。"
    submission.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    append_audit(actor=actor, action="review.withdraw", obj=submission, payload={
        "case": case.pk, "round": submission.round, "stage": submission.stage, "case_status": case.status,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None, "due_on": submission.due_on.isoformat(),
        "reviewer": submission.reviewer.user.username if submission.reviewer else None,
        "reason": submission.withdrawn_reason})


def withdraw_reviews_of_ended_case(*, case, actor) -> int:
    """Withdraw every pending review round of a case that has just been
    closed or terminated (called by the cases app in the same transaction,
    so the round never outlives its case; the deadline job catches any that
    did). Returns how many were withdrawn."""
    withdrawn = 0
    for submission in Submission.objects.filter(case=case, outcome="", withdrawn_at__isnull=True):
        locked = _locked_submission(submission)
        if locked.is_open and locked.case.status != "open":
            _withdraw_with_case(locked, actor=actor)
            withdrawn += 1
    return withdrawn


def run_deadline_job(*, today: date | None = None) -> int:
    """Reminders before and escalations after the review deadline, once per
    (round, kind, deadline): recorded as Notice rows and in the audit chain.
    Idempotent; an extension (a new deadline) gets its own notices. A pending
    round whose case has been closed or terminated is withdrawn instead
    (``review.withdraw``), never reminded or escalated. Returns the number of
    notices made."""
    today = today or clock.today()
    lead = reminder_lead_days()
    made = 0
    pending = Submission.objects.filter(outcome="", withdrawn_at__isnull=True)
    for submission in pending.select_related("case", "case__agency", "reviewer__user"):
        if submission.case.status != "open":
            with transaction.atomic():
                locked = _locked_submission(submission)
                if locked.is_open and locked.case.status != "open":
                    _withdraw_with_case(locked, actor=DEADLINE_JOB_ACTOR)
            continue
        if today > submission.due_on:
            kind = NoticeKind.ESCALATION
            message = (f"{submission.case.title}（第{submission.round}次送审）的法制审核已于{submission.due_on:%Y年%m月%d日}"
                       f"届满仍未出具审核意见，报请机关负责人督办（{submission.due_rule.get('reference', '')}）。")
        elif lead > 0 and add_working_days(start=today, days=lead).date >= submission.due_on:
            kind = NoticeKind.REMINDER
            message = f"{submission.case.title}（第{submission.round}次送审）的法制审核期限将于{submission.due_on:%Y年%m月%d日}届满。"
        else:
            continue
        with transaction.atomic():
            locked = _locked_submission(submission)
            if not locked.is_open or locked.case.status != "open" or locked.due_on != submission.due_on:
                continue  # changed since listed: the next run judges it as it stands
            if Notice.objects.filter(submission=submission, kind=kind, due_on=submission.due_on).exists():
                continue
            notice = Notice.objects.create(submission=submission, kind=kind, due_on=submission.due_on, made_on=today,
                                           recipients=_recipients(submission, kind), message=message)
            append_audit(actor=DEADLINE_JOB_ACTOR, action=f"review.{kind}", obj=submission, payload={
                "case": submission.case_id, "round": submission.round, "due_on": submission.due_on.isoformat(),
                "made_on": today.isoformat(), "recipients": notice.recipients})
        made += 1
    return made

