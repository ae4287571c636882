"""The directory of inspection objects (检查对象名录库) as a file: reading an
XLSX or CSV upload, the template to fill in, the per-row error report
(docs/random-inspection.md, "The directory").

This module only reads and writes files; ``services.import_objects`` checks
every row (``services.clean_object_fields``, the same rules as adding one
object), writes the good rows and audits them. Nothing here ever writes a
natural person's full ID number anywhere: a refused row is named by its
row number, the object's name and the masked number (``mask_any``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from sanxiang.core import exports
from sanxiang.core.refusals import reject
from sanxiang.publicity.shuanggongshi import ImportFileError, raw_cells

# (Chinese header, field of services.clean_object_fields, column width)
COLUMNS = (
    ("名称", "name", 30),
    ("统一社会信用代码", "credit_code", 22),
    ("身份证号", "id_number", 22),
    ("法定代表人", "legal_representative", 12),
    ("地址", "address", 36),
    ("行业", "industry", 14),
    ("行政区划代码", "region", 14),
    ("信用风险分类", "risk_tier", 12),
    ("标签", "labels", 24),
)
HEADER_OF = {f: h for h, f, _ in COLUMNS}
FIELD_OF = {h: f for h, f, _ in COLUMNS}
REQUIRED_HEADERS = ("名称", "行政区划代码", "信用风险分类")
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
TEMPLATE_EXAMPLES = (
    ("石家庄市长安区示例食品店有限公司", "91130102MA0000000X", "", "张三", "石家庄市长安区中山东路1号", "食品销售", "130102",
     "B", "投诉举报"),
    ("王五（个体工商户）", "", "130102199001011234", "", "石家庄市长安区建设北大街2号", "餐饮服务", "130102", "C", ""),
)


@dataclass(frozen=True)
class RowRefusal:
    row: int  # the row number as the spreadsheet shows it (1 = the header)
    field: str  # the field of clean_object_fields ("" for the whole row)
    code: str
    message: str  # Chinese
    who: str = ""  # the object's name and masked number, never a full ID number

    @property
    def column(self) -> str:
        return HEADER_OF.get(self.field, "")

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "column": self.column, "code": self.code,
                "message": self.message, "object": self.who}


@dataclass
class ImportResult:
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[RowRefusal] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def refused_rows(self) -> int:
        return len({r.row for r in self.refused})

    def as_dict(self) -> dict:
        return {"filename": self.filename, "rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "refused_rows": self.refused_rows,
                "refused": [r.as_dict() for r in self.refused]}


def mask_any(number: str) -> str:
    """What may be shown of an ID number someone typed, valid or not: its
    first 6 and last 4 characters at most, the rest as asterisks."""
    text = (number or "").strip()
    if len(text) >= 14:
        return f"{text[:6]}********{text[-4:]}"
    return "*" * len(text)


def who(raw: dict) -> str:
    """A row named for its error report: the name and the code or the
    masked ID number."""
    name = (raw.get("name") or "").strip()[:60]
    code = (raw.get("credit_code") or "").strip()[:20]
    number = raw.get("id_number") or ""
    tail = code or (mask_any(number) if number.strip() else "")
    return f"{name}（{tail}）" if name and tail else name or tail


# --- reading ----------------------------------------------------------------------


def _cells(data: bytes, filename: str):
    """The file's rows as cell texts (publicity's one spreadsheet reader);
    a file that cannot be read is refused naming the field ``file``."""
    try:
        yield from raw_cells(data, filename=filename)
    except ImportFileError as exc:
        reject("file", exc.message, exc.code)


def read_rows(data: bytes, filename: str) -> list[tuple[int, dict]]:
    """(row number, {field: text}) for every non-empty data row; the header
    is the first non-empty row, matched by the Chinese headers of COLUMNS
    (unknown columns are ignored). A file that cannot be read at all, or
    lacks a required header, is refused naming the field ``file``."""
    if not data:
        reject("file", "文件为空。", "empty")
    if len(data) > MAX_BYTES:
        reject("file", f"文件大于 {MAX_BYTES // 1048576} MB，请分成几个文件导入。", "too_large")
    positions: dict[str, int] | None = None
    rows: list[tuple[int, dict]] = []
    for number, row in _cells(data, filename):
        cells = [exports.restore_cell(c).strip() for c in row]
        if not any(cells):
            continue
        if positions is None:
            headers = [c.replace("\ufeff", "").strip() for c in cells]
            positions = {}
            for i, h in enumerate(headers):
                if h in FIELD_OF and FIELD_OF[h] not in positions:
                    positions[FIELD_OF[h]] = i
            missing = [h for h in REQUIRED_HEADERS if FIELD_OF[h] not in positions]
            if "credit_code" not in positions and "id_number" not in positions:
                missing.append("统一社会信用代码”或“身份证号")
            if missing:
                reject("file", f"第 {number} 行应为表头，缺少“{'”“'.join(missing)}”列（请使用导入模板）。", "missing_header")
            continue
        if len(rows) >= MAX_ROWS:
            reject("file", f"一次最多导入 {MAX_ROWS} 行，请分成几个文件导入。", "too_many_rows")
        rows.append((number, {f: cells[i] if i < len(cells) else "" for f, i in positions.items()}))
    if positions is None:
        reject("file", "文件中没有表头和数据行（请使用导入模板）。", "empty")
    return rows


# --- writing ----------------------------------------------------------------------


def _workbook(sheet_name: str, headers, rows) -> bytes:
    buf = io.BytesIO()
    book = exports.workbook(buf)  # cells a spreadsheet would run are neutralised
    sheet = book.add_worksheet(sheet_name)
    head = book.add_format({"bold": True, "bg_color": "#F1F3F4", "border": 1})
    body = book.add_format({"num_format": "@", "valign": "top"})
    for i, (header, width) in enumerate(headers):
        sheet.write_string(0, i, header, head)
        sheet.set_column(i, i, width, body)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value), body)
    sheet.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()


def template_xlsx() -> bytes:
    """The import template: the headers, every column formatted as text
    (so codes and ID numbers keep their digits), and a sheet explaining
    each column with two example rows (not in the first sheet: an
    untouched template imports nothing)."""
    buf = io.BytesIO()
    book = exports.workbook(buf)
    head = book.add_format({"bold": True, "bg_color": "#F1F3F4", "border": 1})
    body = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet("检查对象名录")
    for i, (header, _, width) in enumerate(COLUMNS):
        sheet.write_string(0, i, header, head)
        sheet.set_column(i, i, width, body)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 16)
    notes.set_column(1, 1, 80, wrap)
    for r, (header, text) in enumerate((
        ("列", "说明"),
        ("名称", "必填，不超过 200 个字符。"),
        ("统一社会信用代码", "单位必填（18 位，GB 32100）；自然人不填。名录库中已有该代码的对象时，本行更新该对象。"),
        ("身份证号", "自然人必填（18 位，GB 11643）；单位不填。平台只保存遮盖后的号码和用于识别同一人的摘要，不保存完整号码。"),
        ("法定代表人", "选填，不超过 64 个字符。"),
        ("地址", "选填，不超过 255 个字符。"),
        ("行业", "选填，不超过 64 个字符；抽查批次可按行业划定范围。"),
        ("行政区划代码", "必填，平台已登记的 6 位或 9 位代码（GB/T 2260），如 130102。"),
        ("信用风险分类", "A、B、C、D 之一（A 风险最低，D 最高）；新对象留空按 B 类，已有对象留空不变。"),
        ("标签", "选填，多个标签用“；”分隔，每个不超过 32 个字符，如：投诉举报；经营异常名录。更新时以本行为准。"),
        ("重复", "同一文件中同一代码或身份证号出现两次以上的各行均不导入，错误报告列出各行行号。"),
    )):
        notes.write_string(r, 0, header, head if r == 0 else None)
        notes.write_string(r, 1, text, head if r == 0 else wrap)
    for r, row in enumerate(TEMPLATE_EXAMPLES, start=13):
        notes.write_string(r, 0, "示例" if r == 13 else "", None)
        notes.write_string(r, 1, "，".join(f"{h}：{v or '（空）'}" for (h, _, _), v in zip(COLUMNS, row)), wrap)
    book.close()
    return buf.getvalue()


def template_csv() -> bytes:
    return exports.csv_bytes([h for h, _, _ in COLUMNS], [])


def error_report_xlsx(result: ImportResult) -> bytes:
    """The per-row error report: 行号, 对象 (name and masked number), 列,
    错误代码, 说明 — one line per problem."""
    return _workbook("错误明细", (("行号", 8), ("对象", 36), ("列", 16), ("错误代码", 18), ("说明", 70)),
                     [(r.row, r.who, r.column, r.code, r.message) for r in result.refused])
