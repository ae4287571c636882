"""What apps above statistics plug into it (docs/architecture.md, decision 0011).

The statistics app sits on layer 6 and never imports docking or supervision
(layer 7) or evaluation (layer 8).

**Figure sources.** An app that owns a figure the cockpit and the
annual statistics show (complaints, open alerts, evaluation scores) registers
it here in its ``AppConfig.ready``::

    register_figure_source("complaints", _("complaints received"), figures.complaints_received)

``fn(*, agency_ids, date_from, date_to, today)`` answers the figure for each
agency id it was given (an agency it leaves out counts 0), with a bounded
number of queries (one GROUP BY agency, never one per agency); it is called
by ``statistics.figures.compute`` at the point the question arises. The
cockpit shows whatever sources are registered, in the order registered.

**Report-published listeners.** ``register_report_published(listener)``:
``listener(report)`` is called with an ``AnnualReport`` just published —
by ``annual_services.publish`` and by ``docked.receive_published_report``
(so a city forwards what its counties reported) — inside the transaction of
the publication, so what a listener writes (docking's outbox row, issue 13
item 2) commits or rolls back with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Protocol


class FigureFunction(Protocol):
    def __call__(self, *, agency_ids: list[int], date_from: date, date_to: date,
                 today: date) -> dict[int, int | Decimal]: ...


@dataclass(frozen=True)
class FigureSource:
    code: str
    label: str  # a lazy translation: the column heading
    fn: Callable[..., dict[int, int | Decimal]]


_SOURCES: dict[str, FigureSource] = {}


def register_figure_source(code: str, label, fn: FigureFunction) -> None:
    """Register (or, on a second ``ready`` in the same process, replace) the
    figure ``code``. Codes are ASCII words: they name Excel columns and JSON keys."""
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        raise ValueError(f"figure code must be an ASCII word: {code!r}")
    _SOURCES[code] = FigureSource(code=code, label=label, fn=fn)


def figure_sources() -> list[FigureSource]:
    return list(_SOURCES.values())


_REPORT_PUBLISHED: list[Callable] = []


def register_report_published(listener: Callable) -> Callable:
    """``listener(report)``: an AnnualReport just published here or received
    from a lower platform as published."""
    if listener not in _REPORT_PUBLISHED:
        _REPORT_PUBLISHED.append(listener)
    return listener


def report_published(report) -> None:
    for listener in _REPORT_PUBLISHED:
        listener(report)
