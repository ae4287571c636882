"""Cases endpoints (mounted at /api/v1/cases), for an agency's case-handling
system or the officer pages' scripts (记录-1).

Reads need the ``read`` scope, writes ``cases:write``; rows are limited to
the caller's jurisdiction (a case elsewhere is 404). A refusal by the rules
of procedure is 422 with the rule's stable code and the Chinese reason
citing the article, e.g. {"code": "too_few_officers", "field": "officers",
"message": "执法人员不得少于2人…（《中华人民共和国行政处罚法》…第四十二条…）"}.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from sanxiang.api.api import AUTH, created, require_scope
from sanxiang.api.errors import ApiError
from sanxiang.api.pagination import BoundedLimitOffsetPagination
from sanxiang.core.parsing import Amount, Day, Id, Moment
from sanxiang.core.selectors import officers_for
from sanxiang.core.services import record_view

from . import predicates, selectors, services

router = Router(tags=["cases"])


class OfficerRef(Schema):
    id: int
    name: str
    certificate_number: str


class CaseOfficerOut(OfficerRef):
    role: str  # lead 主办 / assist 协办


class IssuedDocumentOut(Schema):
    """A numbered document (文书) issued in the step; its files are at
    /api/v1/documents/{id}/pdf and /docx."""
    id: int
    kind: str
    title: str
    number: str | None
    issued_at: datetime


class CaseStepOut(Schema):
    id: int
    code: str
    name: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    place: str
    note: str
    at_premises: bool
    av_requirement: str
    documents: list[dict]  # what the officer listed on completing the step
    issued_documents: list[IssuedDocumentOut]  # numbered 文书 issued in the step (记录-2/记录-3)
    officers: list[OfficerRef]

    @staticmethod
    def resolve_officers(obj):
        return list(obj.officers.all())

    @staticmethod
    def resolve_issued_documents(obj, context):
        return selectors.issued_documents_for_step(user=context["request"].user, step=obj)


class CaseDeadlineOut(Schema):
    id: int
    kind: str
    obligor: str
    start_on: date
    due_on: date
    provisional: bool
    rule_name: str
    rule_amount: int
    rule_unit: str
    rule_reference: str
    met: bool
    superseded: bool

    @staticmethod
    def resolve_met(obj):
        return obj.met_at is not None


class PreservationOut(Schema):
    """证据先行登记保存 (penalty law art. 56) and its handling decision."""
    id: int
    preserved_on: date
    items: str
    due_on: date  # the handling decision is due (penalty.preservation_decision_limit, 7 working days)
    provisional: bool
    rule_reference: str
    handled_on: date | None
    handling: str

    @staticmethod
    def resolve_due_on(obj):
        return obj.deadline.due_on

    @staticmethod
    def resolve_provisional(obj):
        return obj.deadline.provisional

    @staticmethod
    def resolve_rule_reference(obj):
        return obj.deadline.rule_reference


class AvExemptionOut(Schema):
    step_id: int
    reason: str
    requested_at: datetime
    approved: bool
    approved_at: datetime | None

    @staticmethod
    def resolve_approved(obj):
        return obj.is_approved


class NextStepOut(Schema):
    code: str
    name: str
    allowed: bool
    code_refused: str
    reason: str


class CaseOut(Schema):
    id: int
    agency_id: int
    title: str
    act_kind: str
    procedure: str
    status: str
    current_step: str
    opened_on: date
    closed_on: date | None
    party_name: str
    party_type: str
    decided_on: date | None
    served_on: date | None


class CaseDetailOut(CaseOut):
    proposed_penalty_categories: list[str]
    proposed_fine_fen: int | None
    proposed_confiscation_fen: int | None
    notified_on: date | None
    hearing_requested: bool
    hearing_requested_on: date | None
    hearing_waived_on: date | None
    hearing_notified_on: date | None  # 听证通知书 served (art. 64 (2))
    hearing_scheduled_on: date | None  # the hearing day the notice names
    hearing_on: date | None  # the hearing held (hearing step completed)
    termination_reason: str
    preservations: list[PreservationOut]
    officers: list[CaseOfficerOut]
    steps: list[CaseStepOut]
    deadlines: list[CaseDeadlineOut]
    next_steps: list[NextStepOut]


class OpenCaseIn(Schema):
    title: str
    act_kind: str
    procedure: str = "general"
    party_name: str
    party_type: str
    party_credit_code: str = ""
    opened_on: Day | None = None
    officer_ids: list[Id]
    proposed_penalty_categories: list[str] = []
    proposed_fine_fen: Amount | None = None


class StartStepIn(Schema):
    code: str
    officer_ids: list[Id] | None = None  # default: the case's officers
    place: str = ""
    note: str = ""
    at: Moment | None = None  # when the step began (a record made afterwards); default now
    at_premises: bool = False


class CompleteStepIn(Schema):
    note: str | None = None
    place: str | None = None
    documents: list[dict] | None = None
    at: Moment | None = None
    served_on: Day | None = None  # notification step: the day the notice was served (the party's periods count from it)


class HearingRequestIn(Schema):
    requested_on: Day


class HearingWaiverIn(Schema):
    waived_on: Day


class HearingNoticeIn(Schema):
    notified_on: Day  # the day the notice was served (a notice served on paper last week: that day); not in the future
    hearing_on: Day  # the hearing day it names: at least 7 working days later (art. 64 (2))


class PreservationIn(Schema):
    preserved_on: Day  # not in the future
    items: str  # what was registered (name, specification, quantity)


class PreservationHandledIn(Schema):
    handled_on: Day  # not in the future
    handling: str  # 解除登记保存 / 移送 / 依法没收 ...


class AvExemptionIn(Schema):
    reason: str


class TerminateIn(Schema):
    reason: str
    on: Day


class AssignOfficerIn(Schema):
    officer_id: Id
    role: str = "assist"  # "lead" makes the officer the lead (主办人); also for an officer already on the case


def _detail(case) -> dict:
    return {
        **{f: getattr(case, f) for f in CaseDetailOut.model_fields
           if hasattr(case, f) and f not in ("steps", "officers", "preservations")},
        "preservations": list(case.preservations.select_related("deadline").order_by("preserved_on", "id")),
        "officers": [{"id": a.officer.pk, "name": a.officer.name, "certificate_number": a.officer.certificate_number,
                      "role": a.role} for a in case.assignments.select_related("officer")],
        "steps": selectors.timeline(case=case),
        "deadlines": list(case.deadlines.order_by("due_on", "id")),
        "next_steps": [{"code": code, "name": name, "allowed": v.ok, "code_refused": v.code, "reason": v.reason}
                       for code, name, v in predicates.next_steps(case)],
    }




def _officer(request, officer_id: int):
    officer = officers_for(user=request.user).filter(pk=officer_id).first()
    if officer is None:
        raise ApiError(status=422, code="officer_unknown", field="officer_id", message=f"没有编号为 {officer_id} 的执法人员。")
    return officer


def _officers(request, ids: list[int] | None):
    if ids is None:
        return None
    found = {o.pk: o for o in officers_for(user=request.user).filter(pk__in=ids, agency_id=request.user.agency_id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApiError(status=422, code="officer_unknown", field="officer_ids",
                       message=f"本部门没有编号为 {'、'.join(map(str, missing))} 的执法人员。")
    return [found[i] for i in ids]


def _case_to_write(request, case_id: int):
    """The case a write endpoint acts on: the token's write scope, then the
    case in the caller's jurisdiction (404 otherwise)."""
    require_scope(request, "cases:write")
    return selectors.get_case_for(user=request.user, pk=case_id)


@router.get("", response=list[CaseOut], auth=AUTH, summary="Cases in the caller's jurisdiction")
@paginate(BoundedLimitOffsetPagination)
def list_cases(request, status: str = "", mine: bool = False):
    require_scope(request, "read")
    qs = selectors.my_cases(user=request.user) if mine else selectors.cases_for(user=request.user)
    return qs.filter(status=status) if status else qs


@router.get("/{case_id}", response=CaseDetailOut, auth=AUTH, summary="A case with its steps, deadlines and allowed next steps")
def get_case(request, case_id: Id):
    require_scope(request, "read")
    case = selectors.get_case_for(user=request.user, pk=case_id)
    record_view(actor=request.user, obj=case, action="case.view", via="api")  # personal data read (issue 9)
    return _detail(case)


@router.post("", response={201: CaseDetailOut}, auth=AUTH, summary="Open a case (立案)")
def open_case(request, payload: OpenCaseIn):
    require_scope(request, "cases:write")
    if not request.user.agency_id:
        raise ApiError(status=403, code="forbidden", message="只有执法部门可以立案。")
    case = services.open_case(
        actor=request.user, agency=request.user.agency, title=payload.title, act_kind=payload.act_kind,
        procedure=payload.procedure, party_name=payload.party_name, party_type=payload.party_type,
        party_credit_code=payload.party_credit_code, opened_on=payload.opened_on,
        officers=_officers(request, payload.officer_ids) or [],
        proposed_penalty_categories=payload.proposed_penalty_categories, proposed_fine_fen=payload.proposed_fine_fen)
    return created(_detail(case))


@router.post("/{case_id}/steps", response={201: CaseStepOut}, auth=AUTH, summary="Start a step of the case's process")
def start_step(request, case_id: Id, payload: StartStepIn):
    case = _case_to_write(request, case_id)
    step = services.start_step(actor=request.user, case=case, code=payload.code,
                               officers=_officers(request, payload.officer_ids), place=payload.place,
                               note=payload.note, at=payload.at, at_premises=payload.at_premises)
    return created(step)


@router.post("/{case_id}/steps/{step_id}/complete", response=CaseStepOut, auth=AUTH, summary="Complete a step (close its record)")
def complete_step(request, case_id: Id, step_id: Id, payload: CompleteStepIn):
    require_scope(request, "cases:write")
    step = selectors.get_step_for(user=request.user, case_pk=case_id, pk=step_id)
    return services.complete_step(actor=request.user, step=step, note=payload.note, place=payload.place,
                                  documents=payload.documents, at=payload.at, served_on=payload.served_on)


@router.post("/{case_id}/hearing-request", response=CaseDetailOut, auth=AUTH,
             summary="Record the party's request for a hearing (art. 63, 64 (1))")
def hearing_request(request, case_id: Id, payload: HearingRequestIn):
    case = _case_to_write(request, case_id)
    return _detail(services.record_hearing_request(actor=request.user, case=case, requested_on=payload.requested_on))


@router.post("/{case_id}/hearing-waiver", response=CaseDetailOut, auth=AUTH,
             summary="Record the party's written waiver of a hearing: the decision need not wait for the request period")
def hearing_waiver(request, case_id: Id, payload: HearingWaiverIn):
    case = _case_to_write(request, case_id)
    return _detail(services.record_hearing_waiver(actor=request.user, case=case, waived_on=payload.waived_on))


@router.post("/{case_id}/terminate", response=CaseDetailOut, auth=AUTH,
             summary="Terminate the case (终止 / 撤销立案) before a decision: the agency head only")
def terminate(request, case_id: Id, payload: TerminateIn):
    case = _case_to_write(request, case_id)
    return _detail(services.terminate_case(actor=request.user, case=case, reason=payload.reason, on=payload.on))


@router.post("/{case_id}/officers", response=CaseDetailOut, auth=AUTH,
             summary="Put an officer on the case (role assist or lead), or make an officer of the case its lead")
def assign_officer(request, case_id: Id, payload: AssignOfficerIn):
    case = _case_to_write(request, case_id)
    services.assign_officer(actor=request.user, case=case, officer=_officer(request, payload.officer_id), role=payload.role)
    return _detail(case)


@router.delete("/{case_id}/officers/{officer_id}", response=CaseDetailOut, auth=AUTH,
               summary="Take an assisting officer off the case")
def remove_officer(request, case_id: Id, officer_id: Id):
    case = _case_to_write(request, case_id)
    services.remove_officer(actor=request.user, case=case, officer=_officer(request, officer_id))
    return _detail(case)


@router.post("/{case_id}/hearing-notice", response=CaseDetailOut, auth=AUTH,
             summary="Record the hearing notice (听证通知书) served on the party: notified_on, hearing_on (art. 64 (2))")
def hearing_notice(request, case_id: Id, payload: HearingNoticeIn):
    case = _case_to_write(request, case_id)
    services.record_hearing_notice(actor=request.user, case=case, notified_on=payload.notified_on,
                                   hearing_on=payload.hearing_on)
    case.refresh_from_db()
    return _detail(case)


@router.post("/{case_id}/preservations", response={201: PreservationOut}, auth=AUTH,
             summary="Register evidence preservation (先行登记保存, art. 56): the handling decision is due in 7 working days")
def register_preservation(request, case_id: Id, payload: PreservationIn):
    case = _case_to_write(request, case_id)
    return created(services.record_preservation(actor=request.user, case=case, preserved_on=payload.preserved_on,
                                                items=payload.items))


@router.post("/{case_id}/preservations/{preservation_id}/handled", response=PreservationOut, auth=AUTH,
             summary="Record the handling decision on preserved evidence (meets its deadline)")
def handle_preservation(request, case_id: Id, preservation_id: Id, payload: PreservationHandledIn):
    case = _case_to_write(request, case_id)
    preservation = selectors.get_preservation_for(user=request.user, case_pk=case.pk, pk=preservation_id)
    return services.handle_preservation(actor=request.user, case=case, preservation=preservation,
                                        handled_on=payload.handled_on, handling=payload.handling)


@router.post("/{case_id}/steps/{step_id}/av-exemption", response={201: AvExemptionOut}, auth=AUTH,
             summary="Ask for an exemption from AV recording for a step in progress (记录-4): reason")
def request_av_exemption(request, case_id: Id, step_id: Id, payload: AvExemptionIn):
    require_scope(request, "cases:write")
    step = selectors.get_step_for(user=request.user, case_pk=case_id, pk=step_id)
    return created(services.request_av_exemption(actor=request.user, step=step, reason=payload.reason))


@router.post("/{case_id}/steps/{step_id}/av-exemption/approve", response=AvExemptionOut, auth=AUTH,
             summary="The agency head approves the step's AV exemption (a logged-in head; never the person who asked)")
def approve_av_exemption(request, case_id: Id, step_id: Id):
    require_scope(request, "cases:write")
    step = selectors.get_step_for(user=request.user, case_pk=case_id, pk=step_id)
    exemption = selectors.av_exemption_of(user=request.user, step=step)
    return services.approve_av_exemption(actor=request.user, exemption=exemption)
