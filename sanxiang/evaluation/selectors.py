"""Reads of 案卷评查, taking the acting user.

``result_for`` is the evaluation of a case under a scheme as the CLI, the
API and the pages show it: every automatic item judged now from the case
(checks.py) with its links, the manual items and vetoes from an evaluation
when one is given, the score and grade (scoring.py). A submitted
evaluation shows what was frozen at submission (``Evaluation.result``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.cases.models import Case
from sanxiang.core import clock
from sanxiang.core.predicates import is_console, supervises
from sanxiang.core.todo import TodoItem

from . import predicates, scoring
from .checks import run_check
from .models import Assignment, Campaign, Evaluation, EvaluationStatus, Rectification, RectificationStatus, Scheme


class SchemeNotFound(LookupError):
    pass


def reference_day(case: Case) -> date:
    """The day a case's file is judged by: closed, else decided, else opened."""
    return case.closed_on or case.decided_on or case.opened_on


def scheme_for(case: Case, *, code: str = "") -> Scheme:
    """The scheme version in force on the case's reference day for its act
    kind (the latest ``valid_from`` on or before it, then the highest
    version); with ``code``, that scheme's version in force."""
    day = reference_day(case)
    rows = Scheme.objects.filter(valid_from__lte=day).order_by("-valid_from", "-version")
    if code:
        scheme = rows.filter(code=code).first()
        if scheme is None:
            raise SchemeNotFound(f"评查标准 {code} 不存在，或在 {day:%Y-%m-%d} 尚未施行。")
        if case.act_kind not in scheme.act_kinds:
            raise SchemeNotFound(f"评查标准 {code} 不适用于本类案件（{case.get_act_kind_display()}）。")
        return scheme
    for scheme in rows:
        if case.act_kind in scheme.act_kinds:
            return scheme
    raise SchemeNotFound(f"没有适用于本类案件（{case.get_act_kind_display()}）且在 {day:%Y-%m-%d} 施行的评查标准。")


def _grades(scheme: Scheme) -> list[scoring.GradeSpec]:
    return [scoring.GradeSpec(g.code, g.name, g.min_score) for g in scheme.grades.order_by("position")]


def compute_result(*, case: Case, scheme: Scheme, evaluation: Evaluation | None = None, today: date | None = None) -> dict:
    """The full result (a read): items with points earned, findings, links;
    vetoes found; score and grade. Manual items not scored yet have
    ``points`` None and the score is None until every one is."""
    today = today or clock.today()
    checks = {}
    scores = {s.item_id: s for s in evaluation.scores.all()} if evaluation is not None else {}
    marks = {m.veto_id: m for m in evaluation.veto_marks.all()} if evaluation is not None else {}
    items, results = [], []
    for item in scheme.items.order_by("position"):
        if item.auto_check:
            check = checks.get(item.auto_check) or checks.setdefault(item.auto_check, run_check(item.auto_check, case, today=today))
            deduction = 0 if check.passed else item.deduct_max
            finding, links, applicable = check.finding, check.links, check.applicable
        else:
            s = scores.get(item.pk)
            deduction = s.deduction if s is not None else None
            finding, links, applicable = (s.finding if s is not None else ""), [], True
        results.append(scoring.ItemResult(item.code, item.points, deduction))
        items.append({"code": item.code, "points": None if deduction is None else item.points - min(deduction, item.points),
                      "automatic": item.automatic, "finding": finding, "title": item.title, "section": item.section,
                      "full_points": item.points, "deduction": deduction, "deduct_min": item.deduct_min,
                      "deduct_max": item.deduct_max, "links": links, "applicable": applicable, "check": item.auto_check})
    vetoes, found = [], []
    for veto in scheme.vetoes.order_by("position"):
        auto = None
        if veto.auto_check:
            check = checks.get(veto.auto_check) or checks.setdefault(veto.auto_check, run_check(veto.auto_check, case, today=today))
            auto = not check.passed
        hit = bool(auto) or veto.pk in marks
        note = marks[veto.pk].note if veto.pk in marks else (checks[veto.auto_check].finding if auto else "")
        vetoes.append({"code": veto.code, "text": veto.text, "effect": veto.effect, "effect_label": str(veto.get_effect_display()),
                       "cap_grade": veto.cap_grade, "fixed_points": veto.fixed_points, "automatic": bool(veto.auto_check),
                       "found": hit, "note": note})
        if hit:
            found.append(scoring.VetoSpec(veto.code, veto.effect, veto.cap_grade, veto.fixed_points or 0))
    score = scoring.compute(items=results, vetoes=found, grades=_grades(scheme))
    return {"case": case.pk, "scheme": f"{scheme.code}@{scheme.version}", "scheme_title": scheme.title,
            "score": None if score.score is None else float(score.score), "grade": score.grade_name,
            "grade_code": score.grade, "vetoes": [v.code for v in found], "items": items, "veto_items": vetoes,
            "evaluated_on": today.isoformat()}


INTERFACE_ITEM_KEYS = ("code", "points", "automatic", "finding")


def interface_result(result: dict) -> dict:
    """The published shape (issue 15 "Interfaces"): {"case", "scheme",
    "score", "grade", "vetoes", "items": [{"code", "points", "automatic",
    "finding"}]}."""
    return {"case": result["case"], "scheme": result["scheme"], "score": result["score"], "grade": result["grade"],
            "vetoes": list(result["vetoes"]),
            "items": [{k: item[k] for k in INTERFACE_ITEM_KEYS} for item in result["items"]]}


def result_of(evaluation: Evaluation, *, today: date | None = None) -> dict:
    if evaluation.status == EvaluationStatus.SUBMITTED and evaluation.result:
        return evaluation.result
    return compute_result(case=evaluation.case, scheme=evaluation.scheme, evaluation=evaluation, today=today)


def _assigned(user, case: Case) -> bool:
    return (not isinstance(user, str) and getattr(user, "is_authenticated", False)
            and Assignment.objects.filter(case=case, evaluator=user).exists())


def case_for_evaluation(*, user, pk) -> Case:
    """A case the user may evaluate (404 otherwise: a probe learns nothing)."""
    case = Case.objects.select_related("agency", "agency__region").filter(pk=pk).first()
    if case is None or not predicates.can_evaluate(user, case, assigned=_assigned(user, case)):
        raise Http404("no such case")
    return case


def latest_evaluation(*, case: Case, scheme: Scheme) -> Evaluation | None:
    return (Evaluation.objects.filter(case=case, scheme=scheme, status=EvaluationStatus.SUBMITTED)
            .order_by("-submitted_at", "-pk").first())


def evaluation_for(*, user, pk) -> Evaluation:
    """An evaluation for its evaluator, the campaign's office, or the
    supervisors of the case's region (404 otherwise)."""
    ev = Evaluation.objects.select_related("case", "case__agency", "case__agency__region", "scheme", "campaign",
                                           "campaign__office", "evaluator").filter(pk=pk).first()
    if ev is None:
        raise Http404("no such evaluation")
    if ev.evaluator_id == getattr(user, "pk", None) or is_console(user):
        return ev
    if ev.campaign is not None and predicates.is_office_supervisor(user, ev.campaign.office):
        return ev
    if supervises(user, ev.case.agency.region):
        return ev
    rect = Rectification.objects.filter(evaluation=ev).select_related("agency").first()
    if rect is not None and ev.status == EvaluationStatus.SUBMITTED and predicates.can_respond(user, rect):
        return ev
    raise Http404("no such evaluation")


# --- campaigns -------------------------------------------------------------------


def campaigns_for(*, user) -> QuerySet[Campaign]:
    if getattr(user, "role", None) == "legal_supervisor" and getattr(user, "agency_id", None):
        return Campaign.objects.filter(Q(office_id=user.agency_id) | Q(evaluators=user)).distinct().select_related("scheme", "office")
    return Campaign.objects.filter(evaluators=user).distinct().select_related("scheme", "office") \
        if getattr(user, "is_authenticated", False) else Campaign.objects.none()


def campaign_for(*, user, pk) -> Campaign:
    campaign = campaigns_for(user=user).filter(pk=pk).first()
    if campaign is None:
        raise Http404("no such campaign")
    return campaign


def closed_cases(campaign: Campaign) -> QuerySet[Case]:
    """The population of a campaign: closed cases of its agencies closed in
    its period, of the act kinds its scheme covers."""
    return Case.objects.filter(agency__in=campaign.agencies.all(), status="closed", closed_on__gte=campaign.period_start,
                               closed_on__lte=campaign.period_end, act_kind__in=campaign.scheme.act_kinds)


def assignments_of(campaign: Campaign) -> list[Assignment]:
    return list(campaign.assignments.select_related("case", "case__agency", "evaluator").order_by("case__agency__name", "case_id"))


def my_assignments(*, user) -> list[dict]:
    """The cases assigned to the user, with their evaluation if started."""
    rows = Assignment.objects.filter(evaluator=user).select_related("campaign", "case", "case__agency").order_by("campaign", "case")
    evaluations = {(e.campaign_id, e.case_id): e for e in Evaluation.objects.filter(evaluator=user, campaign__isnull=False)}
    return [{"assignment": a, "evaluation": evaluations.get((a.campaign_id, a.case_id))} for a in rows]


def results_table(campaign: Campaign) -> list[dict]:
    """Per agency: cases drawn, evaluated, average score, grades, vetoes."""
    drawn = defaultdict(set)
    for a in campaign.assignments.select_related("case__agency"):
        drawn[a.case.agency].add(a.case_id)
    done = defaultdict(list)
    for ev in campaign.evaluations.filter(status=EvaluationStatus.SUBMITTED).select_related("case__agency"):
        done[ev.case.agency].append(ev)
    grades = list(campaign.scheme.grades.order_by("position"))
    rows = []
    for agency in sorted(set(drawn) | set(done), key=lambda a: a.name):
        evs = done.get(agency, [])
        scores = [ev.score for ev in evs if ev.score is not None]
        rows.append({"agency": agency, "drawn": len(drawn.get(agency, ())), "evaluated": len(evs),
                     "average": (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1")) if scores else None,
                     "grades": [(g.name, sum(1 for ev in evs if ev.grade == g.code)) for g in grades],
                     "vetoes": sum(len(ev.result.get("vetoes", [])) for ev in evs)})
    return rows


# --- rectification -----------------------------------------------------------


def rectifications_for(*, user) -> QuerySet[Rectification]:
    qs = Rectification.objects.select_related("evaluation", "evaluation__case", "agency", "office")
    if getattr(user, "role", None) == "legal_supervisor" and getattr(user, "agency_id", None):
        return qs.filter(office_id=user.agency_id)
    if getattr(user, "role", None) in predicates.RESPONDERS and getattr(user, "agency_id", None):
        return qs.filter(agency_id=user.agency_id)
    return qs.none()


def rectification_for(*, user, pk) -> Rectification:
    r = rectifications_for(user=user).filter(pk=pk).first()
    if r is None:
        raise Http404("no such rectification")
    return r


def todo(*, user, today):
    """Cases to score (the evaluator), findings to rectify or returned (the
    agency: due by the rectification deadline), responses to accept (the
    office). Three queries whatever the numbers."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    started = set(Evaluation.objects.filter(evaluator=user, status=EvaluationStatus.SUBMITTED, campaign__isnull=False)
                  .values_list("campaign_id", "case_id"))
    for a in Assignment.objects.filter(evaluator=user).select_related("campaign", "case")[:200]:
        if (a.campaign_id, a.case_id) not in started:
            items.append(TodoItem(kind="evaluation_score", label=_("Case file to evaluate"),
                                  title=f"{a.case.title}", detail=a.campaign.title,
                                  url=reverse("evaluation:score", args=[a.campaign_id, a.case_id])))
    for r in rectifications_for(user=user).filter(
            status__in=(RectificationStatus.OPEN, RectificationStatus.RETURNED, RectificationStatus.RESPONDED))[:200]:
        url = reverse("evaluation:rectification", args=[r.pk])
        if r.status == RectificationStatus.RESPONDED and getattr(user, "role", None) == "legal_supervisor":
            items.append(TodoItem(kind="evaluation_rectification_review", label=_("Rectification to review"),
                                  title=r.evaluation.case.title, url=url, detail=r.agency.name))
        elif r.status != RectificationStatus.RESPONDED and getattr(user, "role", None) in predicates.RESPONDERS:
            items.append(TodoItem(kind="evaluation_rectification", label=_("Evaluation findings to rectify"),
                                  title=r.evaluation.case.title, url=url, due=r.due_on, detail=r.office.name))
    return items


def overdue_rectifications(*, today: date) -> QuerySet[Rectification]:
    """Findings not rectified by their deadline (the alert rule's input)."""
    return Rectification.objects.filter(status__in=(RectificationStatus.OPEN, RectificationStatus.RETURNED),
                                        due_on__lt=today).select_related("agency", "office", "evaluation__case")

