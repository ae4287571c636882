"""Pages of the evidence domain: a step's evidence with the phone upload
form (M38), an item's page with its player and custody actions, downloads
(ranged, for video seeking), shared links, recorders with usage and gaps,
and fixity alerts. Views validate input and call selectors/services."""

from __future__ import annotations

import base64
import re
from datetime import date
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanxiang.core.refusals import message_of
from sanxiang.core.selectors import agencies_for, officers_for
from sanxiang.core.views import staff_required

from . import predicates, selectors, services
from .archive.layout import PROPERTIES, PROPERTY_NAMES
from .models import DeviceStatus, RetentionCategory
from .storage import ObjectMissing, get_storage
from sanxiang.core.parsing import optional_id, optional_int, parse_id

STREAM_CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")  # ASCII digits only (core/parsing.py)
INLINE_PREFIXES = ("image/", "video/", "audio/")


def content_response(request, item, *, actor, via: str):
    """Stream an item's bytes, honouring one `Range: bytes=a-b` (video
    players seek with it). A request that starts at byte 0 is a download or
    a playback and appends evidence.download to the audit chain; the
    follow-up ranges of the same playback do not."""
    size = item.size
    start, end, status = 0, size, 200
    match = _RANGE.match(request.META.get("HTTP_RANGE", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first == "":
            start = max(0, size - int(last))
        else:
            start = int(first)
            end = min(size, int(last) + 1) if last else size
        if start >= size or start >= end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        status = 206
    try:
        stream = get_storage().open(item.sha256, start, end)
    except ObjectMissing:
        raise Http404("object missing")
    if start == 0:
        services.record_access(actor=actor, item=item, action="evidence.download", via=via,
                               range=request.META.get("HTTP_RANGE", ""))

    def chunks():
        try:
            while True:
                block = stream.read(STREAM_CHUNK)
                if not block:
                    break
                yield block
        finally:
            stream.close()

    response = StreamingHttpResponse(chunks(), status=status, content_type=item.mime_type)
    response["Content-Length"] = str(end - start)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{item.sha256}"'
    response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(item.sha256)).decode()
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    inline = item.mime_type.startswith(INLINE_PREFIXES) and request.GET.get("download") != "1"
    name = item.original_name or f"{item.sha256}"
    response["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    return response


# --- a step's evidence: list and phone upload ------------------------------------------


@staff_required
@require_GET
def step_evidence(request, case_id: int, step_id: int):
    case, step = selectors.get_step_for(user=request.user, case_id=case_id, step_id=step_id)
    items = selectors.step_evidence(user=request.user, step=step)
    devices = selectors.devices_for(user=request.user).filter(agency=case.agency, status=DeviceStatus.ACTIVE)
    return render(request, "evidence/step_evidence.html", {
        "case": case, "step": step, "items": items, "devices": devices, "case_open": services.case_is_open(case),
        "may_add": predicates.can_add_evidence(request.user, case),
        "categories": RetentionCategory.objects.filter(is_default=False),
        "tus_endpoint": reverse("evidence:tus_collection"),
    })


@staff_required
@require_GET
def evidence_detail(request, pk: int):
    item = selectors.get_evidence_for(user=request.user, pk=pk, include_deleted=predicates.can_manage_evidence(request.user).ok)
    services.record_access(actor=request.user, item=item, action="evidence.view", via="page")
    return render(request, "evidence/detail.html", {
        "item": item, "can_manage": predicates.can_manage_evidence(request.user).ok,
        "deletion_refusal": services.deletion_refusal(item), "categories": item.retention_categories.all(),
        "shares": item.shares.select_related("shared_by", "approved_by")[:20],
        "may_share": predicates.can_share_evidence(request.user, item),
        "share_needs_approval": predicates.share_needs_approval(request.user, item),
        "share_max_days": settings.EVIDENCE_SHARE_MAX_DAYS,
    })


@staff_required
@require_GET
def evidence_content(request, pk: int):
    item = selectors.get_evidence_for(user=request.user, pk=pk)
    return content_response(request, item, actor=request.user, via="page")


@staff_required
@require_POST
def evidence_action(request, pk: int, action: str):
    manage = predicates.can_manage_evidence(request.user).ok
    item = selectors.get_evidence_for(user=request.user, pk=pk, include_deleted=manage)
    reason = request.POST.get("reason", "")
    try:
        if action == "share":
            share, token = services.share_evidence(actor=request.user, item=item, recipient=request.POST.get("recipient", ""),
                                                   reason=reason, days=optional_int(request.POST.get("days"), field="days", default=7, minimum=1))
            link = request.build_absolute_uri(reverse("evidence:shared", args=[token]))
            if share.expires_at:
                messages.success(request, f"共享链接（{share.expires_at:%Y-%m-%d %H:%M} 前有效，仅显示这一次）：{link}")
            else:
                messages.success(request, f"共享链接（仅显示这一次；经本部门负责人批准后生效，自批准起 {share.days} 天内有效）：{link}")
        elif action in {"approve-share", "revoke-share"}:
            share = selectors.get_share_for(user=request.user, item=item, pk=parse_id(request.POST.get("share"), field="share"))
            if action == "approve-share":
                share = services.approve_share(actor=request.user, share=share)
                messages.success(request, f"已批准，链接 {share.expires_at:%Y-%m-%d %H:%M} 前有效。")
            else:
                services.revoke_share(actor=request.user, share=share, reason=reason)
                messages.success(request, "共享链接已撤销。")
        elif not manage:
            raise PermissionDenied
        elif action == "delete":
            services.delete_evidence(actor=request.user, item=item, reason=reason)
            messages.success(request, "证据已删除，恢复期内可恢复。")
        elif action == "restore":
            services.restore_evidence(actor=request.user, item=item)
            messages.success(request, "证据已恢复。")
        elif action in {"hold", "release"}:
            services.set_legal_hold(actor=request.user, item=item, hold=action == "hold", reason=reason)
            messages.success(request, "已设置法律保全。" if action == "hold" else "已解除法律保全。")
        else:
            raise Http404("unknown action")
    except ValidationError as exc:
        messages.error(request, message_of(exc))
    except PermissionDenied as exc:
        if not str(exc):
            raise
        messages.error(request, str(exc))
    except ValueError:
        messages.error(request, "有效天数应为整数。")
    return redirect("evidence:detail", pk=item.pk)


@require_GET
def shared_content(request, token: str):
    share = services.share_from_token(token)
    if share is None:
        raise Http404("share not found or expired")
    response = content_response(request, share.item, actor=f"share:{share.pk}:{share.recipient}", via="share")
    if response.status_code == 200 or response.get("Content-Range", "").startswith("bytes 0-"):
        services.record_shared_use(share=share)  # a download or a playback; not each seek
    return response


# --- recorders ---------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def device_list(request):
    if request.method == "POST":
        if not predicates.can_manage_evidence(request.user).ok:
            raise PermissionDenied
        agency = agencies_for(user=request.user).filter(pk=optional_id(request.POST.get("agency"), field="agency") or 0).first()
        try:
            if agency is None:
                raise ValidationError({"agency": ValidationError("请选择本人权限范围内的部门。", code="out_of_scope")})
            device = services.register_device(actor=request.user, agency=agency, serial=request.POST.get("serial", ""),
                                              model=request.POST.get("model", ""))
            return redirect("evidence:device", pk=device.pk)
        except ValidationError as exc:
            messages.error(request, message_of(exc))
    return render(request, "evidence/devices.html", {
        "devices": selectors.devices_for(user=request.user), "agencies": agencies_for(user=request.user),
        "can_manage": predicates.can_manage_evidence(request.user).ok,
    })


@staff_required
@require_http_methods(["GET", "POST"])
def device_detail(request, pk: int):
    device = selectors.get_device_for(user=request.user, pk=pk)
    if request.method == "POST":
        if not predicates.can_manage_evidence(request.user).ok:
            raise PermissionDenied
        try:
            officer = officers_for(user=request.user).filter(pk=optional_id(request.POST.get("officer"), field="officer") or 0).first()
            if officer is None:
                raise ValidationError({"officer": ValidationError("请选择执法人员。", code="required")})
            valid_from = date.fromisoformat(request.POST.get("valid_from", ""))
            valid_to = date.fromisoformat(request.POST["valid_to"]) if request.POST.get("valid_to") else None
            services.assign_device(actor=request.user, device=device, officer=officer, valid_from=valid_from,
                                   valid_to=valid_to)
            messages.success(request, "已配发。")
            return redirect("evidence:device", pk=device.pk)
        except ValidationError as exc:
            messages.error(request, message_of(exc))
        except ValueError:
            messages.error(request, "日期格式应为 YYYY-MM-DD。")
    usage = selectors.device_usage(device=device)
    return render(request, "evidence/device.html", {
        "device": device, "usage": usage, "officers": officers_for(user=request.user).filter(agency=device.agency),
        "can_manage": predicates.can_manage_evidence(request.user).ok,
    })


@staff_required
@require_GET
def fixity_alerts(request):
    alerts = selectors.fixity_alerts_for(user=request.user)
    return render(request, "evidence/fixity.html", {"alerts": alerts[:200]})


# --- the e-case file (电子案卷, 记录-3, 记录-12) ---------------------------------------------


def _report_rows(report) -> list[dict]:
    return [{"name": PROPERTY_NAMES[p], "code": p, "ok": report.passed(p), "findings": report.of(p)} for p in PROPERTIES]


@staff_required
@require_http_methods(["GET", "POST"])
def case_archives(request, case_id: int):
    """A case's archive packages: download, check (四性检测), rebuild."""
    case = selectors.get_case_for(user=request.user, pk=case_id)
    report = checked = None
    if request.method == "POST":
        if request.POST.get("action") == "build":
            try:
                services.rebuild_archive(actor=request.user, case=case)
            except ValidationError as exc:
                messages.error(request, message_of(exc))
            else:
                messages.success(request, _("A new case file package was built."))
            return redirect("evidence:archives", case_id=case.pk)
        checked = selectors.get_archive_for(user=request.user, pk=parse_id(request.POST.get("package"), field="package"))
        if checked.case_id != case.pk:
            raise Http404("archive package not found")
        report = services.check_stored_archive(actor=request.user, package=checked, via="page")
    return render(request, "evidence/archives.html", {
        "case": case, "packages": selectors.archives_for(user=request.user, case=case),
        "can_build": predicates.can_build_archive(request.user, case).ok, "checked": checked,
        "report": report, "rows": _report_rows(report) if report else None,
    })


@staff_required
@require_GET
def archive_download(request, pk: int):
    package = selectors.get_archive_for(user=request.user, pk=pk)
    return archive_file_response(package, actor=request.user, via="page")


def archive_file_response(package, *, actor, via: str) -> FileResponse:
    try:
        fh = services.open_archive(actor=actor, package=package, via=via)
    except ObjectMissing:
        raise Http404("the package file is missing")
    response = FileResponse(fh, as_attachment=True, filename=package.path.rsplit("/", 1)[-1],
                            content_type="application/zip")
    response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(package.sha256)).decode()
    response["Cache-Control"] = "private, no-store"
    return response
