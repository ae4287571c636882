"""Validation and normalisation of enforcement decisions received from case
systems (seed 公示-14: 执法决定信息及时推送公示; 公示-19: 双公示 data
exchange with the credit platform).

``validate_record(raw, index=i)`` turns one raw record (the push API's JSON,
or a row of a 双公示 file already mapped to the same keys by
``shuanggongshi``) into the normalised dict that
``services.receive_records`` stores, or into a list of ``RecordError``s.
It never raises for bad input: every problem is reported with the record's
index, the field, a stable code and a Chinese message naming the field and
the rule.

The normalised record (stored as ``Decision.data``) always has every key of
its kind, so two records can be compared as plain dicts:

- every kind: external_id, kind, doc_number, party_name, party_type,
  party_credit_code, party_other_codes, legal_representative, party_id_type,
  party_id_number, decision_date, basis, facts, content, remark, data_source,
  data_source_code, is_minor, confidential, other_person_names,
  correction_reason
- penalty: violation_type, penalty_categories, fine_fen, confiscation_fen,
  licence_affected, valid_until
- license: licence_doc_name, licence_category, licence_cert_name,
  licence_number, valid_from, valid_until, licence_status

Strings are stripped ("" when absent); dates are ISO strings (None when
absent); money is integer fen (None when absent).

Choices made here (the 双公示 column mapping is in shuanggongshi.py):

- Money in the push API is in YUAN: ``fine_yuan`` / ``confiscation_yuan``, a
  decimal string ("12000.50") or a JSON number, at most 2 decimals, converted
  exactly with Decimal (the API parses JSON numbers as Decimal, never as
  binary floats). A Python float handed in directly is accepted only when it
  is finite, below 2**53 fen and its shortest decimal form has at most 2
  decimals. ``fine_fen`` / ``confiscation_fen`` (integers) are accepted too
  (that is what the 双公示 import hands over after its exact 万元
  conversion); giving both forms of one amount is an error.
- Penalties require 违法行为类型 (CF_WFXW), 违法事实 (CF_SY), 处罚依据
  (CF_YJ), 处罚类别 (CF_CFLB) and 处罚内容 (CF_NR): the 双公示 penalty
  standard marks them all as mandatory. Conditional, as in that standard:
  the fine when 罚款 is a category, the confiscated amount when
  没收违法所得、没收非法财物 is, the licence name and number when 暂扣许可证件
  or 吊销许可证件 is. 处罚有效期 (CF_YXQ) is optional here: the platform computes
  the 公示截止期 itself from the dated rules.
- Every kind requires doc_number, party_name, party_type, decision_date and
  content; basis (依据) too, except for licences: the 双公示 licence layout
  has no column for it, so requiring it would make every licence file fail.
- Licences require 许可决定文书名称 (XK_XKWS), 许可类别 (XK_XKLB), 许可内容
  (XK_NR) and 有效期自 (XK_YXQZ); 有效期至 must not precede it; 当前状态
  defaults to 有效.
- Organisations (legal_person, individual_business) need a valid
  统一社会信用代码 (GB 32100) unless it is absent (empty, or the standard's
  placeholder of 17 zeros and X) and another registration number is given
  in ``party_other_codes``. Natural persons need an ID type (default 身份证)
  and number; 身份证 numbers are checked against GB 11643; a natural person
  carries no credit code.
- Dates: YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日; the decision date must not
  be later than today in China Standard Time.
- Unknown keys are rejected (``unknown_field``): a misspelt optional field
  would otherwise vanish silently from a legal record.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation


from sanxiang.core import text as textnorm
from sanxiang.core.validators import check_credit_code, check_id_number

from sanxiang.core.vocabulary import PARTY_TYPE_BY_NAME, PARTY_TYPE_NAMES, ActKind, PartyType

from .models import PenaltyCategory, PENALTY_SEVERITY
from sanxiang.core import clock

# --- vocabularies ------------------------------------------------------------

KINDS = frozenset(ActKind.values)
PARTY_TYPES = frozenset(PartyType.values)
PARTY_TYPE_CHOICES_TEXT = "可选：" + "、".join(f"{t.value}（{PARTY_TYPE_NAMES[t]}）" for t in PartyType) + "。"
PENALTY_CATEGORIES = frozenset(PenaltyCategory.values)
# 证件类型 of natural persons (双公示 standard).
ID_TYPES = ("身份证", "护照号", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证")
ID_TYPE_SET = frozenset(ID_TYPES)
DEFAULT_ID_TYPE = "身份证"
LICENCE_CATEGORIES = ("普通", "特许", "认可", "核准", "登记", "其他")
LICENCE_CATEGORY_SET = frozenset(LICENCE_CATEGORIES)
LICENCE_STATUSES = ("有效", "无效")
LICENCE_STATUS_CODES = {"1": "有效", "2": "无效"}  # the standard's numeric codes
# "no credit code" placeholder of the 双公示 standard (17 zeros and X).
NO_CREDIT_CODE = "00000000000000000X"
# Categories whose amount or licence must be given (双公示 conditional fields).
FINE = PenaltyCategory.FINE.value
CONFISCATION = PenaltyCategory.CONFISCATION.value
LICENCE_CATEGORIES_NEEDING_LICENCE = frozenset({PenaltyCategory.LICENCE_SUSPENSION.value,
                                                PenaltyCategory.LICENCE_REVOCATION.value})
CATEGORY_SEPARATORS = re.compile(r"[;；,，|]")

# Chinese name of every field, used in messages ("文号（doc_number）不能为空。").
FIELD_LABELS = {
    "external_id": "外部编号", "kind": "执法行为类别", "doc_number": "决定文书文号", "party_name": "行政相对人名称",
    "party_type": "行政相对人类别", "party_credit_code": "统一社会信用代码", "party_other_codes": "其他登记号码",
    "legal_representative": "法定代表人", "party_id_type": "证件类型", "party_id_number": "证件号码",
    "decision_date": "决定日期", "basis": "依据", "facts": "违法事实或事由", "content": "决定内容",
    "remark": "备注", "data_source": "数据来源单位", "data_source_code": "数据来源单位统一社会信用代码",
    "is_minor": "当事人是否未成年人", "confidential": "是否涉及国家秘密、商业秘密或个人隐私",
    "other_person_names": "其他自然人姓名", "correction_reason": "更正理由",
    "violation_type": "违法行为类型", "penalty_categories": "处罚类别", "fine_fen": "罚款金额",
    "fine_yuan": "罚款金额（元）", "confiscation_fen": "没收违法所得、没收非法财物的金额",
    "confiscation_yuan": "没收违法所得、没收非法财物的金额（元）", "licence_affected": "暂扣或吊销证照名称及编号",
    "valid_until": "有效期至", "licence_doc_name": "许可决定文书名称", "licence_category": "许可类别",
    "licence_cert_name": "许可证书名称", "licence_number": "许可编号", "valid_from": "有效期自",
    "licence_status": "当前状态",
}

# (field, max length) of the text fields, per kind; lengths follow the 双公示
# standard's column sizes where it has them.
COMMON_TEXT = (
    ("doc_number", 128), ("party_name", 200), ("party_other_codes", 200), ("legal_representative", 50),
    ("basis", 2000), ("facts", 5000), ("content", 4000), ("remark", 512), ("data_source", 200),
    ("correction_reason", 255),
)
REQUIRED_TEXT = frozenset({"doc_number", "party_name", "basis", "content"})
# The 双公示 licence layout has no column for the legal basis: optional there.
REQUIRED_TEXT_LICENCE = frozenset({"doc_number", "party_name", "content"})
PENALTY_TEXT = (("violation_type", 2000), ("licence_affected", 200))
LICENSE_TEXT = (("licence_doc_name", 64), ("licence_cert_name", 64), ("licence_number", 64))

COMMON_KEYS = frozenset({
    "external_id", "kind", "doc_number", "party_name", "party_type", "party_credit_code", "party_other_codes",
    "legal_representative", "party_id_type", "party_id_number", "decision_date", "basis", "facts", "content",
    "remark", "data_source", "data_source_code", "is_minor", "confidential", "other_person_names",
    "correction_reason",
})
PENALTY_KEYS = frozenset({"violation_type", "penalty_categories", "fine_fen", "fine_yuan", "confiscation_fen",
                          "confiscation_yuan", "licence_affected", "valid_until"})
LICENSE_KEYS = frozenset({"licence_doc_name", "licence_category", "licence_cert_name", "licence_number",
                          "valid_from", "valid_until", "licence_status"})
ACCEPTED_KEYS = {kind: COMMON_KEYS for kind in KINDS}
ACCEPTED_KEYS[ActKind.PENALTY.value] = COMMON_KEYS | PENALTY_KEYS
ACCEPTED_KEYS[ActKind.LICENSE.value] = COMMON_KEYS | LICENSE_KEYS

MAX_FEN = 10 ** 15  # 10 trillion yuan: anything above is a unit mistake
MAX_EXACT_FLOAT_FEN = 2 ** 53
MAX_OTHER_PERSONS = 50


@dataclass(frozen=True, slots=True)
class RecordError:
    """One problem of one record: its position in the batch (0-based for the
    API, the spreadsheet row number for imports), the field, a stable code
    and a Chinese message."""

    index: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


def label(field: str) -> str:
    name = FIELD_LABELS.get(field)
    return f"{name}（{field}）" if name else field


# --- parsers (shared with shuanggongshi) ---------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_YUAN = re.compile(r"\d{1,16}(?:\.\d{1,2})?")
_DECIMAL_TEXT = re.compile(r"\d+(?:\.\d+)?")


def parse_date_value(value) -> date | None:
    """A date from YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日 or a date object;
    None when it is not one (an impossible day included)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = _ISO_DATE.fullmatch(text) or _SLASH_DATE.fullmatch(text) or _CN_DATE.fullmatch(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def decimal_from_value(value) -> Decimal | None:
    """An exact Decimal from a str, int, Decimal or an exactly meant float;
    None if the value is not a plain non-negative-or-negative number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        negative = text.startswith("-")
        body = text[1:] if negative else text
        if not _DECIMAL_TEXT.fullmatch(body):
            return None
        try:
            d = Decimal(body)
        except InvalidOperation:  # pragma: no cover - the regex admits only digits
            return None
        return -d if negative else d
    return None


def decimal_places(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    if exponent >= 0:
        return 0
    # Trailing zeros do not count: "12000.50" has 1 significant decimal.
    return -d.normalize().as_tuple().exponent if d != 0 else 0


def yuan_to_fen(value, *, field: str) -> tuple[int | None, tuple[str, str] | None]:
    """Exact yuan → fen; (fen, None) or (None, (code, message))."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) * 100 >= MAX_EXACT_FLOAT_FEN:
        return None, ("money_inexact", f"{label(field)}数值过大，浮点数无法精确到分；请以字符串传送金额。")
    return _exact_fen(value, name=label(field), unit="元", fen_per_unit=100, places=2, example='"12000.50"',
                      precision="最多精确到分（两位小数）")


def wan_to_fen(value, *, field: str) -> tuple[int | None, tuple[str, str] | None]:
    """Exact 万元 → fen for the 双公示 format (1.2 万元 = 1,200,000 fen);
    up to 6 decimals (0.000001 万元 = 1 fen)."""
    return _exact_fen(value, name=field, unit="万元", fen_per_unit=1_000_000, places=6, example="1.2",
                      precision="以万元计最多六位小数（精确到分）")


_PLACES_CN = {2: "两", 6: "六"}


def _exact_fen(value, *, name: str, unit: str, fen_per_unit: int, places: int, example: str,
               precision: str) -> tuple[int | None, tuple[str, str] | None]:
    """An amount in `unit` (`fen_per_unit` fen each, at most `places`
    decimals) → exact fen; (fen, None) or (None, (code, message naming `name`))."""
    d = decimal_from_value(value)
    if d is None:
        return None, ("money_format", f"{name}应为以{unit}为单位的数字（如 {example}），最多{_PLACES_CN[places]}位小数。")
    if d < 0:
        return None, ("money_negative", f"{name}不能为负数。")
    if decimal_places(d) > places:
        return None, ("money_precision", f"{name}{precision}，收到 {value}。")
    fen = int(d * fen_per_unit)
    if fen >= MAX_FEN:
        return None, ("money_too_large", f"{name}超出合理范围，请核对单位（{unit}）。")
    return fen, None


def fen_to_wan_text(fen: int | None) -> str:
    """Fen → the 万元 text of the 双公示 format, exact, no trailing zeros."""
    if fen is None:
        return ""
    d = (Decimal(fen) / Decimal(1_000_000)).normalize()
    text = format(d, "f")
    return text


def split_categories(value) -> list[str] | None:
    if isinstance(value, str):
        return [p.strip() for p in CATEGORY_SEPARATORS.split(value) if p.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


# --- the validator -----------------------------------------------------------------


class NormalisedRecord(dict):
    """A validated record (a plain dict for storage and comparison) that
    also says which fields text normalisation changed: ``normalised`` maps
    field → the changes of ``core.text.normalise`` (invisible characters
    removed, digits made ASCII, NFC ...). Callers record it (the push API's
    per-record result, the import report, the audit entry of the batch)."""

    normalised: dict[str, list[str]]


class _Collector:
    __slots__ = ("index", "errors", "notes", "refused")

    def __init__(self, index: int):
        self.index = index
        self.errors: list[RecordError] = []
        self.notes: dict[str, list[str]] = {}
        self.refused: set[str] = set()  # fields already refused as unreadable: no second error

    def add(self, field: str, code: str, message: str) -> None:
        if field in self.refused:
            return
        self.errors.append(RecordError(self.index, field, code, message))

    def refuse(self, field: str, code: str, message: str) -> None:
        self.add(field, code, message)
        self.refused.add(field)


# Which normalisation each text field gets (core.text): names and numbers lose
# invisible characters; numbers (checked against a checksum or used as codes)
# are folded to ASCII digits and letters.
NAME_FIELDS = frozenset({"external_id", "doc_number", "party_name", "party_other_codes", "legal_representative",
                         "party_id_type", "data_source", "licence_doc_name", "licence_cert_name"})
NUMBER_FIELDS = frozenset({"party_credit_code", "party_id_number", "data_source_code", "licence_number"})


def _kind_of(field: str) -> str:
    return textnorm.NUMBER if field in NUMBER_FIELDS else textnorm.NAME if field in NAME_FIELDS else textnorm.TEXT


def _normalised(value: str, field: str, err: _Collector, *, kind: str | None = None) -> str | None:
    """The normalised text (core.text), or None after a per-field error."""
    try:
        result = textnorm.normalise(value, kind=kind or _kind_of(field))
    except textnorm.TextError as exc:
        err.refuse(field, exc.code, f"{label(field)}{exc.message}")
        return None
    changes = [c for c in result.changes if c != "line_endings"]
    if changes:
        err.notes.setdefault(field, [])
        err.notes[field].extend(c for c in changes if c not in err.notes[field])
    return result.text


_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE_RE.search(value) is not None
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def shown(value, limit: int = 64) -> str:
    """A value made safe to echo in a message: no lone surrogates (they
    cannot be encoded in a response), controls escaped, at most ``limit``
    characters."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def safe_external_id(raw) -> str | None:
    """The external id of a rejected raw record, for the answer, if it is a
    text that can be shown as is."""
    ext = raw.get("external_id") if isinstance(raw, dict) else None
    return ext if isinstance(ext, str) and shown(ext, limit=10 ** 6) == ext else None


def _code_text(raw: dict, field: str, err: _Collector) -> str:
    """A code field (a credit code) as sent: text, normalised, upper case;
    "" after a per-field error or when absent."""
    value = raw.get(field) or ""
    if not isinstance(value, str):
        err.refuse(field, "not_text", f"{label(field)}应为文本。")
        value = ""
    return (_normalised(value, field, err) or "").upper()


def _text(raw: dict, field: str, maxlen: int, err: _Collector, *, required: bool = False) -> str:
    value = raw.get(field)
    if value is None:
        value = ""
    elif not isinstance(value, str):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            value = str(value)  # a number where text is expected (e.g. a licence number): keep its digits
        else:
            err.refuse(field, "not_text", f"{label(field)}应为文本。")
            return ""
    value = _normalised(value, field, err)
    if value is None:
        return ""
    if not value:
        if required:
            err.add(field, "required", f"{label(field)}不能为空。")
        return ""
    if len(value) > maxlen:
        err.add(field, "too_long", f"{label(field)}最多{maxlen}个字符，收到{len(value)}个。")
    return value


def _date(raw: dict, field: str, err: _Collector, *, required: bool = False) -> date | None:
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            err.add(field, "required", f"{label(field)}不能为空。")
        return None
    d = parse_date_value(value)
    if d is None:
        err.add(field, "date_format", f"{label(field)}不是有效日期（格式：YYYY-MM-DD、YYYY/MM/DD 或 YYYY年M月D日），收到“{shown(value)}”。")
    return d


def _bool(raw: dict, field: str, err: _Collector) -> bool:
    value = raw.get(field)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("是", "否", "true", "false"):
        return value.strip() in ("是", "true")
    err.add(field, "not_boolean", f"{label(field)}应为 true 或 false。")
    return False


def _money(raw: dict, kind_field: str, err: _Collector) -> int | None:
    """`<x>_fen` (integer fen) or `<x>_yuan` (exact yuan); one of them."""
    fen_field, yuan_field = f"{kind_field}_fen", f"{kind_field}_yuan"
    fen_value, yuan_value = raw.get(fen_field), raw.get(yuan_field)
    if isinstance(fen_value, str) and not fen_value.strip():
        fen_value = None
    if isinstance(yuan_value, str) and not yuan_value.strip():
        yuan_value = None
    if fen_value is not None and yuan_value is not None:
        err.add(yuan_field, "money_twice", f"{label(yuan_field)}与{label(fen_field)}只能给出其一。")
        return None
    if yuan_value is not None:
        fen, problem = yuan_to_fen(yuan_value, field=yuan_field)
        if problem:
            err.add(yuan_field, *problem)
        return fen
    if fen_value is None:
        return None
    if isinstance(fen_value, bool) or not isinstance(fen_value, int):
        err.add(fen_field, "money_format", f"{label(fen_field)}应为以分为单位的整数。")
        return None
    if fen_value < 0:
        err.add(fen_field, "money_negative", f"{label(fen_field)}不能为负数。")
        return None
    if fen_value >= MAX_FEN:
        err.add(fen_field, "money_too_large", f"{label(fen_field)}超出合理范围，请核对单位（分）。")
        return None
    return fen_value


def validate_record(raw: dict, *, index: int, today: date | None = None,
                    public_copy: bool = False) -> tuple[dict | None, list[RecordError]]:
    """Validate and normalise one record; (record, []) or (None, errors).

    ``public_copy``: the record is the public copy of a decision published
    by a lower platform (docking, publicity/docked.py): a natural person's
    ID number is never in it, so none is asked for.

    All problems of the record are reported, not only the first one."""
    err = _Collector(index)
    if not isinstance(raw, dict):
        err.add("record", "not_an_object", "每条记录应为一个 JSON 对象。")
        return None, err.errors
    # Lone surrogates (JSON "\ud800") are not text: refused per field before
    # anything else reads them, so no message, database or answer sees one.
    screened = {}
    for key, value in raw.items():
        if _has_surrogate(key):
            err.refuse("record", "invalid_unicode", "记录中有字段名含有无效的 Unicode 字符（孤立代理项）。")
        elif _has_surrogate(value):
            err.refuse(key, "invalid_unicode", f"{label(key)}含有无效的 Unicode 字符（孤立代理项）。")
        else:
            screened[key] = value
    raw = screened
    kind = raw.get("kind")
    if kind is None or kind == "":
        err.add("kind", "required", f"{label('kind')}不能为空。")
        kind = None
    elif not isinstance(kind, str):
        err.refuse("kind", "not_text", f"{label('kind')}应为文本，可选：{'、'.join(sorted(KINDS))}。")
        kind = None
    elif kind not in KINDS:
        err.add("kind", "invalid_choice", f"{label('kind')}无效：“{shown(kind)}”；可选：{'、'.join(sorted(KINDS))}。")
        kind = None
    if kind is not None:
        unknown = [k for k in raw if k not in ACCEPTED_KEYS[kind]]
        for key in unknown:
            err.add(str(key), "unknown_field", f"未知字段“{shown(key)}”（{kind} 类记录不接受该字段）。")

    out: dict = {}
    # external id
    external_id = raw.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if external_id is None or (isinstance(external_id, str) and not external_id.strip()):
        err.add("external_id", "required", f"{label('external_id')}不能为空。")
        external_id = ""
    elif not isinstance(external_id, str):
        err.refuse("external_id", "not_text", f"{label('external_id')}应为文本。")
        external_id = ""
    else:
        external_id = _normalised(external_id, "external_id", err) or ""
        if not external_id:
            err.add("external_id", "required", f"{label('external_id')}不能为空。")
        if len(external_id) > 64:
            err.add("external_id", "too_long", f"{label('external_id')}最多64个字符，收到{len(external_id)}个。")
    out["external_id"] = external_id
    out["kind"] = kind or ""

    required_text = REQUIRED_TEXT_LICENCE if kind == ActKind.LICENSE else REQUIRED_TEXT
    for field, maxlen in COMMON_TEXT:
        out[field] = _text(raw, field, maxlen, err, required=field in required_text)
    if out["party_name"] and not textnorm.has_letter(out["party_name"]):
        err.add("party_name", textnorm.NAME_WITHOUT_LETTER[0], f"{label('party_name')}{textnorm.NAME_WITHOUT_LETTER[1]}")

    # party type and identity
    party_type = raw.get("party_type")
    if isinstance(party_type, str):
        party_type = PARTY_TYPE_BY_NAME.get(party_type.strip(), party_type.strip())
    elif party_type is not None:
        err.refuse("party_type", "not_text", f"{label('party_type')}应为文本，{PARTY_TYPE_CHOICES_TEXT}")
        party_type = ""
    if not party_type:
        err.add("party_type", "required", f"{label('party_type')}不能为空。")
        party_type = ""
    elif party_type not in PARTY_TYPES:
        err.add("party_type", "invalid_choice", f"{label('party_type')}无效：“{shown(party_type)}”；{PARTY_TYPE_CHOICES_TEXT}")
        party_type = ""
    out["party_type"] = party_type

    credit = _code_text(raw, "party_credit_code", err)
    if credit == NO_CREDIT_CODE:
        credit = ""
    id_type = _text(raw, "party_id_type", 32, err)
    id_number = _text(raw, "party_id_number", 64, err).upper()
    if party_type == PartyType.NATURAL_PERSON:
        if credit:
            err.add("party_credit_code", "credit_code_for_natural_person",
                    f"行政相对人为自然人时不填{label('party_credit_code')}（个体工商户请选 individual_business）。")
        if not id_number and not public_copy:
            err.add("party_id_number", "required", f"行政相对人为自然人时{label('party_id_number')}不能为空。")
        id_type = id_type or DEFAULT_ID_TYPE
    elif party_type:
        if credit:
            problem = check_credit_code(credit)
            if problem:
                err.add("party_credit_code", problem[0], f"{label('party_credit_code')}：{problem[1]}")
        elif not out["party_other_codes"]:
            err.add("party_credit_code", "required",
                    f"法人及非法人组织、个体工商户须填{label('party_credit_code')}；没有统一社会信用代码的，须在"
                    f"{label('party_other_codes')}中填写工商注册号等其他登记号码。")
        if id_number and not id_type:
            id_type = DEFAULT_ID_TYPE
    if id_type and id_type not in ID_TYPE_SET:
        err.add("party_id_type", "invalid_choice", f"{label('party_id_type')}无效：“{id_type}”；可选：{'、'.join(ID_TYPES)}。")
    elif id_number and id_type == DEFAULT_ID_TYPE:
        problem = check_id_number(id_number)
        if problem:
            err.add("party_id_number", problem[0], f"{label('party_id_number')}：{problem[1]}")
    out["party_credit_code"] = credit
    out["party_id_type"] = id_type if (id_number or party_type == PartyType.NATURAL_PERSON) else ""
    out["party_id_number"] = id_number

    source_code = _code_text(raw, "data_source_code", err)
    if source_code:
        problem = check_credit_code(source_code)
        if problem:
            err.add("data_source_code", problem[0], f"{label('data_source_code')}：{problem[1]}")
    out["data_source_code"] = source_code

    # decision date: required, not in the future (China Standard Time)
    decided = _date(raw, "decision_date", err, required=True)
    if decided is not None:
        today = today or clock.today()
        if decided > today:
            err.add("decision_date", "date_in_future", f"{label('decision_date')}{decided.isoformat()}晚于今天（{today.isoformat()}）。")
    out["decision_date"] = decided.isoformat() if decided else None

    out["is_minor"] = _bool(raw, "is_minor", err)
    out["confidential"] = _bool(raw, "confidential", err)
    names = raw.get("other_person_names")
    if names is None or names == "":
        names = []
    elif isinstance(names, str):
        names = [n for n in re.split(r"[;；,，、\s]+", names) if n]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        err.refuse("other_person_names", "not_a_list", f"{label('other_person_names')}应为姓名文本的列表。")
        names = []
    names = [n for n in (_normalised(n, "other_person_names", err, kind=textnorm.NAME) for n in names) if n]
    if len(names) > MAX_OTHER_PERSONS or any(len(n) > 50 for n in names):
        err.add("other_person_names", "too_long", f"{label('other_person_names')}最多{MAX_OTHER_PERSONS}个，每个最多50个字符。")
    out["other_person_names"] = names

    if kind == ActKind.PENALTY:
        _penalty(raw, out, err, decided)
    elif kind == ActKind.LICENSE:
        _license(raw, out, err)

    if err.errors:
        return None, err.errors
    record = NormalisedRecord(out)
    record.normalised = err.notes
    return record, []


def _penalty(raw: dict, out: dict, err: _Collector, decided: date | None) -> None:
    for field, maxlen in PENALTY_TEXT:
        out[field] = _text(raw, field, maxlen, err, required=field == "violation_type")
    if not out["facts"]:
        err.add("facts", "required", f"行政处罚的{label('facts')}不能为空。")
    categories = split_categories(raw.get("penalty_categories"))
    if categories is None or not all(isinstance(c, str) for c in categories):
        err.add("penalty_categories", "not_a_list", f"{label('penalty_categories')}应为处罚类别名称的列表。")
        categories = []
    elif not [c for c in categories if c.strip()]:
        err.add("penalty_categories", "required", f"{label('penalty_categories')}至少填写一项。")
    categories = [c.strip() for c in categories if c.strip()]
    bad = [c for c in categories if c not in PENALTY_CATEGORIES]
    if bad:
        err.add("penalty_categories", "unknown_category",
                f"{label('penalty_categories')}无效：{'、'.join(bad)}；可选：{'、'.join(PenaltyCategory.values)}。")
    # Lightest to heaviest, once each: one normal form whatever the input order.
    categories = sorted(set(categories) & PENALTY_CATEGORIES, key=PENALTY_SEVERITY.__getitem__)
    out["penalty_categories"] = categories
    fine = _money(raw, "fine", err)
    confiscation = _money(raw, "confiscation", err)
    if FINE in categories and fine is None and not _money_given(raw, "fine"):
        err.add("fine_yuan", "required", f"处罚类别含罚款时{label('fine_yuan')}不能为空。")
    if fine and categories and FINE not in categories:
        err.add("fine_yuan", "fine_without_category", f"给出了{label('fine_yuan')}，但{label('penalty_categories')}中没有“罚款”。")
    if CONFISCATION in categories and confiscation is None and not _money_given(raw, "confiscation"):
        err.add("confiscation_yuan", "required", f"处罚类别含没收违法所得、没收非法财物时{label('confiscation_yuan')}不能为空。")
    if confiscation and categories and CONFISCATION not in categories:
        err.add("confiscation_yuan", "confiscation_without_category",
                f"给出了{label('confiscation_yuan')}，但{label('penalty_categories')}中没有“没收违法所得、没收非法财物”。")
    if LICENCE_CATEGORIES_NEEDING_LICENCE & set(categories) and not out["licence_affected"]:
        err.add("licence_affected", "required", f"处罚类别含暂扣或吊销许可证件时{label('licence_affected')}不能为空。")
    out["fine_fen"] = fine
    out["confiscation_fen"] = confiscation
    valid_until = _date(raw, "valid_until", err)
    if valid_until and decided and valid_until < decided:
        err.add("valid_until", "date_order", f"{label('valid_until')}（处罚有效期）不能早于决定日期。")
    out["valid_until"] = valid_until.isoformat() if valid_until else None


def _money_given(raw: dict, kind_field: str) -> bool:
    """True when an amount was sent (even an invalid one, already reported)."""
    for key in (f"{kind_field}_fen", f"{kind_field}_yuan"):
        v = raw.get(key)
        if v is not None and not (isinstance(v, str) and not v.strip()):
            return True
    return False


def _license(raw: dict, out: dict, err: _Collector) -> None:
    for field, maxlen in LICENSE_TEXT:
        out[field] = _text(raw, field, maxlen, err, required=field == "licence_doc_name")
    category = _text(raw, "licence_category", 8, err, required=True)
    if category and category not in LICENCE_CATEGORY_SET:
        err.add("licence_category", "invalid_choice", f"{label('licence_category')}无效：“{category}”；可选：{'、'.join(LICENCE_CATEGORIES)}。")
    out["licence_category"] = category
    valid_from = _date(raw, "valid_from", err, required=True)
    valid_until = _date(raw, "valid_until", err)
    if valid_from and valid_until and valid_until < valid_from:
        err.add("valid_until", "date_order", f"{label('valid_until')}不能早于{label('valid_from')}。")
    out["valid_from"] = valid_from.isoformat() if valid_from else None
    out["valid_until"] = valid_until.isoformat() if valid_until else None
    status = raw.get("licence_status")
    if isinstance(status, int) and not isinstance(status, bool):
        status = str(status)
    status = _text({"licence_status": status}, "licence_status", 8, err)
    status = LICENCE_STATUS_CODES.get(status, status) or "有效"
    if status not in LICENCE_STATUSES:
        err.add("licence_status", "invalid_choice", f"{label('licence_status')}无效：“{status}”；可选：有效、无效。")
    out["licence_status"] = status


def validate_records(raws: list, *, today: date | None = None) -> tuple[list[tuple[int, dict]], list[RecordError]]:
    """Validate a batch: ([(index, record)...] of the good ones, all errors)."""
    today = today or clock.today()
    good, errors = [], []
    for i, raw in enumerate(raws):
        record, errs = validate_record(raw, index=i, today=today)
        if record is None:
            errors.extend(errs)
        else:
            good.append((i, record))
    return good, errors
