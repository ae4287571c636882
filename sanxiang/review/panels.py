"""What the review app shows on the case page (审核-1 … 审核-8): a panel
registered with ``cases.registry.register_case_panel`` in
``ReviewConfig.ready``. As soon as the proposed handling is known it says
whether legal review is required and why (each matched catalogue rule or
art. 58 ground with its citation), what the decision step waits for, each
round's state and result, the link to submit, and — where no reviewer of
the agency may review the case — who must register one.

A read: it evaluates (``evaluation.evaluate`` is pure) and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sanxiang.cases.registry import CasePanel
from sanxiang.core.models import Role, User

from . import workflow
from .evaluation import evaluate
from .models import Discussion, Reviewer, Submission
from .predicates import CASE_ROLES, can_assign_reviewer, decision_block

ORDER = 20  # after the case's head, before the publicity panel's default


@dataclass
class ReviewerAvailability:
    """The case agency's active reviewers: which may be assigned to the case
    (not investigators of it, qualified where the law asks, 审核-2/3) and
    who registers reviewers (the agency's heads)."""

    registered: int
    available: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (reviewer, Chinese reason)
    heads: list = field(default_factory=list)  # names of the agency heads who register reviewers

    @property
    def none_registered(self) -> bool:
        return self.registered == 0

    @property
    def none_available(self) -> bool:
        return not self.available


def reviewer_availability(case) -> ReviewerAvailability:
    reviewers = list(Reviewer.objects.filter(agency_id=case.agency_id, active=True).select_related("user", "agency"))
    result = ReviewerAvailability(registered=len(reviewers))
    for reviewer in reviewers:
        verdict = can_assign_reviewer(reviewer, case)
        if verdict:
            result.available.append(reviewer)
        else:
            result.refused.append((reviewer, verdict.reason))
    result.heads = [u.display_name or u.username for u in
                    User.objects.filter(agency_id=case.agency_id, role=Role.AGENCY_HEAD, is_active=True).order_by("pk")]
    return result


def proposal_known(case) -> bool:
    """The proposed handling (拟处理意见) has been recorded."""
    return bool(case.proposed_penalty_categories) or case.proposed_fine_fen is not None \
        or case.proposed_confiscation_fen is not None


def case_panel(*, user, case) -> CasePanel | None:
    """The legal-review section of the case page, or None while there is
    nothing to say (no proposed handling, no ground, no round)."""
    evaluation = evaluate(case)
    rounds = list(Submission.objects.filter(case=case).select_related("reviewer").order_by("round"))
    discussions = list(Discussion.objects.filter(case=case).order_by("requested_at", "id"))
    if not (proposal_known(case) or evaluation.required or evaluation.discussion_required or rounds or discussions):
        return None
    last = rounds[-1] if rounds else None
    is_unit = user.agency_id == case.agency_id and user.role in CASE_ROLES
    # Until the decision is made: afterwards nothing waits and no round is needed.
    pending = case.status == "open" and case.decided_on is None
    needs_round = evaluation.required and pending and (last is None or not last.is_open)
    block = decision_block(case) if pending else None
    availability = reviewer_availability(case) if (evaluation.required and pending) else None
    return CasePanel(template="review/_case_panel.html", order=ORDER, context={
        "case": case, "evaluation": evaluation, "decision_block": block,
        "rounds": [(s, workflow.stage_name(s.stage)) for s in rounds], "discussions": discussions,
        "can_submit": is_unit and needs_round and block is not None, "availability": availability,
        "is_head": user.agency_id == case.agency_id and user.role == Role.AGENCY_HEAD, "pending": pending,
    })
