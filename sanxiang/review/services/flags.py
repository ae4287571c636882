"""The case's legal-review facts and their evaluation (目录清单 + art. 58):
the flags the case unit states, and the recording of the (pure)
evaluation by the writes that change its inputs."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Role
from sanxiang.core.predicates import refuse
from sanxiang.core.refusals import Refused

from ..evaluation import Evaluation, evaluate, hearing_held, proposal_of
from ..models import CaseReview
from ..predicates import CASE_ROLES
from ._base import _refuse, _require


def record_evaluation(*, actor, case) -> Evaluation:
    """Record the evaluation on the case (CaseReview) with an audit entry
    naming the acting user, when it changed. Called only by the writes that
    change its inputs (the flags, the proposed decision, a hearing or the
    decision step, a submission), never by a read: reads and predicates use
    the pure ``evaluate``. A change of the catalogue in force is recorded by
    the catalogue's own entries and shows in the next recording (at the
    latest, the decision step's)."""
    if actor is None or (not isinstance(actor, str) and not getattr(actor, "is_authenticated", False)):
        raise Refused(refuse("记录法制审核评估须有办理人。", "no_actor", "actor"))
    result = evaluate(case)
    row = CaseReview.objects.filter(case=case).first()
    matches = [{"rule": m.rule, "citation": m.citation} for m in result.matches]
    inputs = {**proposal_of(case), "hearing": hearing_held(case), "procedure": case.procedure}
    if row is not None and row.required == result.required and row.matches == matches \
            and row.discussion_required == result.discussion_required and row.inputs == inputs \
            and row.catalogue_version_id == (result.catalogue_version.pk if result.catalogue_version else None):
        return result
    if row is None and not result.required and not result.discussion_required:
        return result  # nothing to record: no row means "not required"
    with transaction.atomic():
        row = row or CaseReview(case=case)
        row.required, row.matches, row.discussion_required = result.required, matches, result.discussion_required
        row.catalogue_version, row.inputs, row.evaluated_at = result.catalogue_version, inputs, timezone.now()
        row.save()
        append_audit(actor=actor, action="review.evaluate", obj=case, payload={
            "required": result.required, "matches": matches, "discussion_required": result.discussion_required,
            "catalogue_version": result.catalogue_version.number if result.catalogue_version else None, "inputs": inputs})
    return result


FLAG_FIELDS = ("domain", "major_public_interest", "complex", "serious", "social_impact", "outside_benchmark",
               "required_by_law")


@transaction.atomic
def set_case_flags(*, actor, case, **flags) -> Evaluation:
    """The case unit states the facts the catalogue and art. 58 ask about."""
    _require(actor, case.agency_id, CASE_ROLES | {Role.LEGAL_REVIEWER}, "只有本部门人员可以填写本案的法制审核情形。")
    unknown = set(flags) - set(FLAG_FIELDS)
    if unknown:
        _refuse("flags", f"未知的情形：{'、'.join(sorted(unknown))}。", "invalid")
    row, _ = CaseReview.objects.get_or_create(case=case)
    before = {f: getattr(row, f) for f in FLAG_FIELDS}
    for name, value in flags.items():
        setattr(row, name, value.strip() if isinstance(value, str) else bool(value))
    row.save()
    append_audit(actor=actor, action="review.case_flags", obj=case,
                 payload={"before": before, "after": {f: getattr(row, f) for f in FLAG_FIELDS}})
    return record_evaluation(actor=actor, case=case)

