"""What the documents app puts on an officer's to-do list (待办, issue 11
item 5; core/todo.py), registered in ``DocumentsConfig.ready``: decisions
issued in the officer's open cases and not yet served (penalty law art. 61:
served on the spot or within 7 days; the case records the service when its
service step completes, ``Case.served_on``), due on the case's service
deadline. Reads only, scoped through the cases app's selectors, in a fixed
number of queries."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.cases import selectors as case_selectors
from sanxiang.cases.models import CaseDeadline, CaseStatus, DeadlineKind
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import Role

from . import selectors
from .kinds import all_kinds

LIMIT = 200


def decision_kinds() -> list[str]:
    """The kinds that are the case's final decision (``review_gate``): the
    document the party must be served."""
    return [code for code, kind in all_kinds().items() if kind.review_gate]


def todo_items(*, user, today: date) -> list[TodoItem]:
    if getattr(user, "role", None) != Role.OFFICER:
        return []
    cases = case_selectors.my_cases(user=user).filter(status=CaseStatus.OPEN, served_on__isnull=True)
    documents = list(selectors.documents_for(user=user).filter(case__in=cases.values("pk"), kind__in=decision_kinds())
                     .order_by("issued_at", "id")[:LIMIT])
    due = dict(CaseDeadline.objects.filter(case__in=[d.case_id for d in documents], kind=DeadlineKind.SERVICE,
                                           met_at__isnull=True, superseded=False)
               .order_by("-due_on").values_list("case_id", "due_on"))
    return [TodoItem(kind="document_to_serve", label=_("Document to serve"),
                     title=f"{d} · {d.case.title}",
                     url=reverse("cases:detail", kwargs={"pk": d.case_id}), due=due.get(d.case_id),
                     detail=d.case.party_name) for d in documents]
