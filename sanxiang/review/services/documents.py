"""Documents (文书) of the review: the opinion and the discussion record,
numbered by the documents app."""

from __future__ import annotations

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.documents.prefill import officers_text
from sanxiang.documents.services import issue_document

from ..evaluation import describe_proposal
from ..models import CheckItem, Discussion, ItemResult, Outcome, Resolution, Submission
from ..predicates import REVIEW_OFFICE_ROLES
from ._base import _head, _locked_submission, _refuse, _require


def _issue(*, actor, case, kind: str, data: dict):
    return issue_document(actor=actor, case=case, kind=kind, data=data, through="review")


@transaction.atomic
def issue_opinion_document(*, actor, submission: Submission):
    """法制审核意见书 as a numbered 文书 (documents app)."""
    submission = _locked_submission(submission)
    _require(actor, submission.case.agency_id, REVIEW_OFFICE_ROLES, "只有本部门法制审核机构可以制作法制审核意见书。")
    if not submission.outcome:
        _refuse("submission", "尚未出具审核意见。", "no_opinion")
    if submission.opinion_document_id:
        _refuse("submission", f"已制作法制审核意见书（{submission.opinion_document_number}）。", "already_issued")
    labels = dict(CheckItem.choices)
    issues = [f"{labels[e.item]}：{e.comment}" for e in submission.checklist.all() if e.result == ItemResult.ISSUE]
    # The 承办机构 (the case's agency and its officers) and the reviewer's
    # written opinion are printed on the opinion (issue 11 item 6).
    case = submission.case
    doc = _issue(actor=actor, case=case, kind="legal_review_opinion", data={
        "submitted_on": submission.received_on.isoformat(), "submitting_unit": case.agency.name,
        "officers": officers_text(case), "opinion": submission.opinion_text,
        "proposed_decision": describe_proposal(submission.proposal),
        "conclusion": OUTCOME_TEXT[submission.outcome],
        "issues": issues, "reviewers": submission.reviewer.name})
    submission.opinion_document_id, submission.opinion_document_number = doc.pk, doc.number or ""
    submission.save(update_fields=["opinion_document_id", "opinion_document_number"])
    append_audit(actor=actor, action="review.opinion_document", obj=submission,
                 payload={"document": doc.pk, "number": doc.number})
    return doc


OUTCOME_TEXT = {Outcome.AGREE: "同意", Outcome.ISSUES: "存在问题"}
RESOLUTION_TEXT = {Resolution.DECIDE: "同意作出处理决定", Resolution.REVISE: "修改后重新送审",
                   Resolution.NO_DECISION: "不予作出处理决定"}


@transaction.atomic
def issue_discussion_record(*, actor, discussion: Discussion):
    """集体讨论记录 as a 文书 of the case (documents app)."""
    discussion = Discussion.objects.select_for_update().select_related("case", "case__agency").get(pk=discussion.pk)
    _head(actor, discussion.case.agency_id, "集体讨论记录由本部门负责人制作。")
    if discussion.recorded_at is None:
        _refuse("discussion", "集体讨论尚未记录。", "not_held")
    if discussion.document_id:
        _refuse("discussion", "已制作集体讨论记录。", "already_issued")
    held = clock.local_time(discussion.held_at)
    doc = _issue(actor=actor, case=discussion.case, kind="collective_discussion", data={
        "held_at": f"{held:%Y年%m月%d日 %H:%M}", "place": discussion.place or "本机关会议室", "chair": discussion.chair,
        "attendees": "、".join(discussion.participants), "recorder": discussion.recorder,
        "case_report": discussion.minutes, "opinions": discussion.opinions or [discussion.minutes],
        "conclusion": f"{RESOLUTION_TEXT[discussion.resolution]}：{discussion.resolution_text}"})
    discussion.document_id, discussion.document_number = doc.pk, doc.number or ""
    discussion.save(update_fields=["document_id", "document_number"])
    append_audit(actor=actor, action="review.discussion_document", obj=discussion.case,
                 payload={"discussion": discussion.pk, "document": doc.pk, "number": doc.number})
    return doc

