"""Legal-review endpoints (mounted at /api/v1/review).

Reads need the ``read`` scope, writes ``cases:write`` (a token acts as its
agency's case-handling system: flags and submissions; reviewers and heads
act through a logged-in, verified session). Rows are limited to the
caller's jurisdiction; out of scope is 404. Refusals are 422 with a stable
code and a Chinese message citing the article, e.g. {"code":
"reviewer_investigated", ...}.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Router, Schema

from sanxiang.api.api import AUTH, created, require_scope
from sanxiang.cases.selectors import get_case_for
from sanxiang.core.parsing import Day, Id, Moment
from sanxiang.core.services import record_view

from . import selectors, services, workflow

router = Router(tags=["review"])


class MatchOut(Schema):
    rule: str
    citation: str


class PartIn(Schema):
    kind: str
    document_id: Id | None = None
    evidence_id: Id | None = None
    text: str = ""


class ChecklistOut(Schema):
    item: str
    result: str
    comment: str


class SubmissionOut(Schema):
    id: int
    case_id: int
    round: int
    stage: str
    stage_name: str
    proposal: dict
    received_on: date
    due_on: date
    due_rule: dict
    reviewer: str | None
    outcome: str
    opinion_at: datetime | None
    opinion_document_number: str
    response: str
    withdrawn_at: datetime | None  # withdrawn with its closed or terminated case
    withdrawn_reason: str
    checklist: list[ChecklistOut]

    @staticmethod
    def resolve_stage_name(obj):
        return workflow.stage_name(obj.stage)

    @staticmethod
    def resolve_reviewer(obj):
        return obj.reviewer.name if obj.reviewer else None

    @staticmethod
    def resolve_checklist(obj):
        return list(obj.checklist.all())


class DiscussionOut(Schema):
    id: int
    reason: str
    held_at: datetime | None
    chair: str
    participants: list[str]
    minutes: str
    resolution: str
    resolution_text: str


class CaseReviewOut(Schema):
    case_id: int
    required: bool
    matches: list[MatchOut]
    discussion_required: bool
    block: str | None
    rounds: list[SubmissionOut]
    discussions: list[DiscussionOut]


class FlagsIn(Schema):
    domain: str | None = None
    major_public_interest: bool | None = None
    complex: bool | None = None
    serious: bool | None = None
    social_impact: bool | None = None
    outside_benchmark: bool | None = None
    required_by_law: str | None = None


class SubmitIn(Schema):
    parts: list[PartIn]
    received_on: Day | None = None


class AssignIn(Schema):
    reviewer_id: Id


class CheckIn(Schema):
    result: str
    comment: str = ""


class OpinionIn(Schema):
    checklist: dict[str, CheckIn]
    opinion_text: str = ""


class ResponseIn(Schema):
    disagree: bool
    reason: str = ""


class ReasonIn(Schema):
    reason: str


class ConsultIn(Schema):
    counsel_name: str
    counsel_kind: str
    question: str


class CounselOpinionIn(Schema):
    opinion: str


class DiscussionIn(Schema):
    held_at: Moment
    place: str = ""
    chair: str
    participants: list[str]
    recorder: str
    minutes: str
    opinions: list[str] = []
    resolution: str
    resolution_text: str




def _case_review(case) -> dict:
    block = services.decision_block(case)  # a read: evaluates, records nothing
    data = selectors.case_review_of(case)
    evaluation = services.evaluate(case)
    return {"case_id": case.pk, "required": evaluation.required,
            "matches": [{"rule": m.rule, "citation": m.citation} for m in evaluation.matches],
            "discussion_required": evaluation.discussion_required, "block": block,
            "rounds": data["rounds"], "discussions": data["discussions"]}


@router.get("/cases/{case_id}", response=CaseReviewOut, auth=AUTH,
            summary="Whether the case needs review (with every matching rule), its rounds and discussions")
def case_review(request, case_id: Id):
    require_scope(request, "read")
    case = get_case_for(user=request.user, pk=case_id)
    record_view(actor=request.user, obj=case, action="review.view", via="api")  # personal data read (issue 9)
    return _case_review(case)


@router.post("/cases/{case_id}/flags", response=CaseReviewOut, auth=AUTH, summary="State the art. 58 / catalogue facts")
def set_flags(request, case_id: Id, payload: FlagsIn):
    require_scope(request, "cases:write")
    case = get_case_for(user=request.user, pk=case_id)
    services.set_case_flags(actor=request.user, case=case, **payload.dict(exclude_none=True))
    return _case_review(case)


@router.post("/cases/{case_id}/submissions", response={201: SubmissionOut}, auth=AUTH, summary="Submit for review (送审)")
def submit(request, case_id: Id, payload: SubmitIn):
    require_scope(request, "cases:write")
    case = get_case_for(user=request.user, pk=case_id)
    submission = services.submit_for_review(actor=request.user, case=case, parts=[p.dict() for p in payload.parts],
                                            received_on=payload.received_on)
    return created(submission)


@router.post("/submissions/{submission_id}/assign", response=SubmissionOut, auth=AUTH, summary="Assign a reviewer")
def assign(request, submission_id: Id, payload: AssignIn):
    require_scope(request, "cases:write")
    submission = selectors.get_submission_for(user=request.user, pk=submission_id)
    reviewer = selectors.get_reviewer_for(user=request.user, pk=payload.reviewer_id)
    return services.assign_reviewer(actor=request.user, submission=submission, reviewer=reviewer)


@router.post("/submissions/{submission_id}/opinion", response=SubmissionOut, auth=AUTH, summary="Record the opinion")
def opinion(request, submission_id: Id, payload: OpinionIn):
    require_scope(request, "cases:write")
    submission = selectors.get_submission_for(user=request.user, pk=submission_id)
    return services.record_opinion(actor=request.user, submission=submission, opinion_text=payload.opinion_text,
                                   checklist={k: v.dict() for k, v in payload.checklist.items()})


@router.post("/submissions/{submission_id}/response", response=SubmissionOut, auth=AUTH,
             summary="The case unit accepts the opinion or disagrees (→ collective discussion)")
def response(request, submission_id: Id, payload: ResponseIn):
    require_scope(request, "cases:write")
    submission = selectors.get_submission_for(user=request.user, pk=submission_id)
    return services.respond_to_opinion(actor=request.user, submission=submission, disagree=payload.disagree,
                                       reason=payload.reason)


@router.post("/submissions/{submission_id}/extensions", response={201: dict}, auth=AUTH, summary="Ask for more time")
def extension(request, submission_id: Id, payload: ReasonIn):
    require_scope(request, "cases:write")
    submission = selectors.get_submission_for(user=request.user, pk=submission_id)
    ext = services.request_extension(actor=request.user, submission=submission, reason=payload.reason)
    return created({"id": ext.pk})


@router.post("/extensions/{extension_id}/approve", response=SubmissionOut, auth=AUTH, summary="The head approves more time")
def approve_extension(request, extension_id: Id):
    require_scope(request, "cases:write")
    ext = selectors.get_extension_for(user=request.user, pk=extension_id)
    services.approve_extension(actor=request.user, extension=ext)
    ext.submission.refresh_from_db()
    return ext.submission


@router.post("/submissions/{submission_id}/consultations", response={201: dict}, auth=AUTH,
             summary="Consult a legal counsel or public lawyer (审核-5)")
def consult(request, submission_id: Id, payload: ConsultIn):
    require_scope(request, "cases:write")
    submission = selectors.get_submission_for(user=request.user, pk=submission_id)
    c = services.request_consultation(actor=request.user, submission=submission, **payload.dict())
    return created({"id": c.pk})


@router.post("/consultations/{consultation_id}/opinion", response=dict, auth=AUTH, summary="The counsel's opinion")
def counsel_opinion(request, consultation_id: Id, payload: CounselOpinionIn):
    require_scope(request, "cases:write")
    c = selectors.get_consultation_for(user=request.user, pk=consultation_id)
    services.record_counsel_opinion(actor=request.user, consultation=c, opinion=payload.opinion)
    return {"id": c.pk}


@router.post("/cases/{case_id}/discussions", response={201: DiscussionOut}, auth=AUTH,
             summary="Put a complex or serious case to collective discussion (art. 57)")
def request_discussion(request, case_id: Id):
    require_scope(request, "cases:write")
    case = get_case_for(user=request.user, pk=case_id)
    return created(services.request_discussion(actor=request.user, case=case))


@router.post("/discussions/{discussion_id}", response=DiscussionOut, auth=AUTH, summary="Record the collective discussion")
def record_discussion(request, discussion_id: Id, payload: DiscussionIn):
    require_scope(request, "cases:write")
    discussion = selectors.get_discussion_for(user=request.user, pk=discussion_id)
    return services.record_discussion(actor=request.user, discussion=discussion, **payload.dict())


class FiguresOut(Schema):
    label: str
    region: str
    major_decided: int
    reviewed_before: int
    opinions: int
    on_time: int
    returned: int
    average_days: float | None
    officers: int
    reviewers: int
    qualified: int


@router.get("/figures", response=list[FiguresOut], auth=AUTH, summary="Figures per agency in the caller's jurisdiction")
def figures(request, start: Day | None = None, end: Day | None = None):
    require_scope(request, "read")
    agencies, _regions = selectors.figures_for(user=request.user, start=start, end=end)
    return [{**{k: getattr(f, k) for k in FiguresOut.model_fields if k != "average_days"},
             "average_days": float(f.average_days) if f.average_days is not None else None} for f in agencies]
