"""The to-do list (待办, issue 11 item 5): every open item that needs the
acting user, from every app, most urgent first.

core imports no app (docs/architecture.md): each app that has work for
someone registers, in its AppConfig.ready, a provider
``provider(*, user, today) -> iterable[TodoItem]`` (its own ``todo.py``).
A provider is a read: it goes through its app's selectors, which take the
acting user and apply the jurisdiction rules, and writes nothing. It must
answer in a bounded number of queries whatever the number of items (no
query per item): the list is read on every page for the navigation's count.

The merged list (``todo_for``) is ordered overdue first, then by due date,
undated last; each item says how urgent it is:

- ``overdue``: the due date has passed (red);
- ``soon``: due within ``SOON_WORKING_DAYS`` working days on the official
  calendar (amber);
- ``later``: due after that;
- ``undated``: no date (a next step to take, an item waiting for the user).

This module imports no model, so that an AppConfig module can import it at
its top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

# How near a due date turns amber: a display threshold of the to-do list
# (issue 11 item 5: "due within 3 working days amber"), not a legal period,
# so it is not a dated rule in sanxiang/rules.
SOON_WORKING_DAYS = 3

# The most items one list holds: the page, the API and the count read the
# same bounded list (each provider is bounded too).
MAX_ITEMS = 500

URGENCY_ORDER = ("overdue", "soon", "later", "undated")

_PROVIDERS: dict[str, Callable[..., Iterable]] = {}


@dataclass(frozen=True)
class TodoItem:
    """One thing the user has to do.

    ``kind`` is a stable code (the API's ``kind``); ``label`` its name shown
    on the page (translated); ``title`` says what and on which record;
    ``url`` is the page where it is done; ``due`` the last day, or None;
    ``detail`` an optional second line (the agency, the rule)."""

    kind: str
    label: str
    title: str
    url: str
    due: date | None = None
    detail: str = ""
    urgency: str = field(default="", compare=False)

    @property
    def overdue(self) -> bool:
        return self.urgency == "overdue"


def register_todo_provider(provider: Callable[..., Iterable]) -> Callable[..., Iterable]:
    """Register ``provider(*, user, today) -> iterable[TodoItem]`` (keyed by
    its module and name: a second ready() call replaces, never duplicates)."""
    _PROVIDERS[f"{provider.__module__}.{provider.__qualname__}"] = provider
    return provider


def providers() -> list[Callable[..., Iterable]]:
    return [_PROVIDERS[name] for name in sorted(_PROVIDERS)]


def urgency_of(due: date | None, *, today: date, soon_until: date) -> str:
    if due is None:
        return "undated"
    if due < today:
        return "overdue"
    if due <= soon_until:
        return "soon"
    return "later"


def soon_until(today: date) -> date:
    """The last day that counts as "soon": ``SOON_WORKING_DAYS`` working
    days after today on the official calendar (core/calendar.py)."""
    from .calendar import add_working_days  # noqa: PLC0415 — same app; keeps this module free of models at import

    return add_working_days(start=today, days=SOON_WORKING_DAYS).date


def _sort_key(item: TodoItem):
    return (item.due is None, item.due or date.max, item.kind, item.title, item.url)


def todo_for(*, user, today: date | None = None) -> list[TodoItem]:
    """Every registered provider's items for ``user``, each marked with its
    urgency, most urgent first; at most ``MAX_ITEMS``. Nobody logged in, or
    an inactive account, has nothing to do."""
    from . import clock  # noqa: PLC0415 — same app

    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    today = today or clock.today()
    limit = soon_until(today)
    items = []
    seen = set()
    for provider in providers():
        for item in provider(user=user, today=today):
            key = (item.kind, item.url, item.title)
            if key in seen:  # two providers naming the same thing once
                continue
            seen.add(key)
            items.append(TodoItem(kind=item.kind, label=item.label, title=item.title, url=item.url, due=item.due,
                                  detail=item.detail, urgency=urgency_of(item.due, today=today, soon_until=limit)))
    items.sort(key=_sort_key)
    return items[:MAX_ITEMS]


def todo_count(*, user, today: date | None = None) -> int:
    return len(todo_for(user=user, today=today))


def todo_for_request(request) -> list[TodoItem]:
    """The acting user's list, read once per request (the workbench page
    and the navigation's count share it)."""
    cached = getattr(request, "_sanxiang_todo", None)
    if cached is None:
        cached = todo_for(user=getattr(request, "user", None))
        request._sanxiang_todo = cached
    return cached
