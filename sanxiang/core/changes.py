"""Listeners to changes of core rows that higher apps carry elsewhere
(docking sends the public officer list upward: 亮证 at the province works
for a county's officer; 公示-18). A higher app registers in its
AppConfig.ready; core calls the listeners inside the transaction of the
change (docs/decisions/0011: registries, never signals), so what a listener
writes commits or rolls back with the change.

And the other way: which lower platform reported an officer received from
it (docking answers; the 亮证 page names it)."""

from __future__ import annotations

from typing import Callable

from django.db import transaction

_OFFICER_CHANGED: list[Callable] = []


def register_officer_changed(listener: Callable) -> Callable:
    """``listener(officer)`` after an officer is created, changed or has its
    certificate status changed."""
    if listener not in _OFFICER_CHANGED:
        _OFFICER_CHANGED.append(listener)
    return listener


def officer_changed(officer) -> None:
    for listener in _OFFICER_CHANGED:
        listener(officer)


_OFFICER_SOURCE: list[Callable] = []


def register_officer_source(provider: Callable) -> Callable:
    """``provider(officer) -> str``: the name of the lower platform that
    reported the officer (docking: the platform whose message created or
    last changed it), "" if none."""
    if provider not in _OFFICER_SOURCE:
        _OFFICER_SOURCE.append(provider)
    return provider


def officer_source(officer) -> str:
    for provider in _OFFICER_SOURCE:
        name = provider(officer)
        if name:
            return name
    return ""


# Regions and agencies change rarely, and lists built from them sit on busy
# pages (the portal search form: 122 regions, 550 agencies at a province).
# This process's count of their saves and deletions tells such a list, held
# between requests, that it must be read again; a change made by another
# process reaches it through the list's own time limit.
_reference_generation = 0


def reference_changed(using: str | None = None) -> None:
    """A region or agency was saved or deleted in this process: counted at
    once and again at the commit, so a list read in between (by another
    thread, before the change was visible) is not kept as current."""
    forget_reference_lists()
    transaction.on_commit(forget_reference_lists, using=using)


def forget_reference_lists() -> None:
    """Every list of regions or agencies held is read again when next
    asked for (also what the tests do before each test: a new database)."""
    global _reference_generation
    _reference_generation += 1


def reference_generation() -> int:
    return _reference_generation
