"""The one clock of the platform: every "today" is the Asia/Shanghai date.

Decisions, deadlines and publicity periods carry China Standard Time dates
(design.md, "Dates"). A server keeps UTC, so between 16:00 and 24:00 UTC the
UTC date is a day behind Shanghai's: `date.today()`, `datetime.now().date()`
or `aware_datetime.date()` give yesterday there. Code and tests ask this
module instead (a test fails if any other module calls date.today(),
datetime.now(), timezone.localdate() or timezone.localtime()).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant (aware, UTC), as stored in DateTimeFields."""
    return timezone.now()


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return local_date(timezone.now())


def local_time(at: datetime) -> datetime:
    """An instant as Asia/Shanghai wall-clock time (for printing a time of day)."""
    if timezone.is_naive(at):
        raise ValueError("local_time needs an aware datetime")
    return at.astimezone(SHANGHAI)


def local_date(at: datetime) -> date:
    """The Asia/Shanghai date of an instant (an aware datetime, e.g. a
    DateTimeField's value). A naive datetime is refused: its zone is unknown."""
    if timezone.is_naive(at):
        raise ValueError("local_date needs an aware datetime")
    return at.astimezone(SHANGHAI).date()
