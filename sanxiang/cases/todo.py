"""What the cases app puts on a user's to-do list (待办, issue 11 item 5;
core/todo.py), registered in ``CasesConfig.ready``:

- an officer: the next step of each of the officer's open cases (or the
  step in progress to complete) and the agency's open deadlines of those
  cases (记录-1: the procedure; penalty law art. 60 ... the limits);
- an agency head: AV exemptions waiting for approval (记录-4);
- a legal office: overdue deadlines of the cases in its jurisdiction.

Reads only, through this app's selectors (scoped by the acting user), in a
fixed number of queries whatever the number of cases.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.catalog.processes import ProcessNotFound, get_process
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import Role

from . import selectors
from .models import CaseStatus, CaseStep, StepStatus

# How many cases / deadlines / exemptions one list reads at most.
LIMIT = 200


def _step_items(user) -> list[TodoItem]:
    """Per open case of the officer: the step in progress to complete, or the
    steps the process definition allows next (from the prefetched steps: no
    query per case)."""
    cases = (selectors.my_cases(user=user).filter(status=CaseStatus.OPEN)
             .prefetch_related(Prefetch("steps", queryset=CaseStep.objects.order_by("started_at", "id")))
             .order_by("opened_on", "id")[:LIMIT])
    items = []
    for case in cases:
        steps = list(case.steps.all())
        running = [s for s in steps if s.status == StepStatus.IN_PROGRESS]
        if running:
            step = running[-1]
            items.append(TodoItem(
                kind="case_step", label=_("Step to complete"),
                title=_("Complete %(step)s · %(case)s") % {"step": step.name, "case": case.title},
                url=reverse("cases:step", kwargs={"pk": case.pk, "step_id": step.pk})))
            continue
        try:
            definition = get_process(case.act_kind, case.procedure)
        except ProcessNotFound:
            continue
        done = [s for s in steps if s.status == StepStatus.COMPLETED]
        if not done:
            names = [definition.steps[0].name]
        else:
            last = max(done, key=lambda s: (s.completed_at, s.pk))
            try:
                current = definition.step(last.code)
            except KeyError:
                continue
            names = [definition.step(code).name for code in list(current.next) + list(current.returns)
                     if code in definition.codes]
        if names:
            items.append(TodoItem(
                kind="case_next_step", label=_("Next step"),
                title=f"{' / '.join(dict.fromkeys(names))} · {case.title}",
                url=reverse("cases:detail", kwargs={"pk": case.pk})))
    return items


def _deadline_item(deadline, *, kind: str, label: str, with_agency: bool = False) -> TodoItem:
    detail = deadline.rule_reference
    if deadline.provisional:
        detail = f"{detail} · {_('provisional')}" if detail else _("provisional")
    if with_agency:
        detail = f"{deadline.case.agency.name} · {detail}" if detail else deadline.case.agency.name
    return TodoItem(
        kind=kind, label=label,
        title=f"{deadline.get_kind_display()} · {deadline.case.title}",
        url=reverse("cases:detail", kwargs={"pk": deadline.case_id}), due=deadline.due_on, detail=detail)


def todo_items(*, user, today: date) -> list[TodoItem]:
    role = getattr(user, "role", None)
    items: list[TodoItem] = []
    if role == Role.OFFICER:
        items += _step_items(user)
        items += [_deadline_item(d, kind="case_deadline", label=_("Case deadline"))
                  for d in selectors.deadlines_for(user=user, mine=True)[:LIMIT]]
    elif role == Role.AGENCY_HEAD:
        for exemption in selectors.pending_exemptions_for(user=user)[:LIMIT]:
            step = exemption.step
            items.append(TodoItem(
                kind="av_exemption", label=_("AV exemption to approve"),
                title=f"{step.name} · {step.case.title}",
                url=reverse("cases:step", kwargs={"pk": step.case_id, "step_id": step.pk}),
                detail=_("Asked by %(user)s: %(reason)s") % {"user": exemption.requested_by, "reason": exemption.reason}))
    elif role == Role.LEGAL_SUPERVISOR:
        items += [_deadline_item(d, kind="case_deadline_overdue", label=_("Overdue case deadline"), with_agency=True)
                  for d in selectors.overdue_deadlines(user=user, today=today)[:LIMIT]]
    return items
