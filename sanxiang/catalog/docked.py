"""Catalogue versions travelling between platforms (docking; 公示-17,
公示-18; issue 13 item 2; docs/docking.md "Catalogue versions").

- What travels is the PUBLIC content of an accepted version of one of the
  four public lists (``travelling_form``): kind, agency, number, effective
  date, when it was filed, and its items with the columns the portal shows
  and the Excel export carries (excel.COLUMNS). Drafts, submissions,
  returns, notes, import reports and the review catalogue never travel.
- The platform above stores it (``receive_accepted_version``) as a version
  accepted at its source: the same tables, its items, a filing event saying
  由下级平台“X”报送 and the platform's name in ``received_from``, so the
  public catalogue pages show it as in force for that agency like a local
  one and name where it came from.
- An accepted version is frozen: the same (agency, kind, number) received
  again is answered "applied" when identical and refused, naming the first
  field that differs, when not.

The docking app (above catalog) calls ``receive_accepted_version`` after it
checked that the sending platform may speak for the agency, and listens to
``registry.register_version_accepted``; catalog never imports docking
(docs/decisions/0011)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from sanxiang.core import text as textnorm
from sanxiang.core.audit import append_audit
from sanxiang.core.vocabulary import ActKind

from . import excel, registry
from .models import ITEM_MODELS, PUBLIC_KINDS, CatalogueVersion, FilingEvent, Flowchart, VersionStatus
from .processes import ProcessNotFound, get_process

SCHEMA = "catalogue_version/1"
MAX_ITEMS = excel.MAX_ROWS


def item_fields(kind: str) -> tuple[str, ...]:
    """The public fields of an item of ``kind``, as they travel (the
    portal's and the Excel layout's columns)."""
    return tuple(c.field for c in excel.COLUMNS[kind])


def _item_form(kind: str, item) -> dict:
    form = {}
    for column in excel.COLUMNS[kind]:
        value = getattr(item, column.field)
        form[column.field] = ("" if value is None else format(value, "f")) if column.kind == "ratio" else (value or "")
    return form


def travelling_form(version: CatalogueVersion) -> dict | None:
    """The public content of an accepted version of a public list
    (docs/schemas/docking/catalogue_version.v1.schema.json); None for any
    other version (not accepted, or the review catalogue)."""
    if version.status != VersionStatus.ACCEPTED or version.kind not in PUBLIC_KINDS:
        return None
    return {
        "schema": SCHEMA, "agency": version.agency.credit_code, "kind": version.kind, "number": version.number,
        "effective_date": version.effective_date.isoformat(),
        "filed_at": (version.decided_at or timezone.now()).isoformat(),
        "items": [_item_form(version.kind, item) for item in version.items()],
    }


def key_of(form: dict) -> str:
    """The object's key between platforms: agency/kind/number."""
    return f"{form['agency']}/{form['kind']}/{form['number']}"


@dataclass(frozen=True)
class Received:
    outcome: str  # "applied" or "refused"
    code: str = ""
    message: str = ""
    version_id: int | None = None


class _Bad(Exception):
    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _number(form: dict) -> int:
    number = form.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 2_147_483_647:
        raise _Bad("number", "版本号须为正整数。")
    return number


def _effective_date(form: dict) -> date:
    try:
        return date.fromisoformat(str(form.get("effective_date") or ""))
    except ValueError:
        raise _Bad("effective_date", "生效日期须为 YYYY-MM-DD 格式的日期。") from None


def _filed_at(form: dict) -> datetime:
    raw = form.get("filed_at")
    if raw in (None, ""):
        return timezone.now()
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        value = None
    if value is None or timezone.is_naive(value):
        raise _Bad("filed_at", "备案时间须为带时区的 ISO 8601 时间。")
    return value


def _text(value, *, name: str, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(name, "须为文字。")
    kind = (textnorm.NUMBER if field in excel.NUMBER_COLUMNS else
            textnorm.NAME if field in excel.NAME_COLUMNS else textnorm.TEXT)
    try:
        return textnorm.normalise(value, kind=kind).text
    except textnorm.TextError as exc:
        raise _Bad(name, exc.message) from None


def _item(kind: str, raw, index: int):
    """One received item as an unsaved model row; a refusal names the item
    and its field (items[3].name)."""
    where = f"items[{index}]"
    if not isinstance(raw, dict):
        raise _Bad(where, "每一项须为对象。")
    unknown = sorted(set(raw) - set(item_fields(kind)))
    if unknown:
        raise _Bad(f"{where}.{unknown[0][:32]}", "不是该清单的字段。")
    model = ITEM_MODELS[kind]
    item = model(position=index + 1)
    for column in excel.COLUMNS[kind]:
        name = f"{where}.{column.field}"
        value = raw.get(column.field)
        if column.kind == "ratio":
            try:
                ratio = Decimal(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
            except InvalidOperation:
                ratio = None
            if ratio is None or not ratio.is_finite():
                raise _Bad(name, "抽查比例须为百分数的数值，如 3 或 3.00。")
            setattr(item, column.field, ratio.quantize(Decimal("0.01")))
            continue
        text = _text(value, name=name, field=column.field)
        if column.kind == "act_kind" and text not in ActKind.values:
            raise _Bad(name, f"执法类别无效：{text[:32]}（应为 {'、'.join(ActKind.values)} 之一）。")
        if column.kind == "procedure" and not text:
            text = "general"
        setattr(item, column.field, text)
    try:
        with translation.override("zh-hans"):
            item.full_clean(exclude=["version", "position"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise _Bad(f"{where}.{field}", "，".join(messages)) from None
    return item


def _items(kind: str, form: dict) -> list:
    raw = form.get("items")
    if not isinstance(raw, list) or not raw:
        raise _Bad("items", "清单至少应有一项。")
    if len(raw) > MAX_ITEMS:
        raise _Bad("items", f"一个版本最多 {MAX_ITEMS} 项。")
    items, seen = [], {}
    for index, entry in enumerate(raw):
        item = _item(kind, entry, index)
        key = item.code
        if key in seen:
            field = "code" if kind != "flowcharts" else "procedure"
            raise _Bad(f"items[{index}].{field}", f"与 items[{seen[key]}] 重复（{key}）。")
        seen[key] = index
        items.append(item)
    return items


def _differs(version: CatalogueVersion, effective_date: date, items: list) -> str:
    """The first field in which a received version differs from the one
    held ("" when identical)."""
    if version.effective_date != effective_date:
        return "effective_date"
    held = list(version.items())
    for index, (mine, theirs) in enumerate(zip(held, items)):
        for field in item_fields(version.kind):
            if getattr(mine, field) != getattr(theirs, field):
                return f"items[{index}].{field}"
    return "items" if len(held) != len(items) else ""


def receive_accepted_version(*, actor: str, agency, form: dict, source_name: str) -> Received:
    """Store a version of a public list accepted (备案) at a lower platform
    (``form``: travelling_form there) as accepted here, for ``agency``.

    Called by docking inside its receiving transaction, after it checked
    that the platform may speak for the agency; every refusal names the
    field and writes nothing."""
    kind = form.get("kind")
    if kind not in PUBLIC_KINDS:
        return Received("refused", "invalid", f"kind：清单类别无效，应为：{'、'.join(PUBLIC_KINDS)}。")
    try:
        number, effective_date, filed_at = _number(form), _effective_date(form), _filed_at(form)
        items = _items(kind, form)
    except _Bad as bad:
        return Received("refused", bad.code, f"{bad.field}：{bad.message}")
    held = CatalogueVersion.objects.select_for_update().filter(agency=agency, kind=kind, number=number).first()
    if held is not None:
        if not held.received_from:
            return Received("refused", "number_taken",
                            f"number：本平台已有该部门{excel.SHEET_NAMES[kind]}第 {number} 版（在本平台编制），不能接收同号版本。")
        differs = _differs(held, effective_date, items)
        if differs:
            return Received("refused", "version_frozen",
                            f"{differs}：{excel.SHEET_NAMES[kind]}第 {number} 版已备案，已备案的版本不能更改；"
                            "收到的内容与已备案的不同，请以新版本报送。")
        return Received("applied", version_id=held.pk)
    with transaction.atomic():
        return _store(actor=actor, agency=agency, kind=kind, number=number, effective_date=effective_date,
                      filed_at=filed_at, items=items, source_name=source_name)


def _store(*, actor, agency, kind, number, effective_date, filed_at, items, source_name) -> Received:
    source_name = (source_name or "")[:255] or "—"
    version = CatalogueVersion.objects.create(
        agency=agency, kind=kind, number=number, status=VersionStatus.ACCEPTED, effective_date=effective_date,
        submitted_at=filed_at, decided_at=filed_at, received_from=source_name)
    for item in items:
        item.version = version
        if isinstance(item, Flowchart):
            try:
                item.definition_digest = get_process(item.act_kind, item.procedure).digest
            except ProcessNotFound:  # checked by full_clean already
                pass
    ITEM_MODELS[kind].objects.bulk_create(items)
    FilingEvent.objects.create(version=version, action=FilingEvent.Action.ACCEPTED, actor=None,
                               text=f"由下级平台“{source_name}”报送")
    append_audit(actor=actor, action="catalog.receive", obj=version, payload={
        "agency": agency.credit_code, "kind": kind, "number": number, "status": version.status,
        "effective_date": effective_date.isoformat(), "items": len(items), "received_from": source_name})
    # A city forwards what its counties filed, like its own (registry.py).
    registry.version_accepted(version)
    return Received("applied", version_id=version.pk)
