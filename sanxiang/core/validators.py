"""Validators for codes the platform must trust: GB 32100 credit codes,
GB 11643 citizen ID numbers, GB/T 2260 region codes and certificate numbers.

Errors are Chinese, name the rule, and carry a stable ``code`` for machines.
Each ``check_*`` function returns None or the problem; the ``validate_*``
wrappers raise Django's ValidationError for model and form fields.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError

# GB 32100-2015: 18 characters from this 31-character set (no I, O, S, V, Z).
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_AUTHORITIES = set("159ABCDEFGHJNY")  # position 1: registration authority

# GB 11643-1999 / ISO 7064 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def check_credit_code(value: str) -> tuple[str, str] | None:
    """Return (code, message) describing what is wrong, or None if valid."""
    if not isinstance(value, str) or len(value) != 18:
        return ("credit_code_length", "统一社会信用代码应为18位（GB 32100）。")
    if any(c not in CREDIT_CHARSET for c in value):
        return ("credit_code_charset", "统一社会信用代码只能由数字和除I、O、S、V、Z以外的大写字母组成（GB 32100）。")
    if value[0] not in CREDIT_AUTHORITIES:
        return ("credit_code_authority", "统一社会信用代码第1位登记管理部门代码无效（GB 32100）。")
    if not (value[2:8].isascii() and value[2:8].isdigit()):
        return ("credit_code_region", "统一社会信用代码第3至8位应为行政区划码（GB 32100）。")
    if credit_code_check_char(value[:17]) != value[17]:
        return ("credit_code_checksum", "统一社会信用代码校验码错误（GB 32100 第18位校验字符不符）。")
    return None


def organization_code_check_char(first8: str) -> str:
    """GB 11714 check character of a 9-character organization code
    (digits 0-9, letters A-Z valued 10-35; weights 3,7,9,10,5,8,4,2)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2)))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_credit_code(*, region_code: str, serial: int | None = None, org_body: str | None = None,
                     authority: str = "1", kind: str = "1") -> str:
    """A well-formed credit code (authority 1 = 机构编制, kind 1 = 机关 by
    default) for demo data and tests: region code, an 8-character
    organization code body (or a serial made into one) with its GB 11714
    check digit, and the GB 32100 check character."""
    org = org_body if org_body is not None else f"{serial:08d}"
    first17 = f"{authority}{kind}{region_code}{org}{organization_code_check_char(org)}"
    return first17 + credit_code_check_char(first17)


def _raising(check, name: str):
    """A model-field validator from a ``check_*`` function: raises the
    ValidationError (message and code) of the problem it names. Named as
    the module attribute it is bound to, so migrations refer to it by path."""

    def validate(value: str) -> None:
        problem = check(value)
        if problem:
            raise ValidationError(problem[1], code=problem[0])

    validate.__name__ = validate.__qualname__ = name
    return validate


validate_credit_code = _raising(check_credit_code, "validate_credit_code")


def id_number_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def check_id_number(value: str) -> tuple[str, str] | None:
    """A GB 11643 18-digit citizen ID number: structure, birth date, check digit."""
    # ASCII digits only: \d and int() also take Arabic-Indic, full-width ... digits,
    # which must be normalised at intake (core.text), never stored verbatim.
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return ("id_number_format", "公民身份号码应为17位数字加1位校验码（数字或X）（GB 11643）。")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return ("id_number_birthdate", "公民身份号码中的出生日期无效（GB 11643 第7至14位）。")
    if id_number_check_char(value[:17]) != value[17]:
        return ("id_number_checksum", "公民身份号码校验码错误（GB 11643 第18位）。")
    return None


validate_id_number = _raising(check_id_number, "validate_id_number")


def validate_region_code(value: str) -> None:
    if not re.fullmatch(r"[0-9]{6}([0-9]{3})?", value or ""):
        raise ValidationError("行政区划代码应为6位数字（县级以上，GB/T 2260）或9位数字（乡级）。", code="region_code_format")


# Certificate numbers (执法证号). No national standard fixes their layout; we
# use: issuing region code (6 digits, GB/T 2260) + 7-digit serial + one check
# character computed as in GB 11643 (ISO 7064 MOD 11-2), so a mistyped
# number on a 亮证 scan is caught. See docs/decisions/0004-certificate-numbers.md.
CERTIFICATE_RE = re.compile(r"^([0-9]{6})([0-9]{7})([0-9X])$")


def certificate_check_char(first13: str) -> str:
    weights = ID_WEIGHTS[-13:]
    return ID_CHECK[sum(int(c) * w for c, w in zip(first13, weights)) % 11]


def make_certificate_number(region_code: str, serial: int) -> str:
    body = f"{region_code}{serial:07d}"
    return body + certificate_check_char(body)


def check_certificate_number(value: str) -> tuple[str, str] | None:
    m = CERTIFICATE_RE.match(value or "")
    if not m:
        return ("certificate_format", "执法证号应为14位：6位发证机关行政区划代码、7位顺序号和1位校验码。")
    if certificate_check_char(value[:13]) != value[13]:
        return ("certificate_checksum", "执法证号校验码错误（第14位，ISO 7064 MOD 11-2）。")
    return None


validate_certificate_number = _raising(check_certificate_number, "validate_certificate_number")


def validate_categories(value) -> None:
    from .models import EnforcementCategory

    if not isinstance(value, list) or not value:
        raise ValidationError("执法类别至少选择一项。", code="categories_empty")
    bad = [v for v in value if v not in EnforcementCategory.values]
    if bad:
        raise ValidationError("执法类别无效：%(bad)s。", params={"bad": "、".join(map(str, bad))}, code="categories_invalid")
