"""Writes for legal review (重大执法决定法制审核, seeds 审核-1 … 审核-8), one
module per sub-domain, re-exported here so callers write ``services.X``:

    flags.py        set_case_flags / record_evaluation (by writes)   (目录清单 + art. 58)
    submissions.py  submit_for_review → assign_reviewer               (送审, 受理)
    opinions.py     [request_consultation → record_counsel_opinion] → record_opinion
                    (同意 | 存在问题 → respond_to_opinion: resubmit, or disagree
                    → collective discussion)                          (审核-5, art. 57, 58)
    discussions.py  request_discussion → record_discussion            (art. 57)
    deadlines.py    request_extension → approve_extension; run_deadline_job
    documents.py    issue_opinion_document, issue_discussion_record
    reviewers.py    register_reviewer, record_training                (审核-2/3/4)

The review catalogue (目录清单, 审核-6/7) is a catalogue kind of the catalog
app, drafted and filed through its one workflow (``sanxiang.catalog.services``:
start_draft, add_review_rule, set_all_non_summary, submit_version,
accept_version, return_version). What a case matches is the pure
``evaluation.evaluate``; who may act and the gate (审核-8,
``decision_block``) are in ``predicates.py``; reads in ``selectors.py``.

Every write is keyword-only, checks who acts, runs in one transaction and
appends its audit entry inside it. Stage changes of a submission follow the
edges of ``process.yaml`` (workflow.can_move), the same definition the
published flowchart is drawn from. Refusals are ValidationError with a
Chinese message (citing the article) and a stable code, or PermissionDenied.
"""

from ..evaluation import Evaluation, Match, evaluate, proposal_of
from ..predicates import decision_block
from .deadlines import (
    DEADLINE_JOB_ACTOR, approve_extension, reminder_lead_days, request_extension, run_deadline_job,
    withdraw_reviews_of_ended_case,
)
from .discussions import record_discussion, request_discussion
from .documents import issue_discussion_record, issue_opinion_document
from .flags import record_evaluation, set_case_flags
from .opinions import record_counsel_opinion, record_opinion, request_consultation, respond_to_opinion
from .reviewers import record_training, register_reviewer
from .submissions import REQUIRED_PARTS, assign_reviewer, missing_parts, submit_for_review

__all__ = [
    "DEADLINE_JOB_ACTOR", "Evaluation", "Match", "REQUIRED_PARTS", "approve_extension", "assign_reviewer",
    "decision_block", "evaluate", "issue_discussion_record", "issue_opinion_document", "missing_parts", "proposal_of",
    "record_counsel_opinion", "record_discussion", "record_evaluation", "record_opinion", "record_training",
    "register_reviewer", "reminder_lead_days", "request_consultation", "request_discussion", "request_extension",
    "respond_to_opinion", "run_deadline_job", "set_case_flags", "submit_for_review", "withdraw_reviews_of_ended_case",
]
