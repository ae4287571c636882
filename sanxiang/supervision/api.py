"""Public API of 投诉举报 (issue 15, "Interfaces"): file a complaint without
logging in, read its status and reply by tracking number. Never the
complainant's personal data. Mounted at /api/v1/complaints (api_root)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import Http404
from ninja import Router, Schema

from sanxiang.api.api import AUTH, created, require_scope
from sanxiang.api.errors import ApiError
from sanxiang.api.pagination import DEFAULT_LIMIT
from sanxiang.core.lockout import client_ip
from sanxiang.core.parsing import Id, Limit, Offset

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


# --- alerts (预警, issue 15 "Interfaces") ------------------------------------------------
# GET /api/v1/supervision/alerts: the caller's open alerts (its jurisdiction),
# filters region (code, with its subtree), agency (id) and level. A bad
# filter: 422 {code, field, message}. Mounted at /api/v1/supervision (api_root).

alerts_router = Router(tags=["supervision"])


class AlertOut(Schema):
    id: int
    rule: str
    rule_label: str
    level: Literal["yellow", "red"]
    title: str
    due: date
    object_url: str
    agency: int
    agency_name: str
    escalated: bool


class AlertPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertOut]


@alerts_router.get("/alerts", response=AlertPageOut, auth=AUTH, url_name="supervision_alerts",
                   summary="Open supervision alerts (预警) in the caller's jurisdiction, red first")
def list_alerts(request, region: str = "", agency: str = "", level: str = "", limit: Limit = DEFAULT_LIMIT,
                offset: Offset = 0):
    require_scope(request, "read")
    rows = selectors.filtered_alerts(user=request.user, region=region, agency=agency, level=level)
    count = rows.count()
    return {"count": count, "limit": limit, "offset": offset,
            "items": [{"id": a.pk, "rule": a.rule, "rule_label": selectors.rule_label(a.rule), "level": a.level,
                       "title": a.title, "due": a.due, "object_url": a.object_url, "agency": a.agency_id,
                       "agency_name": a.agency.name, "escalated": a.escalated_at is not None}
                      for a in rows[offset:offset + limit]]}
