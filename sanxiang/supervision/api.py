"""Public API of 投诉举报 (issue 15, "Interfaces"): file a complaint without
logging in, read its status and reply by tracking number. Never the
complainant's personal data. Mounted at /api/v1/complaints (api_root)."""

from __future__ import annotations

from django.http import Http404
from ninja import Router, Schema

from sanxiang.api.api import created
from sanxiang.api.errors import ApiError
from sanxiang.core.lockout import client_ip
from sanxiang.core.parsing import Id

from . import selectors, services

router = Router(tags=["complaints (public)"])

_THROTTLED = {"responses": {"429": {
    "description": "Too many complaints from this address within the window (COMPLAINT_RATE_LIMIT)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}


class ComplaintIn(Schema):
    agency: Id
    subject: str
    content: str
    officer_certificate: str = ""
    case_reference: str = ""
    complainant_name: str = ""
    complainant_phone: str = ""


class ComplaintFiledOut(Schema):
    tracking_number: str
    reply_due: str


class ComplaintStatusOut(Schema):
    tracking_number: str
    status: str
    status_label: str
    agency: str
    office: str
    subject: str
    received_on: str
    reply_due: str
    reply_due_provisional: bool
    reply_reference: str
    closed_on: str | None
    reply: str | None


@router.post("", response={201: ComplaintFiledOut}, auth=None, url_name="complaints_file", openapi_extra=_THROTTLED,
             summary="File a complaint about enforcement (投诉举报), no login; rate-limited per address → {tracking_number}")
def file_complaint(request, payload: ComplaintIn):
    try:
        complaint = services.file_complaint(data=payload.dict(), ip=client_ip(request))
    except services.RateLimited as exc:
        raise ApiError(status=429, code="throttled", message=exc.message) from None
    return created({"tracking_number": complaint.tracking_number, "reply_due": complaint.reply_due.isoformat()})


@router.get("/{tracking_number}", response=ComplaintStatusOut, auth=None, url_name="complaints_status",
            summary="A complaint's status and, once given, the reply (no personal data)")
def complaint_status(request, tracking_number: str):
    complaint = selectors.by_tracking_number(tracking_number[:40])
    if complaint is None:
        raise Http404
    return selectors.public_view(complaint)
