"""The official working-day calendar and legal period arithmetic.

Whether a day is a working day comes from, in this order:

1. a year an administrator loaded into the database (``CalendarYear`` with
   ``CalendarDay`` exceptions to the Monday–Friday rule);
2. the ``chinese_calendar`` package, which carries the State Council's
   schedules for the years it knows;
3. otherwise Monday–Friday only. Such a day is *not official*, and any
   deadline that looked at it is marked provisional.

Periods follow Chinese procedure law: the first day is not counted
(期间开始的日不计算在内), and whether a period whose last day is a holiday
or rest day ends on the next working day is a property of the dated rule
(``rolls_to_working_day`` with its reference): periods for a party's act
roll, maximum periods that bound the agency's own power (a 30-day seizure,
the 90-day decision limit) do not. See docs/calendar.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from calendar import monthrange
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar
import yaml
from chinese_calendar.constants import Holiday
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import append_audit
from .calendar_hooks import recompute_provisional_deadlines, register_provisional_recompute  # noqa: F401
from .models import CalendarDay, CalendarYear

WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"
MONTHS = "months"
YEARS = "years"
UNITS = (WORKING_DAYS, CALENDAR_DAYS, MONTHS, YEARS)

# Guards against runaway loops on absurd input; no legal period comes close.
MAX_DAYS = 36_600
MAX_MONTHS = 1_200
MAX_YEARS = 100

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAYS = "一二三四五六日"


# --------------------------------------------------------------------------
# Day status


class _DayOracle:
    """Answers "is this a working day, and is that official?" for many days,
    reading each loaded year from the database once."""

    def __init__(self) -> None:
        self._loaded: dict[int, dict[dt.date, bool] | None] = {}
        self._days: dict[dt.date, tuple[bool, bool]] = {}

    def _loaded_year(self, year: int) -> dict[dt.date, bool] | None:
        if year not in self._loaded:
            calendar_year = CalendarYear.objects.filter(year=year).first()
            self._loaded[year] = None if calendar_year is None else dict(
                CalendarDay.objects.filter(year=calendar_year).values_list("date", "is_workday")
            )
        return self._loaded[year]

    def status(self, d: dt.date) -> tuple[bool, bool]:
        known = self._days.get(d)
        if known is None:
            known = self._days[d] = self._status(d)
        return known

    def _status(self, d: dt.date) -> tuple[bool, bool]:
        exceptions = self._loaded_year(d.year)
        if exceptions is not None:
            return exceptions.get(d, d.weekday() < 5), True
        try:
            return chinese_calendar.is_workday(d), True
        except NotImplementedError:
            return d.weekday() < 5, False


def calendar_session() -> _DayOracle:
    """One view of the calendar for many computations (a batch of records):
    each loaded year is read once and each day looked up once. Pass it as
    ``oracle=`` to the period functions; don't keep it across requests (a
    year loaded meanwhile would not be seen)."""
    return _DayOracle()


def day_status(d: dt.date) -> tuple[bool, bool]:
    """(is_workday, official) for one day."""
    return _DayOracle().status(_check_date(d))


def parse_date(text) -> dt.date:
    """A strict YYYY-MM-DD date; ValueError with a Chinese message otherwise."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text.strip()):
        raise ValueError(f"日期格式无效：{text!r}，应为 YYYY-MM-DD。")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"日期 {text!r} 不存在（应为有效的 YYYY-MM-DD 日期）。") from None


# --------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Deadline:
    """The last day of a period, and whether any day it depended on lies in
    a year with no official schedule (then it may move once one is loaded)."""

    start: dt.date
    amount: int
    unit: str
    date: dt.date
    provisional: bool

    def __str__(self) -> str:
        text = self.date.isoformat()
        return f"{text} provisional" if self.provisional else text


def _check_date(value) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"期间起算日必须是日期（date），而不是 {type(value).__name__}。")
    return value


def _check_amount(value, *, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"期间长度必须是整数，而不是 {type(value).__name__}。")
    if value < 0:
        raise ValueError(f"期间长度不能为负数：{value}。")
    if value > limit:
        raise ValueError(f"期间长度 {value} 超出上限 {limit}。")
    return value


def add_working_days(*, start: dt.date, days: int, oracle: _DayOracle | None = None) -> Deadline:
    """The day ``days`` working days after ``start`` (``start`` itself is not
    counted; 0 gives ``start``)."""
    _check_date(start)
    _check_amount(days, limit=MAX_DAYS)
    oracle = oracle or _DayOracle()
    current, counted, provisional = start, 0, False
    while counted < days:
        current += dt.timedelta(days=1)
        is_workday, official = oracle.status(current)
        provisional = provisional or not official
        if is_workday:
            counted += 1
    return Deadline(start=start, amount=days, unit=WORKING_DAYS, date=current, provisional=provisional)


def _rolled(current: dt.date, oracle: _DayOracle) -> tuple[dt.date, bool]:
    """``current``, or the first working day after it, and whether any day
    looked at lies in a year without an official schedule."""
    is_workday, official = oracle.status(current)
    provisional = not official
    while not is_workday:
        current += dt.timedelta(days=1)
        is_workday, official = oracle.status(current)
        provisional = provisional or not official
    return current, provisional


def add_calendar_days(*, start: dt.date, days: int, rolls_to_working_day: bool = True,
                      oracle: _DayOracle | None = None) -> Deadline:
    """``start`` + ``days``; with ``rolls_to_working_day`` a last day that is
    not a working day (weekend or holiday) moves to the next working day;
    without it the period ends on that day whatever it is (and then no
    schedule can move it: never provisional)."""
    _check_date(start)
    _check_amount(days, limit=MAX_DAYS)
    current, provisional = start + dt.timedelta(days=days), False
    if rolls_to_working_day:
        current, provisional = _rolled(current, oracle or _DayOracle())
    return Deadline(start=start, amount=days, unit=CALENDAR_DAYS, date=current, provisional=provisional)


def _add_months(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if year > dt.MAXYEAR:
        raise ValueError(f"期间终止日超出可表示的日期范围（{dt.MAXYEAR} 年）。")
    return dt.date(year, month, min(start.day, monthrange(year, month)[1]))


def add_period(*, start: dt.date, amount: int, unit: str, rolls_to_working_day: bool | None = None,
               oracle: _DayOracle | None = None) -> Deadline:
    """Dispatch on ``unit``: "working_days", "calendar_days", "months" or
    "years". Months and years keep the day number (clamped to the month's
    end, e.g. 31 January + 1 month = 28/29 February).

    ``rolls_to_working_day`` comes from the dated rule (RuleValue of the same
    name; use :func:`sanxiang.core.deadlines.add_rule_period`): True moves a
    last day that is a holiday or rest day to the next working day, False
    keeps it. None (a bare period, e.g. the calculator's free input) means
    the general rule for days (calendar days roll) and no shift for months
    and years. A working-day period always ends on a working day."""
    if unit == WORKING_DAYS:
        return add_working_days(start=start, days=amount, oracle=oracle)
    if unit == CALENDAR_DAYS:
        return add_calendar_days(start=start, days=amount, oracle=oracle,
                                 rolls_to_working_day=rolls_to_working_day is not False)
    if unit in (MONTHS, YEARS):
        _check_date(start)
        _check_amount(amount, limit=MAX_MONTHS if unit == MONTHS else MAX_YEARS)
        current, provisional = _add_months(start, amount if unit == MONTHS else 12 * amount), False
        if rolls_to_working_day:
            current, provisional = _rolled(current, oracle or _DayOracle())
        return Deadline(start=start, amount=amount, unit=unit, date=current, provisional=provisional)
    raise ValueError(f"未知的期间单位：{unit!r}（可用：{'、'.join(UNITS)}）。")


def _within_the_calendar(add):
    """A period that would end after 9999-12-31 is a ValueError naming the
    problem (a start date typed as 9999-12-31 was an OverflowError: 500)."""

    def wrapper(**kwargs):
        try:
            return add(**kwargs)
        except OverflowError:
            raise ValueError(f"期间终止日超出可计算的日期范围：起算日 {kwargs.get('start')} 过晚。") from None

    wrapper.__doc__, wrapper.__name__, wrapper.__wrapped__ = add.__doc__, add.__name__, add
    return wrapper


add_working_days = _within_the_calendar(add_working_days)
add_calendar_days = _within_the_calendar(add_calendar_days)
add_period = _within_the_calendar(add_period)


# --------------------------------------------------------------------------
# Reading a year's schedule (for display)


@dataclass(frozen=True)
class ScheduledDay:
    date: dt.date
    name: str


@dataclass(frozen=True)
class YearSchedule:
    """A year's holidays and make-up working days as the platform uses them."""

    year: int
    official: bool
    source: str  # where the schedule came from, for people
    holidays: tuple[ScheduledDay, ...]  # days off, including weekends inside a holiday
    workdays: tuple[ScheduledDay, ...]  # make-up working days (调休) on weekends
    loaded_at: dt.datetime | None = None


def _package_name(english: str | None) -> str:
    if not english:
        return ""
    try:
        return Holiday(english).chinese
    except ValueError:
        return english


def year_schedule(*, year: int) -> YearSchedule:
    """The schedule in force for ``year``, from the same source order as
    :func:`day_status`."""
    calendar_year = CalendarYear.objects.filter(year=year).first()
    if calendar_year is not None:
        days = list(calendar_year.days.all())
        return YearSchedule(
            year=year, official=True, source=calendar_year.source, loaded_at=calendar_year.loaded_at,
            holidays=tuple(ScheduledDay(d.date, d.name) for d in days if not d.is_workday),
            workdays=tuple(ScheduledDay(d.date, d.name) for d in days if d.is_workday),
        )
    first = dt.date(year, 1, 1)
    try:
        chinese_calendar.is_workday(first)
    except NotImplementedError:
        return YearSchedule(year=year, official=False, source="无官方放假安排：仅按周一至周五计算",
                            holidays=(), workdays=())
    holidays, workdays = [], []
    for offset in range((dt.date(year + 1, 1, 1) - first).days):
        d = first + dt.timedelta(days=offset)
        on_holiday, english = chinese_calendar.get_holiday_detail(d)
        if on_holiday and english:
            holidays.append(ScheduledDay(d, _package_name(english)))
        elif not on_holiday and d.weekday() >= 5:
            workdays.append(ScheduledDay(d, _package_name(english)))
    version = getattr(chinese_calendar, "__version__", "")
    return YearSchedule(year=year, official=True, source=f"chinese_calendar 软件包 {version}".strip(),
                        holidays=tuple(holidays), workdays=tuple(workdays))


def weekday_name(d: dt.date) -> str:
    return "星期" + _WEEKDAYS[d.weekday()]


# --------------------------------------------------------------------------
# Loading an official schedule


_TOP_KEYS = {"year", "source", "holidays", "workdays"}
_ENTRY_KEYS = {"name", "dates", "from", "to"}


class _Errors:
    """Collects every problem in a file, keyed by the field it concerns."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


class _ScheduleLoader(yaml.SafeLoader):
    """SafeLoader that keeps unquoted dates as text, so every date goes
    through _parse_date and a bad one (2027-02-30) is named by its field."""


_ScheduleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_date(value, *, field: str, errors: _Errors) -> dt.date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        errors.add(field, str(exc))
        return None


def _entry_dates(entry, *, field: str, errors: _Errors) -> tuple[str, list[tuple[str, dt.date]]]:
    """The name of one holidays/workdays entry and its dates, each with the
    field it came from."""
    if not isinstance(entry, dict):
        errors.add(field, "每一项必须是包含 name 和 dates（或 from/to）的映射。")
        return "", []
    for key in sorted(set(map(str, entry)) - _ENTRY_KEYS):
        errors.add(f"{field}.{key}", "未知字段（可用：name、dates、from、to）。")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add(f"{field}.name", "缺少名称（如“春节”）。")
        name = ""
    elif len(name.strip()) > 64:
        errors.add(f"{field}.name", "名称不得超过 64 个字符。")
    has_dates, has_range = "dates" in entry, "from" in entry or "to" in entry
    if has_dates == has_range:
        errors.add(field, "须给出 dates 列表或 from/to 区间，二者只能选一。")
        return name.strip(), []
    found: list[tuple[str, dt.date]] = []
    if has_dates:
        dates = entry["dates"]
        if not isinstance(dates, list) or not dates:
            errors.add(f"{field}.dates", "必须是非空的日期列表。")
            return name.strip(), []
        for i, value in enumerate(dates):
            d = _parse_date(value, field=f"{field}.dates[{i}]", errors=errors)
            if d is not None:
                found.append((f"{field}.dates[{i}]", d))
        return name.strip(), found
    ends = {}
    for key in ("from", "to"):
        if key not in entry:
            errors.add(f"{field}.{key}", "区间须同时给出 from 和 to。")
        else:
            ends[key] = _parse_date(entry[key], field=f"{field}.{key}", errors=errors)
    begin, end = ends.get("from"), ends.get("to")
    if begin is None or end is None:
        return name.strip(), []
    if end < begin:
        errors.add(f"{field}.to", f"区间结束日 {end} 早于开始日 {begin}。")
        return name.strip(), []
    if (end - begin).days > 366:
        errors.add(f"{field}.to", "区间超过一年。")
        return name.strip(), []
    return name.strip(), [(f"{field}.from", begin + dt.timedelta(days=i)) for i in range((end - begin).days + 1)]


def _read_file(path: Path) -> tuple[object, bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError({"file": ValidationError(f"文件不存在：{path}", code="file_missing")}) from None
    except OSError as exc:
        raise ValidationError({"file": ValidationError(f"无法读取文件 {path}：{exc.strerror or exc}", code="file_unreadable")}) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ValidationError(f"文件 {path} 不是 UTF-8 编码。", code="not_utf8")}) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text), raw
        return yaml.load(text, Loader=_ScheduleLoader), raw
    except json.JSONDecodeError as exc:
        raise ValidationError({"file": ValidationError(f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}", code="invalid_json")}) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
        raise ValidationError({"file": ValidationError(f"YAML 格式错误{where}：{getattr(exc, 'problem', None) or exc}", code="invalid_yaml")}) from None


def _validated_schedule(data) -> tuple[int, str, dict[dt.date, tuple[bool, str]]]:
    """(year, source, {date: (is_workday, name)}) or a ValidationError naming
    every problem found."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise ValidationError({"file": ValidationError("文件内容必须是一个映射（包含 year、source、holidays、workdays）。", code="not_a_mapping")})
    for key in sorted(set(map(str, data)) - _TOP_KEYS):
        errors.add(key, "未知字段（可用：year、source、holidays、workdays）。")

    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        errors.add("year", "缺少年份或年份不是整数（如 2027）。")
        year = None
    elif not 1949 <= year <= 2200:
        errors.add("year", f"年份 {year} 不在 1949–2200 之间。")
        year = None

    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.add("source", "缺少来源：须写明发布放假安排的文件（如“国办发明电〔2026〕X号”）。")
        source = ""
    elif len(source.strip()) > 255:
        errors.add("source", "来源不得超过 255 个字符。")
    source = source.strip()

    days: dict[dt.date, tuple[bool, str]] = {}
    seen_at: dict[dt.date, str] = {}
    for kind, is_workday in (("holidays", False), ("workdays", True)):
        entries = data.get(kind)
        if entries is None:
            if kind == "holidays":
                errors.add(kind, "缺少放假日期列表。")
            continue
        if not isinstance(entries, list) or (kind == "holidays" and not entries):
            errors.add(kind, "必须是列表" + ("且不能为空。" if kind == "holidays" else "。"))
            continue
        for i, entry in enumerate(entries):
            name, dates = _entry_dates(entry, field=f"{kind}[{i}]", errors=errors)
            for field, d in dates:
                if year is not None and d.year != year:
                    errors.add(field, f"日期 {d} 不在 {year} 年内。")
                    continue
                if d in days:
                    earlier_is_workday = days[d][0]
                    if earlier_is_workday != is_workday:
                        errors.add(field, f"日期 {d} 不能既是放假日又是调休上班日（另见 {seen_at[d]}）。")
                    else:
                        errors.add(field, f"日期 {d} 重复（另见 {seen_at[d]}）。")
                    continue
                if is_workday and d.weekday() < 5:
                    errors.add(field, f"调休上班日 {d} 是{weekday_name(d)}，本来就是工作日；只应列出周末上班的日子。")
                    continue
                days[d] = (is_workday, name)
                seen_at[d] = field
    errors.raise_if_any()
    return year, source, days


# --------------------------------------------------------------------------
# Stored provisional deadlines, recomputed when a year is loaded

# Each app that stores a deadline computed on the calendar registers its
# recompute function in core/calendar_hooks.py (a module without models, so
# that AppConfig modules can import it at the top); load_schedule runs them.


def load_schedule(*, path: str | Path, actor) -> CalendarYear:
    """Load (or replace) a year's official schedule from a YAML or JSON file.

    The whole file is validated before anything is written; the year's days
    are then replaced and the audit entry appended in one transaction."""
    path = Path(path)
    data, raw = _read_file(path)
    year, source, days = _validated_schedule(data)
    with transaction.atomic():
        calendar_year = CalendarYear.objects.select_for_update().filter(year=year).first()
        previous = None
        if calendar_year is None:
            calendar_year = CalendarYear.objects.create(year=year, source=source)
        else:
            previous = calendar_year.source
            calendar_year.source = source
            calendar_year.loaded_at = timezone.now()
            calendar_year.save(update_fields=["source", "loaded_at"])
            calendar_year.days.all().delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(year=calendar_year, date=d, is_workday=is_workday, name=name[:64])
            for d, (is_workday, name) in sorted(days.items())
        )
        append_audit(actor=actor, action="calendar.load", obj=calendar_year, payload={
            "year": year,
            "source": source,
            "file": path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "holidays": [d.isoformat() for d, (w, _) in sorted(days.items()) if not w],
            "workdays": [d.isoformat() for d, (w, _) in sorted(days.items()) if w],
            "replaced": previous is not None,
            "previous_source": previous,
        })
        # Every stored deadline that was provisional is recomputed on the
        # schedule just written, in the same transaction (each change audited
        # by its app): nothing stays 暂定 once its year is loaded.
        recomputed = recompute_provisional_deadlines(actor=actor, year=year)
        append_audit(actor=actor, action="calendar.recompute", obj=calendar_year,
                     payload={"year": year, "recomputed": recomputed})
    calendar_year.recomputed = recomputed  # {app function: provisional records looked at}, for the command
    return calendar_year
