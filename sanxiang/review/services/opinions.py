"""The review itself: counsel (审核-5), the reviewer's opinion over the
fixed checklist, and the case unit's answer to it (art. 57, 58)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sanxiang.core.audit import append_audit

from ..models import (
    CheckItem, ChecklistEntry, Consultation, Discussion, DiscussionReason, ItemResult, Outcome, Submission, UnitResponse,
)
from ..predicates import CASE_ROLES
from ._base import _locked_submission, _pending, _refuse, _require, _the_reviewer, _transition


@transaction.atomic
def request_consultation(*, actor, submission: Submission, counsel_name: str, counsel_kind: str,
                         question: str) -> Consultation:
    """审核-5: the reviewer asks a legal counsel or public lawyer."""
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if counsel_kind not in Consultation.CounselKind.values:
        _refuse("counsel_kind", "请选择法律顾问或公职律师。", "invalid")
    if not counsel_name.strip() or not question.strip():
        _refuse("question", "请填写咨询对象和咨询事项。", "required")
    if submission.stage != "consultation":
        _transition(submission, "consultation")
        submission.save(update_fields=["stage"])
    consultation = Consultation.objects.create(submission=submission, counsel_name=counsel_name.strip(),
                                               counsel_kind=counsel_kind, question=question.strip(), requested_by=actor,
                                               requested_at=timezone.now())
    append_audit(actor=actor, action="review.consult", obj=submission, payload={
        "counsel": consultation.counsel_name, "kind": counsel_kind, "question": consultation.question})
    return consultation


@transaction.atomic
def record_counsel_opinion(*, actor, consultation: Consultation, opinion: str) -> Consultation:
    submission = _locked_submission(consultation.submission)
    _the_reviewer(actor, submission)
    if consultation.opinion_at is not None:
        _refuse("opinion", "该咨询意见已记录。", "already_recorded")
    if not opinion.strip():
        _refuse("opinion", "请填写法律顾问或公职律师的意见。", "required")
    consultation.opinion, consultation.opinion_at = opinion.strip(), timezone.now()
    consultation.save(update_fields=["opinion", "opinion_at"])
    append_audit(actor=actor, action="review.counsel_opinion", obj=submission,
                 payload={"counsel": consultation.counsel_name, "opinion": consultation.opinion})
    return consultation


@transaction.atomic
def record_opinion(*, actor, submission: Submission, checklist: dict, opinion_text: str = "") -> Submission:
    """The reviewer's opinion over the fixed checklist: every item pass or
    issue (an issue needs a comment). All pass → 同意; any issue → 存在问题,
    and the case goes back to its unit (resubmit, or disagree → collective
    discussion)."""
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if submission.consultations.filter(opinion_at__isnull=True).exists():
        _refuse("checklist", "已征求法律顾问或公职律师意见，请先记录其意见。", "consultation_pending")
    entries = []
    for item in CheckItem:
        value = checklist.get(item.value)
        if value is None:
            _refuse("checklist", f"审核项目“{item.label}”尚未填写。", "checklist_incomplete")
        result, comment = (value.get("result"), value.get("comment", "")) if isinstance(value, dict) else value
        if result not in ItemResult.values:
            _refuse("checklist", f"审核项目“{item.label}”的结论须为“通过”或“存在问题”。", "invalid")
        comment = (comment or "").strip()
        if result == ItemResult.ISSUE and not comment:
            _refuse("checklist", f"审核项目“{item.label}”存在问题，须写明问题和修改意见。", "comment_required")
        entries.append(ChecklistEntry(submission=submission, item=item.value, result=result, comment=comment))
    _transition(submission, "opinion")
    ChecklistEntry.objects.bulk_create(entries)
    issues = [e for e in entries if e.result == ItemResult.ISSUE]
    submission.outcome = Outcome.ISSUES if issues else Outcome.AGREE
    submission.opinion_text, submission.opinion_at = opinion_text.strip(), timezone.now()
    submission.save()
    reviewer = submission.reviewer
    if reviewer.first_time:
        reviewer.first_time = False
        reviewer.save(update_fields=["first_time"])
    append_audit(actor=actor, action="review.opinion", obj=submission, payload={
        "case": submission.case_id, "round": submission.round, "outcome": submission.outcome,
        "checklist": {e.item: [e.result, e.comment] for e in entries}, "opinion": submission.opinion_text,
        "on_time": submission.on_time(), "due_on": submission.due_on.isoformat()})
    return submission


@transaction.atomic
def respond_to_opinion(*, actor, submission: Submission, disagree: bool, reason: str = "") -> Submission:
    """The case unit's answer to 存在问题: accept (fix and resubmit) or
    disagree, which sends the matter to collective discussion (art. 57)."""
    submission = _locked_submission(submission)
    _require(actor, submission.case.agency_id, CASE_ROLES, "只有本案承办机构可以答复审核意见。")
    if submission.outcome != Outcome.ISSUES:
        _refuse("submission", "只有“存在问题”的审核意见需要答复。", "not_issues")
    if submission.response:
        _refuse("submission", "已答复该审核意见。", "already_responded")
    if disagree and not reason.strip():
        _refuse("reason", "有异议的，须写明理由。", "required")
    submission.response = UnitResponse.DISAGREED if disagree else UnitResponse.ACCEPTED
    submission.response_reason, submission.response_at = reason.strip(), timezone.now()
    if disagree:
        _transition(submission, "discussion")
        Discussion.objects.create(case=submission.case, submission=submission, reason=DiscussionReason.DISAGREEMENT,
                                  proposal=submission.proposal, requested_by=actor, requested_at=timezone.now())
    submission.save()
    append_audit(actor=actor, action="review.response", obj=submission, payload={
        "case": submission.case_id, "round": submission.round, "response": submission.response, "reason": submission.response_reason})
    return submission

