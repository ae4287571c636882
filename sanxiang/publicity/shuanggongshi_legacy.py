"""The OLDER 双公示 layout (the 2016 national template) on import: many
departmental systems still export it. This module holds its columns, how
a file is recognised as that layout, and how one of its rows becomes the
raw record that ``intake.validate_record`` checks like any other (nothing
is stored without that validation; the rows then go through
``services.receive_records`` in batches exactly like the current layout,
see ``shuanggongshi.import_file``). docs/import-legacy-layout.md has the
mapping table, the inference rules and examples of the row report.

Sources for the layout (column codes and their meanings, the old category
and status vocabularies): the brief of issue 13 item 6, checked against
exchange programs of city credit platforms that still read and write the
2016 template, found with the project's code search ("CF_CFLB1
CF_XDR_ZDM"): they list the penalty columns CF_WSH, CF_CFMC, CF_CFLB1,
CF_CFLB2, CF_SY, CF_YJ, CF_XDR_MC, CF_XDR_SHXYM, CF_XDR_ZDM (行政相对人代码_2
组织机构代码), CF_XDR_GSDJ (_3 工商登记码), CF_XDR_SWDJ (_4 税务登记号),
CF_XDR_SFZ (_5 居民身份证号), CF_FR, CF_JG, CF_JDRQ, CF_XZJG, CF_ZT, DFBM,
SJC, BZ and the licence columns XK_WSH, XK_XMMC, XK_SPLB, XK_NR, XK_XDR,
the same five codes, XK_FR, XK_JDRQ, XK_JZQ, XK_XZJG, XK_ZT, DFBM, SJC, BZ;
their category vocabulary is the penalty law of 2009 art. 8 (警告; 罚款;
没收违法所得、没收非法财物; 责令停产停业; 暂扣或者吊销许可证、暂扣或者吊销
执照; 行政拘留; 其他), 审批类别 is 普通/特许/认可/核准/登记/其他, and 当前状态
is 0 正常 / 1 撤销 or the words 正常 / 撤销 / 异议. Nothing was copied.

Recognition: a file is the older layout when at least two of its header
cells are columns only that layout has (CF_CFLB1, CF_JG, CF_XDR_ZDM,
处罚类别1, 处罚结果, 项目名称, 审批类别 ...; every such file has two, since
CF_CFLB1 and CF_JG, or XK_XMMC and XK_SPLB, are required) and none is the
current layout's 行政相对人类别 (CF_XDR_LB / XK_XDR_LB).

What the row report says (ImportReport.notes, per row and column):
"inferred" (推定) where a value of today's record was derived rather than
read (the party type from the codes present, a renamed category, the fine
read from the 处罚结果 text ...), "not_mapped" (未导入) where a non-empty
cell has no counterpart today and was left out (地方编码, 数据更新时间戳, an
处罚机关 that is not the importing agency's name, the status 异议). A row
whose values cannot be mapped is rejected with the column named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sanxiang.core.vocabulary import PARTY_TYPE_NAMES, ActKind, PartyType, PenaltyCategory

from . import intake
from .shuanggongshi import OTHER_CODE_LABELS, Column, ImportFileError, _norm_header

CURRENT = "current"
LEGACY = "2016"
LAYOUT_NAMES = {CURRENT: "现行双公示格式", LEGACY: "2016年版双公示格式（旧版）"}

# Cells the old exchange programs wrote for "no value".
EMPTY_MARKS = frozenset({"/", "无", "null", "-", "—"})

# Identity columns: (suffix, header, aliases, label in party_other_codes or
# a special key).
_IDENTITY = (
    ("XDR_SHXYM", "统一社会信用代码", ("行政相对人代码_1(统一社会信用代码)", "行政相对人代码_1"), "@credit"),
    ("XDR_ZDM", "组织机构代码", ("行政相对人代码_2(组织机构代码)", "行政相对人代码_2"), "组织机构代码"),
    ("XDR_GSDJ", "工商登记码", ("行政相对人代码_3(工商登记码)", "行政相对人代码_3", "工商登记号"), "工商注册号"),
    ("XDR_SWDJ", "税务登记号", ("行政相对人代码_4(税务登记号)", "行政相对人代码_4"), "税务登记号"),
    ("XDR_SFZ", "居民身份证号", ("行政相对人代码_5(居民身份证号)", "行政相对人代码_5", "身份证号"), "@sfz"),
)


def _identity_columns(p: str) -> list[Column]:
    return [Column(f"{p}_{suffix}", header, f"{p}_{suffix}", aliases) for suffix, header, aliases, _ in _IDENTITY]


# Column.field is the column's own code: the row mapper reads cells by code.
LEGACY_PENALTY_COLUMNS: tuple[Column, ...] = (
    Column("CF_WSH", "行政处罚决定书文号", "CF_WSH", ("处罚决定书文号", "决定书文号", "文号")),
    Column("CF_CFMC", "处罚名称", "CF_CFMC", ("处罚案件名称", "案件名称")),
    Column("CF_CFLB1", "处罚类别1", "CF_CFLB1", ("处罚类别一",)),
    Column("CF_CFLB2", "处罚类别2", "CF_CFLB2", ("处罚类别二",)),
    Column("CF_SY", "处罚事由", "CF_SY"),
    Column("CF_YJ", "处罚依据", "CF_YJ"),
    Column("CF_XDR_MC", "行政相对人名称", "CF_XDR_MC"),
    *_identity_columns("CF"),
    Column("CF_FR", "法定代表人姓名", "CF_FR", ("法定代表人",)),
    Column("CF_JG", "处罚结果", "CF_JG"),
    Column("CF_JDRQ", "处罚决定日期", "CF_JDRQ", ("决定日期",)),
    Column("CF_XZJG", "处罚机关", "CF_XZJG"),
    Column("CF_ZT", "当前状态", "CF_ZT"),
    Column("DFBM", "地方编码", "DFBM"),
    Column("SJC", "数据更新时间戳", "SJC", ("数据更新时间",)),
    Column("BZ", "备注", "BZ"),
)

LEGACY_LICENSE_COLUMNS: tuple[Column, ...] = (
    Column("XK_WSH", "行政许可决定书文号", "XK_WSH", ("行政许可决定文书号", "许可决定文书号", "文书号", "文号")),
    Column("XK_XMMC", "项目名称", "XK_XMMC", ("许可项目名称",)),
    Column("XK_SPLB", "审批类别", "XK_SPLB"),
    Column("XK_NR", "许可内容", "XK_NR"),
    Column("XK_XDR", "行政相对人名称", "XK_XDR", ("XK_XDR_MC",)),
    *_identity_columns("XK"),
    Column("XK_FR", "法定代表人姓名", "XK_FR", ("法定代表人",)),
    Column("XK_JDRQ", "许可决定日期", "XK_JDRQ", ("决定日期", "许可生效期")),
    Column("XK_JZQ", "许可截止期", "XK_JZQ", ("许可截止日期",)),
    Column("XK_XZJG", "许可机关", "XK_XZJG"),
    Column("XK_ZT", "当前状态", "XK_ZT"),
    Column("DFBM", "地方编码", "DFBM"),
    Column("SJC", "数据更新时间戳", "SJC", ("数据更新时间",)),
    Column("BZ", "备注", "BZ"),
)

LEGACY_LAYOUTS = {ActKind.PENALTY.value: LEGACY_PENALTY_COLUMNS, ActKind.LICENSE.value: LEGACY_LICENSE_COLUMNS}

_REQUIRED = {
    ActKind.PENALTY.value: ("CF_WSH", "CF_XDR_MC", "CF_CFLB1", "CF_SY", "CF_YJ", "CF_JG", "CF_JDRQ"),
    ActKind.LICENSE.value: ("XK_WSH", "XK_XMMC", "XK_SPLB", "XK_NR", "XK_XDR", "XK_JDRQ"),
}

# Where a field of the validated record came from (for the column named in
# an error): field → column codes, the first present in the file is named.
_ID_SOURCES = ("XDR_SHXYM", "XDR_ZDM", "XDR_GSDJ", "XDR_SWDJ", "XDR_SFZ")


def _sources(p: str, kind: str) -> dict[str, tuple[str, ...]]:
    def c(*suffixes):
        return tuple(s if s in ("BZ", "DFBM", "SJC") else f"{p}_{s}" for s in suffixes)

    common = {
        "external_id": c("WSH"), "doc_number": c("WSH"), "party_type": c(*_ID_SOURCES),
        "party_credit_code": c("XDR_SHXYM"), "party_other_codes": c("XDR_ZDM", "XDR_GSDJ", "XDR_SWDJ"),
        "party_id_number": c("XDR_SFZ"), "party_id_type": c("XDR_SFZ"), "legal_representative": c("FR"),
        "decision_date": c("JDRQ"), "remark": c("BZ"),
    }
    if kind == ActKind.PENALTY:
        return {**common, "party_name": c("XDR_MC"), "basis": c("YJ"), "facts": c("SY"), "content": c("JG"),
                "violation_type": c("CFMC", "SY"), "penalty_categories": c("CFLB1", "CFLB2"),
                "fine_fen": c("JG"), "fine_yuan": c("JG"), "confiscation_fen": c("JG"), "confiscation_yuan": c("JG"),
                "licence_affected": c("JG")}
    return {**common, "party_name": c("XDR"), "content": c("NR"), "licence_doc_name": c("XMMC"),
            "licence_category": c("SPLB"), "valid_from": c("JDRQ"), "valid_until": c("JZQ"),
            "licence_status": c("ZT")}


_SOURCES = {ActKind.PENALTY.value: _sources("CF", ActKind.PENALTY), ActKind.LICENSE.value: _sources("XK", ActKind.LICENSE)}
_PREFIX = {ActKind.PENALTY.value: "CF", ActKind.LICENSE.value: "XK"}


# --- recognising the layout ----------------------------------------------------------


def _lookup(kind: str) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in LEGACY_LAYOUTS[kind]:
        table[col.code] = col
        table[_norm_header(col.header)] = col
        for alias in col.aliases:
            table.setdefault(_norm_header(alias), col)
            if re.fullmatch(r"[A-Z]{2}_[A-Z_]+", alias):
                table.setdefault(alias, col)
    return table


_LOOKUPS = {kind: _lookup(kind) for kind in LEGACY_LAYOUTS}
_CODE_IN_HEADER = re.compile(r"\(([A-Za-z]{2}_[A-Za-z_]+|BZ|DFBM|SJC)\)$")


def match_header(header, kind: str) -> Column | None:
    norm = _norm_header(header)
    table = _LOOKUPS[kind]
    if norm.upper() in table and re.fullmatch(r"[A-Za-z_]+", norm):
        return table[norm.upper()]
    m = _CODE_IN_HEADER.search(norm)
    if m and m[1].upper() in table:
        return table[m[1].upper()]
    return table.get(norm)


def _markers(headers: list, kind: str) -> int:
    """Header cells that name a column of the older layout and none of the
    current one."""
    from .shuanggongshi import match_header as current_match

    return sum(1 for h in headers if match_header(h, kind) is not None and current_match(h, kind)[0] is None)


def _has_party_type_column(headers: list, kind: str) -> bool:
    from .shuanggongshi import match_header as current_match

    return any((col := current_match(h, kind)[0]) is not None and col.field == "party_type" for h in headers)


def detect(headers: list, kind: str | None) -> str | None:
    """The kind of an older-layout file, or None when the file is not one
    (then the current layout reads it, as before)."""
    kinds = [kind] if kind else list(LEGACY_LAYOUTS)
    best = max(kinds, key=lambda k: _markers(headers, k))
    if _markers(headers, best) < 2 or _has_party_type_column(headers, best):
        return None
    return best


def map_headers(headers: list, kind: str):
    """The HeaderMap of an older-layout file (its kind known from detect)."""
    from .shuanggongshi import HeaderMap

    columns = [match_header(h, kind) for h in headers]
    seen: dict[str, str] = {}
    for h, col in zip(headers, columns):
        if col is None:
            continue
        if col.code in seen:
            raise ImportFileError(f"表头中“{seen[col.code]}”与“{h}”是同一列（{col.code}），请删去其一。")
        seen[col.code] = str(h)
    name = "行政处罚" if kind == ActKind.PENALTY else "行政许可"
    missing = [c for c in LEGACY_LAYOUTS[kind] if c.code in _REQUIRED[kind] and c.code not in seen]
    if missing:
        names = "、".join(f"{c.header}（{c.code}）" for c in missing)
        raise ImportFileError(f"按2016年版双公示格式读取的{name}文件缺少必填列：{names}。")
    p = _PREFIX[kind]
    if not any(f"{p}_{s}" in seen for s in _ID_SOURCES):
        raise ImportFileError(f"按2016年版双公示格式读取的{name}文件缺少行政相对人代码列：统一社会信用代码、组织机构代码、"
                              "工商登记码、税务登记号、居民身份证号至少要有一列。")
    styles = set()
    for h, col in zip(headers, columns):
        if col is not None:
            styles.add("code" if (_norm_header(h).upper() == col.code or _CODE_IN_HEADER.search(_norm_header(h))) else "chinese")
    style = "mixed" if len(styles) > 1 else (styles.pop() if styles else "")
    ignored = [str(h) for h, col in zip(headers, columns) if col is None and str(h or "").strip()]
    return HeaderMap(kind=kind, columns=columns, headers=[str(h).strip() if h is not None else "" for h in headers],
                     style=style, ignored=ignored, layout=LEGACY)


def header_for(hmap, field_name: str) -> str:
    """The file's header of the column a field of the record came from."""
    codes = _SOURCES[hmap.kind].get(field_name, ())
    by_code = {col.code: hmap.headers[i] for i, col in enumerate(hmap.columns) if col is not None}
    for code in codes:
        if code in by_code:
            return by_code[code]
    if codes:
        col = next(c for c in LEGACY_LAYOUTS[hmap.kind] if c.code == codes[0])
        return col.code if hmap.style == "code" else col.header
    return intake.FIELD_LABELS.get(field_name, field_name)


# --- one row ---------------------------------------------------------------------------

INFERRED = "inferred"
NOT_MAPPED = "not_mapped"
NOTE_KIND_NAMES = {INFERRED: "推定", NOT_MAPPED: "未导入"}


@dataclass
class LegacyRow:
    raw: dict
    # (field, column header, code, Chinese message): the row is rejected
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (column header, INFERRED | NOT_MAPPED, Chinese message)
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    # field → the header of the column this row took it from (when the
    # source differs per row, e.g. 违法行为类型 from 处罚名称 or 处罚事由)
    sources: dict[str, str] = field(default_factory=dict)


# Old category names (penalty law of 2009 art. 8 and the spellings seen in
# exports) → today's PenaltyCategory value. 暂扣/吊销 are decided by rule
# (_licence_categories), everything else not listed is rejected.
_CATEGORY_ALIASES = {
    "没收违法所得": PenaltyCategory.CONFISCATION.value,
    "没收非法财物": PenaltyCategory.CONFISCATION.value,
    "没收违法所得和非法财物": PenaltyCategory.CONFISCATION.value,
    "没收违法所得、非法财物": PenaltyCategory.CONFISCATION.value,
    "没收违法所得,没收非法财物": PenaltyCategory.CONFISCATION.value,
    "责令停产、停业": PenaltyCategory.SUSPEND_BUSINESS.value,
    "责令停业": PenaltyCategory.SUSPEND_BUSINESS.value,
    "拘留": PenaltyCategory.DETENTION.value,
    "其它": PenaltyCategory.OTHER.value,
    "其他行政处罚": PenaltyCategory.OTHER.value,
    "法律、行政法规规定的其他行政处罚": PenaltyCategory.OTHER.value,
}
_LICENCE_WORDS = ("许可证", "执照", "证照", "证件", "证书")
_SUSPEND, _REVOKE = PenaltyCategory.LICENCE_SUSPENSION.value, PenaltyCategory.LICENCE_REVOCATION.value

_NUM = r"(\d[\d,]*(?:\.\d+)?)"
_FINE = (re.compile(r"罚款(?:金额)?[:：]?\s*(?:人民币)?\s*" + _NUM + r"\s*(万元|元)"),
         re.compile(_NUM + r"\s*(万元|元)(?:人民币)?的?罚款"))
_CONFISCATION = (re.compile(r"没收(?:全部)?违法所得(?:金额)?[:：]?\s*(?:人民币)?\s*" + _NUM + r"\s*(万元|元)"),
                 re.compile(_NUM + r"\s*(万元|元)的?违法所得"))
_LICENCE_TEXT = re.compile(r"(?:暂扣|吊销)[^，。；;,]{2,}")

_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_TIME = re.compile(r"(\S+?)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)")


def legacy_date(text: str) -> str:
    """2026/11/20, 2026-11-20, 2026年11月20日 stay as they are (the validator
    reads them); 20261120 becomes 2026-11-20; a time part is dropped."""
    m = _DATE_TIME.fullmatch(text)
    if m:
        text = m[1]
    m = _DATE_DIGITS.fullmatch(text)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else text


def _wan_text(fen: int) -> str:
    return intake.fen_to_wan_text(fen)


def _amounts(patterns, text: str) -> tuple[set[int], list[str]]:
    """Distinct amounts in fen found in text by the patterns; with the
    problems of amounts that are not exact (more decimals than fen)."""
    found, bad = set(), []
    spans = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            if any(s <= m.start(1) < e for s, e in spans):
                continue
            spans.append(m.span())
            try:
                d = Decimal(m[1].replace(",", ""))
            except InvalidOperation:  # pragma: no cover - the regex admits digits only
                bad.append(m[0])
                continue
            per_unit, places = (1_000_000, 6) if m[2] == "万元" else (100, 2)
            if intake.decimal_places(d) > places:
                bad.append(m[0])
                continue
            found.add(int(d * per_unit))
    return found, bad


def _yuan_text(fen: int) -> str:
    yuan = (Decimal(fen) / 100).normalize()
    return f"{format(yuan, 'f')}元"


class _Row:
    def __init__(self, cells: list[str], hmap, agency):
        self.hmap = hmap
        self.agency = agency
        self.p = _PREFIX[hmap.kind]
        self.values: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        for i, col in enumerate(hmap.columns):
            if col is None:
                continue
            v = (cells[i] if i < len(cells) else "").strip()
            self.values[col.code] = "" if v.lower() in EMPTY_MARKS else v
            self.headers[col.code] = hmap.headers[i]
        self.out = LegacyRow(raw={"kind": hmap.kind})

    def code(self, suffix: str) -> str:
        return suffix if suffix in ("BZ", "DFBM", "SJC") else f"{self.p}_{suffix}"

    def get(self, suffix: str) -> str:
        return self.values.get(self.code(suffix), "")

    def header(self, suffix: str) -> str:
        code = self.code(suffix)
        if code in self.headers:
            return self.headers[code]
        col = next(c for c in LEGACY_LAYOUTS[self.hmap.kind] if c.code == code)
        return col.code if self.hmap.style == "code" else col.header

    def infer(self, suffix: str, message: str) -> None:
        self.out.notes.append((self.header(suffix), INFERRED, message))

    def not_mapped(self, suffix: str, message: str) -> None:
        self.out.notes.append((self.header(suffix), NOT_MAPPED, message))

    def problem(self, field_name: str, suffix: str, code: str, message: str) -> None:
        self.out.problems.append((field_name, self.header(suffix), code, message))

    # -- shared columns ------------------------------------------------------------

    def party(self) -> None:
        raw = self.out.raw
        credit = self.get("XDR_SHXYM").upper()
        real_credit = credit if credit and credit != intake.NO_CREDIT_CODE else ""
        others = [(label, self.get(suffix), suffix) for suffix, _, _, label in _IDENTITY
                  if not label.startswith("@") and self.get(suffix)]
        sfz = self.get("XDR_SFZ")
        if real_credit:
            raw["party_credit_code"] = credit
        if others:  # in the current layout's order, as its import writes them
            order = {label: n for n, label in enumerate(OTHER_CODE_LABELS)}
            raw["party_other_codes"] = "；".join(f"{label}：{value}" for label, value, _ in
                                                sorted(others, key=lambda o: order[o[0]]))
        registered = ([("XDR_SHXYM", "统一社会信用代码")] if real_credit else []) + \
            [(suffix, next(h for s, h, _, _ in _IDENTITY if s == suffix)) for _, _, suffix in others]
        if real_credit and real_credit.startswith("92"):
            party_type, basis, at = PartyType.INDIVIDUAL_BUSINESS, "统一社会信用代码（前两位92：个体工商户）", "XDR_SHXYM"
        elif real_credit:
            party_type, basis, at = PartyType.LEGAL_PERSON, "统一社会信用代码", "XDR_SHXYM"
        elif registered and sfz:
            names = "、".join(h for _, h in registered)
            party_type, basis, at = PartyType.INDIVIDUAL_BUSINESS, f"{names}和居民身份证号（无统一社会信用代码）", registered[0][0]
        elif registered:
            party_type, basis, at = PartyType.LEGAL_PERSON, "、".join(h for _, h in registered), registered[0][0]
        elif sfz:
            party_type, basis, at = PartyType.NATURAL_PERSON, "居民身份证号", "XDR_SFZ"
        else:
            header = "、".join(self.headers[self.code(s)] for s in _ID_SOURCES if self.code(s) in self.headers)
            self.out.problems.append((
                "party_type", header, "legacy_party_type_unknown",
                "无法推定行政相对人类别：统一社会信用代码、组织机构代码、工商登记码、税务登记号、居民身份证号均为空，"
                "请至少填写其一。"))
            return
        raw["party_type"] = party_type.value
        self.out.sources["party_type"] = self.header(at)
        self.infer(at, f"行政相对人类别：依据{basis}推定为{PARTY_TYPE_NAMES[party_type]}")
        if sfz:
            raw["party_id_number"] = sfz
            raw["party_id_type"] = intake.DEFAULT_ID_TYPE
            if party_type == PartyType.LEGAL_PERSON:
                self.infer("XDR_SFZ", "居民身份证号：行政相对人有统一社会信用代码，身份证号作为证件号码保存（不公开）")

    def common(self) -> None:
        raw = self.out.raw
        raw["doc_number"] = self.get("WSH")
        raw["external_id"] = raw["doc_number"]
        raw["legal_representative"] = self.get("FR")
        raw["decision_date"] = legacy_date(self.get("JDRQ"))
        raw["remark"] = self.get("BZ")
        self.party()
        organ = self.get("XZJG")
        if organ and organ != self.agency.name:
            word = "处罚机关" if self.p == "CF" else "许可机关"
            self.not_mapped("XZJG", f"{word}“{organ}”未导入：与导入部门名称不同，决定按导入部门（{self.agency.name}）保存")
        if self.get("DFBM"):
            self.not_mapped("DFBM", f"地方编码“{self.get('DFBM')}”未导入：现行格式无此项，地区以导入部门为准")
        if self.get("SJC"):
            self.not_mapped("SJC", f"数据更新时间戳“{self.get('SJC')}”未导入：平台按导入时间记录版本")

    # -- penalties ------------------------------------------------------------------

    def penalty(self) -> LegacyRow:
        raw = self.out.raw
        self.common()
        raw["party_name"] = self.get("XDR_MC")
        raw["facts"] = self.get("SY")
        raw["basis"] = self.get("YJ")
        raw["content"] = self.get("JG")
        if self.get("CFMC"):
            raw["violation_type"] = self.get("CFMC")
            self.out.sources["violation_type"] = self.header("CFMC")
            self.infer("CFMC", "违法行为类型：取自处罚名称（旧格式无违法行为类型）")
        elif self.get("SY"):
            raw["violation_type"] = self.get("SY")
            self.out.sources["violation_type"] = self.header("SY")
            self.infer("SY", "违法行为类型：处罚名称为空，取自处罚事由（旧格式无违法行为类型）")
        self.categories()
        self.status()
        return self.out

    def categories(self) -> None:
        raw = self.out.raw
        result: list[str] = []
        failed = False
        for suffix in ("CFLB1", "CFLB2"):
            for name in intake.split_categories(self.get(suffix)) or []:
                mapped = self._category(name, suffix)
                if mapped is None:
                    failed = True
                else:
                    result.extend(c for c in mapped if c not in result)
        if failed:
            return
        raw["penalty_categories"] = result
        text = self.get("JG")
        if PenaltyCategory.FINE.value in result:
            self._amount("fine_fen", _FINE, "罚款金额", "罚款", "罚款5000元、罚款人民币0.5万元或处以5000元罚款", text)
        if PenaltyCategory.CONFISCATION.value in result:
            self._amount("confiscation_fen", _CONFISCATION, "没收违法所得、没收非法财物的金额", "没收违法所得、没收非法财物",
                         "没收违法所得2000元", text)
        if {_SUSPEND, _REVOKE} & set(result):
            m = _LICENCE_TEXT.search(text)
            if m and len(m[0]) <= 200:
                raw["licence_affected"] = m[0]
                self.infer("JG", f"暂扣或吊销证照名称及编号：依据处罚结果推定为“{m[0]}”")
            else:
                self.problem("licence_affected", "JG", "legacy_licence_unreadable",
                             "处罚类别含暂扣或吊销许可证件，但无法从处罚结果中读出证照名称及编号（应写作“吊销《食品经营许可证》"
                             "（编号JY…）”等）；旧格式没有单独的证照列，请在处罚结果中写明。")

    def _category(self, name: str, suffix: str) -> list[str] | None:
        if name in intake.PENALTY_CATEGORIES:
            return [name]
        if name in _CATEGORY_ALIASES:
            target = _CATEGORY_ALIASES[name]
            self.infer(suffix, f"处罚类别：“{name}”读作“{target}”")
            return [target]
        if ("暂扣" in name or "吊销" in name) and any(w in name for w in _LICENCE_WORDS):
            suspend, revoke = "暂扣" in name, "吊销" in name
            if suspend and revoke:
                text = self.get("JG")
                suspend, revoke = "暂扣" in text, "吊销" in text
                if not (suspend or revoke):
                    self.problem("penalty_categories", suffix, "legacy_category_ambiguous",
                                 f"处罚类别“{name}”今日分为暂扣许可证件和吊销许可证件两类，处罚结果中既无“暂扣”也无“吊销”，"
                                 "无法判断；请将处罚类别改为其中之一。")
                    return None
                targets = [c for c, yes in ((_SUSPEND, suspend), (_REVOKE, revoke)) if yes]
                basis = "、".join(f"“{w}”" for w, yes in (("暂扣", suspend), ("吊销", revoke)) if yes)
                self.infer(suffix, f"处罚类别：“{name}”依据处罚结果中的{basis}推定为“{'、'.join(targets)}”")
                return targets
            target = _SUSPEND if suspend else _REVOKE
            self.infer(suffix, f"处罚类别：“{name}”读作“{target}”")
            return [target]
        self.problem("penalty_categories", suffix, "legacy_category_unknown",
                     f"处罚类别“{name}”无法对应到现行处罚类别；可选：{'、'.join(PenaltyCategory.values)}，"
                     "或旧名称暂扣或者吊销许可证、暂扣或者吊销执照、没收违法所得、其它。")
        return None

    def _amount(self, field_name: str, patterns, label: str, category: str, example: str, text: str) -> None:
        found, bad = _amounts(patterns, text)
        if bad:
            self.problem(field_name, "JG", "money_precision", f"处罚结果中的金额“{bad[0]}”超出分的精度。")
        elif len(found) == 1:
            fen = found.pop()
            self.out.raw[field_name] = fen
            self.infer("JG", f"{label}：依据处罚结果推定为{_wan_text(fen)}万元（{_yuan_text(fen)}）")
        elif found:
            amounts = "、".join(_yuan_text(f) for f in sorted(found))
            self.problem(field_name, "JG", "legacy_amount_ambiguous",
                         f"处罚结果中有多个{label}（{amounts}），无法确定；请每行只写一个决定的金额。")
        else:
            self.problem(field_name, "JG", "legacy_amount_unreadable",
                         f"处罚类别含{category}，但无法从处罚结果中读出{label}（应以阿拉伯数字写明，如“{example}”）；"
                         "旧格式没有单独的金额列。")

    def status(self) -> None:
        status = self.get("ZT")
        if status in ("", "0", "正常"):
            return
        if status in ("1", "撤销"):
            self.problem("record", "ZT", "legacy_revoked",
                         f"当前状态为“{status}”（撤销）：已撤销的行政处罚决定不导入公示；如该决定已公示，请在平台上撤下。")
        elif status == "异议":
            self.not_mapped("ZT", "当前状态“异议”未导入：现行格式无此状态，决定按正常状态导入")
        else:
            self.problem("record", "ZT", "legacy_status_invalid",
                         f"当前状态“{intake.shown(status)}”无效；旧格式可选：0（正常）、1（撤销）或正常、撤销、异议。")

    # -- licences ---------------------------------------------------------------------

    def licence(self) -> LegacyRow:
        raw = self.out.raw
        self.common()
        raw["party_name"] = self.get("XDR")
        raw["content"] = self.get("NR")
        if self.get("XMMC"):
            raw["licence_doc_name"] = self.get("XMMC")
            self.infer("XMMC", "行政许可决定文书名称：取自项目名称（旧格式无文书名称）")
        category = self.get("SPLB")
        if category == "其它":
            category = "其他"
            self.infer("SPLB", "许可类别：“其它”读作“其他”")
        raw["licence_category"] = category
        if raw["decision_date"]:
            raw["valid_from"] = raw["decision_date"]
            self.out.sources["valid_from"] = self.header("JDRQ")
            parsed = intake.parse_date_value(raw["decision_date"])
            shown = parsed.isoformat() if parsed else raw["decision_date"]
            self.infer("JDRQ", f"有效期自：依据许可决定日期推定为{shown}（旧格式无有效期自）")
        raw["valid_until"] = legacy_date(self.get("JZQ"))
        status = self.get("ZT")
        if status in ("", "0", "正常", "有效"):
            raw["licence_status"] = "有效"
        elif status in ("1", "撤销", "无效"):
            raw["licence_status"] = "无效"
            if status != "无效":
                self.infer("ZT", f"当前状态：“{status}”（撤销）读作“无效”")
        elif status == "异议":
            raw["licence_status"] = "有效"
            self.not_mapped("ZT", "当前状态“异议”未导入：现行格式无此状态，许可按有效导入")
        else:
            self.problem("licence_status", "ZT", "legacy_status_invalid",
                         f"当前状态“{intake.shown(status)}”无效；旧格式可选：0（正常）、1（撤销）或正常、撤销、异议。")
        return self.out


def row_to_raw(cells: list[str], hmap, *, agency) -> LegacyRow:
    """One older-layout row as the raw record intake.validate_record reads,
    with the row's problems (it is rejected), inferences and unmapped cells."""
    row = _Row(cells, hmap, agency)
    return row.penalty() if hmap.kind == ActKind.PENALTY else row.licence()
