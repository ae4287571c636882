"""The 双公示 exchange format (行政许可和行政处罚等信用信息“双公示”) for
penalties (CF_) and licences (XK_): import of CSV/XLSX files with a per-row
error report, and export in the same layout (seed 公示-19: decisions reach
the credit platform in its format; 公示-14: timely publication).

Import accepts, column by column, either the Chinese header or the field
code (CF_XDR_MC, XK_WSH ...), in any order; headers such as
"行政相对人名称(CF_XDR_MC)" count as their code. Columns we do not know are
ignored and listed in the report. Money is in 万元, converted exactly with
Decimal (1.2 万元 = 1,200,000 fen; at most 6 decimals = 1 fen). Dates may be
YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日. Every row is validated by
``intake.validate_record``; good rows go to ``services.receive_records`` in
batches (each batch one transaction, so no row is ever half-written), bad
rows are reported by row number (as the spreadsheet numbers them: the header
is row 1) and column header.

The external id of an imported row is the 外部编号 column if the file has
one, else the decision's document number (文号): importing a corrected file
again corrects the changed decisions (a new version each), never
duplicates; a row identical to the decision's current version is counted
``unchanged`` and makes no version (re-importing a file changes nothing).
Text goes through the intake normalisation (sanxiang.core.text); the report
lists, per row, the fields it changed. A cell the platform's own export
neutralised against formula injection (a quote before = + - @, see
sanxiang.core.exports) reads back as the original text.
A document number repeated inside one file is rejected on its later rows.

Export (``export_file``) writes one agency's decisions of one kind in this
layout. It is the PRIVATE side: the agency's own data for the exchange with
the credit platform, so it carries what the standard asks for, including a
natural person's 证件号码 (CF_XDR_ZJHM / XK_XDR_ZJHM), which is never
public. It is reachable only by logged-in staff of the agency (page) or the
operator (command), never from the public portal. The credit platform
REPUBLISHES the file, so the free-text columns (Column.free_text: CF_WFXW,
CF_SY, CF_YJ, CF_NR, CF_NR_ZKDX, BZ; XK_XKWS, XK_XKZS, XK_NR, BZ) carry the
portal's redacted text (redaction.public_copy), and the party's own ID
number is only in its dedicated column (CF_XDR_ZJHM / XK_XDR_ZJHM); see
docs/redaction.md, "The 双公示 export". Import → export → re-import yields
the same normalised records (``unchanged``, no version) even when the free
text holds personal data: a free-text cell equal to the redacted form of
what the platform holds is read as our own export and the private text is
kept (``_keep_private_text``); any other text is a correction.

Field mapping (normalised key ← column code / Chinese header):

  party_name            CF_XDR_MC / XK_XDR_MC     行政相对人名称
  party_type            CF_XDR_LB / XK_XDR_LB     行政相对人类别 (法人及非法人组织 / 自然人 / 个体工商户)
  party_credit_code     CF_XDR_SHXYM / XK_XDR_SHXYM  统一社会信用代码 (17 zeros + X = none)
  party_other_codes     CF_XDR_GSZC, _ZZJG, _SWDJ, _SYDW, _SHZZ  工商注册号, 组织机构代码, 税务登记号,
                        事业单位证书号, 社会组织登记证号 (kept as "工商注册号：…；组织机构代码：…")
  legal_representative  CF_FRDB / XK_FRDB         法定代表人
  party_id_type         CF_XDR_ZJLX / XK_XDR_ZJLX 证件类型
  party_id_number       CF_XDR_ZJHM / XK_XDR_ZJHM 证件号码 (private)
  doc_number            CF_WSH / XK_WSH           行政处罚决定书文号 / 行政许可决定文书号
  violation_type        CF_WFXW                   违法行为类型
  facts                 CF_SY                     违法事实
  basis                 CF_YJ                     处罚依据
  penalty_categories    CF_CFLB                   处罚类别 (several separated by ;)
  content               CF_NR / XK_NR             处罚内容 / 许可内容
  fine_fen              CF_NR_FK                  罚款金额(万元)
  confiscation_fen      CF_NR_WFFF                没收违法所得、没收非法财物的金额(万元)
  licence_affected      CF_NR_ZKDX                暂扣或吊销证照名称及编号
  decision_date         CF_JDRQ / XK_JDRQ         处罚决定日期 / 许可决定日期
  valid_until           CF_YXQ / XK_YXQZI         处罚有效期 / 有效期至
  (export only)         CF_GSJZQ                  公示截止期 (the platform's own, from the dated rules)
  (agency)              CF_CFJG, CF_CFJGDM / XK_XKJG, XK_XKJGDM  处罚机关 / 许可机关 and its code:
                        written from the agency; on import a code that is not the agency's is an error
  data_source           CF_SJLY / XK_LYDW         数据来源单位
  data_source_code      CF_SJLYDM / XK_LYDWDM     数据来源单位统一社会信用代码
  remark                BZ                        备注
  licence_doc_name      XK_XKWS                   行政许可决定文书名称
  licence_category      XK_XKLB                   许可类别 (普通/特许/认可/核准/登记/其他)
  licence_cert_name     XK_XKZS                   许可证书名称
  licence_number        XK_XKBH                   许可编号
  valid_from            XK_YXQZ                   有效期自
  licence_status        XK_ZT                     当前状态 (有效/无效, or 1/2)
  external_id           EXTERNAL_ID               外部编号 (our extension; written only when some
                                                  record's external id is not its 文号)

Not carried by the format, so not imported or exported: is_minor,
confidential, other_person_names, correction_reason (records marked not
to be published are left out of the export by the page and the command).

The OLDER layout (the 2016 national template: CF_CFLB1, CF_JG, CF_XDR_ZDM
..., no CF_XDR_LB) is recognised from the header and read by
shuanggongshi_legacy (issue 13 item 6): its rows are mapped to the same
raw records, validated and stored the same way, and the report says per
row what was inferred and what could not be mapped (ImportReport.layout,
ImportReport.notes). Export always writes the current layout.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator


from sanxiang.core import exports
from sanxiang.core.vocabulary import PARTY_TYPE_NAMES, REGISTERED_PARTY_TYPES, ActKind, is_natural_person

from . import intake
from sanxiang.core import clock

# --- the layouts ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    code: str
    header: str  # Chinese header written on export
    field: str  # normalised key, or "@..." for columns handled specially
    aliases: tuple[str, ...] = ()
    money: bool = False
    date: bool = False
    # Free text the credit platform republishes: exported redacted like the
    # portal (redaction.public_copy), never as the case system sent it.
    free_text: bool = False


def _party_columns(p: str) -> list[Column]:
    return [
        Column(f"{p}_XDR_MC", "行政相对人名称", "party_name"),
        Column(f"{p}_XDR_LB", "行政相对人类别", "party_type"),
        Column(f"{p}_XDR_SHXYM", "统一社会信用代码", "party_credit_code", ("行政相对人代码_1(统一社会信用代码)", "行政相对人代码_1")),
        Column(f"{p}_XDR_GSZC", "工商注册号", "@other:工商注册号", ("行政相对人代码_2(工商注册号)", "行政相对人代码_2")),
        Column(f"{p}_XDR_ZZJG", "组织机构代码", "@other:组织机构代码", ("行政相对人代码_3(组织机构代码)", "行政相对人代码_3")),
        Column(f"{p}_XDR_SWDJ", "税务登记号", "@other:税务登记号", ("行政相对人代码_4(税务登记号)", "行政相对人代码_4")),
        Column(f"{p}_XDR_SYDW", "事业单位证书号", "@other:事业单位证书号", ("行政相对人代码_5(事业单位证书号)", "行政相对人代码_5")),
        Column(f"{p}_XDR_SHZZ", "社会组织登记证号", "@other:社会组织登记证号", ("行政相对人代码_6(社会组织登记证号)", "行政相对人代码_6")),
        Column(f"{p}_FRDB", "法定代表人", "legal_representative", ("法定代表人(负责人)", "法定代表人姓名")),
        Column(f"{p}_XDR_ZJLX", "证件类型", "party_id_type", ("行政相对人证件类型",)),
        Column(f"{p}_XDR_ZJHM", "证件号码", "party_id_number", ("行政相对人证件号码",)),
    ]


PENALTY_COLUMNS: tuple[Column, ...] = (
    *_party_columns("CF"),
    Column("CF_WSH", "行政处罚决定书文号", "doc_number", ("处罚决定书文号", "决定书文号", "文号")),
    Column("CF_WFXW", "违法行为类型", "violation_type", free_text=True),
    Column("CF_SY", "违法事实", "facts", free_text=True),
    Column("CF_YJ", "处罚依据", "basis", free_text=True),
    Column("CF_CFLB", "处罚类别", "penalty_categories"),
    Column("CF_NR", "处罚内容", "content", free_text=True),
    Column("CF_NR_FK", "罚款金额(万元)", "fine_fen", ("罚款金额",), money=True),
    Column("CF_NR_WFFF", "没收违法所得、没收非法财物的金额(万元)", "confiscation_fen",
           ("没收违法所得、没收非法财物的金额", "没收违法所得没收非法财物的金额(万元)"), money=True),
    Column("CF_NR_ZKDX", "暂扣或吊销证照名称及编号", "licence_affected", free_text=True),
    Column("CF_JDRQ", "处罚决定日期", "decision_date", ("决定日期",), date=True),
    Column("CF_YXQ", "处罚有效期", "valid_until", date=True),
    Column("CF_GSJZQ", "公示截止期", "@publicity_end", date=True),
    Column("CF_CFJG", "处罚机关", "@agency_name"),
    Column("CF_CFJGDM", "处罚机关统一社会信用代码", "@agency_code"),
    Column("CF_SJLY", "数据来源单位", "data_source"),
    Column("CF_SJLYDM", "数据来源单位统一社会信用代码", "data_source_code"),
    Column("BZ", "备注", "remark", free_text=True),
)

LICENSE_COLUMNS: tuple[Column, ...] = (
    *_party_columns("XK"),
    Column("XK_XKWS", "行政许可决定文书名称", "licence_doc_name", free_text=True),
    Column("XK_WSH", "行政许可决定文书号", "doc_number", ("许可决定文书号", "文书号", "文号")),
    Column("XK_XKLB", "许可类别", "licence_category"),
    Column("XK_XKZS", "许可证书名称", "licence_cert_name", free_text=True),
    Column("XK_XKBH", "许可编号", "licence_number"),
    Column("XK_NR", "许可内容", "content", free_text=True),
    Column("XK_JDRQ", "许可决定日期", "decision_date", ("决定日期",), date=True),
    Column("XK_YXQZ", "有效期自", "valid_from", date=True),
    Column("XK_YXQZI", "有效期至", "valid_until", date=True),
    Column("XK_XKJG", "许可机关", "@agency_name"),
    Column("XK_XKJGDM", "许可机关统一社会信用代码", "@agency_code"),
    Column("XK_ZT", "当前状态", "licence_status"),
    Column("XK_LYDW", "数据来源单位", "data_source"),
    Column("XK_LYDWDM", "数据来源单位统一社会信用代码", "data_source_code"),
    Column("BZ", "备注", "remark", free_text=True),
)

EXTERNAL_ID_COLUMN = Column("EXTERNAL_ID", "外部编号", "external_id", ("记录编号",))
LAYOUTS = {ActKind.PENALTY.value: PENALTY_COLUMNS, ActKind.LICENSE.value: LICENSE_COLUMNS}
OTHER_CODE_LABELS = ("工商注册号", "组织机构代码", "税务登记号", "事业单位证书号", "社会组织登记证号")
BATCH_SIZE = 500


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, no header, the
    wrong layout, a required column missing). The message is Chinese;
    ``code`` is stable (unsupported_format, bad_encoding, bad_xlsx, ...)."""

    def __init__(self, message: str, code: str = "invalid_file"):
        super().__init__(message)
        self.message, self.code = message, code


def _norm_header(text) -> str:
    s = str(text or "").replace("\ufeff", "").strip()
    s = s.replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")
    return s


_CODE_IN_HEADER = re.compile(r"\(([A-Za-z]{2}_[A-Za-z_]+|BZ|EXTERNAL_ID)\)$")


def _lookup(kind: str) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in (*LAYOUTS[kind], EXTERNAL_ID_COLUMN):
        table[col.code] = col
        table[_norm_header(col.header)] = col
        for alias in col.aliases:
            table.setdefault(_norm_header(alias), col)
    return table


_LOOKUPS = {kind: _lookup(kind) for kind in LAYOUTS}


def match_header(header, kind: str) -> tuple[Column | None, str]:
    """(column, "code" | "chinese") for one header cell, or (None, "")."""
    norm = _norm_header(header)
    table = _LOOKUPS[kind]
    upper = norm.upper()
    if upper in table and upper == table[upper].code:
        return table[upper], "code"
    m = _CODE_IN_HEADER.search(norm)
    if m and m[1].upper() in table:
        return table[m[1].upper()], "code"
    if norm in table:
        return table[norm], "chinese"
    return None, ""


@dataclass
class HeaderMap:
    kind: str
    columns: list[Column | None]  # per file column
    headers: list[str]  # as written in the file
    style: str  # "code", "chinese" or "mixed"
    ignored: list[str]
    layout: str = "current"  # or "2016" (shuanggongshi_legacy.LEGACY)

    def header_for(self, field_name: str) -> str:
        """The file's header of the column holding a field (for error reports);
        the expected header in the file's style if the column is absent."""
        if self.layout != "current":
            from . import shuanggongshi_legacy

            return shuanggongshi_legacy.header_for(self, field_name)
        targets = _FIELD_COLUMNS[self.kind].get(field_name, ())
        for i, col in enumerate(self.columns):
            if col is not None and col.field in targets:
                return self.headers[i]
        if field_name == "external_id":
            return self.header_for("doc_number")
        cols = [c for c in (*LAYOUTS[self.kind], EXTERNAL_ID_COLUMN) if c.field in targets]
        if cols:
            return cols[0].code if self.style == "code" else cols[0].header
        return intake.FIELD_LABELS.get(field_name, field_name)


def _field_columns(kind: str) -> dict[str, tuple[str, ...]]:
    m: dict[str, tuple[str, ...]] = {}
    for col in (*LAYOUTS[kind], EXTERNAL_ID_COLUMN):
        if not col.field.startswith("@"):
            m[col.field] = (col.field,)
    m["fine_yuan"] = m["fine_fen"] = ("fine_fen",)
    m["confiscation_yuan"] = m["confiscation_fen"] = ("confiscation_fen",)
    m["party_other_codes"] = tuple(f"@other:{label}" for label in OTHER_CODE_LABELS)
    return m


_FIELD_COLUMNS = {kind: _field_columns(kind) for kind in LAYOUTS}


def map_headers(headers: list, kind: str | None) -> HeaderMap:
    """Detect the layout (penalty or licence, unless given; the current or
    the older 2016 one) and the header style (codes or Chinese) and map
    every file column."""
    from . import shuanggongshi_legacy

    legacy_kind = shuanggongshi_legacy.detect(headers, kind)
    if legacy_kind is not None:
        return shuanggongshi_legacy.map_headers(headers, legacy_kind)
    kinds = [kind] if kind else list(LAYOUTS)
    best = None
    for k in kinds:
        matched = [match_header(h, k) for h in headers]
        score = sum(1 for col, _ in matched if col is not None and col.code != "BZ")
        # Columns that exist only in this layout weigh more than shared ones.
        own = sum(1 for col, _ in matched if col is not None and col.code.startswith(("CF_", "XK_"))
                  and not col.code[3:].startswith(("XDR_", "FRDB")))
        if best is None or (own, score) > best[0]:
            best = ((own, score), k, matched)
    _, k, matched = best
    columns = [col for col, _ in matched]
    styles = {style for col, style in matched if col is not None}
    style = "mixed" if len(styles) > 1 else (styles.pop() if styles else "")
    mapped = [c for c in columns if c is not None]
    if not mapped:
        raise ImportFileError("无法识别表头：第1行应为双公示格式的中文列名或字段代码（如 CF_XDR_MC、XK_WSH）。")
    seen: dict[str, str] = {}
    for h, col in zip(headers, columns):
        if col is None:
            continue
        if col.code in seen:
            raise ImportFileError(f"表头中“{seen[col.code]}”与“{h}”是同一列（{col.code}），请删去其一。")
        seen[col.code] = str(h)
    required = [c for c in LAYOUTS[k] if c.field in _REQUIRED_COLUMNS[k]]
    missing = [c for c in required if c.code not in seen]
    if missing:
        names = "、".join(f"{c.header}（{c.code}）" for c in missing)
        raise ImportFileError(f"{'行政处罚' if k == 'penalty' else '行政许可'}双公示文件缺少必填列：{names}。")
    ignored = [str(h) for h, col in zip(headers, columns) if col is None and str(h or "").strip()]
    return HeaderMap(kind=k, columns=columns, headers=[str(h).strip() if h is not None else "" for h in headers],
                     style=style, ignored=ignored)


_REQUIRED_COLUMNS = {
    ActKind.PENALTY.value: {"party_name", "party_type", "doc_number", "violation_type", "facts", "basis",
                            "penalty_categories", "content", "decision_date"},
    ActKind.LICENSE.value: {"party_name", "party_type", "doc_number", "licence_doc_name", "licence_category",
                            "content", "decision_date", "valid_from"},
}


# --- reading files ------------------------------------------------------------


def _read_bytes(path_or_bytes) -> bytes:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    if isinstance(path_or_bytes, (str, Path)):
        return Path(path_or_bytes).read_bytes()
    if hasattr(path_or_bytes, "chunks"):  # a Django UploadedFile
        return b"".join(path_or_bytes.chunks())
    if hasattr(path_or_bytes, "read"):
        return path_or_bytes.read()
    raise TypeError("path_or_bytes must be a path, bytes or a file object")


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (Excel on Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError("无法识别文件编码：CSV 文件应为 UTF-8 或 GB18030（GBK）编码。", "bad_encoding")


def file_format(filename: str) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise ImportFileError(f"不支持的文件类型“{(suffix or filename)[:10] or '无扩展名'}”：请上传 .csv 或 .xlsx 文件"
                          "（.xls 请先另存为 .xlsx）。", "unsupported_format")


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2 ** 53:
            return str(int(value))
        return repr(value)  # the shortest text that reads back as this number
    return str(value)


def _rows(data: bytes, fmt: str) -> Iterator[tuple[int, list]]:
    if fmt == "csv":
        text = _decode_csv(data)
        if "\x00" in text:
            raise ImportFileError("CSV 文件中含有空字符，不是文本文件。", "not_text")
        reader = csv.reader(io.StringIO(text, newline=""))
        for number, row in enumerate(reader, start=1):
            yield number, row
        return
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several kinds for a broken file
        raise ImportFileError("文件不是有效的 Excel 工作簿（.xlsx）。", "bad_xlsx") from None
    try:
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in row]
    finally:
        wb.close()


def raw_cells(data: bytes, *, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, [cell text]) of every row of a CSV (UTF-8 or GB18030)
    or the first sheet of an XLSX file — the one reader of the platform's
    spreadsheet imports; ImportFileError (with its code) for a file that
    cannot be read at all."""
    for number, row in _rows(data, file_format(filename)):
        yield number, [_cell_text(v) for v in row]


def read_file(path_or_bytes, *, filename: str) -> Iterator[tuple[int, dict]]:
    """(row number, {header as written: cell text}) for every non-empty data
    row of a CSV or XLSX file; the header is the first non-empty row."""
    header = None
    for number, row in _rows(_read_bytes(path_or_bytes), file_format(filename)):
        cells = [_cell_text(v).strip() for v in row]
        if not any(cells):
            continue
        if header is None:
            header = [c.replace("\ufeff", "") for c in cells]
            continue
        yield number, {h: cells[i] if i < len(cells) else "" for i, h in enumerate(header) if h}


def _read_table(path_or_bytes, *, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header, rows = None, []
    for number, row in _rows(_read_bytes(path_or_bytes), file_format(filename)):
        cells = [exports.restore_cell(_cell_text(v)).strip() for v in row]
        if not any(cells):
            continue
        if header is None:
            header = [c.replace("\ufeff", "") for c in cells]
        else:
            rows.append((number, cells))
    if header is None:
        raise ImportFileError("文件是空的：没有表头，也没有数据行。")
    return header, rows


# --- rows to records ------------------------------------------------------------


def row_to_raw(cells: list[str], hmap: HeaderMap) -> tuple[dict, list[tuple[str, str, str]]]:
    """Map one row to the raw record keys of intake.validate_record; returns
    (raw, [(field, code, message)]) with conversion problems of the row."""
    raw: dict = {"kind": hmap.kind}
    problems = []
    others = []
    for i, col in enumerate(hmap.columns):
        if col is None:
            continue
        value = cells[i] if i < len(cells) else ""
        if col.field.startswith("@other:"):
            if value:
                others.append((col.field[7:], value))
        elif col.field == "@agency_code":
            raw["@agency_code"] = value.upper()
        elif col.field.startswith("@"):
            continue
        elif col.money:
            if value:
                fen, problem = intake.wan_to_fen(value, field=hmap.headers[i])
                if problem:
                    problems.append((col.field, *problem))
                else:
                    raw[col.field] = fen
        else:
            raw[col.field] = value
    if others:
        order = {label: n for n, label in enumerate(OTHER_CODE_LABELS)}
        raw["party_other_codes"] = "；".join(f"{label}：{value}" for label, value in sorted(others, key=lambda p: order[p[0]]))
    if not raw.get("external_id"):
        raw["external_id"] = raw.get("doc_number", "")
    return raw, problems


def split_other_codes(text: str) -> dict[str, str]:
    """"工商注册号：X；组织机构代码：Y" → {label: value}; text that does not
    follow that shape goes whole into 工商注册号."""
    if not text:
        return {}
    parts = {}
    for seg in re.split(r"[;；]", text):
        seg = seg.strip()
        if not seg:
            continue
        m = re.fullmatch(r"(.+?)[:：]\s*(.+)", seg)
        if not m or m[1] not in OTHER_CODE_LABELS or m[1] in parts:
            return {"工商注册号": text}
        parts[m[1]] = m[2].strip()
    return parts


@dataclass
class ImportReport:
    kind: str = ""
    filename: str = ""
    header_style: str = ""
    rows: int = 0
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    rejected: int = 0
    # row number → fields whose text normalisation changed (invisible
    # characters removed, digits made ASCII ...)
    normalised: dict[int, list[str]] = field(default_factory=dict)
    # (row number, column header as in the file, code, Chinese message)
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # "current" or "2016" (the older layout, shuanggongshi_legacy)
    layout: str = "current"
    # Older layout only: (row number, column header, "inferred" | "not_mapped",
    # Chinese message): what a row's record took by inference, and the
    # non-empty cells that have no counterpart today.
    notes: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def layout_name(self) -> str:
        from .shuanggongshi_legacy import LAYOUT_NAMES

        return LAYOUT_NAMES.get(self.layout, self.layout)

    @property
    def accepted(self) -> int:
        return self.created + self.corrected + self.unchanged


def import_file(*, actor, agency, file, filename: str, kind: str | None = None,
                progress: Callable[[int, int], None] | None = None, batch_size: int = BATCH_SIZE,
                reason: str = "") -> ImportReport:
    """Validate every row, store every good row (source "import"), report the
    bad ones by row and column. Raises ImportFileError for a file that
    cannot be read as a 双公示 table at all."""
    from .services import receive_records

    if kind is not None and kind not in LAYOUTS:
        raise ImportFileError(f"双公示导入只支持行政处罚（penalty）和行政许可（license），不支持“{kind}”。")
    headers, rows = _read_table(file, filename=filename)
    hmap = map_headers(headers, kind)
    report = ImportReport(kind=hmap.kind, filename=filename, header_style=hmap.style, rows=len(rows),
                          ignored_columns=hmap.ignored, layout=hmap.layout)
    legacy = hmap.layout != "current"
    if legacy:
        from . import shuanggongshi_legacy
    today = clock.today()
    seen: dict[str, int] = {}
    batch: list[dict] = []
    done = 0

    def flush():
        nonlocal batch
        if batch:
            _keep_private_text(batch, agency=agency, kind=hmap.kind)
            stored = receive_records(actor=actor, agency=agency, records=[rec for _, rec in batch], source="import",
                                     reason=reason)
            for (number, _), r in zip(batch, stored):
                if r.outcome == "rejected":
                    report.rejected += 1
                    report.errors.extend((number, hmap.header_for(e["field"]), e["code"], e["message"]) for e in r.errors)
                else:
                    setattr(report, r.outcome, getattr(report, r.outcome) + 1)
            batch = []

    for number, cells in rows:
        sources: dict[str, str] = {}
        if legacy:
            mapped = shuanggongshi_legacy.row_to_raw(cells, hmap, agency=agency)
            raw, sources = mapped.raw, mapped.sources
            report.notes.extend((number, header, kind_, message) for header, kind_, message in mapped.notes)
            errors = [(number, header, code, msg) for _, header, code, msg in mapped.problems]
            failed_fields = {_LEGACY_CANON.get(f, f) for f, *_ in mapped.problems}
        else:
            raw, problems = row_to_raw(cells, hmap)
            errors = [(number, hmap.header_for(f), code, msg) for f, code, msg in problems]
            failed_fields = {f for f, _, _ in problems}
        agency_code = raw.pop("@agency_code", "")
        if agency_code and agency_code != agency.credit_code:
            col = next(c for c in LAYOUTS[hmap.kind] if c.field == "@agency_code")
            header = next((h for h, c in zip(hmap.headers, hmap.columns) if c is col), col.header)
            errors.append((number, header, "agency_mismatch",
                           f"{header}为 {agency_code}，不是本部门（{agency.name}，{agency.credit_code}）的代码。"))
        record, record_errors = intake.validate_record(raw, index=number, today=today)
        for e in record_errors:
            if legacy:
                if _LEGACY_CANON.get(e.field, e.field) in failed_fields:
                    continue  # already reported where the row was mapped
                errors.append((number, sources.get(e.field) or hmap.header_for(e.field), e.code, e.message))
                continue
            if _FIELD_COLUMNS[hmap.kind].get(e.field, (e.field,))[0] in failed_fields:
                continue  # already reported as a conversion problem of that column
            errors.append((number, hmap.header_for(e.field), e.code, e.message))
        if record is not None and not errors:
            first = seen.get(record["external_id"])
            if first is not None:
                errors.append((number, hmap.header_for("external_id"), "duplicate_in_file",
                               f"与第{first}行的文号（外部编号）“{record['external_id']}”重复；同一文件中每个决定只能出现一次。"))
            else:
                seen[record["external_id"]] = number
        if errors:
            report.errors.extend(errors)
            report.rejected += 1
        else:
            if record.normalised:
                report.normalised[number] = sorted(record.normalised)
            batch.append((number, record))
            if len(batch) >= batch_size:
                flush()
        done += 1
        if progress is not None and (done % 100 == 0 or done == len(rows)):
            progress(done, len(rows))
    flush()
    if progress is not None and not rows:
        progress(0, 0)
    return report


# Fields of the validator's messages that stand for one field of the older
# layout's mapping (a fine the row mapper could not read is not reported
# again as a missing fine).
_LEGACY_CANON = {"fine_yuan": "fine_fen", "confiscation_yuan": "confiscation_fen"}


def _keep_private_text(batch: list[tuple[int, dict]], *, agency, kind: str) -> None:
    """Our own export read back is not a correction. The export's free-text
    columns carry the redacted text (exchange_public_text); where a row's
    cell equals the redacted form of what the platform holds for that
    decision, the private text is kept, so re-importing an export leaves the
    records unchanged instead of overwriting them with their redacted copy."""
    from .models import Decision, PublicitySettings

    held = {d.external_id: d for d in Decision.objects.filter(agency=agency, external_id__in=[r["external_id"] for _, r in batch])}
    if not held:
        return
    name_rule = PublicitySettings.objects.filter(agency=agency).values_list("name_rule", flat=True).first()
    fields = [c.field for c in LAYOUTS[kind] if c.free_text]
    for _, record in batch:
        decision = held.get(record["external_id"])
        if decision is None:
            continue
        public = None
        for f in fields:
            private = decision.data.get(f, "")
            if record.get(f) == private:
                continue
            if public is None:
                public = exchange_public_text(decision.data, party_type=decision.party_type, kind=decision.kind,
                                              name_rule=name_rule)
            if record.get(f) and record.get(f) == public.get(f):
                record[f] = private


# --- error report and export ------------------------------------------------------


def error_report_xlsx(report: ImportReport) -> bytes:
    """The per-row error report as an XLSX workbook: one line per problem
    (row number, column, code, message), a summary sheet, and for the older
    layout one line per inference or unmapped cell of every row."""
    buf = io.BytesIO()
    wb = exports.workbook(buf)
    bold = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet("错误明细")
    for c, (title, width) in enumerate((("行号", 8), ("列", 28), ("错误代码", 26), ("说明", 80))):
        ws.write_string(0, c, title, bold)
        ws.set_column(c, c, width)
    for r, (row, column, code, message) in enumerate(report.errors, start=1):
        ws.write_number(r, 0, row)
        ws.write_string(r, 1, column)
        ws.write_string(r, 2, code)
        ws.write_string(r, 3, message, wrap)
    ws.freeze_panes(1, 0)
    if report.errors:
        ws.autofilter(0, 0, len(report.errors), 3)
    if report.layout != "current":
        from .shuanggongshi_legacy import NOTE_KIND_NAMES

        notes = wb.add_worksheet("推定与未导入")
        for c, (title, width) in enumerate((("行号", 8), ("列", 28), ("类别", 10), ("说明", 80))):
            notes.write_string(0, c, title, bold)
            notes.set_column(c, c, width)
        for r, (row, column, kind_, message) in enumerate(report.notes, start=1):
            notes.write_number(r, 0, row)
            notes.write_string(r, 1, column)
            notes.write_string(r, 2, NOTE_KIND_NAMES.get(kind_, kind_))
            notes.write_string(r, 3, message, wrap)
        notes.freeze_panes(1, 0)
        if report.notes:
            notes.autofilter(0, 0, len(report.notes), 3)
    summary = wb.add_worksheet("汇总")
    summary.set_column(0, 0, 16)
    summary.set_column(1, 1, 40)
    lines = [("文件", report.filename), ("文件格式", report.layout_name),
             ("类别", "行政处罚" if report.kind == "penalty" else "行政许可"),
             ("数据行数", report.rows), ("新增", report.created), ("更正", report.corrected), ("未变化", report.unchanged),
             ("未导入（有错误）", report.rejected), ("忽略的列", "、".join(report.ignored_columns) or "无")]
    for r, (k, v) in enumerate(lines):
        summary.write_string(r, 0, k, bold)
        if isinstance(v, int):
            summary.write_number(r, 1, v)
        else:
            summary.write_string(r, 1, v)
    wb.close()
    return buf.getvalue()


def _date_text(iso: str | None) -> str:
    return iso.replace("-", "/") if iso else ""


def exchange_public_text(data: dict, *, party_type: str, kind: str, name_rule: str | None = None) -> dict:
    """The record's free-text fields as the portal publishes them
    (redaction.public_copy): what the free-text columns carry, since the
    credit platform republishes them."""
    from .redaction import public_copy

    return public_copy(data, party_is_natural_person=is_natural_person(party_type), kind=kind, name_rule=name_rule).data


def record_to_row(data: dict, *, kind: str, agency, publicity_end: date | None, with_external_id: bool,
                  public: dict | None = None) -> list[str]:
    """One normalised record as the cells of its 双公示 row. The free-text
    columns (Column.free_text) are taken from ``public`` (the redacted copy,
    exchange_public_text(data) unless given); the identification columns
    (name, codes, 证件号码, legal representative) from the record itself."""
    if public is None:
        public = exchange_public_text(data, party_type=data.get("party_type", ""), kind=kind)
    others = split_other_codes(data.get("party_other_codes", ""))
    party_type = data.get("party_type", "")
    credit = data.get("party_credit_code", "")
    if not credit and party_type in REGISTERED_PARTY_TYPES:
        credit = intake.NO_CREDIT_CODE
    cells = []
    for col in LAYOUTS[kind]:
        f = col.field
        if f.startswith("@other:"):
            v = others.get(f[7:], "")
        elif f == "@publicity_end":
            v = publicity_end.strftime("%Y/%m/%d") if publicity_end else ""
        elif f == "@agency_name":
            v = agency.name
        elif f == "@agency_code":
            v = agency.credit_code
        elif f == "party_type":
            v = PARTY_TYPE_NAMES.get(party_type, party_type)
        elif f == "party_credit_code":
            v = credit
        elif f == "penalty_categories":
            v = ";".join(data.get(f) or [])
        elif col.money:
            v = intake.fen_to_wan_text(data.get(f))
        elif col.date:
            v = _date_text(data.get(f))
        elif col.free_text:
            v = public.get(f)
            v = "" if v is None else str(v)
        else:
            v = data.get(f)
            v = "" if v is None else str(v)
        cells.append(v)
    if with_external_id:
        cells.append(data.get("external_id", ""))
    return cells


def export_file(*, records, fmt: str, kind: str | None = None, headers: str = "chinese") -> bytes:
    """One agency's decisions of one kind (a Decision queryset) in the 双公示
    layout, as CSV (UTF-8 with BOM, which Excel opens correctly) or XLSX
    (every cell text, so codes and amounts stay exact), written by
    sanxiang.core.exports (cells that a spreadsheet would run as a formula
    are neutralised). Private: see the module docstring."""
    from django.db.models import F

    if fmt not in ("csv", "xlsx"):
        raise ValueError("fmt must be 'csv' or 'xlsx'")
    if kind is None:
        kinds = set(records.values_list("kind", flat=True).distinct()[:2])
        if len(kinds) > 1:
            raise ValueError("export one kind at a time")
        kind = kinds.pop() if kinds else ActKind.PENALTY.value
    if kind not in LAYOUTS:
        raise ValueError(f"no 双公示 layout for kind {kind!r}")
    records = records.filter(kind=kind)
    agencies = set(records.values_list("agency_id", flat=True).distinct()[:2])
    if len(agencies) > 1:
        raise ValueError("export one agency at a time")
    with_external_id = records.exclude(external_id=F("doc_number")).exists()
    columns = list(LAYOUTS[kind]) + ([EXTERNAL_ID_COLUMN] if with_external_id else [])
    header = [c.code if headers == "codes" else c.header for c in columns]
    qs = records.select_related("agency").order_by("decision_date", "id")
    from .models import PublicitySettings

    rules: dict[int, str | None] = {}

    def row(d):
        if d.agency_id not in rules:  # the agency's name rule, read without creating its settings row
            rules[d.agency_id] = PublicitySettings.objects.filter(agency_id=d.agency_id).values_list(
                "name_rule", flat=True).first()
        public = exchange_public_text(d.data, party_type=d.party_type, kind=kind, name_rule=rules[d.agency_id])
        return record_to_row(d.data, kind=kind, agency=d.agency, publicity_end=d.publicity_end,
                             with_external_id=with_external_id, public=public)

    rows = (row(d) for d in qs.iterator(chunk_size=2000))
    if fmt == "csv":
        return exports.csv_bytes(header, rows)
    out = io.BytesIO()
    wb = exports.workbook(out, constant_memory=True)
    ws = wb.add_worksheet("行政处罚" if kind == "penalty" else "行政许可")
    bold = wb.add_format({"bold": True})
    ws.set_column(0, len(header) - 1, 16)
    for c, title in enumerate(header):
        ws.write_string(0, c, title, bold)
    for r, cells in enumerate(rows, start=1):
        for c, v in enumerate(cells):
            if v:
                ws.write_string(r, c, v)
    wb.close()
    return out.getvalue()
