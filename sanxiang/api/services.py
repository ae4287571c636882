"""API tokens: created for one agency's client system, stored hashed, shown
once, scoped, revocable. A token acts as its own API-client account of the
agency, so every selector scopes it like a person of that agency."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sanxiang.core import webhooks
from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency, Role, User

from .models import ApiToken

TOKEN_PREFIX = "sx_"
# What a token may do. Each endpoint names the scope it needs.
SCOPES = {
    "read": "读取本部门数据",
    "publicity:push": "推送执法决定（公示）",
    "cases:write": "写入案件与文书",
    "evidence:upload": "上传证据",
    "inspections:directory": "维护检查对象名录库（双随机）",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def create_token(*, actor, agency: Agency, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Return the token row and the clear token, which is never stored."""
    if not name.strip():
        raise ValidationError({"name": ValidationError("令牌名称不能为空。", code="required")})
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValidationError({"scopes": ValidationError(f"权限范围无效：{'、'.join(bad) or '未指定'}；可选：{'、'.join(SCOPES)}。", code="invalid_scope")})
    prefix = secrets.token_hex(4)
    clear = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    account = User(username=f"api-{prefix}", role=Role.API_CLIENT, agency=agency, is_staff=False,
                   display_name=f"{agency.name} · {name}")
    account.set_unusable_password()
    account.save()
    token = ApiToken.objects.create(name=name, agency=agency, user=account, prefix=prefix, token_hash=hash_token(clear),
                                    scopes=list(scopes), created_by=getattr(actor, "username", str(actor)))
    append_audit(actor=actor, action="api_token.create", obj=token,
                 payload={"agency": agency.credit_code, "name": name, "scopes": list(scopes), "prefix": prefix})
    return token, clear


@transaction.atomic
def revoke_token(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        User.objects.filter(pk=token.user_id).update(is_active=False)
        append_audit(actor=actor, action="api_token.revoke", obj=token, payload={"prefix": token.prefix})
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw`, or None. Constant-time comparison."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    prefix = raw[len(TOKEN_PREFIX):].split("_", 1)[0]
    token = ApiToken.objects.select_related("user", "agency").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


@transaction.atomic
def set_token_public_key(*, actor, token: ApiToken, public_key: str) -> ApiToken:
    """Register (or, with "", remove) the client system's Ed25519 public key
    (whpk_…): with it, the system may sign its pushes (api/signing.py)."""
    text = (public_key or "").strip()
    if text:
        try:
            print_ = webhooks.fingerprint(text)
        except ValueError:
            raise ValidationError({"public_key": ValidationError(
                "公钥格式不正确：应为 whpk_ 加 32 字节 Ed25519 公钥的 Base64 编码。", code="invalid")}) from None
    if token.revoked_at is not None:
        raise ValidationError({"token": ValidationError("该令牌已吊销，不能登记公钥。", code="revoked")})
    token.public_key = text
    token.save(update_fields=["public_key"])
    append_audit(actor=actor, action="api_token.public_key", obj=token,
                 payload={"prefix": token.prefix, "key": print_ if text else ""})
    return token
