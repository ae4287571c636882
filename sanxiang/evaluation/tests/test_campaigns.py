"""Campaigns: the sample drawn reproducibly per agency (sanxiang-draw-v1,
its inputs stored and re-run), cross-evaluation with 回避, evaluating and
submitting with vetoes, the results table per agency, and the 整改 loop."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.conftest import make_user
from sanxiang.core import clock
from sanxiang.core.vocabulary import Role
from sanxiang.evaluation import predicates, selectors, services
from sanxiang.evaluation.demo import build_case_file
from sanxiang.evaluation.models import Assignment, Rectification, RectificationStatus
from sanxiang.inspections import drawv1


@pytest.fixture
def setup(world, scheme):
    changan = [world.changan_officer, world.changan_officer2]
    zhengding = [world.zhengding_officer, world.zhengding_officer2]
    cases = [build_case_file(agency=world.amr_changan, officers=changan, creator=world.u_changan, serial=n) for n in range(1, 5)]
    cases += [build_case_file(agency=world.amr_zhengding, officers=zhengding, creator=world.u_zhengding, serial=n)
              for n in range(5, 8)]
    # evaluators: one of each agency (each may evaluate only the other's cases) and the office's supervisor
    reviewer_changan = make_user("reviewer_changan", Role.LEGAL_REVIEWER, agency=world.amr_changan)
    campaign = services.create_campaign(
        actor=world.u_legal_sjz, office=world.legal_sjz, title="2026年度案卷评查", scheme=scheme,
        period_start=date(clock.today().year, 1, 1), period_end=clock.today(),
        agencies=[world.amr_changan, world.amr_zhengding], evaluators=[reviewer_changan, world.u_zhengding],
        sample_size=2)
    return world, scheme, campaign, cases, reviewer_changan


def test_the_draw_takes_the_sample_size_per_agency_and_never_assigns_a_conflicted_evaluator(setup):
    world, scheme, campaign, cases, reviewer_changan = setup
    services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign, seed_value="seed-1")
    rows = list(Assignment.objects.filter(campaign=campaign).select_related("case", "evaluator"))
    per_agency = {}
    for a in rows:
        per_agency[a.case.agency_id] = per_agency.get(a.case.agency_id, 0) + 1
        assert a.evaluator is not None and a.evaluator.agency_id != a.case.agency_id  # 回避
        assert not predicates.conflict(a.evaluator, a.case)
    assert per_agency == {world.amr_changan.pk: 2, world.amr_zhengding.pk: 2}


def test_the_draw_is_reproducible_from_its_stored_inputs_and_by_the_public_verifier(setup):
    world, scheme, campaign, cases, _ = setup
    campaign = services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign, seed_value="seed-1")
    assert services.verify_draw(campaign) == []
    again = drawv1.draw(snapshot=campaign.snapshot, secrets=[], public_value="seed-1", ratios=campaign.ratios, k=1,
                        limit=None, conflicts=campaign.conflicts)
    assert again.result == campaign.result
    assert drawv1.snapshot_sha256(campaign.snapshot) == campaign.snapshot_sha256
    # the same inputs give the same sample; another seed value may not, and a tampered result is caught
    assert {o["id"] for o in campaign.snapshot["objects"]} == {str(c.pk) for c in cases}
    campaign.result = list(reversed(campaign.result))
    assert "result differs" in services.verify_draw(campaign)


def test_a_campaign_is_drawn_once_and_only_by_its_office(setup, world):
    _, scheme, campaign, _, _ = setup
    with pytest.raises(PermissionDenied):
        services.draw_campaign(actor=world.u_legal_ts, campaign=campaign)
    services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign)
    with pytest.raises(ValidationError, match="不能重抽"):
        services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign)


def test_creating_a_campaign_refuses_bad_input_naming_the_field(world, scheme):
    base = dict(actor=world.u_legal_sjz, office=world.legal_sjz, title="评查", scheme=scheme, period_start=date(2026, 1, 1),
                period_end=date(2026, 6, 30), agencies=[world.amr_changan], evaluators=[world.u_zhengding], sample_size=2)
    for change, field in [({"period_end": date(2025, 1, 1)}, "period_end"), ({"agencies": []}, "agencies"),
                          ({"agencies": [world.amr_lunan]}, "agencies"), ({"sample_size": 0}, "sample_size"),
                          ({"evaluators": []}, "evaluators"), ({"title": " "}, "title"), ({"scheme": None}, "scheme")]:
        with pytest.raises(ValidationError) as exc:
            services.create_campaign(**{**base, **change})
        assert field in exc.value.message_dict, change
    with pytest.raises(PermissionDenied):
        services.create_campaign(**{**base, "actor": world.u_changan})


def test_nobody_evaluates_a_case_of_their_own_agency_or_one_they_handled(setup):
    world, scheme, campaign, cases, reviewer_changan = setup
    changan_case = cases[0]
    assert "本单位" in predicates.conflict(reviewer_changan, changan_case)
    assert predicates.conflict(world.u_zhengding, changan_case) == ""
    # the supervisor who opened a case (as a head would) may not evaluate it either
    changan_case.created_by = world.u_legal_sjz
    assert "本人办理" in predicates.conflict(world.u_legal_sjz, changan_case)
    with pytest.raises(PermissionDenied):
        services.start_evaluation(actor=world.u_legal_sjz, case=changan_case, scheme=scheme)


def _score_all(scheme, **overrides):
    scores = {i.code: {"deduction": 0, "finding": ""} for i in scheme.items.filter(auto_check="")}
    scores.update(overrides)
    return scores


def test_an_assigned_evaluator_scores_submits_and_the_agency_rectifies_what_the_office_accepts_or_returns(setup):
    world, scheme, campaign, cases, reviewer_changan = setup
    services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign, seed_value="seed-1")
    a = Assignment.objects.filter(campaign=campaign, case__agency=world.amr_zhengding).first()
    assert a.evaluator == reviewer_changan
    ev = services.start_evaluation(actor=reviewer_changan, case=a.case, scheme=scheme, campaign=campaign)
    # a deduction outside the range, or one without its finding, is refused naming the item
    with pytest.raises(ValidationError) as exc:
        services.save_scores(actor=reviewer_changan, evaluation=ev, scores=_score_all(scheme, C2={"deduction": 16}), vetoes={})
    assert "deduction_C2" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.save_scores(actor=reviewer_changan, evaluation=ev, scores=_score_all(scheme, C2={"deduction": 5}), vetoes={})
    assert "finding_C2" in exc.value.message_dict
    # another evaluator may not score it
    with pytest.raises(PermissionDenied):
        services.save_scores(actor=world.u_zhengding, evaluation=ev, scores=_score_all(scheme), vetoes={})
    ev = services.save_scores(actor=reviewer_changan, evaluation=ev, submit=True,
                              scores=_score_all(scheme, C2={"deduction": 5, "finding": "现场检查笔录未记载检查时间。"}),
                              vetoes={"V9": "该决定经行政复议被变更。"})
    assert ev.score == Decimal(75) and ev.grade == "pass" and ev.result["vetoes"] == ["V9"]
    with pytest.raises(ValidationError, match="已提交"):
        services.save_scores(actor=reviewer_changan, evaluation=ev, scores=_score_all(scheme), vetoes={})
    table = {r["agency"].pk: r for r in selectors.results_table(campaign)}
    assert table[world.amr_zhengding.pk]["evaluated"] == 1 and table[world.amr_zhengding.pk]["average"] == Decimal("75.0")
    assert table[world.amr_changan.pk]["evaluated"] == 0

    r = Rectification.objects.get(evaluation=ev)
    assert r.agency == world.amr_zhengding and r.office == world.legal_sjz and "C2" in r.findings and "V9" in r.findings
    assert r.due_on > clock.today()
    head = make_user("zhengding_head", Role.AGENCY_HEAD, agency=world.amr_zhengding)
    with pytest.raises(PermissionDenied):
        services.respond_rectification(actor=world.u_changan, rectification=r, text="已整改")
    with pytest.raises(ValidationError):
        services.review_rectification(actor=world.u_legal_sjz, rectification=r, accept=True, note="")  # nothing reported yet
    r = services.respond_rectification(actor=head, rectification=r, text="已补正现场检查笔录的检查时间。")
    with pytest.raises(ValidationError) as exc:
        services.review_rectification(actor=world.u_legal_sjz, rectification=r, accept=False, note="")
    assert "review_note" in exc.value.message_dict
    r = services.review_rectification(actor=world.u_legal_sjz, rectification=r, accept=False, note="请附补正后的笔录。")
    assert r.status == RectificationStatus.RETURNED
    r = services.respond_rectification(actor=head, rectification=r, text="已附补正后的现场检查笔录。")
    with pytest.raises(PermissionDenied):
        services.review_rectification(actor=world.u_legal_ts, rectification=r, accept=True, note="")
    r = services.review_rectification(actor=world.u_legal_sjz, rectification=r, accept=True, note="")
    assert r.status == RectificationStatus.ACCEPTED


def test_to_do_entries_reach_the_evaluator_the_agency_and_the_office(setup):
    world, scheme, campaign, cases, reviewer_changan = setup
    services.draw_campaign(actor=world.u_legal_sjz, campaign=campaign, seed_value="seed-1")
    today = clock.today()
    kinds = [i.kind for i in selectors.todo(user=reviewer_changan, today=today)]
    assert kinds.count("evaluation_score") == 2
    a = Assignment.objects.filter(campaign=campaign, evaluator=reviewer_changan).first()
    ev = services.start_evaluation(actor=reviewer_changan, case=a.case, scheme=scheme, campaign=campaign)
    services.save_scores(actor=reviewer_changan, evaluation=ev, submit=True,
                         scores=_score_all(scheme, C7={"deduction": 2, "finding": "裁量说理不充分。"}), vetoes={})
    assert [i.kind for i in selectors.todo(user=reviewer_changan, today=today)].count("evaluation_score") == 1
    head = make_user("zhengding_head", Role.AGENCY_HEAD, agency=world.amr_zhengding)
    [item] = [i for i in selectors.todo(user=head, today=today) if i.kind == "evaluation_rectification"]
    assert item.due == Rectification.objects.get(evaluation=ev).due_on
    services.respond_rectification(actor=head, rectification=ev.rectification, text="已补充裁量说理。")
    assert [i.kind for i in selectors.todo(user=world.u_legal_sjz, today=today)] == ["evaluation_rectification_review"]
