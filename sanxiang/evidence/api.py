"""Evidence API at /api/v1/evidence (uploads themselves are the tus endpoint
at /api/v1/uploads/). Reads go through the jurisdiction selectors: another
agency's evidence is 404, like evidence that does not exist. Every item
read, download and share appends to the audit chain."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from sanxiang.api.api import AUTH, require_scope
from sanxiang.core.parsing import Count, Id

from . import selectors, services
from .views import archive_file_response, content_response

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
    days: Count = 7


class ShareOut(Schema):
    id: int
    url: str
    state: str  # pending (awaiting the head's approval) / active / expired / revoked
    expires_at: datetime | None  # set when approved


class ShareStateOut(Schema):
    id: int
    recipient: str
    state: str
    approved_by: str | None = None
    expires_at: datetime | None
    uses: int

    @staticmethod
    def resolve_approved_by(obj):
        return obj.approved_by.username if obj.approved_by_id else None


class RevokeIn(Schema):
    reason: str


@router.get("/items", response=list[EvidenceOut], url_name="evidence_list")
def list_evidence(request, case: Id, step: Id | None = None):
    """Evidence of a case (optionally one step), newest capture first."""
    require_scope(request, "read")
    qs = selectors.evidence_for(user=request.user).filter(case_id=case)
    if step is not None:
        qs = qs.filter(step_id=step)
    return list(qs[:500])


@router.get("/items/{item_id}", response=EvidenceOut, url_name="evidence_item")
def get_evidence(request, item_id: Id):
    require_scope(request, "read")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    services.record_access(actor=request.user, item=item, action="evidence.view", via="api")
    return item


@router.get("/items/{item_id}/content", url_name="evidence_content")
def download_evidence(request, item_id: Id):
    """The bytes (Range supported); appends evidence.download."""
    require_scope(request, "read")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    return content_response(request, item, actor=request.user, via="api")


@router.post("/items/{item_id}/share", response={201: ShareOut}, url_name="evidence_share")
def share(request, item_id: Id, payload: ShareIn):
    """A download link for a named recipient, carrying a random token shown
    only in this answer; appends evidence.share. Only the case's officers and
    the agency head may ask (403 `cannot_share_evidence`). The link works at
    once where the caller's role is named in the dated rule
    evidence.share_without_approval_roles (the head by default); otherwise
    its state is `pending` until the head approves it."""
    require_scope(request, "cases:write")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    record, token = services.share_evidence(actor=request.user, item=item, recipient=payload.recipient,
                                            reason=payload.reason, days=payload.days)
    return Status(201, {"id": record.pk, "url": request.build_absolute_uri(reverse("evidence:shared", args=[token])),
                        "state": record.state, "expires_at": record.expires_at})


@router.post("/items/{item_id}/shares/{share_id}/approve", response=ShareStateOut, url_name="evidence_share_approve")
def approve_share(request, item_id: Id, share_id: Id):
    """The agency head approves a pending share; the link works from now for
    its days. Appends evidence.share_approve."""
    require_scope(request, "cases:write")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    share = selectors.get_share_for(user=request.user, item=item, pk=share_id)
    return services.approve_share(actor=request.user, share=share)


@router.post("/items/{item_id}/shares/{share_id}/revoke", response=ShareStateOut, url_name="evidence_share_revoke")
def revoke_share(request, item_id: Id, share_id: Id, payload: RevokeIn):
    """Whoever asked for the share, or the head, revokes it: the link stops
    working at once. Appends evidence.share_revoke."""
    require_scope(request, "cases:write")
    item = selectors.get_evidence_for(user=request.user, pk=item_id)
    share = selectors.get_share_for(user=request.user, item=item, pk=share_id)
    return services.revoke_share(actor=request.user, share=share, reason=payload.reason)


class ArchiveOut(Schema):
    id: int
    case: int = Field(..., alias="case_id")
    path: str
    sha256: str
    size: int
    manifest_sha256: str
    items: int
    checkpoint_size: int
    built_at: datetime
    built_by: str
    download_url: str

    @staticmethod
    def resolve_download_url(obj):
        return reverse("api:archive_download", args=[obj.pk])


@router.get("/cases/{case_id}/archives", response=list[ArchiveOut], url_name="archive_list")
def list_archives(request, case_id: Id):
    """A case's e-case file packages (电子案卷, 记录-3), newest first."""
    require_scope(request, "read")
    return list(selectors.archives_for(user=request.user, case=case_id))


@router.get("/archives/{package_id}/download", url_name="archive_download")
def download_archive(request, package_id: Id):
    """The package (ZIP); appends case.archive_download."""
    require_scope(request, "read")
    package = selectors.get_archive_for(user=request.user, pk=package_id)
    return archive_file_response(package, actor=request.user, via="api")


@router.post("/archives/{package_id}/check", url_name="archive_check")
def check_archive(request, package_id: Id):
    """The four-property check (四性检测) of the stored package, and its SHA-256
    against the one recorded at build; appends case.archive_check. The
    report: {"ok", "signature", "summary", "properties": {name: {"ok", "findings"}}}."""
    require_scope(request, "read")
    package = selectors.get_archive_for(user=request.user, pk=package_id)
    return services.check_stored_archive(actor=request.user, package=package, via="api").as_dict()
