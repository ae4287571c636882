"""Document endpoints (mounted at /api/v1/documents), token scope ``read``:
the kinds and their fields, a case's documents, one document, and its DOCX
and PDF as issued (each download audited). Scoped through the case's agency;
out-of-scope ids answer 404 like missing ones. Issuing needs ``cases:write``
and a caller who may issue in the case (its own agency's officers, head or
API client; anyone else in the jurisdiction: 403); refusals are 422
``{code, field, message}``."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from sanxiang.api.api import AUTH, created, require_scope
from sanxiang.api.errors import ApiError
from sanxiang.core.parsing import Id

from . import selectors, services
from .kinds import all_kinds
from .views import CONTENT_TYPES, file_response

router = Router(tags=["documents"])


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool


class KindOut(Schema):
    code: str
    title: str
    numbered: bool
    kind_char: str
    version: int
    issued_through: str  # "" or the workflow that alone issues it (e.g. "review")
    fields: list[FieldOut]


class IssueIn(Schema):
    kind: str  # a kind code, see GET /kinds
    data: dict = {}  # the kind's field values
    step_id: Id | None = None  # a step of this case; default: the step in progress


class DocumentOut(Schema):
    id: int
    case_id: int
    step_id: int | None  # the case step it was issued in
    agency_id: int
    kind: str
    title: str
    number: str | None
    issued_at: datetime
    issued_by: str
    data: dict
    docx_sha256: str
    pdf_sha256: str

    @staticmethod
    def resolve_issued_by(obj):
        return obj.issued_by.username


@router.get("/kinds", response=list[KindOut], auth=AUTH)
def kinds(request):
    require_scope(request, "read")
    return [KindOut(code=k.code, title=k.title, numbered=k.numbered, kind_char=k.kind_char, version=k.version,
                    issued_through=k.issued_through,
                    fields=[FieldOut(name=f.name, label=f.label, type=f.type, required=f.required) for f in k.fields])
            for k in all_kinds().values()]


@router.get("/cases/{case_id}", response=list[DocumentOut], auth=AUTH)
def case_documents(request, case_id: Id):
    require_scope(request, "read")
    _case, documents = selectors.case_documents_for(user=request.user, case_id=case_id)
    return list(documents)




@router.post("/cases/{case_id}", response={201: DocumentOut}, auth=AUTH,
             summary="Issue a document in the case (numbered kinds take their 文号)")
def issue_document(request, case_id: Id, payload: IssueIn):
    require_scope(request, "cases:write")
    case = selectors.get_case_for(user=request.user, pk=case_id)
    step = None
    if payload.step_id is not None:
        step = case.steps.filter(pk=payload.step_id).first()
        if step is None:
            raise ApiError(status=422, code="step_other_case", field="step_id",
                           message="该环节不属于本案，文书只能归入本案的环节。")
    return created(services.issue_document(actor=request.user, case=case, kind=payload.kind, data=payload.data,
                                            step=step))


@router.get("/{document_id}", response=DocumentOut, auth=AUTH)
def document_detail(request, document_id: Id):
    require_scope(request, "read")
    return selectors.get_document_for(user=request.user, pk=document_id)


@router.get("/{document_id}/{fmt}", auth=AUTH)
def document_file(request, document_id: Id, fmt: str):
    require_scope(request, "read")
    if fmt not in CONTENT_TYPES:
        raise ApiError(status=404, code="not_found", field="fmt", message="格式只能是 pdf 或 docx。")
    document = selectors.get_document_for(user=request.user, pk=document_id)
    services.record_download(actor=request.user, document=document, fmt=fmt)
    return file_response(document, fmt)
