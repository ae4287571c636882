"""Annual reports travelling between platforms (docking; 公示-17, 公示-18;
issue 13 item 2; docs/docking.md "Annual statistics").

- What travels is a PUBLISHED report as its public page shows it
  (``travelling_form``): the agency, the year, when it was published, the
  情况说明 and the frozen snapshot (``annual_status.snapshot``: computed
  figures with each row's label, counting rule and sources, the figures
  entered by the agency with their notes). Drafts never travel.
- The platform above stores it (``receive_published_report``) as a report
  published at its source: the snapshot, the explanation and the source's
  publication time, and the platform's name in ``received_from``, so its
  public annual pages show it like a local one and name where it came from
  (来源：由下级平台“X”报送), and its status lists count it as published (on
  time or late against the due day by the source's publication time). Its
  free text (情况说明, notes) is redacted again here, which changes nothing
  in text already redacted.
- A report the platform above published itself for that agency and year is
  never overwritten (``published_here``). A newer message from the platform
  that sent the held report replaces it (docking keeps the messages' order
  and ignores a stale one); another platform's report for the same agency
  and year is refused (``other_source``). A draft written here is replaced:
  the report published at the agency's own platform is the one in force.

The docking app (above statistics) calls ``receive_published_report`` after
it checked that the sending platform may speak for the agency, and listens
to ``registry.register_report_published``; statistics never imports docking
(docs/decisions/0011)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core import text as textnorm
from sanxiang.core.audit import append_audit
from sanxiang.publicity.redaction import redact_text

from . import registry
from .annual_services import MAX_FIGURE, MAX_NOTE, MAX_TEXT
from .models import AnnualReport, ReportStatus

SCHEMA = "annual_report/1"
FIRST_YEAR = 2000  # no report of an earlier year exists (国办发〔2018〕118号 is of 2018)
MAX_ROWS = 200
MAX_MANUAL = 100
MAX_SOURCES = 20
MAX_LABEL = 255
MAX_RULE = 2000
MAX_SOURCE = 500
MAX_CATEGORIES = 50
MAX_AMOUNT = 10 ** 15
# The clocks of two platforms may differ a little; a publication later than this is refused.
CLOCK_SKEW = timedelta(hours=1)

KEY = re.compile(r"[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,31}")
DECIMAL = re.compile(r"[0-9]{1,16}(\.[0-9]{1,4})?")
FORM_KEYS = ("schema", "agency", "year", "published_at", "explanation", "snapshot")
SNAPSHOT_KEYS = ("figures", "rows", "manual", "explanation", "computed_on")
FIGURES_HEAD = ("year", "template", "agency", "agency_name")
ROW_KEYS = ("key", "label", "rule", "sources")
MANUAL_KEYS = ("key", "label", "value", "note")


def travelling_form(report: AnnualReport) -> dict | None:
    """A published report as it travels
    (docs/schemas/docking/annual_report.v1.schema.json); None for a draft."""
    if report.status != ReportStatus.PUBLISHED or not report.snapshot or report.published_at is None:
        return None
    return {
        "schema": SCHEMA, "agency": report.agency.credit_code, "year": report.year,
        "published_at": report.published_at.isoformat(),
        "explanation": report.snapshot.get("explanation", report.explanation),
        "snapshot": report.snapshot,
    }


def key_of(form: dict) -> str:
    """The object's key between platforms: agency/year."""
    return f"{form['agency']}/{form['year']}"


@dataclass(frozen=True)
class Received:
    outcome: str  # "applied" or "refused"
    code: str = ""
    message: str = ""
    report_id: int | None = None


class _Bad(Exception):
    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _int(value, *, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(field, f"{what}须为 {low} 至 {high} 之间的整数。")
    return value


def _year(form: dict) -> int:
    return _int(form.get("year"), field="year", low=FIRST_YEAR, high=clock.today().year, what="年度")


def _published_at(form: dict) -> datetime:
    raw = form.get("published_at")
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise _Bad("published_at", "发布时间须为带时区的 ISO 8601 时间。")
    if value > clock.now() + CLOCK_SKEW:
        raise _Bad("published_at", "发布时间晚于当前时间。")
    return value.astimezone(dt_timezone.utc)


def _text(value, *, field: str, limit: int, required: bool = False, public: bool = False) -> str:
    """A text of at most ``limit`` characters, normalised; ``public``: free
    text written by people, redacted before it is shown here."""
    if not isinstance(value, str):
        raise _Bad(field, "须为文字。")
    try:
        text = textnorm.normalise(value).text
    except textnorm.TextError as exc:
        raise _Bad(field, exc.message) from None
    if required and not text:
        raise _Bad(field, "不能为空。", "required")
    if len(text) > limit:
        raise _Bad(field, f"不得超过 {limit} 字。", "too_long")
    if public and text:
        text = redact_text(text, address_mode="residence").text
    return text


def _object(value, *, field: str, keys: tuple[str, ...], required: tuple[str, ...] | None = None) -> dict:
    if not isinstance(value, dict):
        raise _Bad(field, "须为对象。")
    unknown = sorted(str(k) for k in set(value) - set(keys))
    if unknown:
        name = unknown[0][:32] if field == "object" else f"{field}.{unknown[0][:32]}"
        raise _Bad(name, "不是年度报告的字段。")
    for name in (keys if required is None else required):
        if name not in value:
            raise _Bad(f"{field}.{name}", "缺失。", "required")
    return value


def _key(value, *, field: str) -> str:
    if not isinstance(value, str) or not KEY.fullmatch(value):
        raise _Bad(field, "统计项代码须为“部分.项目”形式的小写英文代码，如 penalty.cases。")
    return value


def _keyed_entries(raw: list, *, field: str, keys: tuple[str, ...], what: str):
    """Each entry of the list ``field`` as an object of ``keys`` whose
    ``key`` no other entry has: (where, entry, key)."""
    seen = set()
    for index, entry in enumerate(raw):
        where = f"{field}[{index}]"
        entry = _object(entry, field=where, keys=keys)
        key = _key(entry["key"], field=f"{where}.key")
        if key in seen:
            raise _Bad(f"{where}.key", f"{what} {key} 重复。")
        seen.add(key)
        yield where, entry, key


def _rows(raw) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise _Bad("snapshot.rows", "统计项至少应有一项。")
    if len(raw) > MAX_ROWS:
        raise _Bad("snapshot.rows", f"统计项最多 {MAX_ROWS} 项。")
    rows = []
    for where, entry, key in _keyed_entries(raw, field="snapshot.rows", keys=ROW_KEYS, what="统计项"):
        sources = entry["sources"]
        if not isinstance(sources, list) or len(sources) > MAX_SOURCES:
            raise _Bad(f"{where}.sources", f"数据来源须为至多 {MAX_SOURCES} 条文字的列表。")
        rows.append({
            "key": key, "label": _text(entry["label"], field=f"{where}.label", limit=MAX_LABEL, required=True),
            "rule": _text(entry["rule"], field=f"{where}.rule", limit=MAX_RULE),
            "sources": [_text(s, field=f"{where}.sources[{i}]", limit=MAX_SOURCE) for i, s in enumerate(sources)],
        })
    return rows


def _figure(value, *, field: str):
    """A row's value as annual.as_json writes it: null (no such duty), a
    whole number, an amount as a decimal string, or a breakdown
    {category: whole number}."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, field=field, low=0, high=MAX_AMOUNT, what="统计数")
    if isinstance(value, str):
        if not DECIMAL.fullmatch(value):
            raise _Bad(field, "金额须为不小于0的十进制数字文本，如 1234.50。")
        return value
    if isinstance(value, dict):
        if len(value) > MAX_CATEGORIES:
            raise _Bad(field, f"分类最多 {MAX_CATEGORIES} 项。")
        out = {}
        for category, n in value.items():
            name = _text(category, field=field, limit=64, required=True)
            out[name] = _int(n, field=f"{field}.{name}", low=0, high=MAX_AMOUNT, what="统计数")
        return out
    raise _Bad(field, "统计数须为整数、金额文本、分类对象或 null。")


def _figures(raw, *, rows: list[dict], agency, year: int) -> tuple[dict, str]:
    if not isinstance(raw, dict):
        raise _Bad("snapshot.figures", "须为对象。")
    fields: dict[str, set[str]] = {}
    for row in rows:
        section, name = row["key"].split(".", 1)
        fields.setdefault(section, set()).add(name)
    unknown = sorted(str(k) for k in set(raw) - set(FIGURES_HEAD) - set(fields))
    if unknown:
        raise _Bad(f"snapshot.figures.{unknown[0][:32]}", "不是 rows 中的统计部分。")
    if raw.get("year") != year:
        raise _Bad("snapshot.figures.year", "与 year 不一致。")
    if raw.get("agency") != agency.credit_code:
        raise _Bad("snapshot.figures.agency", "与报送的执法部门不一致。")
    template = _text(raw.get("template"), field="snapshot.figures.template", limit=16, required=True)
    out = {"year": year, "template": template, "agency": agency.credit_code,
           "agency_name": _text(raw.get("agency_name", agency.name), field="snapshot.figures.agency_name", limit=255)}
    for section, names in fields.items():
        where = f"snapshot.figures.{section}"
        values = raw.get(section, {})
        if not isinstance(values, dict):
            raise _Bad(where, "须为对象。")
        extra = sorted(str(k) for k in set(values) - names)
        if extra:
            raise _Bad(f"{where}.{extra[0][:32]}", "不是 rows 中的统计项。")
        out[section] = {name: _figure(values[name], field=f"{where}.{name}") for name in sorted(names) if name in values}
    return out, template


def _manual(raw) -> list[dict]:
    if not isinstance(raw, list) or len(raw) > MAX_MANUAL:
        raise _Bad("snapshot.manual", f"机关填报数据须为至多 {MAX_MANUAL} 项的列表。")
    out = []
    for where, entry, key in _keyed_entries(raw, field="snapshot.manual", keys=MANUAL_KEYS, what="填报项"):
        value = entry["value"]
        if not isinstance(value, str) or (value and not (value.isascii() and value.isdigit() and int(value) <= MAX_FIGURE)):
            raise _Bad(f"{where}.value", "须为不小于0的整数文本或空文本。")
        out.append({"key": key, "label": _text(entry["label"], field=f"{where}.label", limit=MAX_LABEL, required=True),
                    "value": str(int(value)) if value else "",
                    "note": _text(entry["note"], field=f"{where}.note", limit=MAX_NOTE, public=True)})
    return out


def _snapshot(form: dict, *, agency, year: int, explanation: str) -> tuple[dict, str]:
    raw = _object(form.get("snapshot"), field="snapshot", keys=SNAPSHOT_KEYS)
    rows = _rows(raw["rows"])
    figures, template = _figures(raw["figures"], rows=rows, agency=agency, year=year)
    manual = _manual(raw["manual"])
    if raw["explanation"] != form.get("explanation"):
        raise _Bad("snapshot.explanation", "与 explanation 不一致。")
    try:
        computed_on = date.fromisoformat(raw["computed_on"]) if isinstance(raw["computed_on"], str) else None
    except ValueError:
        computed_on = None
    if computed_on is None:
        raise _Bad("snapshot.computed_on", "须为 YYYY-MM-DD 格式的日期。")
    return {"figures": figures, "rows": rows, "manual": manual, "explanation": explanation,
            "computed_on": computed_on.isoformat()}, template


def receive_published_report(*, actor: str, agency, form: dict, source_name: str) -> Received:
    """Store a report published at a lower platform (``form``:
    travelling_form there) as published here, for ``agency``.

    Called by docking inside its receiving transaction, after it checked
    that the platform may speak for the agency; every refusal names the
    field and writes nothing."""
    try:
        _object(form, field="object", keys=FORM_KEYS, required=())
        if form.get("schema", SCHEMA) != SCHEMA:
            raise _Bad("schema", f"不支持的格式版本，应为 {SCHEMA}。")
        year = _year(form)
        published_at = _published_at(form)
        explanation = _text(form.get("explanation"), field="explanation", limit=MAX_TEXT, required=True, public=True)
        snapshot, template = _snapshot(form, agency=agency, year=year, explanation=explanation)
    except _Bad as bad:
        return Received("refused", bad.code, f"{bad.field}：{bad.message}")
    source_name = (source_name or "")[:255] or "—"
    with transaction.atomic():
        held = AnnualReport.objects.select_for_update(of=("self",)).filter(agency=agency, year=year).first()
        if held is not None and not held.received_from and held.status == ReportStatus.PUBLISHED:
            return Received("refused", "published_here",
                            f"year：本平台已发布{agency.name}{year}年度行政执法数据年度报告（在本平台发布），"
                            "不接收下级平台报送的同一年度报告。")
        if held is not None and held.received_from and held.received_from != source_name:
            return Received("refused", "other_source",
                            f"year：{agency.name}{year}年度报告已由下级平台“{held.received_from}”报送，"
                            f"不接收平台“{source_name}”报送的同一年度报告。")
        replaced = "" if held is None else ("received" if held.received_from else "draft")
        report = held or AnnualReport(agency=agency, year=year)
        report.template = template
        report.status = ReportStatus.PUBLISHED
        report.manual = {m["key"]: {"value": m["value"], "note": m["note"]}
                         for m in snapshot["manual"] if m["value"] or m["note"]}
        report.explanation = explanation
        report.snapshot = snapshot
        report.published_at = published_at
        report.published_by = None
        report.updated_by = None
        report.received_from = source_name
        report.save()
        append_audit(actor=actor, action="statistics.annual_receive", obj=report, payload={
            "agency": agency.credit_code, "year": year, "received_from": source_name,
            "published_at": published_at.isoformat(), "replaced": replaced, "snapshot": snapshot})
        # A city forwards what its counties reported, like its own publication.
        registry.report_published(report)
    return Received("applied", report_id=report.pk)
