"""Shared data of the 双随机 tests: the participants' secrets, the batch's
period and credit codes for directory objects (fixtures: conftest.py)."""

from __future__ import annotations

from datetime import date

from sanxiang.core.validators import make_credit_code

SECRETS = {"agency": "0123456789abcdef" * 4, "office": "fedcba9876543210" * 4}
START, END = date(2026, 12, 10), date(2026, 12, 20)


def credit(n: int) -> str:
    return make_credit_code(region_code="130102", serial=500 + n)
