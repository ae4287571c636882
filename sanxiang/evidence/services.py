"""Writes of the evidence domain. Keyword-only functions named verb_noun;
each validates, writes in one transaction and appends its audit entry in
that transaction (custody: every upload, view, download, share, deletion,
restoration, hold, purge and fixity alert is in the audit chain).

Evidence is immutable (design.md): stored under its SHA-256, hashed while
streaming, checked against the client's declared hash before it is
accepted, re-checked on a schedule (fixity, 记录-12)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.deadlines import add_rule_period
from sanxiang.rules import get_rule
from sanxiang.core.refusals import Refused
from sanxiang.core.statuses import change_status

from . import filetypes, predicates, uploads
from .archive.build import ARCHIVED_STATUSES, ArchiveError, archive_dir, build_case_archive
from .archive.keys import check_with_platform_keys
from .archive.layout import PROPERTIES
from .models import (
    Device, DeviceAssignment, DeviceStatus, EvidenceItem, EvidenceKind, EvidenceShare, FixityAlert, FixityProblem,
    RetentionCategory, Upload, UploadStatus,
)
from .hashing import hash_stream
from .storage import ObjectMissing, SHA256_RE, get_storage
from sanxiang.core.parsing import BadNumber, parse_id
from sanxiang.core import clock, queue

from . import tasks

log = logging.getLogger(__name__)
_DURATION_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")  # seconds, ASCII digits
# A share link's token: 32 random bytes, URL-safe (43 characters).
SHARE_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class HashMismatch(Exception):
    """The received bytes do not hash to the SHA-256 the client declared."""

    def __init__(self, declared: str, actual: str):
        super().__init__(f"declared {declared}, received {actual}")
        self.declared, self.actual = declared, actual


def case_is_open(case) -> bool:
    """Open = not closed or terminated (the cases app owns the statuses)."""
    return getattr(case, "status", "") not in ARCHIVED_STATUSES and case.closed_on is None


# --- detection and retention -----------------------------------------------------


def sniff(path=None, *, mime: str | None = None) -> tuple[str, str]:
    """(MIME type, kind) from the bytes (``filetypes.sniff``, the same
    sniffer the archive check uses), never from the client; ``mime`` when
    already sniffed."""
    mime = mime or filetypes.sniff_file(path)
    if mime.startswith("image/"):
        kind = EvidenceKind.PHOTO
    elif mime.startswith("audio/"):
        kind = EvidenceKind.AUDIO
    elif mime.startswith("video/"):
        kind = EvidenceKind.VIDEO
    elif mime in {"application/pdf", "application/msword", "application/vnd.ms-excel", filetypes.DOCX, filetypes.XLSX,
                  "application/rtf", "application/vnd.oasis.opendocument.text"}:
        kind = EvidenceKind.DOCUMENT
    else:
        kind = EvidenceKind.OTHER
    return mime, kind


def retention_until_for(categories, *, start: date, agency) -> date | None:
    """The longest retention of the categories wins; None = permanent. Each
    category's period is its dated legal parameter (``category.rule``, in
    months or years, or permanent) in force for ``agency`` on the day the
    retention is set, counted from ``start``."""
    today = clock.today()
    ends = []
    for category in categories:
        rule = get_rule(category.rule, on=today, agency=agency)
        if rule.permanent:
            return None
        ends.append(add_rule_period(start=start, rule=rule).date)
    return max(ends) if ends else None


def _retention_start(item: EvidenceItem) -> date:
    # Kept from the case's closing (归档) when known, else from capture.
    closed = getattr(item.case, "closed_on", None)
    return closed or clock.local_date(item.captured_at)


def apply_retention(*, item: EvidenceItem) -> EvidenceItem:
    item.retention_until = retention_until_for(list(item.retention_categories.all()), start=_retention_start(item),
                                               agency=item.case.agency)
    item.save(update_fields=["retention_until"])
    return item


# --- uploads (tus creation, chunks, completion) -------------------------------


def _officer_for(*, user, device: Device | None, captured_at: datetime):
    Officer = apps.get_model("core", "Officer")
    officer = Officer.objects.filter(user=user).first() if getattr(user, "pk", None) else None
    if officer is None and device is not None:
        day = clock.local_date(captured_at)
        assignment = (DeviceAssignment.objects.filter(device=device, valid_from__lte=day)
                      .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day)).select_related("officer").first())
        officer = assignment.officer if assignment else None
    return officer


def _parse_captured_at(value: str) -> datetime:
    if not value:
        return timezone.now()
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({"captured_at": ValidationError("拍摄时间格式无效，应为 ISO 8601（如 2026-05-01T09:30:00+08:00）。", code="invalid_datetime")})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > timezone.now() + timedelta(minutes=10):
        raise ValidationError({"captured_at": ValidationError("拍摄时间不能晚于当前时间。", code="future")})
    return parsed


def _metadata_id(metadata: dict[str, str], key: str) -> int | None:
    """An id from Upload-Metadata through the one parsing layer (ASCII
    digits, 1 … 2**63-1); None when it is not one (reported as not found)."""
    try:
        return parse_id((metadata.get(key) or "").strip(), field=key)
    except BadNumber:
        return None


@transaction.atomic
def create_upload(*, actor, cases, length: int, metadata: dict[str, str]) -> Upload:
    """Validate the metadata of a new upload and register it (tus creation).

    `cases` is the actor's jurisdiction-scoped Case queryset: a case outside
    it is reported as not found, like one that does not exist."""
    if length < 0:
        raise ValidationError({"Upload-Length": ValidationError("Upload-Length 必须是非负整数。", code="invalid_length")})
    if length > settings.EVIDENCE_MAX_SIZE:
        raise ValidationError({"Upload-Length": ValidationError(f"文件过大：上限为 {settings.EVIDENCE_MAX_SIZE} 字节。", code="too_large")})
    sha256 = (metadata.get("sha256") or "").strip().lower()
    if not SHA256_RE.match(sha256):
        raise ValidationError({"sha256": ValidationError("须在 Upload-Metadata 中声明文件的 SHA-256（64 位十六进制）。", code="sha256_required")})
    case_pk = _metadata_id(metadata, "case")
    case = cases.filter(pk=case_pk).first() if case_pk else None
    if case is None:
        raise ValidationError({"case": ValidationError("案件不存在，或不在您的权限范围内。", code="not_found")})
    verdict = predicates.can_add_evidence(actor, case)
    if not verdict:
        raise Refused(verdict)
    if not case_is_open(case):
        raise ValidationError({"case": ValidationError("案件已办结或终止，不能再上传证据。", code="case_not_open")})
    step = None
    if (metadata.get("step") or "").strip():
        step_pk = _metadata_id(metadata, "step")
        CaseStep = apps.get_model("cases", "CaseStep")
        step = CaseStep.objects.filter(pk=step_pk, case=case).first() if step_pk else None
        if step is None:
            raise ValidationError({"step": ValidationError("该案件没有这个执法环节。", code="step_other_case")})
    device = None
    serial = (metadata.get("device") or "").strip()
    if serial:
        device = Device.objects.filter(serial=serial, agency_id=case.agency_id).first()
        if device is None:
            raise ValidationError({"device": ValidationError(f"本部门没有登记序列号为 {serial} 的执法记录仪。", code="unknown_device")})
    captured_at = _parse_captured_at(metadata.get("captured_at", ""))
    duration = (metadata.get("duration") or "").strip()
    if duration:
        try:
            if not _DURATION_RE.fullmatch(duration):  # ASCII digits; float() takes "nan", "inf", "١٢"
                raise ValueError
            duration_s = float(duration)
            if duration_s < 0:
                raise ValueError
        except ValueError:
            raise ValidationError({"duration": ValidationError("时长应为非负的秒数。", code="invalid_duration")})
    category = (metadata.get("category") or "").strip()
    if category and not RetentionCategory.objects.filter(code=category).exists():
        raise ValidationError({"category": ValidationError(f"保存类别 {category} 不存在。", code="unknown_category")})
    upload = Upload.objects.create(
        created_by=actor, case=case, step=step, device=device, length=length, sha256=sha256,
        metadata={"captured_at": captured_at.isoformat(), "place": (metadata.get("place") or "")[:255],
                  "duration": duration, "filename": (metadata.get("filename") or "")[:255], "category": category},
        expires_at=timezone.now() + timedelta(hours=settings.EVIDENCE_UPLOAD_EXPIRY_HOURS),
    )
    return upload


def receive_upload_chunk(*, upload: Upload, offset: int, stream, content_length, checksum) -> Upload:
    """Append one PATCH body; complete the upload when the last byte is in.
    Whoever created the upload must still be allowed to add evidence to its
    case (an officer taken off the case mid-upload adds nothing more)."""
    verdict = predicates.can_add_evidence(upload.created_by, upload.case)
    if not verdict:
        raise Refused(verdict)

    def stored(new_offset: int) -> None:
        if new_offset == upload.length:
            # The safety net, queued before the offset says "every byte is
            # in": should this process die before the item exists, a worker
            # completes the upload (a client that sees the full offset sends
            # nothing more).
            schedule_stalled_upload_check(upload)
        Upload.objects.filter(pk=upload.pk).update(
            offset=new_offset, expires_at=timezone.now() + timedelta(hours=settings.EVIDENCE_UPLOAD_EXPIRY_HOURS))

    def durable(new_offset: int, hasher) -> None:
        # Still under the partial's lock: one completion at a time.
        if new_offset == upload.length:
            upload.refresh_from_db()
            if upload.status == UploadStatus.RECEIVING:
                try:
                    complete_upload(upload=upload, actual_sha256=hasher.hexdigest())
                except UploadAlreadyCompleted:
                    pass  # the queued check was first: the item exists

    uploads.receive_chunk(upload_id=upload.pk, offset=offset, stream=stream, content_length=content_length,
                          checksum=checksum, on_stored=stored, on_durable=durable,
                          recorded_offset=lambda: Upload.objects.values_list("offset", flat=True).get(pk=upload.pk))
    upload.refresh_from_db()
    return upload


def schedule_stalled_upload_check(upload: Upload) -> None:
    """Queue ``finish_stalled_upload`` for the upload after
    EVIDENCE_UPLOAD_COMPLETION_CHECK seconds. A queue that cannot take it is
    logged, not fatal: the request completes the upload itself right after."""
    try:
        tasks.finish_upload.schedule((str(upload.pk),), delay=settings.EVIDENCE_UPLOAD_COMPLETION_CHECK)
    except Exception:
        log.exception("evidence upload %s: could not queue the stalled-upload check", upload.pk)


def finish_stalled_upload(*, upload_id) -> EvidenceItem | None:
    """Complete an upload whose bytes are all in but that has no item: the
    process that received its last bytes died before completing it (the
    task queued by ``receive_upload_chunk``). The partial is hashed again;
    the declared SHA-256 decides as in ``complete_upload``. Nothing to do
    for an upload completed, refused, removed or still receiving;
    ``uploads.UploadBusy`` while a request holds the upload (the queue
    retries)."""
    upload = Upload.objects.select_related("case", "created_by", "device").filter(pk=upload_id).first()
    if upload is None or upload.status != UploadStatus.RECEIVING or upload.offset != upload.length:
        return None
    made: list[EvidenceItem] = []

    def complete(hasher) -> None:
        upload.refresh_from_db()
        if upload.status == UploadStatus.RECEIVING:
            made.append(complete_upload(upload=upload, actual_sha256=hasher.hexdigest()))

    try:
        if uploads.finish_stalled(upload.pk, upload.length, complete):
            return made[0] if made else None
        # No partial: LocalStorage moved it into the store (put_file renames
        # it), and only after the hash matched the declared one; the process
        # died before the item was made.
        storage = get_storage()
        if storage.exists(upload.sha256) and storage.size(upload.sha256) == upload.length:
            return complete_upload(upload=upload, actual_sha256=upload.sha256, from_store=True)
    except UploadAlreadyCompleted:
        return None
    log.warning("evidence upload %s: every byte was received but neither the partial nor the object is there; "
                "left to expire", upload.pk)
    return None


class UploadAlreadyCompleted(Exception):
    """Another process completed the upload first."""


def complete_upload(*, upload: Upload, actual_sha256: str, from_store: bool = False) -> EvidenceItem:
    """All bytes are in: refuse them if they are not what the client
    declared; otherwise store them under their SHA-256 and create the item
    and its audit entry in one transaction."""
    path = uploads.partial_path(upload.pk)
    if actual_sha256 != upload.sha256:
        uploads.discard(upload.pk)
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.FAILED, failure=f"sha256 mismatch: received {actual_sha256}")
            append_audit(actor=upload.created_by, action="evidence.upload_refused", object_type="evidence.upload",
                         object_id=str(upload.pk), payload={"declared_sha256": upload.sha256, "received_sha256": actual_sha256,
                                                            "size": upload.length, "case": upload.case_id})
        raise HashMismatch(upload.sha256, actual_sha256)
    storage = get_storage()
    if from_store:
        # The partial was moved into the store and the process died before
        # the item was made (finish_stalled_upload): sniff the stored object.
        with storage.open(actual_sha256, 0, filetypes.HEAD_BYTES) as fh:
            mime, kind = sniff(mime=filetypes.sniff(fh.read()))
    else:
        mime, kind = sniff(path)
        storage.put_file(path, actual_sha256)
    meta = upload.metadata
    captured_at = datetime.fromisoformat(meta["captured_at"])
    with transaction.atomic():
        # One item per upload, whoever completes it (the request, or the
        # queued check after that request's process died).
        if not Upload.objects.filter(pk=upload.pk, status=UploadStatus.RECEIVING).update(status=UploadStatus.COMPLETED):
            raise UploadAlreadyCompleted(upload.pk)
        item = EvidenceItem.objects.create(
            case=upload.case, step=upload.step, device=upload.device,
            officer=_officer_for(user=upload.created_by, device=upload.device, captured_at=captured_at),
            captured_at=captured_at, place=meta.get("place", ""),
            duration_s=float(meta["duration"]) if meta.get("duration") else None,
            mime_type=mime, kind=kind, original_name=meta.get("filename", ""), size=upload.length,
            sha256=actual_sha256, uploaded_by=upload.created_by,
        )
        categories = list(RetentionCategory.objects.filter(Q(is_default=True) | Q(code=meta.get("category") or "-")))
        item.retention_categories.set(categories)
        item.retention_until = retention_until_for(categories, start=_retention_start(item), agency=upload.case.agency)
        item.save(update_fields=["retention_until"])
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.COMPLETED, evidence=item, offset=upload.length)
        append_audit(actor=upload.created_by, action="evidence.upload", obj=item, payload={
            "sha256": actual_sha256, "size": upload.length, "mime": mime, "case": upload.case_id, "step": upload.step_id,
            "device": upload.device.serial if upload.device else None, "upload": str(upload.pk),
            "name": meta.get("filename", "")})
    # Only now: until the item is committed the partial lets the queued
    # check complete the upload should this process die (LocalStorage has
    # moved it into the store already; then the check finds the object).
    uploads.discard(upload.pk)
    return item


@transaction.atomic
def terminate_upload(*, actor, upload: Upload) -> None:
    """tus termination (DELETE): the partial and its record go."""
    uploads.discard(upload.pk)
    if upload.status == UploadStatus.RECEIVING:
        upload.delete()


def expire_uploads(*, now: datetime | None = None) -> int:
    """Remove expired unfinished uploads with their partial files, finished
    upload records past their expiry, and stray partials with no record."""
    now = now or timezone.now()
    removed = 0
    for upload in Upload.objects.filter(expires_at__lt=now).only("pk"):
        try:
            uploads.discard(upload.pk)
        except OSError:
            continue
        upload.delete()
        removed += 1
    known = {str(pk) for pk in Upload.objects.values_list("pk", flat=True)}
    cutoff = now.timestamp() - settings.EVIDENCE_UPLOAD_EXPIRY_HOURS * 3600
    for path in uploads.upload_dir().glob("*.part"):
        if path.stem not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --- custody: views, downloads, shares ----------------------------------------------


def record_access(*, actor, item: EvidenceItem, action: str, **payload) -> None:
    """Append a custody entry: evidence.view, evidence.download, evidence.play,
    evidence.shared_download."""
    append_audit(actor=actor, action=action, obj=item, payload={"sha256": item.sha256, "case": item.case_id, **payload})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _share_max_days() -> int:
    return settings.EVIDENCE_SHARE_MAX_DAYS


def _activate(share: EvidenceShare, *, approver, now: datetime) -> None:
    share.approved_by, share.approved_at = approver, now
    share.expires_at = now + timedelta(days=share.days)


@transaction.atomic
def share_evidence(*, actor, item: EvidenceItem, recipient: str, reason: str, days: int = 7) -> tuple[EvidenceShare, str]:
    """A download link for someone outside the platform (e.g. the review
    body). The link carries a random token, shown once and stored only as
    its SHA-256. It works at once where the actor's role is named in the
    dated rule ``evidence.share_without_approval_roles`` (the agency head by
    default); otherwise once the agency head approves it
    (``approve_share``). Returns the share and its token."""
    verdict = predicates.can_share_evidence(actor, item)
    if not verdict:
        raise Refused(verdict)
    recipient, reason = (recipient or "").strip(), (reason or "").strip()
    if not recipient:
        raise ValidationError({"recipient": ValidationError("请填写接收方。", code="required")})
    if not reason:
        raise ValidationError({"reason": ValidationError("请填写共享理由。", code="required")})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= _share_max_days():
        raise ValidationError({"days": ValidationError(f"有效期应在 1 至 {_share_max_days()} 天之间。", code="out_of_range")})
    if item.deleted_at is not None:
        raise ValidationError({"item": ValidationError("已删除的证据不能共享。", code="item_deleted")})
    token = secrets.token_urlsafe(32)
    now = clock.now()
    share = EvidenceShare(item=item, recipient=recipient[:255], reason=reason[:255], shared_by=actor,
                          token_hash=_token_hash(token), days=days)
    needs_approval = predicates.share_needs_approval(actor, item)
    if not needs_approval:
        _activate(share, approver=actor, now=now)
    share.save()
    append_audit(actor=actor, action="evidence.share", obj=item, payload={
        "sha256": item.sha256, "recipient": share.recipient, "reason": share.reason, "share": share.pk,
        "days": days, "needs_approval": needs_approval,
        "expires_at": share.expires_at.isoformat() if share.expires_at else None})
    return share, token


@transaction.atomic
def approve_share(*, actor, share: EvidenceShare) -> EvidenceShare:
    """The agency head approves a share: the link works from now for its days."""
    share = EvidenceShare.objects.select_for_update().select_related("item__case__agency").get(pk=share.pk)
    verdict = predicates.can_approve_share(actor, share)
    if not verdict:
        raise Refused(verdict)
    if share.revoked_at is not None:
        raise ValidationError({"share": ValidationError("该共享链接已撤销。", code="share_revoked")})
    if share.approved_at is not None:
        raise ValidationError({"share": ValidationError("该共享已批准。", code="share_already_approved")})
    if share.item.deleted_at is not None:
        raise ValidationError({"share": ValidationError("已删除的证据不能共享。", code="item_deleted")})
    _activate(share, approver=actor, now=clock.now())
    share.save(update_fields=["approved_by", "approved_at", "expires_at"])
    append_audit(actor=actor, action="evidence.share_approve", obj=share.item, payload={
        "share": share.pk, "recipient": share.recipient, "expires_at": share.expires_at.isoformat()})
    return share


@transaction.atomic
def revoke_share(*, actor, share: EvidenceShare, reason: str) -> EvidenceShare:
    """The link stops working at once (whoever asked for it, or the head)."""
    share = EvidenceShare.objects.select_for_update().select_related("item__case").get(pk=share.pk)
    verdict = predicates.can_revoke_share(actor, share)
    if not verdict:
        raise Refused(verdict)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("撤销共享链接须填写理由。", code="required")})
    if share.revoked_at is not None:
        raise ValidationError({"share": ValidationError("该共享链接已撤销。", code="share_revoked")})
    share.revoked_at, share.revoked_by, share.revoke_reason = clock.now(), actor, reason[:255]
    share.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    append_audit(actor=actor, action="evidence.share_revoke", obj=share.item,
                 payload={"share": share.pk, "recipient": share.recipient, "reason": share.revoke_reason})
    return share


def share_from_token(token: str) -> EvidenceShare | None:
    """The share a link's token names, if the link works now; else None.

    The token is looked up by its SHA-256 and compared in constant time.
    A real token that does not work (awaiting approval, expired, revoked,
    the item deleted) appends evidence.shared_refused with the reason; an
    unknown token writes nothing here (refused attempts go to the security
    log), so guessing cannot fill the audit chain."""
    if not isinstance(token, str) or not SHARE_TOKEN_RE.match(token):
        return None
    digest = _token_hash(token)
    share = EvidenceShare.objects.select_related("item", "item__case").filter(token_hash=digest).first()
    if share is None or not hmac.compare_digest(share.token_hash or "", digest):
        return None
    now = clock.now()
    if share.revoked_at is not None:
        problem = "revoked"
    elif share.approved_at is None:
        problem = "awaiting_approval"
    elif share.expires_at is None or share.expires_at <= now \
            or share.expires_at - share.approved_at > timedelta(days=_share_max_days()):
        problem = "expired"
    elif share.item.deleted_at is not None or share.item.purged_at is not None:
        problem = "item_deleted"
    else:
        return share
    with transaction.atomic():
        append_audit(actor=f"share:{share.pk}:{share.recipient}", action="evidence.shared_refused", obj=share.item,
                     payload={"share": share.pk, "problem": problem, "case": share.item.case_id})
    return None


def record_shared_use(*, share: EvidenceShare) -> None:
    """Count a use of a working link (the download itself appends
    evidence.download with the share as actor)."""
    EvidenceShare.objects.filter(pk=share.pk).update(uses=F("uses") + 1, last_used_at=clock.now())


# --- retention, holds, deletion ---------------------------------------------------


def deletion_refusal(item: EvidenceItem, *, on: date | None = None) -> str | None:
    """Why this item may not be deleted now, or None (the can_* predicate)."""
    on = on or clock.today()
    if item.deleted_at is not None:
        return "证据已删除。"
    if item.legal_hold:
        return "证据处于法律保全（冻结）状态，不能删除。"
    if case_is_open(item.case):
        return "案件尚未办结，其证据不能删除。"
    if item.retention_until is None:
        return "该证据为永久保存，不能删除。"
    if on <= item.retention_until:
        return f"保存期限至 {item.retention_until:%Y-%m-%d}，期满前不能删除。"
    return None


@transaction.atomic
def delete_evidence(*, actor, item: EvidenceItem, reason: str) -> EvidenceItem:
    """Soft delete: hidden at once, restorable for EVIDENCE_RECOVERY_DAYS,
    purged (object removed if no other item names it) after that."""
    item = EvidenceItem.objects.select_for_update().select_related("case").get(pk=item.pk)
    if not reason.strip():
        raise ValidationError({"reason": ValidationError("删除证据须填写理由。", code="required")})
    refusal = deletion_refusal(item)
    if refusal:
        raise ValidationError({"item": ValidationError(refusal, code="retention")})
    item.deleted_at = timezone.now()
    item.delete_reason = reason.strip()[:255]
    item.save(update_fields=["deleted_at", "delete_reason"])
    append_audit(actor=actor, action="evidence.delete", obj=item, payload={
        "sha256": item.sha256, "reason": item.delete_reason, "recoverable_days": settings.EVIDENCE_RECOVERY_DAYS})
    return item


@transaction.atomic
def restore_evidence(*, actor, item: EvidenceItem) -> EvidenceItem:
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    if item.deleted_at is None:
        raise ValidationError({"item": ValidationError("证据未被删除。", code="not_deleted")})
    if item.purged_at is not None:
        raise ValidationError({"item": ValidationError("恢复期已过，证据已清除，无法恢复。", code="purged")})
    item.deleted_at, item.delete_reason = None, ""
    item.save(update_fields=["deleted_at", "delete_reason"])
    append_audit(actor=actor, action="evidence.restore", obj=item, payload={"sha256": item.sha256})
    return item


@transaction.atomic
def set_legal_hold(*, actor, item: EvidenceItem, hold: bool, reason: str) -> EvidenceItem:
    if not reason.strip():
        raise ValidationError({"reason": ValidationError("设置或解除法律保全须填写理由。", code="required")})
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    item.legal_hold, item.hold_reason = hold, reason.strip()[:255] if hold else ""
    item.save(update_fields=["legal_hold", "hold_reason"])
    append_audit(actor=actor, action="evidence.hold" if hold else "evidence.release_hold", obj=item,
                 payload={"sha256": item.sha256, "reason": reason.strip()})
    return item


def purge_deleted_evidence(*, now: datetime | None = None) -> int:
    """After the recovery window: mark soft-deleted items purged and remove
    their object when no other unpurged item names the same SHA-256."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EVIDENCE_RECOVERY_DAYS)
    storage = get_storage()
    purged = 0
    for pk in EvidenceItem.objects.filter(deleted_at__lt=cutoff, purged_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            item = EvidenceItem.objects.select_for_update().get(pk=pk)
            if item.purged_at is not None or item.deleted_at is None or item.legal_hold:
                continue
            item.purged_at = now
            item.save(update_fields=["purged_at"])
            shared = EvidenceItem.objects.filter(sha256=item.sha256, purged_at__isnull=True).exclude(pk=item.pk).exists()
            append_audit(actor="system", action="evidence.purge", obj=item,
                         payload={"sha256": item.sha256, "object_removed": not shared})
            if not shared:
                # After the row says so: a crash here leaves an unreferenced
                # object, which the next sweep removes; never the reverse.
                transaction.on_commit(lambda sha=item.sha256: storage.delete(sha))
        purged += 1
    return purged


def sweep_orphan_objects() -> int:
    """Remove stored objects that no unpurged item and no upload names (a
    crash between storing an object and committing its item)."""
    storage = get_storage()
    removed = 0
    for sha256 in storage.iter_all():
        if EvidenceItem.objects.filter(sha256=sha256, purged_at__isnull=True).exists():
            continue
        if Upload.objects.filter(sha256=sha256).exists():
            continue  # an upload may be completing with these bytes right now
        storage.delete(sha256)
        append_audit(actor="system", action="evidence.orphan_removed", object_type="evidence.object",
                     object_id=sha256[:64], payload={"sha256": sha256})
        removed += 1
    return removed


# --- fixity (记录-12) ---------------------------------------------------------------


def _raise_alert(*, sha256: str, problem: str, actual: str = "", note: str = "") -> FixityAlert | None:
    if FixityAlert.objects.filter(sha256=sha256, problem=problem, resolved_at__isnull=True).exists():
        return None
    with transaction.atomic():
        alert = FixityAlert.objects.create(sha256=sha256, problem=problem, actual_sha256=actual, note=note[:255])
        items = list(EvidenceItem.objects.filter(sha256=sha256).values_list("pk", flat=True))
        append_audit(actor="system", action="evidence.fixity_alert", obj=alert,
                     payload={"sha256": sha256, "problem": problem, "actual_sha256": actual, "items": items})
    return alert


def check_fixity(*, budget_bytes: int | None = None, now: datetime | None = None, force: bool = False) -> dict:
    """Re-hash stored objects, least recently checked first, streaming; raise
    a FixityAlert (and an audit entry) on a missing or changed object.
    `budget_bytes` (default EVIDENCE_FIXITY_BYTES_PER_RUN; 0 = no limit)
    bounds one run so a large store is covered over several runs. Objects
    checked within EVIDENCE_FIXITY_INTERVAL_DAYS are skipped unless `force`."""
    now = now or timezone.now()
    budget = settings.EVIDENCE_FIXITY_BYTES_PER_RUN if budget_bytes is None else budget_bytes
    storage = get_storage()
    rows = (EvidenceItem.objects.filter(purged_at__isnull=True).values("sha256")
            .annotate(last=Min("fixity_checked_at"), size=Max("size")).order_by("last", "sha256"))
    # NULLs (never checked) first on both databases:
    rows = sorted(rows, key=lambda r: (r["last"] is not None, r["last"] or now, r["sha256"]))
    if not force:
        due = now - timedelta(days=settings.EVIDENCE_FIXITY_INTERVAL_DAYS)
        rows = [r for r in rows if r["last"] is None or r["last"] < due]
    checked = alerts = hashed = 0
    for row in rows:
        if budget and hashed >= budget:
            break
        sha256 = row["sha256"]
        try:
            with storage.open(sha256) as stream:
                actual, size = hash_stream(stream)
        except ObjectMissing:
            alerts += _raise_alert(sha256=sha256, problem=FixityProblem.MISSING) is not None
            actual, size = None, 0
        else:
            if actual != sha256:
                alerts += _raise_alert(sha256=sha256, problem=FixityProblem.MISMATCH, actual=actual,
                                       note=f"{size} bytes") is not None
        hashed += size
        checked += 1
        EvidenceItem.objects.filter(sha256=sha256).update(fixity_checked_at=now)
    return {"checked": checked, "alerts": alerts, "bytes": hashed}


# --- recorders (记录-6..9) ----------------------------------------------------------


@transaction.atomic
def register_device(*, actor, agency, serial: str, model: str) -> Device:
    serial = (serial or "").strip().upper()
    if not re.fullmatch(r"[0-9A-Z][0-9A-Z._-]{2,63}", serial):
        raise ValidationError({"serial": ValidationError("序列号应为 3 至 64 位字母、数字、点、下划线或连字符。", code="invalid_serial")})
    if not (model or "").strip():
        raise ValidationError({"model": ValidationError("请填写设备型号。", code="required")})
    if Device.objects.filter(serial=serial).exists():
        raise ValidationError({"serial": ValidationError(f"序列号 {serial} 已登记。", code="serial_taken")})
    device = Device.objects.create(serial=serial, model=model.strip(), agency=agency)
    append_audit(actor=actor, action="device.register", obj=device,
                 payload={"serial": serial, "model": device.model, "agency": agency.credit_code})
    return device


@transaction.atomic
def set_device_status(*, actor, device: Device, status: str, reason: str) -> Device:
    return change_status(actor=actor, obj=device, status=status, choices=DeviceStatus, action="device.status",
                         what="设备", reason=reason)


@transaction.atomic
def assign_device(*, actor, device: Device, officer, valid_from: date, valid_to: date | None = None) -> DeviceAssignment:
    """Hand a device to an officer from a day; the open assignment before it
    (if any) ends the day before. Overlaps are refused."""
    if officer.agency_id != device.agency_id:
        raise ValidationError({"officer": ValidationError("只能配发给本部门的执法人员。", code="officer_other_agency")})
    if device.status != DeviceStatus.ACTIVE:
        raise ValidationError({"device": ValidationError("该设备不在用，不能配发。", code="device_not_in_use")})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": ValidationError("结束日期不得早于开始日期。", code="date_order")})
    current = DeviceAssignment.objects.select_for_update().filter(device=device, valid_to__isnull=True).first()
    if current is not None and current.valid_from < valid_from:
        current.valid_to = valid_from - timedelta(days=1)
        current.save(update_fields=["valid_to"])
    overlap = DeviceAssignment.objects.filter(device=device, valid_from__lte=valid_to or date.max).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if overlap.exists():
        raise ValidationError({"valid_from": ValidationError("与该设备已有的配发期间重叠。", code="assignment_overlap")})
    assignment = DeviceAssignment.objects.create(device=device, officer=officer, valid_from=valid_from, valid_to=valid_to,
                                                 assigned_by=getattr(actor, "username", str(actor)))
    append_audit(actor=actor, action="device.assign", obj=device, payload={
        "serial": device.serial, "officer": officer.certificate_number, "from": valid_from.isoformat(),
        "to": valid_to.isoformat() if valid_to else None})
    return assignment


# --------------------------------------------------------------------------
# The e-case file packages (记录-3, 记录-12): download and the four-property
# check of a stored package, both on the audit chain.


def archive_path(package):
    return archive_dir() / package.path


def open_archive(*, actor, package, via: str):
    """The stored package opened for reading; appends case.archive_download."""
    try:
        fh = open(archive_path(package), "rb")
    except FileNotFoundError:
        raise ObjectMissing(package.path) from None
    append_audit(actor=actor, action="case.archive_download", obj=package.case, payload={
        "package": package.path, "sha256": package.sha256, "case": package.case_id, "via": via})
    return fh


def check_stored_archive(*, actor, package, via: str):
    """The four-property check (四性检测) of a stored package, plus one
    thing only the platform knows: that the file is still the one recorded
    when it was built (its SHA-256). Appends case.archive_check with the
    result; returns the archive.check.Report."""
    path = archive_path(package)
    report = check_with_platform_keys(path)
    if path.is_file():
        with open(path, "rb") as fh:
            actual, _ = hash_stream(fh)
        if actual != package.sha256:
            report.add("authenticity", package.path,
                       f"the package's SHA-256 is {actual}, not {package.sha256} recorded when it was built",
                       "归档包的 SHA-256 与生成时登记的不一致")
    append_audit(actor=actor, action="case.archive_check", obj=package.case, payload={
        "package": package.path, "case": package.case_id, "ok": report.ok, "via": via,
        "failed": [p for p in PROPERTIES if not report.passed(p)]})
    return report


def rebuild_archive(*, actor, case):
    """Build a closed case's e-case file again (the build on closure runs on
    its own; this is the retry when it failed, or a fresh package after the
    audit chain grew). Returns the new ArchivePackage."""
    from django.core.exceptions import PermissionDenied

    from .models import ArchivePackage
    from .predicates import can_build_archive

    if case.status not in ARCHIVED_STATUSES:
        raise ValidationError({"case": ValidationError("只有已结案或已终止的案件才能生成电子案卷。", code="case_not_closed")})
    if not can_build_archive(actor, case):
        raise PermissionDenied
    try:
        build_case_archive(case=case, actor=actor)
    except ArchiveError as exc:
        raise ValidationError({"case": ValidationError(str(exc), code="archive_failed")}) from None
    return ArchivePackage.objects.filter(case=case).order_by("-built_at", "-id").first()


def file_ended_case(*, actor, case) -> None:
    """记录-3 / 记录-12: the e-case file (电子案卷) of a case that has just been
    closed or terminated is built once that transaction has committed; a
    failed build is logged and redone by ``sanxiang archive build``. The
    cases app calls this as a case-ended hook (``sanxiang.cases.registry``,
    registered in ``EvidenceConfig.ready``).

    In the ending transaction, every evidence item of the case (soft-deleted
    ones included) keeps its retention counted from the case's closing
    (docs/evidence.md), each change audited."""
    _retain_from_closing(actor=actor, case=case)
    # Packaging is heavy work: the job queue builds it once this transaction
    # has committed (retried with growing delays; a build that keeps
    # failing is listed on the failed-tasks page).
    # The ending's moment goes with the task: a second delivery of it (the
    # queue delivers at least once) finds the package built since and
    # builds no other.
    queue.enqueue_on_commit(tasks.build_archive, case.pk, ended_at=timezone.now().isoformat(), **_actor_ref(actor))


def _actor_ref(actor) -> dict:
    """An actor as plain task arguments: a user's id or a system name."""
    if isinstance(actor, str) or actor is None:
        return {"actor_name": actor or "system"}
    return {"actor_id": actor.pk}


def build_ended_case_archive(*, case_id: int, actor_id: int | None = None, actor_name: str = "",
                             ended_at: str | None = None) -> str:
    """The queued half of ``file_ended_case``: build the e-case file of a
    case that has ended, as the actor who ended it. Raises when the build
    fails (the queue retries it); returns the package's path. Safe to run
    twice: a package of the case built since ``ended_at`` (the ending's
    moment, ISO 8601) is that ending's, and no other is built."""
    from .models import ArchivePackage

    Case = apps.get_model("cases", "Case")
    User = apps.get_model("core", "User")
    case = Case.objects.get(pk=case_id)
    if ended_at:
        built = ArchivePackage.objects.filter(case=case, built_at__gte=datetime.fromisoformat(ended_at)).first()
        if built is not None:
            log.info("case %s: the e-case file of this ending is already built (%s)", case_id, built.path)
            return str(archive_dir() / built.path)
    actor = User.objects.get(pk=actor_id) if actor_id is not None else actor_name
    return str(build_case_archive(case=case, actor=actor))


def _retain_from_closing(*, actor, case) -> None:
    for item in EvidenceItem.objects.select_for_update().filter(case=case).select_related("case", "case__agency"):
        before = item.retention_until
        apply_retention(item=item)
        if item.retention_until != before:
            append_audit(actor=actor, action="evidence.retention_from_closing", obj=item, payload={
                "case": case.pk, "closed_on": case.closed_on.isoformat() if case.closed_on else None,
                "before": before.isoformat() if before else None,
                "after": item.retention_until.isoformat() if item.retention_until else None})
