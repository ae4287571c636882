"""Limit/offset pagination with bounded numbers (core/parsing.py): django-ninja's
own takes any ``offset`` (and, unless configured, any ``limit``), which went
to the database as LIMIT/OFFSET beyond 64 bits (IntegrityError on SQLite)."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from sanxiang.core.parsing import MAX_LIMIT, Limit, Offset

DEFAULT_LIMIT = 100


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: Limit = Field(DEFAULT_LIMIT, description=f"rows per page, 1 … {MAX_LIMIT}")
        offset: Offset = Field(0, description="rows to skip")

    def __init__(self, **kwargs):
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
