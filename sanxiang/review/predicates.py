"""Who may do what in legal review, and the gate (审核-8): ``can_*``
predicates answering a Verdict (true, or false with a Chinese reason citing
the article and a stable code), asked by the services and by the pages to
show or hide what a user may do.
"""

from __future__ import annotations

from sanxiang.core import clock
from sanxiang.core.models import Role
from sanxiang.core.predicates import ALLOWED, Verdict, refuse
from sanxiang.rules import RuleNotFound, RuleValue, get_rule
from sanxiang.core.vocabulary import CASE_HANDLERS, REVIEW_OFFICE

from . import workflow
from .evaluation import ART57_2, ART58, evaluate, proposal_of
from .models import Discussion, DiscussionReason, Outcome, Resolution, Reviewer, UnitResponse
from .selectors import latest_submission

CASE_ROLES = CASE_HANDLERS  # the case unit (承办机构, core.vocabulary)
REVIEW_OFFICE_ROLES = REVIEW_OFFICE  # the agency's legal-review office and head (core.vocabulary)


def _active(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", True))


def can_act_for_agency(actor, *, agency_id: int, roles, reason: str) -> Verdict:
    """The actor is an active account of the agency holding one of `roles`
    (the case unit, the legal-review office, the head ...); `reason` says in
    Chinese who may act."""
    if _active(actor) and getattr(actor, "role", None) in roles and actor.agency_id == agency_id:
        return ALLOWED
    return refuse(reason, "wrong_role", "actor")


def can_act_as_reviewer(actor, submission) -> Verdict:
    """Only the reviewer assigned to the round handles it."""
    if submission.reviewer is not None and _active(actor) and submission.reviewer.user_id == actor.pk:
        return ALLOWED
    return refuse("只有指定的法制审核人员可以办理。", "not_assigned_reviewer", "actor")


def investigated(reviewer: Reviewer, case) -> bool:
    """Did the reviewer take part in the case (assigned officer, an officer
    of any step, or the account that opened the case or ran a step)?"""
    user = reviewer.user
    if case.created_by_id == user.pk or case.steps.filter(started_by=user).exists() \
            or case.steps.filter(completed_by=user).exists():
        return True
    officer = getattr(user, "officer", None)
    if officer is None:
        return False
    return case.assignments.filter(officer=officer).exists() or case.steps.filter(officers=officer).exists()




QUALIFICATION_RULE = "legal_review_staffing.first_time_qualification_required"


def qualification_rule(agency, *, on=None) -> RuleValue | None:
    """The dated rule requiring a first-time reviewer to hold the legal
    professional qualification (法律职业资格, art. 58 para. 2 of the 2021
    penalty law), when in force for the agency on the day; else None."""
    try:
        rule = get_rule(QUALIFICATION_RULE, on=on or clock.today(), agency=agency)
    except RuleNotFound:
        return None
    return rule if rule.value else None


def can_register_reviewer(*, name: str, first_time: bool, qualified: bool, agency, on=None) -> Verdict:
    """May this person be registered as a legal reviewer (审核-3)? A
    first-time reviewer without the legal professional qualification is
    refused at registration already, not only at assignment."""
    rule = qualification_rule(agency, on=on)
    if first_time and not qualified and rule is not None:
        return refuse(f"{name}系初次从事行政处罚决定法制审核，须取得法律职业资格并填写资格证书编号和取得日期后方可登记"
                      f"（{rule.reference}）。", "reviewer_unqualified", "qualification_number")
    return ALLOWED


def can_assign_reviewer(reviewer: Reviewer, case) -> Verdict:
    """May the reviewer review the case? Never someone who investigated it;
    a first-time reviewer only with the legal professional qualification
    (art. 58 (2)) — checked again here for rows registered before the
    registry refused them."""
    if not reviewer.active or reviewer.agency_id != case.agency_id:
        return refuse("该审核人员不是本部门在册的法制审核人员。", "reviewer_unavailable", "reviewer")
    if investigated(reviewer, case):
        return refuse(f"{reviewer.name}参与了本案的调查办理，不得担任本案的法制审核人员（审核与调查相分离，{ART58}）。",
                      "reviewer_investigated", "reviewer")
    rule = qualification_rule(case.agency)
    if reviewer.first_time and not reviewer.qualified and rule is not None:
        return refuse(f"{reviewer.name}系初次从事行政处罚决定法制审核，尚未取得法律职业资格，不得指定（{rule.reference}）。",
                      "reviewer_unqualified", "reviewer")
    return ALLOWED


# --------------------------------------------------------------------------
# The gate (审核-8)


def _matching(case, current: dict, reason: str) -> bool:
    """The latest held discussion of this reason resolved to decide on the
    proposed decision as it stands now."""
    d = Discussion.objects.filter(case=case, reason=reason, recorded_at__isnull=False).order_by("-recorded_at", "-id").first()
    return d is not None and d.resolution == Resolution.DECIDE and d.proposal == current


def decision_block(case) -> str | None:
    """Why no decision may be made on this case yet, in Chinese citing the
    article, or None. Evaluates (purely: a read, nothing recorded) whether
    review is required, so a changed proposed decision is judged as it
    stands. Called by the cases app's ``requires_review_block`` (decide
    step, documents numbering), the pages and by the save-time guards."""
    evaluation = evaluate(case)
    current = proposal_of(case)
    if evaluation.discussion_required and not _matching(case, current, DiscussionReason.COMPLEX) \
            and not _matching(case, current, DiscussionReason.DISAGREEMENT):
        why = "、".join(m.rule for m in evaluation.discussion_reasons)
        return f"本案{why}，应当由行政机关负责人集体讨论决定，尚无集体讨论同意作出决定的记录（{ART57_2}）。"
    if not evaluation.required:
        return None
    last = latest_submission(case)
    if last is not None and last.outcome == Outcome.AGREE and last.proposal == current:
        return None
    if _matching(case, current, DiscussionReason.DISAGREEMENT):
        return None
    first = evaluation.matches[0]
    head = (f"本案属于重大执法决定（{first.rule}，{first.citation}），未经法制审核或者审核未通过的，不得作出决定"
            f"（{ART58}）")
    if last is None:
        return f"{head}；尚未送审。"
    if last.is_open:
        return f"{head}；第{last.round}次送审尚在审核中（{workflow.stage_name(last.stage)}，审核期限至{last.due_on:%Y年%m月%d日}）。"
    if last.proposal != current:
        return f"{head}；拟作出的处理决定在审核后已经变更，须重新送审。"
    if last.response == UnitResponse.DISAGREED:
        return f"{head}；承办机构对审核意见有异议，须经机关负责人集体讨论决定（{ART57_2}）。"
    return f"{head}；第{last.round}次审核意见为“存在问题”，须修改后重新送审。"

