"""What every write of the review app shares: who acts (asked of
``predicates.py``, a refused actor is ``core.refusals.Refused`` carrying the
verdict's code), the row locks, the stage moves along ``process.yaml`` and
the refusals (ValidationError with a Chinese message and a stable code)."""

from __future__ import annotations

from sanxiang.core.models import Role
from sanxiang.core.refusals import Refused, reject as _refuse

from .. import workflow
from ..models import Submission
from ..predicates import can_act_as_reviewer, can_act_for_agency

__all__ = ["_enforce", "_head", "_locked_submission", "_pending", "_refuse", "_require", "_the_reviewer", "_transition"]


def _enforce(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _require(actor, agency_id: int, roles, message: str) -> None:
    _enforce(can_act_for_agency(actor, agency_id=agency_id, roles=roles, reason=message))


def _head(actor, agency_id: int, message: str = "须由本部门负责人办理。") -> None:
    _require(actor, agency_id, {Role.AGENCY_HEAD}, message)

def _transition(submission: Submission, to: str) -> None:
    if not workflow.can_move(submission.stage, to):
        _refuse("stage", f"按法制审核流程，当前环节“{workflow.stage_name(submission.stage)}”之后不能进行“{workflow.stage_name(to)}”。",
                "stage_not_next")
    submission.stage = to



def _pending(submission: Submission) -> None:
    """Refuse to go on with a round that is over: its opinion given, withdrawn
    with its case, or its case closed or terminated since (the deadline job
    withdraws such a round on its next run)."""
    if submission.withdrawn_at is not None:
        _refuse("submission", f"该次送审已撤回：{submission.withdrawn_reason}", "withdrawn")
    if submission.outcome:
        _refuse("submission", "该次送审已出具审核意见。", "closed")
    if submission.case.status != "open":
        _refuse("case", "案件已结案或终止，不再进行法制审核。", "case_not_open")

def _locked_submission(submission) -> Submission:
    return Submission.objects.select_for_update(of=("self",)).select_related("case", "case__agency", "reviewer", "reviewer__user") \
        .get(pk=submission.pk)


def _the_reviewer(actor, submission: Submission) -> None:
    _enforce(can_act_as_reviewer(actor, submission))

