"""The django-ninja API at /api/v1 (OpenAPI at /api/v1/openapi.json).

Authentication: `Authorization: Bearer sx_...` (an agency's API token) or a
logged-in browser session (TOTP-verified where the role needs it). Every
non-public endpoint reads through a selector that takes request.user.
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError as DjangoValidationError,
)
from django.http.multipartparser import MultiPartParserError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ConfigError, HttpError, ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from sanxiang.core.auth import is_fully_authenticated
from sanxiang.core.parsing import BadInput, load_json

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
    """A logged-in, TOTP-verified session. CSRF protects session calls only:
    a call with no session (and no valid token) is 401 unauthenticated, not a
    CSRF 403 (ninja's cookie auth checks CSRF before it knows whether there
    is a session at all)."""

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if key is None or user is None or not is_fully_authenticated(user):
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise ApiError(status=403, code="csrf_failed",
                           message="CSRF 校验失败：请刷新页面后重试（使用登录会话调用 API 时须带 X-CSRFToken 请求头）。")
        return user


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


class BoundedJsonParser(Parser):
    """Request bodies through core.parsing.load_json: a body nested deeper
    than MAX_JSON_DEPTH (100,000 levels made the decoder raise RecursionError)
    or that is not UTF-8 JSON is a 400 {code, field, message}."""

    def parse_body(self, request):
        return load_json(request.body)


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer: a stable code, the field at fault (or null) and a Chinese message. "
                   "422 answers also list every problem in `errors`.",
    "required": ["code", "field", "message"],
    "properties": {
        "code": {"type": "string"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "problem": {"type": "string"}}}},
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_DESCRIPTIONS = {
    "400": "Bad request: a body that is not JSON, nested too deep, or a number that is not one",
    "401": "No valid API token and no logged-in, verified session",
    "403": "The token lacks the scope, the role may not do this, or CSRF failed (session calls)",
    "404": "Not found, or outside the caller's jurisdiction",
    "422": "A field is invalid or the rules refuse the action",
}


def document_errors(schema: dict) -> dict:
    """Add the error answers to every operation of an OpenAPI document:
    400, 404 and 422 everywhere, 401 and 403 where authentication is
    required; all with the Error schema. Answers an operation documents
    itself are kept."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            responses = operation.setdefault("responses", {})
            statuses = ["400", "404", "422"] + (["401", "403"] if operation.get("security") else [])
            for status in statuses:
                responses.setdefault(status, {"description": _ERROR_DESCRIPTIONS[status],
                                              "content": {"application/json": {"schema": _ERROR_REF}}})
    return schema


class UniqueNamesSchema(OpenAPISchema):
    """django-ninja names a component after its class and silently keeps
    the last of two classes with the same name (two StepOut, two VersionOut:
    responses were documented with the other one's fields). Here a second,
    different schema under a taken name is an error at generation."""

    def add_schema_definitions(self, definitions: dict) -> None:
        for name, schema in definitions.items():
            if name in self.schemas and self.schemas[name] != schema:
                raise ConfigError(f"two different schemas are named {name!r} in the OpenAPI document: rename one")
        super().add_schema_definitions(definitions)


class SanxiangAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return document_errors(UniqueNamesSchema(self, path_prefix))


api = SanxiangAPI(
    renderer=Utf8Renderer(),
    parser=BoundedJsonParser(),
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


_PROBLEMS = {
    "missing": lambda ctx: "缺少此字段",
    "int_parsing": lambda ctx: "应为整数（只用 ASCII 数字 0-9）",
    "int_type": lambda ctx: "应为整数",
    "int_from_float": lambda ctx: "应为整数",
    "int_parsing_size": lambda ctx: "数值过大",
    "less_than_equal": lambda ctx: f"不能大于 {ctx.get('le')}",
    "greater_than_equal": lambda ctx: f"不能小于 {ctx.get('ge')}",
    "less_than": lambda ctx: f"应小于 {ctx.get('lt')}",
    "greater_than": lambda ctx: f"应大于 {ctx.get('gt')}",
    "string_type": lambda ctx: "应为字符串",
    "string_too_long": lambda ctx: f"过长：最多 {ctx.get('max_length')} 个字符",
    "string_too_short": lambda ctx: f"过短：至少 {ctx.get('min_length')} 个字符",
    "bool_parsing": lambda ctx: "应为布尔值（true 或 false）",
    "bool_type": lambda ctx: "应为布尔值（true 或 false）",
    "date_from_datetime_parsing": lambda ctx: "应为日期（YYYY-MM-DD）",
    "date_parsing": lambda ctx: "应为日期（YYYY-MM-DD）",
    "date_type": lambda ctx: "应为日期（YYYY-MM-DD）",
    "datetime_parsing": lambda ctx: "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": lambda ctx: "应为日期时间（ISO 8601）",
    "datetime_type": lambda ctx: "应为日期时间（ISO 8601）",
    "list_type": lambda ctx: "应为数组",
    "dict_type": lambda ctx: "应为对象",
    "model_type": lambda ctx: "应为对象",
    "model_attributes_type": lambda ctx: "应为对象",
    "float_parsing": lambda ctx: "应为数字",
    "float_type": lambda ctx: "应为数字",
    "decimal_parsing": lambda ctx: "应为数字",
    "finite_number": lambda ctx: "应为有限的数字",
    "recursion_loop": lambda ctx: "嵌套过深",
    "enum": lambda ctx: f"应为以下之一：{ctx.get('expected')}",
    "literal_error": lambda ctx: f"应为以下之一：{ctx.get('expected')}",
    "json_invalid": lambda ctx: "不是有效的 JSON",
}


def _problem(error: dict) -> str:
    """The Chinese problem for one pydantic error (its English text where no
    translation is known; a value error raised by our own validators is
    already Chinese)."""
    kind = error.get("type", "")
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error") or error.get("msg", "格式错误"))
    known = _PROBLEMS.get(kind)
    return known(error.get("ctx") or {}) if known else str(error.get("msg", "格式错误"))


def _field_of(error: dict) -> str | None:
    loc = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "payload", "header", "form")]
    return ".".join(loc) or None


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = exc.errors
    first = errors[0] if errors else {}
    field = _field_of(first)
    return _error(request, 422, "invalid", f"字段 {field or '请求'} 无效：{_problem(first)}。", field,
                  errors=[{"field": _field_of(e), "problem": _problem(e)} for e in errors])


@api.exception_handler(BadInput)
def on_bad_input(request, exc: BadInput):
    return api.create_response(request, exc.body(), status=exc.status)


_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 429: "throttled"}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    """django-ninja's own refusals (an unparsable body, throttling …) in the
    documented {code, field, message} shape instead of {"detail": ...}."""
    cause = exc.__cause__
    if isinstance(cause, BadInput):
        return api.create_response(request, cause.body(), status=cause.status)
    if exc.status_code == 400:
        return _error(request, 400, "invalid_json", "请求体不是有效的 JSON（UTF-8）。")
    return _error(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"),
                  f"请求被拒绝（HTTP {exc.status_code}）：{exc.message}")


@api.exception_handler(MultiPartParserError)
def on_unparsable_form(request, exc):
    """A form body Django cannot parse (multipart without a boundary …): read
    when a session's CSRF token is looked for in the form; Django answers
    it 400 on pages, and so does the API."""
    return _error(request, 400, "invalid_body", "请求体无法解析：multipart/form-data 格式错误（缺少 boundary 等）。")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    """Django's refusals of a request (too many fields, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE …): 400/413 like on pages, not 500."""
    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "body_too_large", "请求体过大。")
    return _error(request, 400, "bad_request", "请求无法处理：格式或大小不符合要求。")


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
    # A predicate's refusal (core.refusals.Refused) keeps its code and message.
    return _error(request, 403, getattr(exc, "code", None) or "forbidden",
                  getattr(exc, "message", None) or "您没有执行此操作的权限。", getattr(exc, "field", None))


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    log.exception("unhandled API error")
    return _error(request, 500, "internal_error", "服务器内部错误，已记录。请稍后重试或联系管理员。")
