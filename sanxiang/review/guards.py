"""The review app's decision guard for 审核-8 ("no decision without a
passing review"), registered with the cases app (``sanxiang.cases.registry``)
in ``ReviewConfig.ready`` — no signals (docs/decisions/0011).

The cases app asks the registry at every door of a decision:

- ``predicates.can_decide`` (the decide step of pages and API);
- ``Case.save`` when ``decided_on`` goes from empty to a date, or a case is
  created already decided (an import of a past case);
- ``CaseStep.save`` when a step with code "decision" is created;
- ``Document.save`` (documents app) and ``documents.services.before_issue``
  for a document kind with ``review_gate`` (a final decision).

A refusal raises ValidationError (code ``review_required``) inside the
write's transaction, so nothing is changed; the guard itself is a read and
writes nothing.
"""

from __future__ import annotations

from .evaluation import evaluate
from .predicates import decision_block


def block_decision(case) -> str | None:
    """Why legal review blocks a decision on ``case`` (a Chinese reason
    citing art. 58), or None. A case not yet saved (created already
    decided) cannot have been reviewed here: one that needs review or
    collective discussion is blocked."""
    if case.pk is None:
        evaluation = evaluate(case)
        if evaluation.required or evaluation.discussion_required:
            return (f"该案件属于重大执法决定（{evaluation.reason_text() or '须集体讨论'}），"
                    "须先在本平台立案并经法制审核后方可作出决定（《中华人民共和国行政处罚法》第五十八条）。")
        return None
    return decision_block(case)
