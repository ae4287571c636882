"""Collective discussion of the agency heads (art. 57)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Role

from ..evaluation import proposal_of
from ..models import Discussion, DiscussionReason, Resolution
from ..predicates import CASE_ROLES
from ..selectors import latest_submission
from ._base import _head, _locked_submission, _refuse, _require, _transition


@transaction.atomic
def request_discussion(*, actor, case, reason: str = DiscussionReason.COMPLEX) -> Discussion:
    """Put a complex or serious case to the agency heads (art. 57 (2))."""
    _require(actor, case.agency_id, CASE_ROLES | {Role.LEGAL_REVIEWER}, "只有本部门人员可以提请集体讨论。")
    if reason not in DiscussionReason.values:
        _refuse("reason", "提请集体讨论的理由无效。", "invalid")
    if Discussion.objects.filter(case=case, recorded_at__isnull=True).exists():
        _refuse("case", "本案已有待举行的集体讨论。", "discussion_pending")
    discussion = Discussion.objects.create(case=case, submission=latest_submission(case), reason=reason,
                                           proposal=proposal_of(case), requested_by=actor, requested_at=timezone.now())
    append_audit(actor=actor, action="review.discussion_request", obj=case, payload={"reason": reason, "discussion": discussion.pk})
    return discussion


@transaction.atomic
def record_discussion(*, actor, discussion: Discussion, held_at: datetime, place: str, chair: str,
                      participants: list[str], recorder: str, minutes: str, resolution: str, resolution_text: str,
                      opinions: list[str] | None = None) -> Discussion:
    """The agency heads' collective discussion: participants, minutes and
    the resolution. A resolution to decide covers the proposed decision as
    it stands now; changing it afterwards needs a new review."""
    discussion = Discussion.objects.select_for_update().select_related("case", "case__agency").get(pk=discussion.pk)
    case = discussion.case
    _head(actor, case.agency_id, "集体讨论由本部门负责人主持并记录。")
    if discussion.recorded_at is not None:
        _refuse("discussion", "该次集体讨论已记录。", "already_recorded")
    participants = [p.strip() for p in participants if p and p.strip()]
    if not chair.strip() or not participants or not minutes.strip() or not recorder.strip():
        _refuse("participants", "请填写主持人、出席人员、记录人和讨论情况。", "required")
    if resolution not in Resolution.values or not resolution_text.strip():
        _refuse("resolution", "请选择讨论决定并写明决定内容。", "required")
    if held_at is None or held_at > timezone.now():
        _refuse("held_at", "讨论时间不能晚于当前时间。", "invalid")
    submission = discussion.submission
    if submission is not None and discussion.reason == DiscussionReason.DISAGREEMENT:
        submission = _locked_submission(submission)
        if submission.stage != "discussion":
            _transition(submission, "discussion")
            submission.save(update_fields=["stage"])
    discussion.held_at, discussion.place, discussion.chair = held_at, place.strip(), chair.strip()
    discussion.participants, discussion.recorder, discussion.minutes = participants, recorder.strip(), minutes.strip()
    discussion.opinions = [o.strip() for o in (opinions or []) if o and o.strip()]
    discussion.resolution, discussion.resolution_text = resolution, resolution_text.strip()
    discussion.proposal = proposal_of(case)
    discussion.recorded_by, discussion.recorded_at = actor, timezone.now()
    discussion.save()
    append_audit(actor=actor, action="review.discussion", obj=case, payload={
        "discussion": discussion.pk, "reason": discussion.reason, "held_at": held_at.isoformat(), "chair": discussion.chair,
        "participants": participants, "minutes": discussion.minutes, "resolution": resolution,
        "resolution_text": discussion.resolution_text, "proposal": discussion.proposal})
    return discussion

