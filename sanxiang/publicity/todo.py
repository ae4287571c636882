"""What the publicity app puts on a user's to-do list (待办, issue 11 item 5;
core/todo.py), registered in ``PublicityConfig.ready``:

- a publicity administrator or agency head (PUBLICITY_MANAGERS): each
  decision waiting for its pre-publication check, due on its publication
  due date (公示-14: within 7 working days; overdue ones come first, red);
- whoever the dated rule ``publicity.early_end_approver_roles`` names:
  applications to end publicity early (credit repair) they may decide;
- a legal office: overdue publications of the agencies in its jurisdiction.

A withdrawal (公示-2, penalty law art. 48: within 3 working days of the
change) is written at once by ``services.withdraw_decision``, so none stays
open; one recorded after its due date is listed on the publicity workbench
(``overdue_withdrawals``), not here.

Reads only, through this app's selectors (scoped by the acting user).
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS, PUBLICITY_READERS, Role

from . import predicates, selectors
from .models import Decision, DecisionStatus

LIMIT = 200


def overdue_withdrawals(*, user) -> QuerySet[Decision]:
    """Withdrawn decisions in scope whose withdrawal was recorded after its
    due date (3 working days from the change for penalties, art. 48),
    latest first: the publicity workbench lists them (issue 11 item 4)."""
    return (selectors.decisions_for(user=user).select_related("withdrawal")
            .filter(status=DecisionStatus.WITHDRAWN, withdrawal__on_time=False)
            .order_by("-withdrawn_at", "-id"))


def _decision_item(d: Decision, *, kind: str, label: str, with_agency: bool) -> TodoItem:
    detail = d.party_name
    if d.publication_due_provisional:
        detail = f"{detail} · {_('provisional')}"
    if with_agency:
        detail = f"{d.agency.name} · {detail}"
    return TodoItem(kind=kind, label=label, title=d.doc_number, url=reverse("publicity:private", kwargs={"pk": d.pk}),
                    due=d.publication_due, detail=detail)


def todo_items(*, user, today: date) -> list[TodoItem]:
    role = getattr(user, "role", None)
    items: list[TodoItem] = []
    if role in PUBLICITY_MANAGERS:
        items += [_decision_item(d, kind="publication_check", label=_("Decision to check before publication"),
                                 with_agency=False)
                  for d in selectors.pending_for(user=user)[:LIMIT]]
    elif role == Role.LEGAL_SUPERVISOR:
        items += [_decision_item(d, kind="publication_overdue", label=_("Overdue publication"), with_agency=True)
                  for d in selectors.overdue_for(user=user, today=today)[:LIMIT]]
    if role in PUBLICITY_READERS:  # who approves is the dated rule's word: the predicate decides
        for application in selectors.early_end_queue_for(user=user).order_by("applied_at", "id")[:LIMIT]:
            if predicates.can_decide_early_end(user, application, on=today):
                items.append(TodoItem(
                    kind="early_end", label=_("Application to end publicity early"),
                    title=application.decision.doc_number, url=reverse("publicity:workbench"),
                    detail=f"{application.applicant} · {application.reason}"))
    return items
