"""Listeners to a catalogue version being accepted (备案), registered by a
higher app in its AppConfig.ready — docking sends the accepted version
upward (docs/docking.md "Catalogue versions") — and called by
``services.accept_version`` (and ``docked.receive_accepted_version``, so a
city forwards what its counties filed) inside the transaction of the
acceptance, so what a listener writes (an outbox row) commits or rolls back
with it (docs/decisions/0011: registries, never signals)."""

from __future__ import annotations

from typing import Callable

_VERSION_ACCEPTED: list[Callable] = []


def register_version_accepted(listener: Callable) -> Callable:
    """``listener(version)``: a CatalogueVersion just accepted (any kind; the
    listener picks the ones it cares for)."""
    if listener not in _VERSION_ACCEPTED:
        _VERSION_ACCEPTED.append(listener)
    return listener


def version_accepted(version) -> None:
    for listener in _VERSION_ACCEPTED:
        listener(version)
