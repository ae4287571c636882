"""Public catalogue endpoints (mounted at /api/v1/catalog).

Anonymous GETs of the lists in force per agency (公示-3/4/5/7), the
flowcharts as SVG drawn from the process definitions (公示-6), and the
process definitions themselves as JSON. ``?version=N`` reads an older
accepted version; drafts and submissions are never served here. Errors are
JSON {code, field, message}.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from ninja import Router, Schema

from sanxiang.api.errors import ApiError
from sanxiang.core.parsing import Id

from . import selectors
from .models import CatalogueKind, CatalogueVersion, Flowchart
from .processes import ProcessNotFound, all_processes, get_process, render_flowchart_svg

router = Router(tags=["catalog"])


class CatalogueVersionOut(Schema):
    number: int
    effective_date: date
    accepted_at: str | None
    # the lower platform that filed it (received through docking); "" for a version filed here
    received_from: str


class EnforcementItemOut(Schema):
    code: str
    name: str
    act_kind: str
    enforcing_body: str
    duty: str
    authority: str
    basis_law: str
    basis_article: str


class InspectionItemOut(Schema):
    code: str
    name: str
    body: str
    basis: str
    target: str
    content: str
    ratio_percent: Decimal
    method: str
    frequency: str


class ServiceGuideOut(Schema):
    code: str
    name: str
    basis: str
    accepting_body: str
    approving_body: str
    conditions: str
    preferential_policies: str
    materials: str
    procedure: str
    time_limit: str
    supervision: str
    accountability: str
    remedies: str
    office_hours: str
    office_address: str
    office_phone: str


class FlowchartOut(Schema):
    act_kind: str
    procedure: str
    title: str
    note: str
    svg_url: str


class EnforcementListOut(Schema):
    agency_id: int
    agency: str
    version: CatalogueVersionOut
    items: list[EnforcementItemOut]


class InspectionListOut(Schema):
    agency_id: int
    agency: str
    version: CatalogueVersionOut
    items: list[InspectionItemOut]


class GuideListOut(Schema):
    agency_id: int
    agency: str
    version: CatalogueVersionOut
    items: list[ServiceGuideOut]


class FlowchartListOut(Schema):
    agency_id: int
    agency: str
    version: CatalogueVersionOut
    items: list[FlowchartOut]


class HistoryOut(Schema):
    agency_id: int
    kind: str
    versions: list[CatalogueVersionOut]


class ProcessStepOut(Schema):
    code: str
    name: str
    records: list[str]
    av: bool
    optional: bool
    condition: str
    next: list[str]
    returns: list[str]
    time_limit_rule: str | None
    time_limit_note: str
    basis: list[str]


class ProcessOut(Schema):
    act_kind: str
    procedure: str
    title: str
    basis: list[str]
    digest: str
    steps: list[ProcessStepOut]


KIND_PATHS = {
    "enforcement-items": CatalogueKind.ENFORCEMENT_ITEMS,
    "inspection-items": CatalogueKind.INSPECTION_ITEMS,
    "service-guides": CatalogueKind.SERVICE_GUIDES,
    "flowcharts": CatalogueKind.FLOWCHARTS,
}


def _agency(agency_id: int):
    from django.http import Http404

    try:
        return selectors.get_public_agency(pk=agency_id)
    except Http404:
        raise ApiError(status=404, code="agency_not_found", field="agency_id", message="未找到该执法部门。") from None


def _version(agency, kind: str, number: int | None) -> CatalogueVersion:
    version = selectors.public_version(agency=agency, kind=kind, number=number)
    if version is None:
        if number is not None:
            raise ApiError(status=404, code="version_not_found", field="version", message=f"该清单没有已备案的第 {number} 版。")
        raise ApiError(status=404, code="no_version_in_force", field=None, message="该部门的此项清单尚无生效版本。")
    return version


def _version_out(v: CatalogueVersion) -> dict:
    return {"number": v.number, "effective_date": v.effective_date,
            "accepted_at": v.decided_at.isoformat() if v.decided_at else None, "received_from": v.received_from}


def _envelope(agency, version, items) -> dict:
    return {"agency_id": agency.pk, "agency": agency.name, "version": _version_out(version), "items": items}


def _public_list(agency_id: int, kind: str, number: int | None):
    """(agency, version) of a published list: the version asked for, else the one in force."""
    agency = _agency(agency_id)
    return agency, _version(agency, kind, number)


def _rows(schema, items, **computed) -> list[dict]:
    """Each item as the fields of `schema`: computed[field](item) where
    given, else the item's attribute of that name."""
    return [{f: computed[f](i) if f in computed else getattr(i, f) for f in schema.model_fields} for i in items]


@router.get("/agencies/{agency_id}/enforcement-items", response=EnforcementListOut, auth=None,
            summary="行政执法事项清单 in force (公示-3/4)")
def enforcement_items(request, agency_id: Id, q: str = "", version: Id | None = None):
    agency, v = _public_list(agency_id, CatalogueKind.ENFORCEMENT_ITEMS, version)
    items = selectors.public_items(version=v, q=q)
    return _envelope(agency, v, _rows(EnforcementItemOut, items, enforcing_body=lambda i: agency.name))


@router.get("/agencies/{agency_id}/inspection-items", response=InspectionListOut, auth=None,
            summary="随机抽查事项清单 in force (公示-5)")
def inspection_items(request, agency_id: Id, version: Id | None = None):
    agency, v = _public_list(agency_id, CatalogueKind.INSPECTION_ITEMS, version)
    return _envelope(agency, v, _rows(InspectionItemOut, v.items(), ratio_percent=lambda i: i.ratio))


@router.get("/agencies/{agency_id}/service-guides", response=GuideListOut, auth=None,
            summary="服务指南 in force, all fifteen fields (公示-7)")
def service_guides(request, agency_id: Id, version: Id | None = None):
    agency, v = _public_list(agency_id, CatalogueKind.SERVICE_GUIDES, version)
    return _envelope(agency, v, _rows(ServiceGuideOut, v.items()))


@router.get("/agencies/{agency_id}/flowcharts", response=FlowchartListOut, auth=None,
            summary="执法流程图 in force (公示-6), with links to their SVG")
def flowcharts(request, agency_id: Id, version: Id | None = None):
    agency, v = _public_list(agency_id, CatalogueKind.FLOWCHARTS, version)
    items = []
    for f in v.items():
        try:
            title = get_process(f.act_kind, f.procedure).title
        except ProcessNotFound:
            title = ""
        items.append({"act_kind": f.act_kind, "procedure": f.procedure, "title": title, "note": f.note,
                      "svg_url": request.build_absolute_uri(f"{request.path.rstrip('/')}/{f.act_kind}/{f.procedure}.svg")})
    return _envelope(agency, v, items)


@router.get("/agencies/{agency_id}/flowcharts/{act_kind}/{procedure}.svg", auth=None,
            summary="A published flowchart as SVG, drawn from the process definition (公示-6)")
def flowchart_svg(request, agency_id: Id, act_kind: str, procedure: str, version: Id | None = None):
    agency, v = _public_list(agency_id, CatalogueKind.FLOWCHARTS, version)
    if not Flowchart.objects.filter(version=v, act_kind=act_kind, procedure=procedure).exists():
        raise ApiError(status=404, code="flowchart_not_published", field="act_kind",
                       message=f"该部门未公示“{act_kind}-{procedure}”的流程图。")
    return _svg_response(get_process(act_kind, procedure), agency)


@router.get("/agencies/{agency_id}/{kind}/history", response=HistoryOut, auth=None,
            summary="Accepted versions of a list with their effective dates")
def history(request, agency_id: Id, kind: str):
    agency = _agency(agency_id)
    if kind not in KIND_PATHS:
        raise ApiError(status=404, code="unknown_catalogue", field="kind",
                       message=f"清单类别无效（可用：{'、'.join(KIND_PATHS)}）。")
    versions = selectors.public_versions(agency=agency, kind=KIND_PATHS[kind])
    return {"agency_id": agency.pk, "kind": KIND_PATHS[kind], "versions": [_version_out(v) for v in versions]}


def _process(act_kind: str, procedure: str):
    try:
        return get_process(act_kind, procedure)
    except ProcessNotFound:
        raise ApiError(status=404, code="process_not_found", field="act_kind",
                       message=f"没有“{act_kind}-{procedure}”的流程定义。") from None


def _svg_response(definition, agency=None) -> HttpResponse:
    return HttpResponse(render_flowchart_svg(definition, agency=agency), content_type="image/svg+xml; charset=utf-8")


@router.get("/processes", response=list[ProcessOut], auth=None, summary="Every process definition (the data behind the flowcharts)")
def processes(request):
    return [d.as_dict() for d in all_processes()]


@router.get("/processes/{act_kind}/{procedure}.svg", auth=None, summary="A process definition drawn as SVG")
def process_svg(request, act_kind: str, procedure: str):
    return _svg_response(_process(act_kind, procedure))


# Registered after the .svg route: "{procedure}" would also match "general.svg".
@router.get("/processes/{act_kind}/{procedure}", response=ProcessOut, auth=None, summary="One process definition")
def process(request, act_kind: str, procedure: str):
    return _process(act_kind, procedure).as_dict()
