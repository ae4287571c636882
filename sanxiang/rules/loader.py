"""Legal parameters as dated data: load, validate and look up.

Every time limit and threshold the platform enforces lives in a YAML file
under ``params/`` (one file per topic). A parameter has a dotted name, a
Chinese description, a unit and a list of dated values; each value carries
the date it takes effect, the scope it applies to (``national``,
``region:<6-digit code>`` or ``agency:<18-char credit code>``) and the legal
reference it comes from.

Lookup (``get_rule``): the most specific scope that has a value in force on
the date wins (agency > county > city > province > national), and within that
scope the latest ``valid_from`` on or before the date.

This module needs no database and no Django settings: it is plain Python.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_PARAMS_DIR",
    "DAY_PERIOD_UNITS",
    "DECIMAL_UNITS",
    "LIST_UNITS",
    "PERIOD_UNITS",
    "PERMANENT",
    "UNITS",
    "Rule",
    "RuleError",
    "RuleFileError",
    "RuleNotFound",
    "RuleSet",
    "RuleValue",
    "all_rules",
    "get_rule",
    "load_rules",
    "reload_rules",
    "rule_definition",
    "scope_chain",
    "scope_sort_key",
]

DEFAULT_PARAMS_DIR = Path(__file__).resolve().parent / "params"

# The only units a parameter may have. Day units say how days are counted
# (penalty law art. 85, licensing law art. 82, coercion law art. 69).
UNITS = frozenset(
    {"working_days", "calendar_days", "months", "years", "hours", "yuan", "percent", "count", "roles"}
)
# Units whose values are exact decimals (money and ratios); all others are
# non-negative integers.
DECIMAL_UNITS = frozenset({"yuan", "percent"})
# Units whose value is not a number but a list of names: ``roles`` names the
# account roles (sanxiang.core.models.Role values) a rule gives a power to,
# e.g. who may approve or act without approval.
LIST_UNITS = frozenset({"roles"})
# Units of a period that may also have no end: the value ``permanent`` (永久,
# e.g. a retention period: 文书档案保管期限分永久、定期).
PERIOD_UNITS = frozenset({"months", "years"})
PERMANENT = "permanent"
ROLE_NAME_RE = re.compile(r"^[a-z][a-z_]{1,31}$")

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
REGION_SCOPE_RE = re.compile(r"^region:(\d{6})$")
AGENCY_SCOPE_RE = re.compile(r"^agency:([0-9A-Z]{18})$")
REGION_CODE_RE = re.compile(r"^\d{6}(\d{3})?$")

PARAMETER_KEYS = {"name", "description", "unit", "values", "rolls_to_working_day", "rolls_reference"}
# Units of a period counted on the calendar: every parameter with one of these
# (as its unit or a value's unit) says whether a last day that is a holiday or
# rest day rolls to the next working day (``rolls_to_working_day``) and why
# (``rolls_reference``). Periods for a party's act roll (民事诉讼法第八十五条,
# 行政诉讼法第五十一条); maximum periods that bound the agency's own power
# (a 30-day seizure, the 90-day decision limit) do not.
DAY_PERIOD_UNITS = frozenset({"working_days", "calendar_days", "months", "years"})
VALUE_KEYS_REQUIRED = {"value", "valid_from", "scope", "reference"}
# ``unit`` on a value overrides the parameter's unit for that value only: used
# where a law changed how a period is counted (e.g. the 1996 penalty law's
# "3 days" were calendar days, the 2021 law's "5 days" are working days).
VALUE_KEYS = VALUE_KEYS_REQUIRED | {"unit"}


class RuleError(Exception):
    """Base class of every error raised by the rules package."""


class RuleFileError(RuleError):
    """A parameter file is malformed; the message names file, parameter and entry."""


class RuleNotFound(RuleError, LookupError):
    """Unknown parameter name, or no value in force for the date and scope."""


@dataclass(frozen=True)
class RuleValue:
    """One dated value of a parameter, as returned by ``get_rule``."""

    name: str
    value: Decimal | int | tuple[str, ...] | str  # str: only PERMANENT, for a period unit
    unit: str
    valid_from: date
    scope: str
    reference: str
    description: str
    # Only for a period unit (DAY_PERIOD_UNITS): whether a last day that is a
    # holiday or rest day moves to the next working day, and the reference.
    rolls_to_working_day: bool | None = None
    rolls_reference: str = ""

    @property
    def permanent(self) -> bool:
        """A period without end (value ``permanent``)."""
        return self.value == PERMANENT


@dataclass(frozen=True)
class Rule:
    """A parameter with every dated value it has, in file order."""

    name: str
    description: str
    unit: str
    source: str  # file name the parameter was loaded from
    values: tuple[RuleValue, ...]
    rolls_to_working_day: bool | None = None
    rolls_reference: str = ""

    def scopes(self) -> list[str]:
        return sorted({v.scope for v in self.values}, key=scope_sort_key)


# --------------------------------------------------------------------------
# YAML reading: exact decimals, no silent duplicate keys.


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that turns YAML floats into Decimal and refuses duplicate keys."""


def _construct_decimal(loader: _StrictLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"数值 {text!r} 不是有限的十进制数", node.start_mark
        )
    return value


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"键 {key!r} 重复出现", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # An impossible date (2021-13-45) stays a string, so that validation can
    # report it with the file, parameter and entry named.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Read one YAML file with the strict loader (also used by the tests)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass


# --------------------------------------------------------------------------
# Validation.


def _where(file: str, param: str | None = None, entry: int | None = None) -> str:
    parts = [f"文件 {file}"]
    if param is not None:
        parts.append(f"参数 {param}")
    if entry is not None:
        parts.append(f"第 {entry + 1} 个取值")
    return "，".join(parts)


def _fail(msg: str, file: str, param: str | None = None, entry: int | None = None) -> RuleFileError:
    return RuleFileError(f"{_where(file, param, entry)}：{msg}")


def _check_scope(scope: Any) -> str | None:
    """Return a problem description, or None if the scope is valid."""
    if not isinstance(scope, str):
        return "scope 必须是字符串（national、region:<6位区划代码> 或 agency:<18位统一社会信用代码>）"
    if scope == "national":
        return None
    m = REGION_SCOPE_RE.match(scope)
    if m:
        code = m.group(1)
        if code[:2] == "00":
            return f"scope {scope!r} 的区划代码无效（省级代码不能以00开头）"
        return None
    m = AGENCY_SCOPE_RE.match(scope)
    if m:
        from sanxiang.core.validators import check_credit_code  # plain function, no database

        problem = check_credit_code(m.group(1))
        if problem:
            return f"scope {scope!r} 的统一社会信用代码无效：{problem[1]}"
        return None
    return (
        f"scope {scope!r} 无效：应为 national、region:<6位区划代码> 或 agency:<18位统一社会信用代码>"
    )


def _coerce_value(raw: Any, unit: str) -> Decimal | int | tuple[str, ...] | str:
    """Return the exact value for the unit, or raise ValueError with a Chinese message."""
    if raw == PERMANENT:
        if unit not in PERIOD_UNITS:
            raise ValueError(f"只有期间单位（{'、'.join(sorted(PERIOD_UNITS))}）的 value 可以是 {PERMANENT}（永久），"
                             f"单位 {unit} 不可以")
        return PERMANENT
    if unit in LIST_UNITS:
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"单位 {unit} 的 value 必须是非空列表（如 [agency_head]），实为 {raw!r}")
        bad = [r for r in raw if not isinstance(r, str) or not ROLE_NAME_RE.match(r)]
        if bad:
            raise ValueError(f"value 中的角色名无效：{bad!r}（应为小写角色代码，如 agency_head）")
        if len(set(raw)) != len(raw):
            raise ValueError(f"value 中有重复的角色：{raw!r}")
        return tuple(raw)
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"value {raw!r} 不是数值")
    if isinstance(raw, float):  # cannot come from _StrictLoader, guard anyway
        raise ValueError("value 不得为浮点数，请写成十进制数")
    if unit in DECIMAL_UNITS:
        if isinstance(raw, (int, Decimal)):
            value = Decimal(raw)
        elif isinstance(raw, str):
            try:
                value = Decimal(raw.strip())
            except InvalidOperation:
                raise ValueError(f"value {raw!r} 不是十进制数") from None
            if not value.is_finite():
                raise ValueError(f"value {raw!r} 不是有限的十进制数")
        else:
            raise ValueError(f"value {raw!r} 不是十进制数")
    else:
        if not isinstance(raw, int):
            raise ValueError(f"单位 {unit} 的 value 必须是整数，实为 {raw!r}")
        value = raw
    if value < 0:
        raise ValueError(f"value {raw!r} 不得为负数")
    return value


def _parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        raise ValueError(f"valid_from {raw!r} 应为日期（YYYY-MM-DD），不能带时间")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"valid_from {raw!r} 不是 ISO 日期（YYYY-MM-DD）")


def _parse_parameter(item: Any, file: str, index: int) -> Rule:
    if not isinstance(item, dict):
        raise _fail(f"第 {index + 1} 项不是参数定义（应为映射）", file)
    name = item.get("name")
    label = name if isinstance(name, str) else f"#{index + 1}"
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _fail(f"参数名 {name!r} 无效：应为小写点分名称，如 publicity.penalty_publication_limit", file, label)
    stem = Path(file).stem
    if not name.startswith(stem + "."):
        raise _fail(f"参数名应以文件名 {stem}. 开头", file, name)
    unknown = set(item) - PARAMETER_KEYS
    if unknown:
        raise _fail(f"未知字段 {sorted(unknown)}（允许：{sorted(PARAMETER_KEYS)}）", file, name)
    description = item.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _fail("缺少 description（中文说明）", file, name)
    unit = item.get("unit")
    if unit not in UNITS:
        raise _fail(f"单位 {unit!r} 无效（允许：{', '.join(sorted(UNITS))}）", file, name)
    entries = item.get("values")
    if not isinstance(entries, list) or not entries:
        raise _fail("values 必须是非空列表", file, name)

    entry_units = {e.get("unit", unit) for e in entries if isinstance(e, dict)} | {unit}
    rolls, rolls_reference = _parse_rolling(item, file, name, entry_units)
    values: list[RuleValue] = []
    seen: dict[tuple[str, date], int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _fail("取值应为映射（value、valid_from、scope、reference）", file, name, i)
        missing = VALUE_KEYS_REQUIRED - set(entry)
        if missing:
            raise _fail(f"缺少字段 {', '.join(sorted(missing))}", file, name, i)
        unknown = set(entry) - VALUE_KEYS
        if unknown:
            raise _fail(f"未知字段 {sorted(unknown)}（允许：{sorted(VALUE_KEYS)}）", file, name, i)
        reference = entry["reference"]
        if not isinstance(reference, str) or not reference.strip():
            raise _fail("reference 不能为空：须写明法律、文件及条款", file, name, i)
        entry_unit = entry.get("unit", unit)
        if entry_unit not in UNITS:
            raise _fail(f"单位 {entry_unit!r} 无效（允许：{', '.join(sorted(UNITS))}）", file, name, i)
        if (entry_unit in DECIMAL_UNITS) != (unit in DECIMAL_UNITS) or (entry_unit in LIST_UNITS) != (unit in LIST_UNITS):
            raise _fail(f"取值单位 {entry_unit} 与参数单位 {unit} 的数值类型不一致", file, name, i)
        try:
            valid_from = _parse_date(entry["valid_from"])
            value = _coerce_value(entry["value"], entry_unit)
        except ValueError as exc:
            raise _fail(str(exc), file, name, i) from None
        scope = entry["scope"]
        problem = _check_scope(scope)
        if problem:
            raise _fail(problem, file, name, i)
        key = (scope, valid_from)
        if key in seen:
            raise _fail(
                f"与第 {seen[key] + 1} 个取值重复（scope {scope}，valid_from {valid_from.isoformat()}）",
                file, name, i,
            )
        seen[key] = i
        values.append(
            RuleValue(
                name=name, value=value, unit=entry_unit, valid_from=valid_from, scope=scope,
                reference=reference.strip(), description=description.strip(),
                rolls_to_working_day=rolls, rolls_reference=rolls_reference,
            )
        )
    return Rule(name=name, description=description.strip(), unit=unit, source=file, values=tuple(values),
                rolls_to_working_day=rolls, rolls_reference=rolls_reference)


def _parse_rolling(item: dict, file: str, name: str, units: set) -> tuple[bool | None, str]:
    """The parameter's holiday rule: required for a period, refused otherwise."""
    is_period = bool(units & DAY_PERIOD_UNITS)
    if not is_period:
        if "rolls_to_working_day" in item or "rolls_reference" in item:
            raise _fail("rolls_to_working_day / rolls_reference 只适用于期间参数"
                        f"（单位 {', '.join(sorted(DAY_PERIOD_UNITS))}）", file, name)
        return None, ""
    rolls = item.get("rolls_to_working_day")
    if not isinstance(rolls, bool):
        raise _fail("期间参数须写明 rolls_to_working_day: true 或 false"
                    "（期间届满日为节假日时是否顺延至节假日后的第一个工作日）", file, name)
    reference = item.get("rolls_reference")
    if not isinstance(reference, str) or not reference.strip():
        raise _fail("rolls_reference 不能为空：须写明是否顺延的法律依据", file, name)
    return rolls, reference.strip()


# --------------------------------------------------------------------------
# Scopes.


def scope_sort_key(scope: str) -> tuple[int, str]:
    if scope == "national":
        return (0, "")
    if scope.startswith("region:"):
        return (1, scope)
    return (2, scope)


def region_ancestors(region_code: str) -> list[str]:
    """Six-digit codes from the region itself up to its province.

    A 9-digit township code starts at its county. The chain follows the
    GB/T 2260 code structure: county XXXXXX → city XXXX00 → province XX0000.
    """
    if not isinstance(region_code, str) or not REGION_CODE_RE.match(region_code):
        raise RuleError(f"行政区划代码 {region_code!r} 无效：应为6位（县级以上）或9位（乡级）数字")
    code = region_code[:6]
    chain = [code, code[:4] + "00", code[:2] + "0000"]
    out: list[str] = []
    for c in chain:
        if c not in out:
            out.append(c)
    return out


def scope_chain(*, agency: Any = None, region_code: str | None = None) -> list[str]:
    """The scopes to try, most specific first, ending with ``national``.

    ``agency`` may be any object with ``.credit_code`` (and, optionally,
    ``.region.code``), or a credit code string. An explicit ``region_code``
    takes precedence over the agency's own region.
    """
    scopes: list[str] = []
    if agency is not None:
        credit_code = agency if isinstance(agency, str) else getattr(agency, "credit_code", None)
        if not credit_code:
            raise RuleError("agency 必须有 credit_code（统一社会信用代码）")
        scopes.append(f"agency:{credit_code}")
        if region_code is None and not isinstance(agency, str):
            region = getattr(agency, "region", None)
            region_code = getattr(region, "code", None) if region is not None else None
    if region_code:
        scopes.extend(f"region:{c}" for c in region_ancestors(region_code))
    scopes.append("national")
    return scopes


def _describe_scope(scope: str) -> str:
    if scope == "national":
        return "全国"
    kind, _, code = scope.partition(":")
    return f"区划 {code}" if kind == "region" else f"执法主体 {code}"


# --------------------------------------------------------------------------
# The rule set.


class RuleSet:
    """All parameters loaded from one or more directories."""

    def __init__(self, rules: dict[str, Rule], directories: tuple[Path, ...]):
        self._rules = rules
        self.directories = directories

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def all(self) -> list[Rule]:
        return [self._rules[n] for n in sorted(self._rules)]

    def rule(self, name: str) -> Rule:
        try:
            return self._rules[name]
        except KeyError:
            raise RuleNotFound(f"未知的法定参数：{name}") from None

    def in_force(self, name: str, *, on: date) -> dict[str, RuleValue]:
        """Scope → the value in force there on ``on`` (the latest
        ``valid_from`` on or before it); scopes with none are absent."""
        if isinstance(on, datetime) or not isinstance(on, date):
            raise TypeError("on 必须是 datetime.date（不是 datetime）")
        found: dict[str, RuleValue] = {}
        for v in self.rule(name).values:
            if v.valid_from <= on and (v.scope not in found or v.valid_from > found[v.scope].valid_from):
                found[v.scope] = v
        return found

    def get(self, name: str, *, on: date, agency: Any = None, region_code: str | None = None) -> RuleValue:
        in_force = self.in_force(name, on=on)
        scopes = scope_chain(agency=agency, region_code=region_code)
        for scope in scopes:
            if scope in in_force:
                return in_force[scope]
        tried = "、".join(_describe_scope(s) for s in scopes)
        raise RuleNotFound(f"法定参数 {name} 在 {on.isoformat()} 没有适用的取值（已查找：{tried}）")


def load_rules(*directories: Path | str) -> RuleSet:
    """Load and validate every ``*.yaml`` file in the directories (default: params/).

    Raises RuleFileError on the first problem, naming the file, the parameter
    and the entry.
    """
    dirs = tuple(Path(d) for d in directories) or (DEFAULT_PARAMS_DIR,)
    rules: dict[str, Rule] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise RuleFileError(f"参数目录 {directory} 不存在")
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise RuleFileError(f"参数目录 {directory} 中没有 .yaml 文件")
        for path in files:
            file = path.name
            try:
                data = read_yaml(path)
            except yaml.YAMLError as exc:
                raise RuleFileError(f"文件 {file}：YAML 格式错误：{exc}") from None
            if not isinstance(data, list) or not data:
                raise RuleFileError(f"文件 {file}：顶层应为参数定义的非空列表")
            for index, item in enumerate(data):
                rule = _parse_parameter(item, file, index)
                if rule.name in rules:
                    raise _fail(f"参数名重复（已在 {rules[rule.name].source} 中定义）", file, rule.name)
                rules[rule.name] = rule
    return RuleSet(rules, dirs)


_lock = threading.Lock()
_cached: RuleSet | None = None


def _ruleset() -> RuleSet:
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                _cached = load_rules()
    return _cached


def reload_rules(*directories: Path | str) -> RuleSet:
    """Drop the cache and load again (from the given directories, or params/).

    Tests that load another directory should call ``reload_rules()`` again
    afterwards to restore the packaged parameters.
    """
    global _cached
    with _lock:
        _cached = load_rules(*directories)
    return _cached


def get_rule(name: str, *, on: date, agency: Any = None, region_code: str | None = None) -> RuleValue:
    """The value of parameter ``name`` in force on ``on`` for the agency/region.

    Scope order: ``agency:<credit code>`` > the region and its ancestors
    (county → city → province) > ``national``; within the first scope that has
    a value in force, the latest ``valid_from`` on or before ``on``.
    Raises RuleNotFound for an unknown name or when no value is in force.
    """
    return _ruleset().get(name, on=on, agency=agency, region_code=region_code)


def values_in_force(name: str, *, on: date) -> dict[str, RuleValue]:
    """Scope → the value of parameter ``name`` in force there on ``on``
    (every scope that has one; RuleNotFound if the name is unknown)."""
    return _ruleset().in_force(name, on=on)


def rule_definition(name: str) -> Rule:
    """The parameter ``name`` with all its dated values (RuleNotFound if unknown)."""
    return _ruleset().rule(name)


def all_rules() -> list[Rule]:
    """Every parameter, sorted by name, with all its dated values."""
    return _ruleset().all()
