"""The arithmetic behind alerts.horizon and alerts.yellow_days, kept apart
so that the registry module (alerts.py) imports no model: the dated rule
(rules/loader.py) and the official calendar (core/calendar.py)."""

from __future__ import annotations

from datetime import date

from sanxiang.core.calendar import add_working_days
from sanxiang.rules.loader import get_rule


def yellow_days(rule_name: str, *, today: date) -> int:
    return int(get_rule(rule_name, on=today).value)


def horizon(days: int, *, today: date) -> date:
    """Today plus ``days`` working days (today itself when none)."""
    if days <= 0:
        return today
    return add_working_days(start=today, days=days).date
