"""What the evidence app puts on a user's to-do list (待办, issue 11 item 5;
core/todo.py), registered in ``EvidenceConfig.ready``:

- an officer: AV to upload — each step in progress of the officer's open
  cases that needs AV under the agency's AV list (记录-4, 音像记录事项清单)
  and has no AV evidence yet, nor an approved exemption (the step cannot be
  completed without one, ``cases.predicates.can_complete_step``);
- an agency head: share links to outside recipients waiting for approval;
- whoever may see fixity alerts (the head and legal offices within their
  scope, the system administrator everywhere): each unresolved alert — a
  stored file missing or no longer hashing to its SHA-256 (记录-12), which
  needs restoring from a copy — due the day it was detected.

Reads only, scoped through the selectors, in a fixed number of queries (one
per kind of item: the AV check is a subquery, not a query per step).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.cases import selectors as case_selectors
from sanxiang.cases.models import AvExemption, CaseStatus, CaseStep, StepStatus
from sanxiang.core import clock
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import Role

from . import selectors
from .models import AV_KINDS, EvidenceItem, EvidenceShare

LIMIT = 200


def steps_missing_av(*, user):
    """Steps in progress of the user's open cases that need AV and have
    neither AV evidence nor an approved exemption."""
    av = EvidenceItem.objects.filter(step=OuterRef("pk"), kind__in=AV_KINDS, deleted_at__isnull=True,
                                     purged_at__isnull=True)
    exempted = AvExemption.objects.filter(step=OuterRef("pk"), approved_at__isnull=False)
    cases = case_selectors.my_cases(user=user).filter(status=CaseStatus.OPEN)
    return (CaseStep.objects.select_related("case").filter(case__in=cases.values("pk"), status=StepStatus.IN_PROGRESS)
            .exclude(av_requirement="").exclude(Exists(av)).exclude(Exists(exempted)).order_by("started_at", "id"))


def fixity_items(*, user) -> list[TodoItem]:
    alerts = selectors.fixity_alerts_for(user=user).filter(resolved_at__isnull=True).order_by("detected_at", "id")
    return [TodoItem(kind="fixity_alert", label=_("Evidence integrity alert"),
                     title=f"{alert.get_problem_display()} · {alert.sha256[:16]}…",
                     url=reverse("evidence:fixity"), due=clock.local_date(alert.detected_at), detail=alert.note)
            for alert in alerts[:LIMIT]]


def todo_items(*, user, today: date) -> list[TodoItem]:
    return _role_items(user=user, today=today) + fixity_items(user=user)


def _role_items(*, user, today: date) -> list[TodoItem]:
    role = getattr(user, "role", None)
    if role == Role.OFFICER:
        return [TodoItem(kind="av_upload", label=_("AV to upload"),
                         title=f"{step.name} · {step.case.title}",
                         url=reverse("evidence:step", kwargs={"case_id": step.case_id, "step_id": step.pk}),
                         detail=step.av_requirement)
                for step in steps_missing_av(user=user)[:LIMIT]]
    if role == Role.AGENCY_HEAD:
        shares = (EvidenceShare.objects.select_related("item", "item__case", "shared_by")
                  .filter(item__in=selectors.evidence_for(user=user).values("pk"), approved_at__isnull=True,
                          revoked_at__isnull=True)
                  .exclude(shared_by=user).order_by("created_at", "id")[:LIMIT])
        return [TodoItem(kind="evidence_share", label=_("Evidence share to approve"),
                         title=f"{share.item.original_name or share.item.get_kind_display()} · {share.item.case.title}",
                         url=reverse("evidence:detail", kwargs={"pk": share.item_id}),
                         detail=_("%(user)s for %(recipient)s: %(reason)s") % {
                             "user": share.shared_by, "recipient": share.recipient, "reason": share.reason})
                for share in shares]
    return []
