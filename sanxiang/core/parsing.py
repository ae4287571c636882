"""The one parsing layer for numbers and ids that arrive from outside: query
strings, paths, forms, JSON bodies and protocol headers (tus).

Every integer taken from a request goes through here, so that what reaches
the database is always an int the database can hold:

- only ASCII digits ``0-9`` are numbers. ``str.isdigit()`` also accepts
  superscripts (``¹²``) and other digits that ``int()`` refuses or reads
  differently (full-width ``１２``, Arabic-Indic ``١٢``); ``int()`` also
  accepts ``+12``, ``1_000`` and surrounding white space. None of these is
  a number here;
- every number is bounded. Ids are 1 … 2**63-1 (PostgreSQL ``bigint``,
  SQLite ``INTEGER``): a larger value is not an id of anything, and handing
  it to the database answers OverflowError (SQLite) or DataError
  (PostgreSQL) instead of "not found". Pages, limits and offsets have
  bounds of their own (below).

Page views and plain views call :func:`parse_int` / :func:`parse_id` /
:func:`optional_id`; a bad value raises :class:`BadNumber`, which the
middleware ``sanxiang.core.http.BadInputMiddleware`` turns into a 400 with a
Chinese message (pages) or ``{code, field, message}`` (under /api/). The
django-ninja API uses the annotated types :data:`Id`,
:data:`PageNumber`, :data:`PageSize`, :data:`Limit`, :data:`Offset`,
:data:`Count`: the same rule, as pydantic validation (422 naming the field);
dates and moments are :data:`Day` / :data:`Moment` (years 1900 … 2199).
URL patterns use the ``<id:...>`` converter (:class:`IdConverter`), which
matches only ids in range (anything else is 404 before a view runs).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**63 - 1  # bigint / SQLite INTEGER
MAX_PAGE = 1_000_000  # 20 rows a page: far beyond any result set
MAX_PAGE_SIZE = 100
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
MAX_COUNT = 2**31 - 1  # small counts and amounts given by a client (days, rounds …)
MAX_JSON_DEPTH = 64  # our documents nest a few levels; nothing legitimate needs more
# Dates a client may send: wide enough for any record, narrow enough that
# adding a legal period (years at most) never leaves Python's calendar
# (9999-12-31 + 15 working days was an OverflowError, a 500).
MIN_DAY = dt.date(1900, 1, 1)
MAX_DAY = dt.date(2199, 12, 31)

_ASCII_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = len(str(MAX_ID)) + 1  # longer strings are out of range without parsing them


class BadInput(ValueError):
    """Input that cannot be accepted: a stable ``code``, the ``field`` at
    fault and a Chinese ``message``. 400 on pages and on the API."""

    status = 400

    def __init__(self, *, field: str | None, code: str, message: str):
        super().__init__(message)
        self.field, self.code, self.message = field, code, message

    def body(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class BadNumber(BadInput):
    pass


class BadJson(BadInput):
    pass


def _out_of_range(field: str | None, minimum: int, maximum: int) -> BadNumber:
    return BadNumber(field=field, code="out_of_range",
                     message=f"{field or '数值'} 超出范围：应为 {minimum} 至 {maximum} 之间的整数。")


def parse_int(raw: Any, *, field: str | None, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """An int from text of ASCII digits (or an int that is not a bool),
    within [minimum, maximum]; raises BadNumber."""
    if isinstance(raw, bool):
        raise BadNumber(field=field, code="not_an_integer", message=f"{field or '数值'} 应为整数，不能是布尔值。")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        if not _ASCII_DIGITS.fullmatch(raw):
            raise BadNumber(field=field, code="not_an_integer",
                            message=f"{field or '数值'} 应为整数，只能由 ASCII 数字 0-9 组成（收到“{raw[:20]}”）。")
        if len(raw) > _MAX_DIGITS:
            raise _out_of_range(field, minimum, maximum)
        value = int(raw)
    else:
        raise BadNumber(field=field, code="not_an_integer", message=f"{field or '数值'} 应为整数。")
    if not minimum <= value <= maximum:
        raise _out_of_range(field, minimum, maximum)
    return value


def parse_id(raw: Any, *, field: str | None) -> int:
    """An id: 1 … 2**63-1."""
    return parse_int(raw, field=field, minimum=1, maximum=MAX_ID)


def optional_id(raw: Any, *, field: str | None) -> int | None:
    """An id, or None when the parameter is absent or empty (a filter left
    blank); anything else that is not an id is an error."""
    if raw is None or raw == "":
        return None
    return parse_id(raw, field=field)


def optional_int(raw: Any, *, field: str | None, default: int | None, minimum: int = 0, maximum: int = MAX_COUNT) -> int | None:
    """An int, or ``default`` when absent or empty."""
    if raw is None or raw == "":
        return default
    return parse_int(raw, field=field, minimum=minimum, maximum=maximum)


def parse_page(raw: Any, *, field: str = "page") -> int:
    """A page number (1 … MAX_PAGE); absent or empty is page 1."""
    return optional_int(raw, field=field, default=1, minimum=1, maximum=MAX_PAGE)


# --- JSON bodies --------------------------------------------------------------------------

# NUL (no PostgreSQL text column holds it: DataError) and lone surrogates
# (not Unicode: neither database encodes them). Nothing typed contains them.
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


def check_text(value: str, *, field: str | None) -> str:
    """``value`` unchanged, or BadInput when it holds a character no
    database can store (NUL, a lone surrogate)."""
    match = _NOT_STORABLE.search(value)
    if match:
        raise BadInput(field=field, code="invalid_character",
                       message=f"{field or '请求'} 含有无法保存的字符 U+{ord(match.group()):04X}。")
    return value


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when containers nest deeper than ``limit`` (iterative: never
    recurses, whatever the depth)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def check_json_text(value: Any) -> None:
    """Every key and string of a parsed JSON value through check_text, the
    field named by its path (``records.3.party_name``)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            check_text(node, field=path or None)
        elif isinstance(node, dict):
            for key, child in node.items():
                where = f"{path}.{key}" if path else str(key)
                check_text(str(key), field=where)
                stack.append((child, where))
        elif isinstance(node, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(node))


def load_json(data: bytes | str, *, check_text: bool = True, **kwargs) -> Any:
    """``json.loads`` for request bodies: raises BadJson (400) for text that
    is not UTF-8 JSON and for containers nested deeper than MAX_JSON_DEPTH
    (a body nested 100,000 deep makes the decoder raise RecursionError), and
    BadInput for a string holding NUL or a lone surrogate (``"\\u0000"``,
    ``"\\ud800"`` are valid JSON escapes; no database stores them).

    ``check_text=False`` is for a batch whose intake checks every text per
    record and per field (the push API: publicity.intake refuses the one bad
    record through core.text and keeps the good ones of the same batch)."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(field=None, code="invalid_json",
                      message=f"请求体不是有效的 JSON（UTF-8）：{exc}。") from None
    if json_depth_exceeds(value):
        raise _too_deep()
    if check_text:
        check_json_text(value)
    return value


def _too_deep() -> BadJson:
    return BadJson(field=None, code="json_too_deep", message=f"请求体 JSON 嵌套过深：最多 {MAX_JSON_DEPTH} 层。")


# --- pydantic types for the django-ninja API -----------------------------------------------

def _strict_int(value: Any) -> Any:
    """Before pydantic's own int parsing: only ASCII digit strings and real
    ints (pydantic alone would take ``True``, ``"+12"``, ``"1_000"``,
    ``"12.0"`` and ``" 12"``)."""
    if isinstance(value, bool):
        raise ValueError("应为整数，不能是布尔值")
    if isinstance(value, str):
        if not _ASCII_DIGITS.fullmatch(value):
            raise ValueError("应为整数，只能由 ASCII 数字 0-9 组成")
        if len(value) > _MAX_DIGITS:
            raise ValueError(f"超出范围：最大为 {MAX_ID}")
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_ID:
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError("应为整数")


def bounded(minimum: int, maximum: int, **field_kwargs):
    # Field before the validator: the constraints stay on the integer schema, so the
    # OpenAPI shows minimum/maximum (the other order emits non-standard ge/le keys).
    return Annotated[int, Field(ge=minimum, le=maximum, **field_kwargs), BeforeValidator(_strict_int)]


def _day_in_range(value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not MIN_DAY <= day <= MAX_DAY:
        raise ValueError(f"日期超出范围：应在 {MIN_DAY} 至 {MAX_DAY} 之间")
    return value


Day = Annotated[dt.date, AfterValidator(_day_in_range)]
Moment = Annotated[dt.datetime, AfterValidator(_day_in_range)]

Id = bounded(1, MAX_ID)
PageNumber = bounded(1, MAX_PAGE)
PageSize = bounded(1, MAX_PAGE_SIZE)
Limit = bounded(1, MAX_LIMIT)
Offset = bounded(0, MAX_OFFSET)
Count = bounded(0, MAX_COUNT)
Amount = bounded(0, MAX_ID)  # money in fen and other non-negative 64-bit quantities


# --- URL converter -----------------------------------------------------------------------

class IdConverter:
    """``<id:pk>``: an id in range, ASCII digits. Django's ``<int:pk>``
    matches any run of digits, so ``/cases/99999999999999999999999/`` reached
    the view and the database (OverflowError on SQLite); here it is 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)  # no match: 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class YearConverter:
    """``<year:year>``: a calendar year of four ASCII digits (``<int:year>``
    would take any run of digits to the view)."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):04d}"
