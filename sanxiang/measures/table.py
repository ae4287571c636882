"""The seed's task table (推行三项制度任务分解表, 2017) as data: reading
``data/*.yaml`` into ``Measure`` records, and what its unit codes mean on
this platform.

The table's 责任单位 are kinds of units, not named bodies. Each unit code is
mapped onto the agencies that exist in core (``UNIT_KINDS``): a
government (各级政府, 各市、县政府, 各市政府) acts on the platform through its
legal office (政府法制办, today the 司法局/司法厅), which is the agency of
kind ``legal_office`` of the region; the enforcement departments
(行政执法部门) are every other agency. Units the platform does not hold
(省财政厅, 省编委办, 省政府办公厅) stay in the data with their code, and the
roll-out reports them as "not on the platform" instead of inventing a task.
省质监局 became part of the market regulation administration in 2018, so its
measures fall to the province's market regulation agency.

Plain Python apart from the models' vocabularies; no database access.
Every mistake in a file is a ``TableError`` naming the file, the entry
(its position and code) and the field.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from sanxiang.catalog.models import CatalogueKind
from sanxiang.core.models import AgencyKind, RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_TABLE = DATA_DIR / "task-breakdown-2017.yaml"
ONGOING = "长期执行"

SYSTEMS = {"publicity": ("公示", "行政执法公示制度"), "recording": ("记录", "执法全过程记录制度"),
           "review": ("审核", "重大执法决定法制审核制度")}
CODE_RE = re.compile(r"^(公示|记录|审核)-([1-9][0-9]?)$")
LOWER_LEVELS = (RegionLevel.CITY, RegionLevel.COUNTY)
ALL_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)


@dataclass(frozen=True)
class UnitKind:
    """A kind of responsible unit of the table and the agencies it is on the
    platform: agency kinds (``legal`` = the legal office, ``departments`` =
    every other kind, or one AgencyKind) at region levels. ``on_platform``
    False: a body the platform does not hold."""

    code: str
    label: str
    agencies: str = ""  # "legal" | "departments" | an AgencyKind value | "" (not on the platform)
    levels: tuple = ()

    @property
    def on_platform(self) -> bool:
        return bool(self.agencies)


UNIT_KINDS = {u.code: u for u in (
    UnitKind("province_legal_office", "省法制办", "legal", (RegionLevel.PROVINCE,)),
    UnitKind("legal_offices_city_county", "市、县政府法制办", "legal", LOWER_LEVELS),
    UnitKind("governments_all", "各级政府", "legal", ALL_LEVELS),
    UnitKind("governments_city_county", "各市、县政府", "legal", LOWER_LEVELS),
    UnitKind("governments_city", "各市政府", "legal", (RegionLevel.CITY,)),
    UnitKind("departments_all", "各级行政执法部门", "departments", ALL_LEVELS),
    UnitKind("departments_province", "省政府各行政执法部门", "departments", (RegionLevel.PROVINCE,)),
    UnitKind("province_quality", "省质监局", AgencyKind.MARKET_REGULATION.value, (RegionLevel.PROVINCE,)),
    UnitKind("province_general_office", "省政府办公厅（政务公开办）"),
    UnitKind("province_finance", "省财政厅"),
    UnitKind("province_staffing", "省编委办"),
)}

# The filings (备案) the table asks for: kind and recipient.
FILING_KINDS = {"review_and_filing": "报审核、备案", "filing": "报备案", "review": "报审核", "report": "报送"}
FILING_RECIPIENTS = {"own_legal_office": "本级政府法制办", "province_legal_office": "省法制办",
                     "own_market_regulation": "本级工商（市场监管）部门"}

MEASURE_KEYS = {"code", "system", "group", "measure", "requirement", "responsible", "responsible_text", "deadline",
                "deadline_text", "ongoing", "filing"}
REQUIRED_KEYS = MEASURE_KEYS - {"ongoing", "filing"}
FILING_KEYS = {"kind", "to", "catalogue"}


class TableError(ValueError):
    """The task table file is malformed; the message names file, entry and field."""

    def __init__(self, path, entry: str, field_name: str, message: str):
        self.path, self.entry, self.field = str(path), entry, field_name
        super().__init__(f"{Path(path).name}: {entry}: 字段 {field_name}：{message}")


@dataclass(frozen=True)
class Filing:
    kind: str
    to: str
    catalogue: str = ""

    @property
    def kind_label(self) -> str:
        return FILING_KINDS[self.kind]

    @property
    def to_label(self) -> str:
        return FILING_RECIPIENTS[self.to]


@dataclass(frozen=True)
class Measure:
    code: str
    system: str
    group: str
    measure: str
    requirement: str
    responsible: tuple[str, ...]
    responsible_text: str
    # None = 长期执行; a date for every level; or {"province": d, "city_county": d}
    deadline: date | dict | None
    deadline_text: str
    ongoing: bool = False
    filing: Filing | None = None

    @property
    def number(self) -> int:
        return int(self.code.split("-")[1])

    @property
    def system_label(self) -> str:
        return SYSTEMS[self.system][1]

    def deadline_for(self, level: str, *, year: int | None = None) -> date | None:
        """The deadline of a unit at region ``level`` (None: ongoing), moved
        to ``year`` (month and day kept; a month's last day stays its last
        day) when the table is rolled out for another year."""
        if self.deadline is None:
            return None
        day = self.deadline if isinstance(self.deadline, date) else (
            self.deadline["province"] if level == RegionLevel.PROVINCE else self.deadline["city_county"])
        return move_to_year(day, year) if year else day

    def unit_kinds(self) -> list[UnitKind]:
        return [UNIT_KINDS[c] for c in self.responsible]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    year: int
    measures: tuple[Measure, ...] = field(default_factory=tuple)

    def measure(self, code: str) -> Measure | None:
        return next((m for m in self.measures if m.code == code), None)

    def by_system(self, system: str) -> list[Measure]:
        return [m for m in self.measures if m.system == system]


def move_to_year(day: date, year: int) -> date:
    last = calendar.monthrange(day.year, day.month)[1] == day.day
    end = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, end if last else min(day.day, end))


def _text(raw, path, entry, name, *, required=True) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()):
        raise TableError(path, entry, name, f"必须是非空文字，实为 {raw!r}")
    return raw.strip()


def _date(raw, path, entry, name) -> date:
    if isinstance(raw, date):
        return raw
    raise TableError(path, entry, name, f"必须是日期（YYYY-MM-DD）或“{ONGOING}”，实为 {raw!r}")


def _measure(raw, index: int, path) -> Measure:
    entry = f"第 {index} 条"
    if not isinstance(raw, dict):
        raise TableError(path, entry, "-", "每条措施必须是一个映射（code、system、measure …）")
    if isinstance(raw.get("code"), str):
        entry += f"（{raw['code']}）"
    unknown = sorted(set(raw) - MEASURE_KEYS)
    if unknown:
        raise TableError(path, entry, unknown[0], f"未知字段；允许的字段：{'、'.join(sorted(MEASURE_KEYS))}")
    for key in sorted(REQUIRED_KEYS):
        if key not in raw:
            raise TableError(path, entry, key, "缺少此字段")
    code = _text(raw["code"], path, entry, "code")
    match = CODE_RE.match(code)
    if not match:
        raise TableError(path, entry, "code", f"编号须为“公示-N”“记录-N”或“审核-N”，实为 {code!r}")
    system = raw["system"]
    if system not in SYSTEMS:
        raise TableError(path, entry, "system", f"须为 {'、'.join(SYSTEMS)} 之一，实为 {system!r}")
    if SYSTEMS[system][0] != match.group(1):
        raise TableError(path, entry, "system", f"编号 {code} 不属于 {SYSTEMS[system][1]}")
    responsible = raw["responsible"]
    if not isinstance(responsible, list) or not responsible:
        raise TableError(path, entry, "responsible", "必须是非空的责任单位代码列表")
    for unit in responsible:
        if unit not in UNIT_KINDS:
            raise TableError(path, entry, "responsible", f"未知的责任单位代码 {unit!r}；已知：{'、'.join(UNIT_KINDS)}")
    deadline = raw["deadline"]
    if deadline == ONGOING:
        deadline = None
    elif isinstance(deadline, dict):
        if set(deadline) != {"province", "city_county"}:
            raise TableError(path, entry, "deadline", "分级时限须恰好包括 province 和 city_county")
        deadline = {k: _date(v, path, entry, f"deadline.{k}") for k, v in deadline.items()}
    else:
        deadline = _date(deadline, path, entry, "deadline")
    ongoing = raw.get("ongoing", False)
    if not isinstance(ongoing, bool):
        raise TableError(path, entry, "ongoing", f"必须是 true 或 false，实为 {ongoing!r}")
    filing = None
    if raw.get("filing") is not None:
        f = raw["filing"]
        if not isinstance(f, dict) or set(f) - FILING_KEYS:
            raise TableError(path, entry, "filing", f"必须是映射，字段限于 {'、'.join(sorted(FILING_KEYS))}")
        if f.get("kind") not in FILING_KINDS:
            raise TableError(path, entry, "filing.kind", f"须为 {'、'.join(FILING_KINDS)} 之一，实为 {f.get('kind')!r}")
        if f.get("to") not in FILING_RECIPIENTS:
            raise TableError(path, entry, "filing.to", f"须为 {'、'.join(FILING_RECIPIENTS)} 之一，实为 {f.get('to')!r}")
        catalogue = f.get("catalogue", "") or ""
        if catalogue and catalogue not in CatalogueKind.values:
            raise TableError(path, entry, "filing.catalogue", f"未知的清单种类 {catalogue!r}")
        filing = Filing(kind=f["kind"], to=f["to"], catalogue=catalogue)
    return Measure(
        code=code, system=system, group=_text(raw["group"], path, entry, "group"),
        measure=_text(raw["measure"], path, entry, "measure"),
        requirement=_text(raw["requirement"], path, entry, "requirement"),
        responsible=tuple(responsible), responsible_text=_text(raw["responsible_text"], path, entry, "responsible_text"),
        deadline=deadline, deadline_text=_text(raw["deadline_text"], path, entry, "deadline_text"),
        ongoing=ongoing, filing=filing,
    )


def load_table(path: Path | str = DEFAULT_TABLE) -> Table:
    """Read and check a task table file (TableError naming file, entry, field)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else "-"
        raise TableError(path, where, "-", f"不是有效的 YAML：{getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise TableError(path, "-", "-", "文件须为映射（table、title、year、measures）")
    for key in ("table", "title", "year", "measures"):
        if key not in doc:
            raise TableError(path, "文件头", key, "缺少此字段")
    if not isinstance(doc["year"], int):
        raise TableError(path, "文件头", "year", f"必须是年份（整数），实为 {doc['year']!r}")
    if not isinstance(doc["measures"], list) or not doc["measures"]:
        raise TableError(path, "文件头", "measures", "必须是非空列表")
    measures, seen = [], set()
    for index, raw in enumerate(doc["measures"], start=1):
        measure = _measure(raw, index, path)
        if measure.code in seen:
            raise TableError(path, f"第 {index} 条（{measure.code}）", "code", "编号重复")
        seen.add(measure.code)
        measures.append(measure)
    return Table(name=_text(doc["table"], path, "文件头", "table"), title=_text(doc["title"], path, "文件头", "title"),
                 year=doc["year"], measures=tuple(measures))


@functools.cache
def default_table() -> Table:
    return load_table(DEFAULT_TABLE)


def table_named(name: str) -> Table:
    """The table a roll-out names (one file today)."""
    table = default_table()
    if name != table.name:
        raise KeyError(name)
    return table
