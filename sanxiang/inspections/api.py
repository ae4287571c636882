"""Public API of 双随机一公开 (公示-15): a draw's record, re-runnable by
anyone with the verifier (docs/random-inspection.md)."""

from __future__ import annotations

from django.http import Http404
from ninja import Router
from ninja.decorators import decorate_view

from sanxiang.core.db_router import public_read
from sanxiang.core.parsing import Id, PageNumber, PageSize

from . import selectors

router = Router(tags=["inspections (public)"])


@router.get("/draws/{draw_id}/record", response=dict, auth=None, url_name="inspections_draw_record",
            summary="A random inspection draw's public record (sanxiang-draw-v1), to re-run it")
@decorate_view(public_read)
def draw_record(request, draw_id: Id):
    draw = selectors.public_draw(pk=draw_id)
    if draw is None:
        raise Http404
    return selectors.draw_record(draw)


@router.get("/results", response=dict, auth=None, url_name="inspections_results",
            summary="Published results of random inspections (公示-15), newest first")
@decorate_view(public_read)
def results(request, q: str = "", agency: Id | None = None, page: PageNumber = 1, page_size: PageSize = 20):
    rows = selectors.public_results(q=q[:50], agency_id=agency)
    total = rows.count()
    start = (page - 1) * page_size
    return {"count": total, "page": page, "page_size": page_size,
            "items": [selectors.public_result(i) for i in rows[start:start + page_size]]}


# --- the directory of inspection objects, for case systems and agency tools ------------
# Authenticated: an agency's API token (scope inspections:directory; "read"
# reads) or a logged-in organiser. Natural persons' ID numbers are never
# returned whole: id_masked only. Mounted at /api/v1/inspections (api_root).

from typing import Optional  # noqa: E402

from ninja import File, Schema  # noqa: E402
from ninja.files import UploadedFile  # noqa: E402

from sanxiang.api.api import AUTH, created, require_scope  # noqa: E402
from sanxiang.api.errors import ApiError  # noqa: E402
from sanxiang.core import parsing  # noqa: E402

from . import imports, services  # noqa: E402

directory_router = Router(tags=["inspections (directory)"])
DIRECTORY_SCOPE = "inspections:directory"
DIRECTORY_PAGE = 50


class DirectoryObjectOut(Schema):
    id: int
    name: str
    credit_code: str
    natural_person: bool
    id_masked: str
    legal_representative: str
    address: str
    industry: str
    region: str
    region_name: str
    risk_tier: str
    labels: list[str]
    is_active: bool


class DirectoryPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[DirectoryObjectOut]


class DirectoryObjectIn(Schema):
    name: str
    credit_code: str = ""
    id_number: str = ""
    legal_representative: str = ""
    address: str = ""
    industry: str = ""
    region: str
    risk_tier: str = "B"
    labels: list[str] = []


class DirectoryObjectPatch(Schema):
    risk_tier: Optional[str] = None
    labels: Optional[list[str]] = None


class DirectoryRefusalOut(Schema):
    row: int
    field: str
    column: str
    code: str
    message: str
    object: str


class DirectoryImportOut(Schema):
    filename: str
    rows: int
    created: int
    updated: int
    unchanged: int
    refused_rows: int
    refused: list[DirectoryRefusalOut]


def _object_out(o) -> dict:
    return {"id": o.pk, "name": o.name, "credit_code": o.credit_code, "natural_person": o.natural_person,
            "id_masked": o.id_masked, "legal_representative": o.legal_representative, "address": o.address,
            "industry": o.industry, "region": o.region.code, "region_name": o.region.name, "risk_tier": o.risk_tier,
            "labels": list(o.labels or []), "is_active": o.is_active}


def _scope(request, *, write: bool) -> None:
    token = getattr(request, "api_token", None)
    if token is not None and not write and "read" in token.scopes:
        return
    require_scope(request, DIRECTORY_SCOPE)


@directory_router.get("/objects", response=DirectoryPageOut, auth=AUTH, url_name="inspections_objects",
                      summary="Search the directory of inspection objects (检查对象名录库), 50 a page")
def list_objects(request, q: str = "", region: str = "", tier: str = "", page: parsing.PageNumber = 1):
    _scope(request, write=False)
    rows = selectors.directory_for(user=request.user, q=q[:100], region=region[:12], tier=tier[:1])
    count = rows.count()
    pages = max(1, -(-count // DIRECTORY_PAGE))
    start = (page - 1) * DIRECTORY_PAGE
    return {"count": count, "page": page, "pages": pages,
            "results": [_object_out(o) for o in rows[start:start + DIRECTORY_PAGE]]}


@directory_router.post("/objects", response={201: DirectoryObjectOut}, auth=AUTH,
                       summary="Add one object to the directory (a unit by credit code, a natural person by ID number)")
def create_object(request, payload: DirectoryObjectIn):
    _scope(request, write=True)
    data = payload.dict()
    data["labels"] = "；".join(str(x) for x in data.get("labels") or [])
    obj = services.add_object(actor=request.user, data=data)
    return created(_object_out(obj))


@directory_router.post("/objects/import", response=DirectoryImportOut, auth=AUTH,
                       summary="Import an XLSX or CSV file into the directory (multipart field \"file\"): per-row refusals")
def import_objects(request, file: UploadedFile = File(...)):
    _scope(request, write=True)
    if file.size and file.size > imports.MAX_BYTES:
        raise ApiError(status=413, code="too_large", field="file",
                       message=f"文件大于 {imports.MAX_BYTES // 1048576} MB，请分成几个文件导入。")
    result = services.import_objects(actor=request.user, data=b"".join(file.chunks()), filename=file.name or "")
    return result.as_dict()


@directory_router.patch("/objects/{object_id}", response=DirectoryObjectOut, auth=AUTH,
                        summary="Change an object's credit-risk tier and/or labels")
def update_object(request, object_id: Id, payload: DirectoryObjectPatch):
    _scope(request, write=True)
    obj = selectors.get_object_for(user=request.user, pk=object_id)
    obj = services.update_object(actor=request.user, obj=obj, risk_tier=payload.risk_tier, labels=payload.labels)
    return _object_out(obj)
