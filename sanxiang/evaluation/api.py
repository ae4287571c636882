"""案卷评查 endpoints (mounted at /api/v1/evaluation), for evaluators and
legal offices. Reads need the ``read`` scope. A case the caller may not
evaluate (not assigned to them, outside the region they supervise, or one
they must not evaluate: 回避) is 404, like a case that does not exist."""

from __future__ import annotations

from ninja import Router, Schema

from sanxiang.api.api import AUTH, require_scope
from sanxiang.api.errors import ApiError
from sanxiang.core.parsing import Id

from . import selectors

router = Router(tags=["evaluation"], auth=AUTH)


class ItemOut(Schema):
    code: str
    points: int | None
    automatic: bool
    finding: str


class ResultOut(Schema):
    case: int
    scheme: str
    score: float | None
    grade: str
    vetoes: list[str]
    items: list[ItemOut]


class DrawRecordOut(Schema):
    algorithm: str
    campaign: int
    seed_value: str
    snapshot: dict
    snapshot_sha256: str
    ratios: dict
    k: int
    conflicts: list
    seed: str
    result: list


@router.get("/cases/{case_id}", response=ResultOut, url_name="evaluation_case",
            summary="Evaluate a case file: automatic items judged now, manual items from its latest submitted evaluation")
def evaluate_case(request, case_id: Id, scheme: str = ""):
    require_scope(request, "read")
    case = selectors.case_for_evaluation(user=request.user, pk=case_id)
    try:
        found = selectors.scheme_for(case, code=scheme.strip()[:64])
    except selectors.SchemeNotFound as exc:
        raise ApiError(status=404, code="scheme_not_found", message=str(exc), field="scheme") from None
    result = selectors.compute_result(case=case, scheme=found, evaluation=selectors.latest_evaluation(case=case, scheme=found))
    return selectors.interface_result(result)


@router.get("/evaluations/{evaluation_id}", response=ResultOut, url_name="evaluation_result",
            summary="A stored evaluation's result (frozen when submitted)")
def evaluation_result(request, evaluation_id: Id):
    require_scope(request, "read")
    evaluation = selectors.evaluation_for(user=request.user, pk=evaluation_id)
    return selectors.interface_result(selectors.result_of(evaluation))


@router.get("/campaigns/{campaign_id}/draw", response=DrawRecordOut, url_name="evaluation_draw",
            summary="A campaign's draw record (sanxiang-draw-v1 inputs and result) to run it again")
def campaign_draw(request, campaign_id: Id):
    require_scope(request, "read")
    campaign = selectors.campaign_for(user=request.user, pk=campaign_id)
    if not campaign.drawn:
        raise ApiError(status=409, code="not_drawn", message="本次评查活动尚未抽取。")
    return {"algorithm": "sanxiang-draw-v1", "campaign": campaign.pk, "seed_value": campaign.seed_value,
            "snapshot": campaign.snapshot, "snapshot_sha256": campaign.snapshot_sha256, "ratios": campaign.ratios,
            "k": campaign.evaluators_per_case, "conflicts": campaign.conflicts, "seed": campaign.seed,
            "result": campaign.result}

