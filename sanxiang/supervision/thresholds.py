"""The arithmetic behind alerts.horizon and alerts.yellow_days, kept apart
so that the registry module (alerts.py) imports no model: the dated rule
(rules/loader.py) and the official calendar (core/calendar.py)."""

from __future__ import annotations

from datetime import date

from sanxiang.core.calendar import add_working_days
from sanxiang.rules.loader import get_rule, values_in_force


def yellow_days(rule_name: str, *, today: date, agency=None, region_code: str | None = None) -> int:
    """N in force on ``today`` for the agency (its credit code or an Agency)
    and region: an agency's or a region's own value before the national one
    (rules/loader.py scope order)."""
    return int(get_rule(rule_name, on=today, agency=agency, region_code=region_code).value)


def widest_yellow_days(rule_name: str, *, today: date) -> int:
    """The largest N in force on ``today`` in any scope (national, a
    region's, an agency's): what bounds a source's query, before the
    refresh keeps each item within its own agency's N."""
    in_force = values_in_force(rule_name, on=today)
    if not in_force:
        return yellow_days(rule_name, today=today)  # raises RuleNotFound, naming the rule and the date
    return max(int(v.value) for v in in_force.values())


def horizon(days: int, *, today: date) -> date:
    """Today plus ``days`` working days (today itself when none)."""
    if days <= 0:
        return today
    return add_working_days(start=today, days=days).date
