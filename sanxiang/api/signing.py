"""Signed pushes from case systems (issue 13 item 6; docs/docking.md "Case
systems"): the same door as a lower platform's messages.

A client system whose API token has a registered Ed25519 public key
(``ApiToken.public_key``, set with `sanxiang token key PREFIX --key
whpk_…`) may sign a push per Standard Webhooks v1a, exactly as the docking
messages are signed (sanxiang/core/webhooks.py): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` over ``{id}.{timestamp}.
{raw body}``. The bearer token still authenticates the client; the
signature proves the body is the one the client's system made and lets the
platform recognise a retry:

- any of the three headers present → all must be present and well formed
  (401 ``bad_header`` / ``missing_header`` naming the header), the token
  must have a key (401 ``signing_key_missing``), the timestamp within five
  minutes (401 ``stale_timestamp``, field ``webhook-timestamp``) and a v1a
  signature must verify under the key (401 ``bad_signature``, field
  ``webhook-signature``);
- the same ``webhook-id`` from the same token again is answered with the
  first answer, unchanged, and has no effect;
- no header → an unsigned push, bearer token only, as before.

Every push by a token (signed or not) leaves a ``PushReceipt``: when it was
sent and when it arrived, read for the lag figures of the docking
supervision page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from sanxiang.core import webhooks

from .errors import ApiError
from .models import ApiToken, PushReceipt

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_FIELD_OF_CODE = {"stale_timestamp": "webhook-timestamp", "bad_signature": "webhook-signature"}
DAY_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Signed:
    headers: webhooks.Headers
    receipt: PushReceipt | None  # None: this id was answered before (``previous``)
    previous: PushReceipt | None = None


def _refuse(code: str, message: str, field: str) -> ApiError:
    return ApiError(status=401, code=code, field=field, message=message)


def _header_named(message: str) -> str:
    for name in HEADERS:
        if name in message:
            return name
    return "webhook-signature"


def verify_push(request, body: bytes, *, endpoint: str) -> Signed | None:
    """None for an unsigned push. For a signed one: the checks above (an
    ApiError 401 naming the header otherwise), then either a new receipt
    reserved for this id (``receipt``; call ``answered`` with the answer) or
    the receipt of the first push with this id (``previous``: answer it
    again)."""
    if not any(request.headers.get(name) for name in HEADERS):
        return None
    token: ApiToken | None = getattr(request, "api_token", None)
    if token is None:
        raise _refuse("signed_push_needs_token", "签名推送须同时使用 API 令牌（Authorization: Bearer sx_…）："
                      "签名证明消息内容，令牌确定推送的系统。", "Authorization")
    try:
        headers = webhooks.read_headers(request.headers)
    except webhooks.WebhookError as exc:
        name = _header_named(exc.message)
        raise _refuse(exc.code, f"{name} 请求头缺失或格式不正确：{exc.message}。", name) from None
    if not token.public_key:
        raise _refuse("signing_key_missing", "webhook-signature：该 API 令牌未登记签名公钥，无法验证签名；"
                      "请管理员用 `sanxiang token key 前缀 --key whpk_…` 登记，或不带签名请求头推送。",
                      "webhook-signature")
    try:
        webhooks.verify(headers, body, [token.public_key])
    except webhooks.WebhookError as exc:
        field = _FIELD_OF_CODE.get(exc.code, "webhook-signature")
        message = (f"webhook-timestamp 与本平台时钟相差超过 {webhooks.TOLERANCE_SECONDS // 60} 分钟，消息不予接收"
                   "（请核对发送方时钟后以新的时间戳重新签名发送）。" if exc.code == "stale_timestamp" else
                   "webhook-signature 无法用该令牌登记的公钥验证：消息内容、webhook-id 或 webhook-timestamp "
                   "与签名不符，或签名所用私钥不是登记的那一把。")
        raise _refuse(exc.code, message, field) from None
    try:
        with transaction.atomic():
            receipt = PushReceipt.objects.create(
                token=token, endpoint=endpoint, webhook_id=headers.id, signed=True,
                sent_at=datetime.fromtimestamp(headers.timestamp, tz=DAY_ZONE), status=0)
    except IntegrityError:
        previous = PushReceipt.objects.get(token=token, webhook_id=headers.id)
        return Signed(headers=headers, receipt=None, previous=previous)
    return Signed(headers=headers, receipt=receipt)


def replay(previous: PushReceipt) -> tuple[dict, int]:
    """The first answer to this webhook-id, to give again (409 while the
    first push of this id is still being stored)."""
    if previous.answer is None or not previous.status:
        raise ApiError(status=409, code="push_in_progress", field="webhook-id",
                       message="webhook-id：同一消息的第一次推送仍在处理中，请稍后以相同的 webhook-id 重试。")
    return previous.answer, previous.status


def forget(signed: Signed | None) -> None:
    """The push was refused as a whole before anything was stored (bad JSON,
    too many records): its reservation goes, so the client may send the same
    id again once it fixed the body."""
    if signed is not None and signed.receipt is not None:
        PushReceipt.objects.filter(pk=signed.receipt.pk).delete()


def answered(request, signed: Signed | None, *, endpoint: str, records: int, answer: dict, status: int = 200,
             decision_dates=()) -> None:
    """Record the push: the signed push's receipt gets its answer (given
    again for the same id); an unsigned push by a token gets a receipt whose
    sending time is the start of the newest decision date it carried (the
    only time the record itself says)."""
    token: ApiToken | None = getattr(request, "api_token", None)
    if signed is not None and signed.receipt is not None:
        PushReceipt.objects.filter(pk=signed.receipt.pk).update(answer=answer, status=status, records=records)
    elif signed is None and token is not None:
        newest = max(decision_dates, default=None)
        sent_at = datetime.combine(newest, time.min, tzinfo=DAY_ZONE) if newest else None
        PushReceipt.objects.create(token=token, endpoint=endpoint, signed=False, sent_at=sent_at, records=records,
                                   status=status)
