"""The platform's own endpoints over core's data: regions, public
certificate verification and officer list, and the scoped private reads of
agencies and officers. They live in the api app (above core), so core never
imports the API layer (docs/architecture.md)."""


from datetime import date

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import paginate

from sanxiang.core import selectors, todo
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, Region
from sanxiang.core.parsing import Day, Id
from sanxiang.rules.loader import RuleNotFound

from .api import AUTH, require_scope
from .errors import ApiError
from .pagination import BoundedLimitOffsetPagination

router = Router(tags=["core"])


def _operation_id(name: str) -> str:
    """The OpenAPI operation ids these endpoints had while they lived in
    sanxiang/core/api.py: clients generated from the document keep them."""
    return f"sanxiang_core_api_{name}"


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None

    @staticmethod
    def resolve_parent(obj):
        return obj.parent.code if obj.parent_id else None


class CertificateOut(Schema):
    certificate_number: str
    name: str
    agency: str
    categories: list[str]
    enforcement_region: str
    valid_from: date
    valid_to: date
    state: str  # valid / expired / not_yet_valid / suspended / revoked


class PublicOfficerOut(Schema):
    name: str
    agency: str
    post: str
    certificate_number: str
    categories: list[str]
    enforcement_region: str


class AgencyOut(Schema):
    id: int
    name: str
    credit_code: str
    region: str
    kind: str
    legal_office_id: int | None
    is_active: bool

    @staticmethod
    def resolve_region(obj):
        return obj.region.code


class OfficerOut(Schema):
    id: int
    name: str
    agency_id: int
    post: str
    certificate_number: str
    categories: list[str]
    enforcement_region: str
    valid_from: date
    valid_to: date
    status: str
    state: str

    @staticmethod
    def resolve_enforcement_region(obj):
        return obj.enforcement_region.code

    @staticmethod
    def resolve_state(obj):
        return selectors.certificate_state(obj)


class MeOut(Schema):
    username: str
    role: str
    agency_id: int | None
    region: str | None


def _public_officer(o) -> dict:
    return {"name": o.name, "agency": o.agency.name, "post": o.post, "certificate_number": o.certificate_number,
            "categories": o.categories, "enforcement_region": o.enforcement_region.name}


@router.get("/regions", response=list[RegionOut], auth=None, summary="Regions (GB/T 2260), optionally the children of one",
            operation_id=_operation_id("list_regions"))
def list_regions(request, parent: str = ""):
    qs = Region.objects.select_related("parent")
    return qs.filter(parent__code=parent) if parent else qs


@router.get("/certificates/{number}", response=CertificateOut, auth=None, summary="Verify a certificate (亮证)",
            operation_id=_operation_id("verify_certificate"))
def verify_certificate(request, number: str):
    officer = selectors.verify_certificate(number=number)
    if officer is None:
        raise Http404
    return {**_public_officer(officer), "valid_from": officer.valid_from, "valid_to": officer.valid_to,
            "state": selectors.certificate_state(officer)}


@router.get("/public/officers", response=list[PublicOfficerOut], auth=None, summary="Public officer list (公示-8/9)",
            operation_id=_operation_id("public_officers"))
@paginate(BoundedLimitOffsetPagination)
def public_officers(request, region: str = "", agency: Id | None = None, q: str = ""):
    return [_public_officer(o) for o in selectors.public_officer_list(region_code=region, agency_id=agency, q=q)]


@router.get("/me", response=MeOut, auth=AUTH, operation_id=_operation_id("me"))
def me(request):
    u = request.user
    return {"username": u.username, "role": u.role, "agency_id": u.agency_id, "region": u.region.code if u.region_id else None}


@router.get("/agencies", response=list[AgencyOut], auth=AUTH, summary="Agencies in the caller's jurisdiction",
            operation_id=_operation_id("list_agencies"))
@paginate(BoundedLimitOffsetPagination)
def list_agencies(request):
    require_scope(request, "read")
    return selectors.agencies_for(user=request.user)


@router.get("/agencies/{agency_id}", response=AgencyOut, auth=AUTH, operation_id=_operation_id("get_agency"))
def get_agency(request, agency_id: Id):
    require_scope(request, "read")
    return selectors.get_agency_for(user=request.user, pk=agency_id)


@router.get("/officers", response=list[OfficerOut], auth=AUTH, summary="Officers in the caller's jurisdiction",
            operation_id=_operation_id("list_officers"))
@paginate(BoundedLimitOffsetPagination)
def list_officers(request, q: str = ""):
    require_scope(request, "read")
    qs = selectors.officers_for(user=request.user)
    return qs.filter(name__contains=q) if q else qs


@router.get("/officers/{officer_id}", response=OfficerOut, auth=AUTH, operation_id=_operation_id("get_officer"))
def get_officer(request, officer_id: Id):
    require_scope(request, "read")
    return selectors.get_officer_for(user=request.user, pk=officer_id)


class ComputedDeadlineOut(Schema):
    rule: str
    start: date
    amount: int
    unit: str  # working_days / calendar_days / months / years
    deadline: date
    provisional: bool  # true: a year in the span has no official holiday schedule yet
    reference: str
    scope: str
    rolls_to_working_day: bool  # a last day that is a holiday moves to the next working day (the rule says so)
    rolls_reference: str


@router.get("/deadlines", response=ComputedDeadlineOut, auth=None, summary="Compute a legal deadline from a dated rule",
            operation_id=_operation_id("compute_deadline"))
def compute_deadline(request, rule: str, start: Day, agency: str = "", region: str = ""):
    agency_obj = None
    if agency:
        agency_obj = Agency.objects.select_related("region").filter(credit_code=agency.upper()).first()
        if agency_obj is None:
            raise ApiError(status=422, code="agency_unknown", field="agency", message=f"没有统一社会信用代码为 {agency} 的部门。")
    try:
        result = deadline_for(rule=rule, start=start, agency=agency_obj, region_code=region or None)
    except RuleNotFound as exc:
        raise ApiError(status=422, code="rule_unknown", field="rule", message=str(exc))
    except ValueError as exc:
        raise ApiError(status=422, code="rule_not_a_period", field="rule", message=str(exc))
    d = result.deadline
    return {"rule": rule, "start": start, "amount": d.amount, "unit": d.unit, "deadline": d.date,
            "provisional": d.provisional, "reference": result.rule.reference, "scope": result.rule.scope,
            "rolls_to_working_day": bool(result.rule.rolls_to_working_day), "rolls_reference": result.rule.rolls_reference}


# --- the to-do list (待办, issue 11 item 5) ---------------------------------------


class TodoItemOut(Schema):
    kind: str  # a stable code, e.g. case_next_step, case_deadline, av_upload, review_round, publication_check
    label: str  # the kind's name as the workbench shows it
    title: str
    due: date | None
    overdue: bool
    urgency: str  # overdue / soon (within 3 working days) / later / undated
    url: str  # the page where it is done
    detail: str


@router.get("/workbench/todo", response=list[TodoItemOut], auth=AUTH,
            summary="The caller's to-do list (待办): open items that need the caller, most urgent first",
            operation_id="sanxiang_workbench_todo")
@paginate(BoundedLimitOffsetPagination)
def workbench_todo(request):
    require_scope(request, "read")
    return [{"kind": i.kind, "label": i.label, "title": i.title, "due": i.due, "overdue": i.overdue,
             "urgency": i.urgency, "url": i.url, "detail": i.detail} for i in todo.todo_for(user=request.user)]
