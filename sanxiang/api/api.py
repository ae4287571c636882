"""The django-ninja API at /api/v1 (OpenAPI at /api/v1/openapi.json).

Authentication: `Authorization: Bearer sx_...` (an agency's API token) or a
logged-in browser session (TOTP-verified where the role needs it). Every
non-public endpoint reads through a selector that takes request.user.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, SessionAuth

from sanxiang.core.auth import is_fully_authenticated

from .errors import ApiError, forbidden_scope
from .services import authenticate_token

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    openapi_description = "API token of an agency's client system: `Authorization: Bearer sx_...`"

    def authenticate(self, request, token):
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


class VerifiedSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and is_fully_authenticated(user) else None


AUTH = [TokenAuth(), VerifiedSessionAuth()]


def created(body):
    """201 with a body, in the form the installed django-ninja prefers."""
    try:
        from ninja import Status
    except ImportError:  # django-ninja before Status existed
        return 201, body
    return Status(201, body)


def require_scope(request, scope: str) -> None:
    """Tokens carry scopes; a logged-in person acts within their role."""
    token = getattr(request, "api_token", None)
    if token is not None and scope not in token.scopes:
        raise forbidden_scope(scope)


class Utf8Renderer(JSONRenderer):
    """JSON with Chinese text as UTF-8, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8Renderer(),
    title="三项制度平台 API",
    version="1",
    description="Publicity, whole-process recording and legal review of administrative law enforcement. "
                "Errors are JSON: {code, field, message}.",
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, field: str | None = None, **extra):
    return api.create_response(request, {"code": code, "field": field, "message": message, **extra}, status=status)


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return api.create_response(request, exc.body(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = exc.errors
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "payload")]
    field = ".".join(loc) or None
    return _error(request, 422, "invalid", f"字段 {field or '请求'} 无效：{first.get('msg', '格式错误')}。", field,
                  errors=[{"field": ".".join(str(p) for p in e.get("loc", [])), "problem": e.get("msg")} for e in errors])


@api.exception_handler(DjangoValidationError)
def on_validation_error(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        field, errs = next(iter(exc.error_dict.items()))
        return _error(request, 422, errs[0].code or "invalid", f"{field}：{' '.join(errs[0].messages)}", field)
    return _error(request, 422, exc.code or "invalid", " ".join(exc.messages))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", "未找到，或不在您的权限范围内。")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "需要有效的 API 令牌，或登录（含动态码验证）。")


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _error(request, 403, "forbidden", "您没有执行此操作的权限。")


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    log.exception("unhandled API error")
    return _error(request, 500, "internal_error", "服务器内部错误，已记录。请稍后重试或联系管理员。")


from sanxiang.core.api import router as core_router  # noqa: E402

api.add_router("", core_router)

from sanxiang.publicity.public_api import router as publicity_public_router  # noqa: E402

api.add_router("/publicity", publicity_public_router)

from sanxiang.publicity.api import router as publicity_router  # noqa: E402

api.add_router("/publicity", publicity_router)

from sanxiang.catalog.api import router as catalog_router  # noqa: E402

api.add_router("/catalog", catalog_router)

from sanxiang.evidence.api import router as evidence_router  # noqa: E402

api.add_router("/evidence", evidence_router)

from sanxiang.cases.api import router as cases_router  # noqa: E402

api.add_router("/cases", cases_router)

from sanxiang.documents.api import router as documents_router  # noqa: E402

api.add_router("/documents", documents_router)

from sanxiang.review.api import router as review_router  # noqa: E402

api.add_router("/review", review_router)
