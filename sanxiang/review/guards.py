"""Save-time guards for 审核-8 ("no decision without a passing review"),
the last line of defence behind the services.

The cases app's decide step and the documents app's numbering already ask
``requires_review_block`` (which delegates to ``services.decision_block``).
These guards refuse the same thing when a row is written by a door that
does not pass through those services — an admin form, an import, a script:

- a CaseStep with code "decision" being created;
- a Case whose ``decided_on`` goes from empty to a date;
- a Document of a kind with ``review_gate`` (a final decision) being created.

They raise ValidationError (code ``review_required``) inside the write's
transaction, so nothing is changed. This is a refusal, not a business
effect, which is why a signal is acceptable here (docs/review.md).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save


def _refuse(message: str):
    raise ValidationError({"decision": ValidationError(message, code="review_required")})


def _check(case) -> None:
    from .services import decision_block

    block = decision_block(case)
    if block:
        _refuse(block)


def guard_step(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is not None or instance.code != "decision":
        return
    _check(instance.case)


def guard_case(sender, instance, raw=False, **kwargs):
    if raw or instance.decided_on is None:
        return
    if instance.pk is None:
        # A case created already decided (an import of a past case): it
        # cannot have been reviewed here, so one that needs review is refused.
        from .services import evaluate

        evaluation = evaluate(instance)
        if evaluation.required or evaluation.discussion_required:
            _refuse(f"该案件属于重大执法决定（{evaluation.reason_text() or '须集体讨论'}），"
                    "须先在本平台立案并经法制审核后方可作出决定（《中华人民共和国行政处罚法》第五十八条）。")
        return
    if sender.objects.filter(pk=instance.pk, decided_on__isnull=True).exists():
        _check(instance)


def guard_document(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is not None:
        return
    try:
        from sanxiang.documents.kinds import get_kind

        spec = get_kind(instance.kind)
    except Exception:  # an unknown kind is the documents app's error to report
        return
    if spec.review_gate:
        _check(instance.case)


def connect() -> None:
    pre_save.connect(guard_step, sender="cases.CaseStep", dispatch_uid="review_guard_step")
    pre_save.connect(guard_case, sender="cases.Case", dispatch_uid="review_guard_case")
    pre_save.connect(guard_document, sender="documents.Document", dispatch_uid="review_guard_document")
