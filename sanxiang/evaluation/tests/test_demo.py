"""The demo: scheme loaded, a campaign with a drawn sample, evaluations done
(one with a veto), one finding under rectification; loaded once."""

import pytest

from sanxiang.core.demo import load_demo
from sanxiang.evaluation.demo import load_evaluation_demo
from sanxiang.evaluation.models import Campaign, Evaluation, Rectification, Scheme
from sanxiang.evaluation.services import verify_draw


@pytest.mark.django_db
def test_the_demo_loads_a_drawn_campaign_evaluations_with_a_veto_and_a_rectification_once():
    load_demo()
    submitted = load_evaluation_demo()
    assert Scheme.objects.filter(code="demo-penalty").exists()
    [campaign] = Campaign.objects.all()
    assert campaign.drawn and verify_draw(campaign) == []
    assert campaign.assignments.count() == 4 + 3 and submitted == 6  # 4 of the main agency's 8 files, the county's 3
    evaluations = list(Evaluation.objects.filter(status="submitted"))
    assert any(e.result["vetoes"] for e in evaluations)
    assert all(a.evaluator.agency_id != a.case.agency_id for a in campaign.assignments.select_related("evaluator", "case"))
    assert Rectification.objects.filter(status__in=("open", "responded")).exists()
    assert load_evaluation_demo() == 0
