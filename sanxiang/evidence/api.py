"""Evidence API at /api/v1/evidence (uploads themselves are the tus endpoint
at /api/v1/uploads/). Reads go through the jurisdiction selectors: another
agency's evidence is 404, like evidence that does not exist. Every item
read, download and share appends to the audit chain."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from sanxiang.api.api import AUTH, require_scope

from . import selectors, services
from .views import content_response

router = Router(tags=["evidence"], auth=AUTH)


class EvidenceOut(Schema):
    id: int
    case: int = Field(..., alias="case_id")
    step: int | None = Field(None, alias="step_id")
    officer: str | None = None
    device: str | None = None
    captured_at: datetime
    place: str
    duration_s: float | None
    mime_type: str
    kind: str
    original_name: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    legal_hold: bool
    retention_until: str | None
    content_url: str

    @staticmethod
    def resolve_officer(obj):
        return obj.officer.certificate_number if obj.officer_id else None

    @staticmethod
    def resolve_device(obj):
        return obj.device.serial if obj.device_id else None

    @staticmethod
    def resolve_uploaded_by(obj):
        return obj.uploaded_by.username

    @staticmethod
    def resolve_retention_until(obj):
        return obj.retention_until.isoformat() if obj.retention_until else None

    @staticmethod
    def resolve_content_url(obj):
        return reverse("api:evidence_content", args=[obj.pk])


class ShareIn(Schema):
    recipient: str
    reason: str
    days: int = 7


class ShareOut(Schema):
    url: str
    expires_at: datetime


@router.get("/items", response=list[EvidenceOut], url_name="evidence_list")
def list_evidence(request, case: int, step: int | None = None):
    """Evidence of a case (optionally one step), newest capture first."""
    require_scope(request, "read")
    qs = selectors.evidence_for(user=request.user).filter(case_id=case)
    if step is not None:
        qs = qs.filter(step_id=step)
    return list(qs[:500])


@router.get("/items/{item_id}", response=EvidenceOut, url_name="evidence_item")
def get_evidence(request, item_id: int):
    require_scope(request, "read")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    services.record_access(actor=request.user, item=item, action="evidence.view", via="api")
    return item


@router.get("/items/{item_id}/content", url_name="evidence_content")
def download_evidence(request, item_id: int):
    """The bytes (Range supported); appends evidence.download."""
    require_scope(request, "read")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    return content_response(request, item, actor=request.user, via="api")


@router.post("/items/{item_id}/share", response={201: ShareOut}, url_name="evidence_share")
def share(request, item_id: int, payload: ShareIn):
    """A signed download link for a named recipient; appends evidence.share."""
    require_scope(request, "cases:write")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    record, token = services.share_evidence(actor=request.user, item=item, recipient=payload.recipient,
                                            reason=payload.reason, days=payload.days)
    return Status(201, {"url": request.build_absolute_uri(reverse("evidence:shared", args=[token])),
                 "expires_at": record.expires_at})
