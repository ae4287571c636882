"""What legal review (and the filing of catalogues) puts on a user's to-do
list (待办, issue 11 item 5; core/todo.py), registered in
``ReviewConfig.ready``:

- a legal reviewer: each open round assigned to the reviewer, due on its
  review limit (审核-7, with an approved extension the moved date);
- the review office (reviewer, agency head): open rounds with no reviewer
  assigned yet (受理并指定, 审核-6);
- an agency head: extensions of a review limit waiting for approval, and
  rounds escalated to the head by the deadline job (审核-8);
- an officer: review opinions "issues found" on the officer's cases that
  the case unit has not answered yet;
- a legal office: catalogues filed with it to accept or return (备案, 公示-3
  and the review catalogue, 审核-6), and overdue review rounds of the
  agencies in its jurisdiction (escalated reviews).

The catalogue filings are read here, through the catalog app's selectors,
because this app already stands above catalog (docs/architecture.md).
Reads only, scoped by the acting user, in a fixed number of queries.
"""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.cases import selectors as case_selectors
from sanxiang.catalog import selectors as catalog_selectors
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import REVIEW_OFFICE, Role

from . import selectors
from .models import Extension, Notice, NoticeKind, Outcome, UnitResponse

LIMIT = 200


def _open(qs):
    return qs.filter(outcome="", withdrawn_at__isnull=True, case__status="open")


def _round_item(s, *, kind: str, label: str, detail: str = "") -> TodoItem:
    return TodoItem(kind=kind, label=label,
                    title=_("Round %(round)s · %(case)s") % {"round": s.round, "case": s.case.title},
                    url=reverse("review:case", kwargs={"pk": s.case_id}), due=s.due_on, detail=detail)


def _filings(user) -> list[TodoItem]:
    items = []
    for version in catalog_selectors.filing_queue(user=user)[:LIMIT]:
        items.append(TodoItem(kind="filing", label=_("Filing to accept"),
                              title=f"{version.agency.name} · {version.get_kind_display()}",
                              url=reverse("catalog:version", kwargs={"pk": version.pk})))
    for version in selectors.filing_queue(user=user)[:LIMIT]:
        items.append(TodoItem(kind="filing", label=_("Filing to accept"),
                              title=f"{version.agency.name} · {version.get_kind_display()}",
                              url=reverse("review:catalogue_version", kwargs={"vid": version.pk})))
    return items


def todo_items(*, user, today: date) -> list[TodoItem]:
    role = getattr(user, "role", None)
    items: list[TodoItem] = []
    rounds = selectors.submissions_for(user=user)
    if role == Role.LEGAL_REVIEWER:
        items += [_round_item(s, kind="review_round", label=_("Review to give"))
                  for s in _open(rounds).filter(reviewer__user=user).order_by("due_on", "id")[:LIMIT]]
    if role in REVIEW_OFFICE:
        items += [_round_item(s, kind="review_assign", label=_("Reviewer to assign"))
                  for s in _open(rounds).filter(reviewer__isnull=True).order_by("due_on", "id")[:LIMIT]]
    if role == Role.AGENCY_HEAD:
        extensions = (Extension.objects.select_related("submission", "submission__case")
                      .filter(submission__in=_open(rounds).values("pk"), approved_at__isnull=True)
                      .order_by("requested_at", "id")[:LIMIT])
        items += [_round_item(e.submission, kind="review_extension", label=_("Review extension to approve"),
                              detail=e.reason) for e in extensions]
        escalated = (Notice.objects.select_related("submission", "submission__case")
                     .filter(kind=NoticeKind.ESCALATION, submission__in=_open(rounds).values("pk"))
                     .order_by("made_on", "id")[:LIMIT])
        seen = set()
        for notice in escalated:
            if user.username in (notice.recipients or []) and notice.submission_id not in seen:
                seen.add(notice.submission_id)
                items.append(_round_item(notice.submission, kind="review_escalated", label=_("Escalated review")))
    if role == Role.OFFICER:
        mine = case_selectors.my_cases(user=user).filter(status="open").values("pk")
        answered = rounds.filter(case__in=mine, outcome=Outcome.ISSUES, response=UnitResponse.NONE,
                                 withdrawn_at__isnull=True).order_by("opinion_at", "id")[:LIMIT]
        items += [TodoItem(kind="review_response", label=_("Review opinion to answer"),
                           title=_("Round %(round)s · %(case)s") % {"round": s.round, "case": s.case.title},
                           url=reverse("review:case", kwargs={"pk": s.case_id})) for s in answered]
    if role == Role.LEGAL_SUPERVISOR:
        items += _filings(user)
        items += [_round_item(s, kind="review_overdue", label=_("Overdue review"), detail=s.case.agency.name)
                  for s in _open(rounds).filter(due_on__lt=today).order_by("due_on", "id")[:LIMIT]]
    return items
