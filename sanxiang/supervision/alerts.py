"""The registry of alert rules (预警, issue 15 item 2).

An alert rule names a kind of limit the supervising legal office watches
(publication due, the 90-day case limit, a seizure period, ...). Each rule
is registered once, in its app's ``AppConfig.ready``:

    from sanxiang.supervision.alerts import AlertCandidate, register_alert_rule

    register_alert_rule(code, label, source)

This module imports no model (like core/todo.py), so an AppConfig module
may import it at its top; ``horizon`` and ``yellow_days`` load the calendar
and the rules when first called (supervision/thresholds.py).

- ``code``: a stable identifier, ``<app>.<what>`` (``evaluation.finding_rectification``):
  the API's ``rule``, the Alert row's ``rule`` and the name of its dated
  threshold ``supervision.alert.<code>.yellow_working_days`` in
  sanxiang/rules/params/ (the rule must have one; a platform default is
  fine where no law fixes N: say so in its reference);
- ``label``: its name on the pages (a lazy translation);
- ``source(*, today)``: yields ``AlertCandidate`` for every open item of
  the rule whose limit falls on or before the yellow horizon of that rule
  (``horizon(code, today)``: today + N working days on the official
  calendar, N the largest value in force in any scope; the refresh drops
  an item beyond its own agency's N). It reads in a bounded number of queries whatever the number
  of items (a query per rule or per chunk, never per object), writes
  nothing, and takes no user (the refresh job sees every agency; the reads
  of the table apply jurisdiction). An item that is no longer open is
  simply not yielded: its alert closes by itself at the next refresh.

``AlertCandidate`` fields:

- ``key``: the object's stable key within the rule (``"case:42:step:7"``);
- ``title``: what and on which record (Chinese, shown as is);
- ``due``: the last day of the limit (a date);
- ``agency``: the responsible agency (an ``Agency`` or its id);
- ``user``: the responsible user (a ``User`` or its id), or None
  (then the agency's legal officers and head are responsible);
- ``object_url``: the page of the object (its path, e.g. ``/cases/42/``).

The refresh job (supervision/tasks.py, job ``supervision.alerts``) turns the
candidates into rows of the Alert table: yellow when ``due`` is within N
working days, red once it has passed; the pages, the to-do list and the API
read the table only. A higher app registers without supervision importing
it (docs/architecture.md, registries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

_RULES: dict[str, AlertRule] = {}


@dataclass(frozen=True)
class AlertCandidate:
    key: str
    title: str
    due: date
    agency: object
    object_url: str
    user: object = None

    @property
    def agency_id(self) -> int:
        return self.agency if isinstance(self.agency, int) else self.agency.pk

    @property
    def user_id(self) -> int | None:
        if self.user is None or isinstance(self.user, int):
            return self.user
        return self.user.pk


@dataclass(frozen=True)
class AlertRule:
    code: str
    label: object
    source: Callable[..., Iterable[AlertCandidate]]


def register_alert_rule(code: str, label, source: Callable[..., Iterable[AlertCandidate]]) -> AlertRule:
    """Register rule ``code`` (idempotent: a second ready() call replaces it)."""
    if not code or len(code) > 64 or not code.replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"bad alert rule code {code!r}")
    rule = AlertRule(code=code, label=label, source=source)
    _RULES[code] = rule
    return rule


def alert_rules() -> list[AlertRule]:
    return [_RULES[code] for code in sorted(_RULES)]


def alert_rule(code: str) -> AlertRule | None:
    return _RULES.get(code)


def threshold_rule_name(code: str) -> str:
    """The dated rule holding N (working days before the limit that turn the alert yellow)."""
    return f"supervision.alert.{code}.yellow_working_days"


def yellow_days(code: str, *, today: date, agency=None, region_code: str | None = None) -> int:
    """N of rule ``code`` on ``today`` (its dated threshold) for the agency
    (an Agency or its credit code) and region, national when neither."""
    from . import thresholds  # noqa: PLC0415 — same app; keeps this module free of models at import

    return thresholds.yellow_days(threshold_rule_name(code), today=today, agency=agency, region_code=region_code)


def horizon(code: str, *, today: date) -> date:
    """The last due date that may be yellow today for rule ``code``: today
    plus the largest N in force in any scope, in working days on the official
    calendar (core/calendar.py). Sources bound their query with it; the
    refresh then keeps each item within its agency's own N (an agency's or
    its region's value, else the national one)."""
    from . import thresholds  # noqa: PLC0415 — as above

    return thresholds.horizon(thresholds.widest_yellow_days(threshold_rule_name(code), today=today), today=today)
