"""API errors: always JSON with a stable `code`, the `field` at fault (or
null) and a Chinese `message`."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, *, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


def forbidden_scope(scope: str) -> ApiError:
    return ApiError(status=403, code="scope_missing", message=f"令牌缺少所需权限范围：{scope}。")
