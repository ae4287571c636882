"""The score with each veto semantics (zero / cap / fixed) and the grades: a pure function."""

from decimal import Decimal

import pytest

from sanxiang.evaluation.scoring import GradeSpec, ItemResult, ScoringError, VetoSpec, compute

GRADES = [GradeSpec("excellent", "优秀", Decimal(90)), GradeSpec("pass", "合格", Decimal(60)), GradeSpec("fail", "不合格", Decimal(0))]
ITEMS = [ItemResult("F1", 20, 0), ItemResult("C1", 80, 5)]  # 95 before vetoes


def test_without_veto_the_score_is_the_points_less_deductions_and_the_grade_follows_the_thresholds():
    s = compute(items=ITEMS, vetoes=[], grades=GRADES)
    assert (s.score, s.grade, s.grade_name) == (Decimal(95), "excellent", "优秀")
    s = compute(items=[ItemResult("F1", 20, 0), ItemResult("C1", 80, 41)], vetoes=[], grades=GRADES)
    assert (s.score, s.grade) == (Decimal(59), "fail")
    s = compute(items=[ItemResult("F1", 20, 0), ItemResult("C1", 80, 40)], vetoes=[], grades=GRADES)
    assert (s.score, s.grade) == (Decimal(60), "pass")


def test_a_deduction_never_takes_an_item_below_zero():
    s = compute(items=[ItemResult("F1", 20, 30), ItemResult("C1", 80, 0)], vetoes=[], grades=GRADES)
    assert s.score == Decimal(80)


def test_a_zero_veto_sets_the_score_to_zero_and_the_lowest_grade():
    s = compute(items=ITEMS, vetoes=[VetoSpec("V1", "zero")], grades=GRADES)
    assert (s.score, s.grade, s.base) == (Decimal(0), "fail", Decimal(95))


def test_a_cap_veto_keeps_the_score_and_caps_the_grade():
    s = compute(items=ITEMS, vetoes=[VetoSpec("V8", "cap", cap_grade="pass")], grades=GRADES)
    assert (s.score, s.grade) == (Decimal(95), "pass")
    # a cap above the grade reached changes nothing
    low = compute(items=[ItemResult("F1", 20, 0), ItemResult("C1", 80, 45)], vetoes=[VetoSpec("V8", "cap", cap_grade="pass")],
                  grades=GRADES)
    assert (low.score, low.grade) == (Decimal(55), "fail")


def test_a_fixed_veto_deducts_its_points_and_the_grade_follows_the_new_score():
    s = compute(items=ITEMS, vetoes=[VetoSpec("V9", "fixed", fixed_points=20)], grades=GRADES)
    assert (s.score, s.grade) == (Decimal(75), "pass")
    s = compute(items=ITEMS, vetoes=[VetoSpec("V9", "fixed", fixed_points=20), VetoSpec("V10", "fixed", fixed_points=90)],
                grades=GRADES)
    assert s.score == Decimal(0)


def test_vetoes_combine_zero_wins_and_caps_apply_after_fixed_deductions():
    s = compute(items=ITEMS, vetoes=[VetoSpec("V9", "fixed", fixed_points=5), VetoSpec("V6", "cap", cap_grade="fail")],
                grades=GRADES)
    assert (s.score, s.grade) == (Decimal(90), "fail")
    s = compute(items=ITEMS, vetoes=[VetoSpec("V9", "fixed", fixed_points=5), VetoSpec("V1", "zero")], grades=GRADES)
    assert (s.score, s.grade) == (Decimal(0), "fail")


def test_a_manual_item_not_scored_leaves_score_and_grade_open():
    s = compute(items=[ItemResult("F1", 20, None), ItemResult("C1", 80, 0)], vetoes=[], grades=GRADES)
    assert (s.score, s.grade) == (None, "")


def test_an_unknown_effect_or_cap_grade_is_an_error():
    with pytest.raises(ScoringError):
        compute(items=ITEMS, vetoes=[VetoSpec("V", "halve")], grades=GRADES)
    with pytest.raises(ScoringError):
        compute(items=ITEMS, vetoes=[VetoSpec("V", "cap", cap_grade="gold")], grades=GRADES)
