"""Field values of a document: checked against the kind's field list
(errors name the field, in Chinese) and formatted for print.

Stored form (Document.data): text as a stripped string, date as ISO
``YYYY-MM-DD``, datetime as ISO ``YYYY-MM-DDTHH:MM`` (a picker's value;
a time written in words, e.g. ``9时30分许`` from a paper record, is kept as
written), money as a yuan string with two decimals (exact, Decimal), list as
a list of non-empty strings, bool as true/false (a switch: absent is false).

``normalize_sentence`` mends the sentence ends where entered text meets the
template's own punctuation (issue 11 item 6): no doubled 。, and a 。 after
an entered clause that ends a paragraph.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from .kinds import DocumentKind

MAX_TEXT = 20_000
MAX_MONEY = Decimal("999999999999.99")


TRUE_WORDS = frozenset({"1", "true", "on", "yes", "是"})
FALSE_WORDS = frozenset({"", "0", "false", "off", "no", "否"})


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple)) and not value)


def clean_value(spec, value):
    label = spec.label
    if spec.type == "text":
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValidationError({spec.name: ValidationError(f"{label}过长（最多{MAX_TEXT}字）。", code="too_long")})
        return text
    if spec.type == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError({spec.name: ValidationError(f"{label}不是有效日期（格式：2026-03-01）。",
                                                              code="invalid_date")}) from None
    if spec.type == "money":
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationError({spec.name: ValidationError(f"{label}不是有效金额（单位：元）。",
                                                              code="invalid_amount")}) from None
        if not amount.is_finite() or amount < 0 or amount > MAX_MONEY or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError({spec.name: ValidationError(f"{label}必须是不小于零、最多两位小数的金额（单位：元）。",
                                                              code="invalid_amount")})
        return str(amount.quantize(Decimal("0.01")))
    if spec.type == "datetime":
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M")
        text = str(value).strip()
        try:
            return datetime.fromisoformat(text.replace(" ", "T", 1)).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            if len(text) > 64:
                raise ValidationError({spec.name: ValidationError(
                    f"{label}不是有效时间（格式：2026-03-01T09:30）。", code="invalid_datetime")}) from None
            return text  # a time in words (paper record), kept as written
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS or text == spec.yes:
            return True
        if text in FALSE_WORDS or text == spec.no:
            return False
        raise ValidationError({spec.name: ValidationError(f"{label}只能是“是”或“否”。", code="invalid_choice")})
    if spec.type == "list":
        items = [value] if isinstance(value, str) else list(value)
        cleaned = [str(item).strip() for item in items if str(item).strip()]
        return cleaned
    raise ValidationError({spec.name: ValidationError(f"{label}的类型未知。", code="unknown_type")})


def _missing(kind: DocumentKind, spec) -> None:
    raise ValidationError({spec.name: ValidationError(f"请填写“{spec.label}”（{kind.title}的必填项）。", code="required")})


def clean_data(kind: DocumentKind, data: dict, *, partial: bool = False) -> dict:
    """The kind's fields from ``data``, checked and normalised. Unknown keys
    are refused (a misspelt field would otherwise vanish silently); with
    ``partial`` (previews) required fields may be missing."""
    data = dict(data or {})
    unknown = sorted(set(data) - set(kind.field_map))
    if unknown:
        raise ValidationError({unknown[0]: ValidationError(f"“{kind.title}”没有字段 {unknown[0]}。", code="unknown_field")})
    cleaned = {}
    for spec in kind.fields:
        value = data.get(spec.name)
        if spec.type == "bool":  # a switch: off (or absent) is an answer, never a missing field
            cleaned[spec.name] = False if _blank(value) else clean_value(spec, value)
            continue
        if _blank(value):
            if spec.required and not partial:
                _missing(kind, spec)
            continue
        cleaned_value = clean_value(spec, value)
        if _blank(cleaned_value):
            if spec.required and not partial:
                _missing(kind, spec)
            continue
        cleaned[spec.name] = cleaned_value
    return cleaned


# --- print forms ---------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def _section(n: int) -> str:
    """0 < n < 10000 in capitals, inner zeros read once (1005 → 壹仟零伍)."""
    text, zero = "", False
    for i in range(3, -1, -1):
        d = n // (10 ** i) % 10
        if d == 0:
            zero = bool(text)
        else:
            if zero:
                text += "零"
                zero = False
            text += _DIGITS[d] + _UNITS[i]
    return text


def money_upper(amount: Decimal) -> str:
    """Chinese financial capitals for a yuan amount: 5000 → 伍仟元整,
    10020.5 → 壹万零贰拾元伍角, 5000.05 → 伍仟元零伍分."""
    fen_total = int(Decimal(amount).quantize(Decimal("0.01")) * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    integer, zero_pending = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(integer)
            continue
        if integer and (group < 1000 or zero_pending):
            integer += "零"
        integer += _section(group) + _SECTIONS[index]
        zero_pending = False
    if integer:
        integer += "元"
    if jiao == 0 and fen == 0:
        return (integer or "零元") + "整"
    tail = ""
    if jiao:
        tail += _DIGITS[jiao] + "角"
    elif integer:
        tail += "零"
    if fen:
        tail += _DIGITS[fen] + "分"
    return integer + tail


def chinese_date(value: date | str) -> str:
    d = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def chinese_datetime(value: str) -> str:
    """``2026-03-01T09:30`` → 2026年3月1日9时30分; a time in words as written."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{moment.year}年{moment.month}月{moment.day}日{moment.hour}时{moment.minute:02d}分"


def print_value(spec, value) -> str:
    """How a stored value appears inside running text."""
    if spec.type == "bool":
        return spec.yes if value is True else (spec.no if value is False else "")
    if value is None or value == "" or value == []:
        return ""
    if spec.type == "date":
        return chinese_date(value)
    if spec.type == "datetime":
        return chinese_datetime(value)
    if spec.type == "money":
        amount = Decimal(value)
        return f"人民币{money_upper(amount)}（¥{amount:,.2f}）"
    if spec.type == "list":
        return "；".join(f"{i}. {item}" for i, item in enumerate(value, 1))
    return str(value)


# --- sentence ends ---------------------------------------------------------------

# A mark that ends a clause, doubled with the template's own 。 or ， when an
# officer typed it too: "决定如下：罚款五万元。。" → "…五万元。".
_DOUBLED = (
    (re.compile(r"[。．.]\s*[。．]"), "。"),  # 。。 → 。
    (re.compile(r"[，,；;、]\s*。"), "。"),  # ，。 → 。
    (re.compile(r"。\s*([，；、])"), r"\1"),  # 。， → ，
)
_SENTENCE_END = "。！？!?：:；;…”’」』）)》】〕"


def normalize_sentence(text: str, *, end: bool = True) -> str:
    """Mend sentence ends where entered text meets template punctuation:
    a doubled or clashing end mark becomes one (``。。`` / ``，。`` → ``。``,
    ``。，`` → ``，``), and with ``end`` a paragraph (each of its lines) that
    ends in a word or number gets its ``。``. Lines ending in a closing
    bracket, quote, colon or other end mark are left as they are."""
    def mend(line: str) -> str:
        previous = None
        while previous != line:
            previous = line
            for pattern, replacement in _DOUBLED:
                line = pattern.sub(replacement, line)
        line = line.rstrip()
        if end and line and line[-1] not in _SENTENCE_END and not line[-1].isspace():
            line += "。"
        return line
    return "\n".join(mend(line) for line in text.split("\n"))
