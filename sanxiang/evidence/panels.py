"""What the evidence app shows on the case page (记录-4, 记录-11): the
case's evidence items — photos, recordings, video and documents uploaded
from the phone page of a step or from the desk — newest first, each linked
to its page, with the step it belongs to. Registered with
``cases.registry.register_case_panel`` in ``EvidenceConfig.ready``.

A read: it writes nothing. The items come through ``selectors.evidence_for``
(the user's scope), so a user who may not see a case's evidence sees no
panel.
"""

from __future__ import annotations

from sanxiang.cases.registry import CasePanel

from . import selectors

ORDER = 40  # after review (20) and publicity, before the next steps
SHOWN = 20  # the newest items on the case page; the step pages list all


def case_panel(*, user, case) -> CasePanel | None:
    items = selectors.evidence_for(user=user).filter(case=case).order_by("-captured_at", "-id")
    counts = selectors.case_evidence_counts(user=user, case=case)
    if not counts["total"]:
        return None
    return CasePanel("evidence/_case_panel.html", {
        "items": list(items[:SHOWN]), "total": counts["total"], "av": counts["av"], "more": counts["total"] > SHOWN,
        "case": case,
    }, order=ORDER)
