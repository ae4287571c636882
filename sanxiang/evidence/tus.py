"""The tus 1.0 server at /api/v1/uploads/ (core, creation, checksum,
termination, expiration). Plain Django views, not django-ninja: a PATCH
body must be streamed from `wsgi.input` in bounded pieces, and the protocol
is headers, not JSON (docs/decisions/0009-tus-server.md).

    OPTIONS /api/v1/uploads/        capabilities (no authentication)
    POST    /api/v1/uploads/        create: Upload-Length, Upload-Metadata
    HEAD    /api/v1/uploads/<id>    Upload-Offset, Upload-Length, Upload-Expires
    PATCH   /api/v1/uploads/<id>    append (application/offset+octet-stream)
    DELETE  /api/v1/uploads/<id>    terminate

Upload-Metadata keys: case (id, required), step (id), device (serial),
captured_at (ISO 8601), place, duration (seconds), filename, category
(retention category code) and sha256 (hex, required: the client's declared
SHA-256 of the whole file, checked before anything is accepted).

Authentication: `Authorization: Bearer sx_...` with scope evidence:upload,
or a logged-in (TOTP-verified where needed) session. CSRF is checked for
sessions and skipped only for token requests (a token is not sent by a
browser on its own).
"""

from __future__ import annotations

import base64
import binascii
import errno
import functools
import json
import logging
import re
from datetime import timezone as dt_timezone
from email.utils import format_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sanxiang.api.services import authenticate_token
from sanxiang.core.auth import is_fully_authenticated
from sanxiang.core.refusals import Refused

from sanxiang.core.parsing import MAX_ID, BadNumber, optional_int, parse_int

from . import selectors, services, uploads
from .models import Upload, UploadStatus

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,termination,expiration"
CHECKSUM_ALGORITHMS = ("sha256",)
SCOPE = "evidence:upload"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1


def _response(status: int = 204, headers: dict | None = None, body: dict | None = None) -> HttpResponse:
    if body is not None:
        response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                                content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _error(status: int, code: str, message: str, field: str | None = None, headers: dict | None = None) -> HttpResponse:
    return _response(status, headers, {"code": code, "field": field, "message": message})


def _http_date(value) -> str:
    return format_datetime(value.astimezone(dt_timezone.utc), usegmt=True)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _authenticate(request):
    """(user, error response). Token first, then a verified session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        token = authenticate_token(header[7:].strip())
        if token is None:
            return None, _error(401, "unauthenticated", "API 令牌无效或已撤销。")
        if SCOPE not in token.scopes:
            return None, _error(403, "scope_missing", f"令牌缺少所需权限范围：{SCOPE}。")
        request.user, request.api_token = token.user, token
        return token.user, None
    user = getattr(request, "user", None)
    if user is None or not is_fully_authenticated(user):
        return None, _error(401, "unauthenticated", "需要有效的 API 令牌，或登录（含动态码验证）。")
    reason = _CsrfCheck(lambda r: None).process_view(request, None, (), {})
    if reason is not None:
        return None, _error(403, "csrf", "CSRF 校验失败：请刷新页面后重试。")
    return user, None


def tus_view(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "OPTIONS":
            version = request.META.get("HTTP_TUS_RESUMABLE")
            if version != TUS_VERSION:
                return _error(412, "tus_version", f"仅支持 tus {TUS_VERSION}（请求头 Tus-Resumable）。",
                              headers={"Tus-Version": TUS_VERSION})
            user, error = _authenticate(request)
            if error is not None:
                return error
        override = request.META.get("HTTP_X_HTTP_METHOD_OVERRIDE")
        if override and request.method == "POST":
            request.method = override.upper()
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


def _options() -> HttpResponse:
    return _response(204, {
        "Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS, "Tus-Max-Size": str(settings.EVIDENCE_MAX_SIZE),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    })


def parse_metadata(header: str) -> dict[str, str]:
    """`key base64,key base64,key` → {key: text}; raises ValueError."""
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        parts = pair.split(" ")
        if len(parts) > 2 or not parts[0]:
            raise ValueError(f"bad pair {pair!r}")
        key = parts[0]
        try:
            value = base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"value of {key} is not base64 UTF-8") from None
        if _CONTROL.search(value):
            # NUL and other controls: no database column, XML or file name holds them
            raise ValueError(f"value of {key} contains a control character")
        if key in result:
            raise ValueError(f"duplicate key {key}")
        result[key] = value
    return result


def _validation_error(exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        return _error(400, errors[0].code or "invalid", f"{field}：{' '.join(errors[0].messages)}", field)
    return _error(400, getattr(exc, "code", None) or "invalid", " ".join(exc.messages))


def _upload_headers(upload: Upload) -> dict:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
               "Upload-Expires": _http_date(upload.expires_at)}
    if upload.evidence_id:
        headers["Sanxiang-Evidence-Id"] = str(upload.evidence_id)
        headers["Sanxiang-Evidence-Url"] = reverse("evidence:detail", args=[upload.evidence_id])
    return headers


def _completed(upload: Upload) -> HttpResponse:
    return _response(204, _upload_headers(upload))


def _refused(upload: Upload, exc: services.HashMismatch) -> HttpResponse:
    return _error(422, "sha256_mismatch",
                  f"文件校验失败：收到的内容 SHA-256 为 {exc.actual}，与声明的 {exc.declared} 不一致。"
                  "上传已作废，未生成证据，请重新上传。", "sha256",
                  headers={"Upload-Offset": str(upload.offset)})


@tus_view
def collection(request):
    if request.method == "OPTIONS":
        return _options()
    if request.method != "POST":
        return _error(405, "method", "此地址只接受 POST（创建上传）与 OPTIONS。", headers={"Allow": "POST, OPTIONS"})
    if request.META.get("HTTP_UPLOAD_DEFER_LENGTH"):
        return _error(400, "defer_length", "不支持 Upload-Defer-Length：请给出 Upload-Length。", "Upload-Length")
    try:
        length = parse_int(request.META.get("HTTP_UPLOAD_LENGTH", ""), field="Upload-Length")
    except BadNumber as exc:
        return _error(400, "invalid", f"缺少 Upload-Length，或它不是非负整数：{exc.message}", "Upload-Length")
    if length > settings.EVIDENCE_MAX_SIZE:
        return _error(413, "too_large", f"文件过大：上限为 {settings.EVIDENCE_MAX_SIZE} 字节。", "Upload-Length")
    try:
        metadata = parse_metadata(request.META.get("HTTP_UPLOAD_METADATA", ""))
    except ValueError as exc:
        return _error(400, "invalid", f"Upload-Metadata 格式错误：{exc}。", "Upload-Metadata")
    try:
        upload = services.create_upload(actor=request.user, cases=selectors.cases_for(user=request.user),
                                        length=length, metadata=metadata)
    except ValidationError as exc:
        return _validation_error(exc)
    except Refused as exc:
        return _error(403, exc.code, exc.message, exc.field)
    if length == 0:
        try:
            upload = services.receive_upload_chunk(upload=upload, offset=0, stream=_Empty(), content_length=0,
                                                   checksum=None)
        except services.HashMismatch as exc:
            return _refused(upload, exc)
    headers = _upload_headers(upload)
    headers["Location"] = request.build_absolute_uri(reverse("evidence:tus_upload", args=[upload.pk]))
    return _response(201, headers)


class _Empty:
    def read(self, n=-1):
        return b""


class _SocketBody:
    """A PATCH body of known length read straight from gunicorn's client
    socket: `readinto` receives into the caller's buffer (the upload's
    page-aligned ring, sanxiang/evidence/uploads.py), where gunicorn's own
    reader would copy every piece through two in-memory buffers (its body
    reader cost as much CPU as the SHA-256; docs/server.md).

    Built only when everything is as expected (`for_request`): gunicorn's
    `Body` over a `LengthReader` over the `SocketUnreader` of the very
    socket in `environ["gunicorn.socket"]`, nothing read yet. The bytes
    gunicorn already read past the headers are taken first; the reader's
    remaining length is kept equal to what is left, so after the response
    gunicorn discards exactly the unread rest, as it would have. Anything
    else (a chunked body, waitress, the test client) keeps the ordinary
    stream."""

    def __init__(self, sock, reader):
        self._sock, self._reader, self._held = sock, reader, None

    def _take_held(self) -> None:
        """The body bytes gunicorn read with the headers, taken at the first
        read (a PATCH refused before reading leaves them to gunicorn, which
        discards the body as usual)."""
        held = self._reader.unreader.take_buffered()
        if len(held) > self._reader.length:  # a pipelined next request: back to gunicorn
            self._reader.unreader.unread(held[self._reader.length:])
            held = held[:self._reader.length]
        self._held = memoryview(held)

    @classmethod
    def for_request(cls, request, length: int):
        environ = request.META
        sock, body = environ.get("gunicorn.socket"), environ.get("wsgi.input")
        try:
            from gunicorn.http.body import Body, LengthReader
            from gunicorn.http.unreader import SocketUnreader
        except ImportError:
            return None
        reader = getattr(body, "reader", None)
        unreader = getattr(reader, "unreader", None)
        if (sock is None or type(body) is not Body or type(reader) is not LengthReader
                or type(unreader) is not SocketUnreader or unreader.sock is not sock
                or not hasattr(unreader, "take_buffered") or reader.length != length
                or body.buf.tell() or getattr(request, "_read_started", True)):
            return None
        request._read_started = True  # Django must not read it too
        return cls(sock, reader)

    def readinto(self, view) -> int:
        size = min(len(view), self._reader.length)
        if size <= 0:
            return 0
        if self._held is None:
            self._take_held()
        if self._held:
            n = min(size, len(self._held))
            view[:n] = self._held[:n]
            self._held = self._held[n:]
        else:
            n = self._sock.recv_into(view, size)
        self._reader.length -= n
        return n

    def read(self, size: int = -1) -> bytes:
        size = self._reader.length if size is None or size < 0 else min(size, self._reader.length)
        if size <= 0:
            return b""
        if self._held is None:
            self._take_held()
        if self._held:
            data = bytes(self._held[:size])
            self._held = self._held[len(data):]
        else:
            data = self._sock.recv(size)
        self._reader.length -= len(data)
        return data


def _checksum(header: str):
    """(algorithm, digest bytes) from `Upload-Checksum: sha256 <base64>`."""
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise ValueError("格式应为 “算法 base64摘要”")
    algorithm = parts[0].lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise LookupError(algorithm)
    try:
        digest = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise ValueError("摘要不是 base64") from None
    if len(digest) != 32:
        raise ValueError("SHA-256 摘要应为 32 字节")
    return algorithm, digest


@tus_view
def resource(request, upload_id):
    if request.method == "OPTIONS":
        return _options()
    try:
        upload = selectors.get_upload_for(user=request.user, pk=upload_id)
    except Http404:
        return _error(404, "not_found", "上传不存在，或不属于您。")
    if upload.status == UploadStatus.FAILED:
        return _error(410, "refused", f"该上传已因校验失败作废：{upload.failure}。")
    if request.method == "DELETE":
        services.terminate_upload(actor=request.user, upload=upload)
        return _response(204)
    if upload.status == UploadStatus.RECEIVING and upload.expires_at < timezone.now():
        return _error(410, "expired", "该上传已过期，请重新上传。")
    if request.method == "HEAD":
        return _response(200, _upload_headers(upload))
    if request.method != "PATCH":
        return _error(405, "method", "不支持的请求方法。", headers={"Allow": "HEAD, PATCH, DELETE, OPTIONS"})
    if request.content_type != "application/offset+octet-stream":
        return _error(415, "content_type", "PATCH 的 Content-Type 必须是 application/offset+octet-stream。")
    try:
        offset = parse_int(request.META.get("HTTP_UPLOAD_OFFSET", ""), field="Upload-Offset")
    except BadNumber as exc:
        return _error(400, "invalid", f"缺少 Upload-Offset，或它不是非负整数：{exc.message}", "Upload-Offset")
    if offset != upload.offset:
        return _error(409, "offset_mismatch", f"Upload-Offset 为 {offset}，服务器已收到 {upload.offset} 字节。",
                      "Upload-Offset", headers={"Upload-Offset": str(upload.offset)})
    if upload.status == UploadStatus.COMPLETED:
        return _completed(upload)
    try:
        length = optional_int(request.META.get("CONTENT_LENGTH"), field="Content-Length", default=None, maximum=MAX_ID)
    except BadNumber as exc:
        return _error(400, "invalid", exc.message, "Content-Length")
    if length is not None and offset + length > upload.length:
        return _error(413, "too_long", "本次数据超出声明的 Upload-Length。", "Content-Length")
    checksum = None
    if request.META.get("HTTP_UPLOAD_CHECKSUM"):
        try:
            checksum = _checksum(request.META["HTTP_UPLOAD_CHECKSUM"])
        except LookupError as exc:
            return _error(400, "checksum_algorithm", f"不支持的校验算法 {exc}；支持：{','.join(CHECKSUM_ALGORITHMS)}。",
                          "Upload-Checksum")
        except ValueError as exc:
            return _error(400, "invalid", f"Upload-Checksum 无效：{exc}。", "Upload-Checksum")
    if length is None:
        stream = request.META["wsgi.input"]
    else:
        stream = _SocketBody.for_request(request, length) or request
    try:
        upload = services.receive_upload_chunk(upload=upload, offset=offset, stream=stream, content_length=length,
                                               checksum=checksum)
    except Refused as exc:
        return _error(403, exc.code, exc.message, exc.field)
    except uploads.UploadBusy:
        return _error(423, "locked", "该上传正在被另一个请求写入，请稍后重试。")
    except uploads.OffsetMoved as exc:
        return _error(409, "offset_mismatch", f"Upload-Offset 为 {offset}，服务器已收到 {exc.recorded} 字节。",
                      "Upload-Offset", headers={"Upload-Offset": str(exc.recorded)})
    except uploads.ChunkChecksumMismatch:
        return _error(460, "checksum_mismatch", "本段数据与 Upload-Checksum 不符，已丢弃，请重发本段。", "Upload-Checksum",
                      headers={"Upload-Offset": str(offset)})
    except services.HashMismatch as exc:
        upload.refresh_from_db()
        return _refused(upload, exc)
    except OSError as exc:
        # The disk refused the bytes (full, over a size limit, failing). The
        # offset was not advanced: the client resumes from it later.
        logger.exception("evidence upload %s: writing the partial failed", upload.pk)
        upload.refresh_from_db()
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        return _error(507 if full else 500, "storage_write_failed",
                      f"服务器保存上传数据失败（{'存储空间不足' if full else '写入错误'}），本段数据未被接收；"
                      f"已接收的 {upload.offset} 字节保留，请稍后从该偏移续传。",
                      headers={"Upload-Offset": str(upload.offset)})
    if upload.offset > upload.length:  # cannot happen: bounded above
        return _error(500, "internal_error", "服务器内部错误。")
    return _completed(upload)

