"""Stored provisional deadlines, recomputed when a year's schedule is loaded.

Each app that stores a deadline computed on the official calendar (case
steps, publication due dates, review limits) registers, in its
AppConfig.ready, a function ``fn(*, actor, year) -> int`` that recomputes
every one of its stored provisional deadlines on the schedule just written
(inside the loading transaction of ``core.calendar.load_schedule``), appends
an audit entry for each one it changes and returns how many it looked at.

core imports no app: the apps call in (one-way dependencies,
docs/architecture.md). This module imports no model, so that an AppConfig
module can import it at its top.
"""

from __future__ import annotations

from collections.abc import Callable

_PROVISIONAL_RECOMPUTE: dict[str, Callable[..., int]] = {}


def register_provisional_recompute(fn: Callable[..., int]) -> None:
    """Register ``fn`` (keyed by its module and name, so a second ready()
    call replaces rather than duplicates it)."""
    _PROVISIONAL_RECOMPUTE[f"{fn.__module__}.{fn.__qualname__}"] = fn


def recompute_provisional_deadlines(*, actor, year: int) -> dict[str, int]:
    """Run every registered recompute function; {name: records looked at}."""
    return {name: fn(actor=actor, year=year) for name, fn in sorted(_PROVISIONAL_RECOMPUTE.items())}
