"""Deadlines from the dated legal rules on the official calendar.

Code asks "what is the limit for this act, for this agency, on this date"
(design.md), then counts it on the working-day calendar. Every result carries
the rule that made it (value, unit, reference) and whether it is provisional
(a year in the span has no official holiday schedule yet, issue 2 item 9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sanxiang.rules.loader import RuleValue, get_rule

from .calendar import Deadline, add_period

PERIOD_UNITS = {"working_days", "calendar_days", "months", "years"}

# How a period reads in Chinese where it is stored as text beside its
# citation (a decision's publication rule): "7个工作日", "15日".
PERIOD_UNIT_NAMES = {"working_days": "个工作日", "calendar_days": "日", "months": "个月", "years": "年"}


def period_text(amount, unit: str) -> str:
    return f"{amount}{PERIOD_UNIT_NAMES.get(unit, unit)}"


@dataclass(frozen=True)
class RuleDeadline:
    deadline: Deadline
    rule: RuleValue

    @property
    def date(self) -> date:
        return self.deadline.date

    @property
    def provisional(self) -> bool:
        return self.deadline.provisional


def deadline_for(*, rule: str, start: date, agency=None, region_code: str | None = None) -> RuleDeadline:
    """The last day of the period named by `rule`, counted from `start`
    (the start day itself not counted), with the rule in force on `start`."""
    value = get_rule(rule, on=start, agency=agency, region_code=region_code)
    if value.unit not in PERIOD_UNITS:
        raise ValueError(f"参数 {rule} 的单位是 {value.unit}，不是期限，无法计算截止日期。")
    return RuleDeadline(deadline=add_rule_period(start=start, rule=value), rule=value)


def add_rule_period(*, start: date, rule: RuleValue, oracle=None) -> Deadline:
    """The period of the dated rule ``rule`` counted from ``start``, rolling
    to the next working day or not as the rule says (its
    ``rolls_to_working_day``, with ``rolls_reference``). Every deadline
    computed from a rule goes through here."""
    if rule.unit not in PERIOD_UNITS:
        raise ValueError(f"参数 {rule.name} 的单位是 {rule.unit}，不是期限，无法计算截止日期。")
    return add_period(start=start, amount=int(rule.value), unit=rule.unit,
                      rolls_to_working_day=rule.rolls_to_working_day, oracle=oracle)
