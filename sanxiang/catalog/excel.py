"""Excel layout of the four lists: Chinese headers in row 1, one item per row.

Reading uses openpyxl, writing XlsxWriter (design.md, stack). ``parse_rows``
never touches the database: it turns a workbook into unsaved item objects
plus a list of problems, each with its row number, the column's Chinese
header and the problem in Chinese, so a caller can refuse the whole file and
report every bad row at once.

Every text cell goes through the intake normalisation (``core.text``):
control characters are refused at their row and column; item codes and
phone numbers are folded to ASCII digits and, like names, lose invisible
characters; each item remembers which fields changed (``normalised_fields``)
so the import can record it. A cell our own export neutralised against
formula injection (``core.exports``) reads back as the original text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import translation

from sanxiang.core import exports
from sanxiang.core import text as textnorm
from sanxiang.core.vocabulary import ACT_KIND_NAMES

from .models import ITEM_MODELS, CatalogueKind

MAX_ROWS = 5000

# Chinese names of act kinds as written in catalogues (core.vocabulary); the
# code and the short form are accepted on import too.
ACT_KIND_LABELS = ACT_KIND_NAMES
PROCEDURE_LABELS = {"general": "一般程序", "summary": "简易程序"}
SHEET_NAMES = {
    CatalogueKind.ENFORCEMENT_ITEMS: "行政执法事项清单", CatalogueKind.INSPECTION_ITEMS: "随机抽查事项清单",
    CatalogueKind.SERVICE_GUIDES: "服务指南", CatalogueKind.FLOWCHARTS: "执法流程图",
}


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str = "text"  # text | act_kind | ratio | procedure
    width: int = 24


COLUMNS: dict[str, tuple[Column, ...]] = {
    # 公示-3: 执法主体、职责、权限、依据. The body is the agency itself.
    CatalogueKind.ENFORCEMENT_ITEMS: (
        Column("code", "事项编码", width=16),
        Column("name", "事项名称", width=30),
        Column("act_kind", "执法类别", "act_kind", 12),
        Column("duty", "职责", width=36),
        Column("authority", "权限", width=36),
        Column("basis_law", "法律依据", width=36),
        Column("basis_article", "条款", width=20),
    ),
    # 公示-5: 抽查主体、依据、对象、内容、比例、方式、频次.
    CatalogueKind.INSPECTION_ITEMS: (
        Column("code", "事项编码", width=16),
        Column("name", "抽查事项名称", width=30),
        Column("body", "抽查主体", width=24),
        Column("basis", "抽查依据", width=36),
        Column("target", "抽查对象", width=24),
        Column("content", "抽查内容", width=36),
        Column("ratio", "抽查比例", "ratio", 10),
        Column("method", "抽查方式", width=20),
        Column("frequency", "抽查频次", width=16),
    ),
    # 公示-7: the fifteen fields, in the order the seed lists them.
    CatalogueKind.SERVICE_GUIDES: (
        Column("code", "事项编码", width=16),
        Column("name", "事项名称", width=30),
        Column("basis", "依据", width=36),
        Column("accepting_body", "受理机构", width=24),
        Column("approving_body", "审批机构", width=24),
        Column("conditions", "许可条件", width=36),
        Column("preferential_policies", "优惠政策", width=24),
        Column("materials", "申请材料", width=36),
        Column("procedure", "办理流程", width=36),
        Column("time_limit", "办理时限", width=16),
        Column("supervision", "监督方式", width=24),
        Column("accountability", "责任追究", width=24),
        Column("remedies", "救济渠道", width=30),
        Column("office_hours", "办公时间", width=24),
        Column("office_address", "办公地址", width=30),
        Column("office_phone", "办公电话", width=16),
    ),
    # 公示-6: which process definition is published for which act kind.
    CatalogueKind.FLOWCHARTS: (
        Column("act_kind", "执法类别", "act_kind", 12),
        Column("procedure", "程序", "procedure", 12),
        Column("note", "说明", width=40),
    ),
}


@dataclass(frozen=True)
class RowError:
    row: int | None  # Excel row number (1 = the header row); None for the file itself
    column: str  # the Chinese header, or "" for the whole row or file
    problem: str  # in Chinese

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "problem": self.problem}


# --------------------------------------------------------------------------
# Reading


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _parse_act_kind(text: str) -> str:
    t = text.strip()
    for code, label in ACT_KIND_LABELS.items():
        if t in (code.value, label, label.removeprefix("行政"), str(code.label)):
            return code.value
    raise ValueError(f"“{t}”不是有效的执法类别（可填：{'、'.join(ACT_KIND_LABELS.values())}）")


def _parse_procedure(text: str) -> str:
    t = text.strip()
    for code, label in PROCEDURE_LABELS.items():
        if t in (code, label):
            return code
    if t and t.isascii() and t.replace("_", "").isalnum() and t.islower():
        return t
    raise ValueError(f"“{t}”不是有效的程序（可填：{'、'.join(PROCEDURE_LABELS.values())}）")


def _parse_ratio(raw, number_format: str) -> Decimal:
    """"3%", "3", 3 or a percent-formatted 0.03 all mean 3 %."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = Decimal(str(raw))
        if "%" in (number_format or ""):
            value *= 100
    else:
        text = _cell_text(raw).replace("％", "%").replace(" ", "")
        try:
            value = Decimal(text.removesuffix("%"))
        except InvalidOperation:
            raise ValueError(f"“{text}”不是有效的比例，应填写百分数，如 3% 或 3") from None
        if not value.is_finite():
            raise ValueError(f"“{text}”不是有效的比例")
    value = value.quantize(Decimal("0.01"))
    if not (Decimal("0") < value <= Decimal("100")):
        raise ValueError("比例应大于 0% 且不超过 100%")
    return value


def _format_ratio(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text}%"


def parse_rows(kind: str, data: bytes, *, agency=None) -> tuple[list, list[RowError], int]:
    """Parse a workbook into unsaved items (in file order) and every problem.

    Returns (items, errors, row_count). Items are only meaningful when
    ``errors`` is empty.
    """
    from openpyxl import load_workbook

    columns = COLUMNS[kind]
    model = ITEM_MODELS[kind]
    errors: list[RowError] = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a bad file
        return [], [RowError(None, "", "文件不是有效的 Excel 工作簿（.xlsx）。")], 0
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows()
        header_cells = next(rows, None)
        if header_cells is None:
            return [], [RowError(1, "", "工作表为空：第 1 行应为表头。")], 0
        positions: dict[str, int] = {}
        for i, cell in enumerate(header_cells):
            text = _cell_text(cell.value)
            if text and text not in positions:
                positions[text] = i
        missing = [c.header for c in columns if c.header not in positions]
        if missing:
            return [], [RowError(1, h, f"缺少表头“{h}”。") for h in missing], 0

        with translation.override("zh-hans"):
            items, count, seen = [], 0, {}
            for row_number, cells in enumerate(rows, start=2):
                cells = tuple(cells)
                values = {c.header: (cells[positions[c.header]] if positions[c.header] < len(cells) else None) for c in columns}
                if all(_cell_text(getattr(cell, "value", None)) == "" for cell in values.values()):
                    continue
                count += 1
                if count > MAX_ROWS:
                    errors.append(RowError(row_number, "", f"一次最多导入 {MAX_ROWS} 行。"))
                    break
                item, row_errors = _parse_row(model, columns, values, row_number)
                key = getattr(item, "code", None)
                if key is not None and not any(e.column in ("事项编码", "执法类别", "程序") for e in row_errors):
                    if key in seen:
                        header = "事项编码" if "code" in {c.field for c in columns} else "程序"
                        row_errors.append(RowError(row_number, header, f"与第 {seen[key]} 行重复（{key}）。"))
                    else:
                        seen[key] = row_number
                errors.extend(row_errors)
                item.position = count
                items.append(item)
        if count == 0 and not errors:
            errors.append(RowError(2, "", "没有数据行：清单至少应有一项。"))
        return items, errors, count
    finally:
        workbook.close()


# How each text column is normalised (core.text); the rest is free text.
NUMBER_COLUMNS = frozenset({"code", "office_phone"})
NAME_COLUMNS = frozenset({"name", "body", "accepting_body", "approving_body"})


def _parse_row(model, columns, values, row_number):
    item = model()
    item.normalised_fields = []
    item.source_row = row_number
    errors: list[RowError] = []
    bad_fields: set[str] = set()
    for column in columns:
        cell = values[column.header]
        raw = getattr(cell, "value", None)
        text = exports.restore_cell(_cell_text(raw))
        kind = (textnorm.NUMBER if column.field in NUMBER_COLUMNS else
                textnorm.NAME if column.field in NAME_COLUMNS else textnorm.TEXT)
        try:
            normalised = textnorm.normalise(text, kind=kind)
        except textnorm.TextError as exc:
            errors.append(RowError(row_number, column.header, f"“{column.header}”{exc.message}"))
            bad_fields.add(column.field)
            continue
        text = normalised.text
        if [c for c in normalised.changes if c != "line_endings"]:
            item.normalised_fields.append(column.field)
        try:
            if column.kind == "act_kind":
                value = _parse_act_kind(text) if text else ""
            elif column.kind == "procedure":
                value = _parse_procedure(text) if text else "general"
            elif column.kind == "ratio":
                value = _parse_ratio(raw, getattr(cell, "number_format", "")) if text else None
            else:
                value = text
        except ValueError as exc:
            errors.append(RowError(row_number, column.header, f"{exc}。".replace("。。", "。")))
            bad_fields.add(column.field)
            continue
        setattr(item, column.field, value)
    header_of = {c.field: c.header for c in columns}
    try:
        item.full_clean(exclude=["version", "position", *bad_fields], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            header = header_of.get(field, "")
            if field == "procedure" and "procedure" not in header_of:
                header = "程序"
            for message in messages:
                errors.append(RowError(row_number, header, message))
    return item, errors


# --------------------------------------------------------------------------
# Writing


def _workbook(sheet_name: str, headers: list[tuple[str, int]], rows: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    book = exports.workbook(buf)  # safe defaults: cells a spreadsheet would run are neutralised
    sheet = book.add_worksheet(sheet_name[:31])
    head = book.add_format({"bold": True, "bg_color": "#F1F3F4", "border": 1, "text_wrap": True, "valign": "top"})
    body = book.add_format({"text_wrap": True, "valign": "top", "num_format": "@"})
    for i, (header, width) in enumerate(headers):
        sheet.write_string(0, i, header, head)
        sheet.set_column(i, i, width, body)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, body)
    sheet.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()


def row_values(kind: str, item) -> list[str]:
    values = []
    for column in COLUMNS[kind]:
        value = getattr(item, column.field)
        if column.kind == "act_kind":
            value = ACT_KIND_LABELS.get(value, value)
        elif column.kind == "procedure":
            value = PROCEDURE_LABELS.get(value, value)
        elif column.kind == "ratio":
            value = _format_ratio(value) if value is not None else ""
        values.append("" if value is None else str(value))
    return values


def export_items(kind: str, items) -> bytes:
    """An .xlsx of the items with the import layout (an empty list gives the template)."""
    columns = COLUMNS[kind]
    return _workbook(SHEET_NAMES[kind], [(c.header, c.width) for c in columns],
                     [row_values(kind, item) for item in items])


def error_report(errors: list[dict]) -> bytes:
    """The per-row error report of an import as .xlsx: 行号, 列, 问题."""
    return _workbook("错误报告", [("行号", 8), ("列", 16), ("问题", 60)],
                     [["" if e.get("row") is None else str(e["row"]), e.get("column", ""), e.get("problem", "")] for e in errors])
