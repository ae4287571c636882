"""Submission (送审) of a case's package and the acceptance with the
assignment of a reviewer."""

from __future__ import annotations

from datetime import date

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from sanxiang.cases.models import Case
from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.deadlines import deadline_for

from .. import workflow
from ..evaluation import hearing_held, proposal_of
from ..models import Part, PartKind, Reviewer, Submission
from ..predicates import CASE_ROLES, REVIEW_OFFICE_ROLES, can_assign_reviewer
from ..selectors import latest_submission
from ._base import _locked_submission, _pending, _refuse, _require, _transition
from .flags import record_evaluation

# Parts every package needs (domain.md §3 "Submission package"); the hearing
# record is added where a hearing took place.
REQUIRED_PARTS = (PartKind.INVESTIGATION_REPORT, PartKind.PROPOSED_HANDLING, PartKind.DRAFT_DECISION, PartKind.EVIDENCE_LIST)


def missing_parts(case, parts: list[dict]) -> list[str]:
    """Names of the required parts absent from `parts` (each {kind, ...})."""
    have = {p.get("kind") for p in parts if _part_has_content(p)}
    needed = list(REQUIRED_PARTS) + ([PartKind.HEARING_RECORD] if hearing_held(case) else [])
    return [str(PartKind(k).label) for k in needed if k not in have]


def _part_has_content(p: dict) -> bool:
    return bool(p.get("document_id") or p.get("evidence_id") or str(p.get("text") or "").strip())


def _resolve_part(case, p: dict) -> Part:
    kind = p.get("kind")
    if kind not in PartKind.values:
        _refuse("parts", f"送审材料类别无效：{kind!r}。", "invalid")
    part = Part(kind=kind, text=str(p.get("text") or "").strip())
    if p.get("document_id"):
        Document = apps.get_model("documents", "Document")
        doc = Document.objects.filter(pk=p["document_id"], case_id=case.pk).first()
        if doc is None:
            _refuse("parts", f"文书 {p['document_id']} 不存在或不属于本案。", "document_unknown")
        part.document_id, part.label = doc.pk, f"{doc.title} {doc.number or ''}".strip()
    elif p.get("evidence_id"):
        Item = apps.get_model("evidence", "EvidenceItem")
        item = Item.objects.filter(pk=p["evidence_id"], case_id=case.pk, deleted_at__isnull=True).first()
        if item is None:
            _refuse("parts", f"证据 {p['evidence_id']} 不存在或不属于本案。", "evidence_unknown")
        part.evidence_id, part.label = item.pk, str(item)[:255]
    elif not part.text:
        _refuse("parts", f"“{PartKind(kind).label}”没有内容。", "empty_part")
    return part



@transaction.atomic
def submit_for_review(*, actor, case, parts: list[dict], received_on: date | None = None) -> Submission:
    """The case unit submits the package (送审). Refused while incomplete
    (the message lists every missing part), while a round is open, or while
    a collective discussion on the last round is pending."""
    _require(actor, case.agency_id, CASE_ROLES, "只有本部门的承办机构可以送审。")
    case = Case.objects.select_for_update().select_related("agency", "agency__region").get(pk=case.pk)
    if case.status != "open":
        _refuse("case", "案件已结案或终止。", "case_not_open")
    received_on = received_on or clock.today()
    if received_on > clock.today() or received_on < case.opened_on:
        _refuse("received_on", "送审日期须在立案之后、且不晚于今天。", "invalid")
    if case.act_kind == "penalty" and not case.proposed_penalty_categories and not case.proposed_fine_fen:
        _refuse("proposal", "尚未记录拟作出的处理决定，不能送审。", "no_proposal")
    missing = missing_parts(case, parts)
    if missing:
        _refuse("parts", f"送审材料不齐全，缺少：{'、'.join(missing)}。", "incomplete")
    last = latest_submission(case)
    if last is not None:
        if last.is_open:
            _refuse("case", f"第{last.round}次送审尚在审核中（{workflow.stage_name(last.stage)}）。", "review_open")
        if last.discussions.filter(recorded_at__isnull=True).exists():
            _refuse("case", "对审核意见的异议正待集体讨论，讨论决定前不能重新送审。", "discussion_pending")
        if not workflow.can_move(last.stage, workflow.definition().steps[0].code):
            _refuse("case", "按法制审核流程，当前不能重新送审。", "stage_not_next")
    resolved = [_resolve_part(case, p) for p in parts]
    evaluation = record_evaluation(actor=actor, case=case)
    limit = deadline_for(rule="legal_review.review_limit", start=received_on, agency=case.agency)
    submission = Submission.objects.create(
        case=case, round=(last.round + 1) if last else 1, stage=workflow.definition().steps[0].code,
        proposal=proposal_of(case), evaluation=[{"rule": m.rule, "citation": m.citation} for m in evaluation.matches],
        submitted_by=actor, submitted_at=timezone.now(), received_on=received_on, due_on=limit.date,
        due_rule={"name": limit.rule.name, "value": int(limit.rule.value), "unit": limit.rule.unit,
                  "reference": limit.rule.reference, "provisional": limit.provisional})
    for part in resolved:
        part.submission = submission
    Part.objects.bulk_create(resolved)
    append_audit(actor=actor, action="review.submit", obj=submission, payload={
        "case": case.pk, "round": submission.round, "proposal": submission.proposal, "received_on": received_on.isoformat(),
        "due_on": limit.date.isoformat(), "rule": submission.due_rule,
        "parts": [{"kind": p.kind, "document_id": p.document_id, "evidence_id": p.evidence_id, "label": p.label} for p in resolved]})
    return submission



@transaction.atomic
def assign_reviewer(*, actor, submission: Submission, reviewer: Reviewer) -> Submission:
    """受理并指定审核人员: never someone who investigated the case; a
    first-time reviewer only with the legal professional qualification
    (art. 58 (2))."""
    submission = _locked_submission(submission)
    case = submission.case
    _require(actor, case.agency_id, REVIEW_OFFICE_ROLES, "只有本部门法制审核机构人员或负责人可以指定审核人员。")
    _pending(submission)
    verdict = can_assign_reviewer(reviewer, case)
    if not verdict:
        _refuse("reviewer", verdict.reason, verdict.code)
    if submission.stage != "assignment":
        _transition(submission, "assignment")
    previous = submission.reviewer.name if submission.reviewer else None
    submission.reviewer, submission.assigned_by, submission.assigned_at = reviewer, actor, timezone.now()
    submission.save()
    append_audit(actor=actor, action="review.assign", obj=submission, payload={
        "case": case.pk, "round": submission.round, "reviewer": reviewer.user.username, "previous": previous,
        "qualified": reviewer.qualified, "first_time": reviewer.first_time})
    return submission

