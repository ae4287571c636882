"""The alert rule "evaluation findings not rectified" (issue 15 item 2),
registered with the supervision app's registry (supervision/alerts.py) in
``EvaluationConfig.ready``: a rectification (整改) still open or returned
whose deadline falls within the rule's yellow horizon (N working days,
the dated rule ``supervision.alert.evaluation.finding_rectification.yellow_working_days``)
or has passed. The agency is responsible (no single user)."""

from __future__ import annotations

from django.urls import reverse

from sanxiang.supervision.alerts import AlertCandidate, horizon

from .models import Rectification, RectificationStatus

CODE = "evaluation.finding_rectification"


def rectification_candidates(*, today):
    """One query whatever the number of rectifications; writes nothing."""
    rows = (Rectification.objects.filter(status__in=(RectificationStatus.OPEN, RectificationStatus.RETURNED),
                                         due_on__lte=horizon(CODE, today=today))
            .select_related("evaluation__case").order_by("due_on", "pk"))
    for r in rows:
        yield AlertCandidate(key=f"rectification:{r.pk}", title=f"{r.evaluation.case.title}：案卷评查问题待整改",
                             due=r.due_on, agency=r.agency_id, object_url=reverse("evaluation:rectification", args=[r.pk]))
