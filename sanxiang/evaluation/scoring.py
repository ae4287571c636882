"""The score of an evaluated case file: a pure function (no database).

- Each item earns its points less the deduction found (never below zero):
  an automatic item that fails loses its largest deduction; a manual item
  what the evaluator entered (0, or within the item's deduction range).
- Veto items (否决项) found change the result by their effect, as the
  schemes in use differ:
  ``zero``  — the score is 0 (and so the lowest grade);
  ``fixed`` — a fixed number of points is deducted (the score never below 0);
  ``cap``   — the grade is at best the grade named (the score stands).
- The grade is the best one whose lowest score the score reaches, then
  capped by the ``cap`` vetoes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class GradeSpec:
    code: str
    name: str
    min_score: Decimal  # grades ordered best first


@dataclass(frozen=True)
class VetoSpec:
    code: str
    effect: str  # zero | cap | fixed
    cap_grade: str = ""
    fixed_points: int = 0


@dataclass(frozen=True)
class ItemResult:
    code: str
    points: int  # the item's full points
    deduction: int | None  # None: a manual item not scored yet


@dataclass(frozen=True)
class Score:
    score: Decimal | None  # None while a manual item is not scored
    grade: str  # grade code ("" while not scored)
    grade_name: str
    base: Decimal | None  # the items' points before vetoes


class ScoringError(ValueError):
    pass


def grade_for(score: Decimal, grades: list[GradeSpec]) -> GradeSpec:
    for g in grades:
        if score >= g.min_score:
            return g
    return grades[-1]


def compute(*, items: list[ItemResult], vetoes: list[VetoSpec], grades: list[GradeSpec]) -> Score:
    if not grades:
        raise ScoringError("a scheme needs at least one grade")
    if any(i.deduction is None for i in items):
        return Score(None, "", "", None)
    base = Decimal(sum(max(0, i.points - min(i.deduction, i.points)) for i in items))
    score = base
    for v in vetoes:
        if v.effect == "fixed":
            score -= Decimal(v.fixed_points)
        elif v.effect not in ("zero", "cap"):
            raise ScoringError(f"unknown veto effect {v.effect!r}")
    score = max(Decimal(0), score)
    if any(v.effect == "zero" for v in vetoes):
        score = Decimal(0)
    grade = grade_for(score, grades)
    positions = {g.code: n for n, g in enumerate(grades)}
    for v in vetoes:
        if v.effect == "cap":
            if v.cap_grade not in positions:
                raise ScoringError(f"veto {v.code}: unknown grade {v.cap_grade!r}")
            if positions[v.cap_grade] > positions[grade.code]:
                grade = grades[positions[v.cap_grade]]
    return Score(score, grade.code, grade.name, base)
