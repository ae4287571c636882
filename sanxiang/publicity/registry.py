"""Listeners to a decision's public copy changing (published, corrected,
withdrawn), registered by a higher app in its AppConfig.ready — docking
sends the change upward (docs/docking.md) — and called by the publicity
services inside the transaction of the change, so what a listener writes
(an outbox row) commits or rolls back with it (docs/decisions/0011:
registries, never signals)."""

from __future__ import annotations

from typing import Callable

_PUBLIC_CHANGED: list[Callable] = []


def register_public_changed(listener: Callable) -> Callable:
    """``listener(decisions, event)``: the decisions of one write (a whole
    published batch at once); event: "published" (first publication or a
    correction of a public record) or "withdrawn"."""
    if listener not in _PUBLIC_CHANGED:
        _PUBLIC_CHANGED.append(listener)
    return listener


def public_changed(decisions: list, event: str) -> None:
    for listener in _PUBLIC_CHANGED:
        listener(decisions, event)
