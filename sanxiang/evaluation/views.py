"""Pages of 案卷评查: the overview (campaigns, my cases to score, findings
to rectify), a campaign (create, draw, results per agency), the scoring
page of one case, an evaluation's result, and a rectification."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sanxiang.core.calendar import parse_date
from sanxiang.core.models import User
from sanxiang.core.refusals import message_of, run_shown
from sanxiang.core.selectors import agencies_for
from sanxiang.core.views import staff_required

from . import predicates, schemes, selectors, services
from .models import Assignment, Evaluation, Rectification, RectificationStatus, Scheme


@staff_required
def index(request):
    user = request.user
    office = user.agency if user.agency_id and predicates.is_office_supervisor(user, user.agency) else None
    return render(request, "evaluation/index.html", {
        "office": office, "campaigns": selectors.campaigns_for(user=user),
        "assignments": selectors.my_assignments(user=user), "rectifications": selectors.rectifications_for(user=user),
    })


def _day(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise ValidationError({field: ValidationError(str(exc), code="invalid")}) from None


def _ids(values) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10]


def _int(raw: str, field: str) -> int:
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 5):
        raise ValidationError({field: ValidationError(_("Enter a whole number."), code="invalid")})
    return int(raw)


def _evaluator_choices(user):
    """Whom an office may name as evaluators: active people of the agencies
    it supervises (its own supervisors included), never API clients."""
    return (User.objects.filter(is_active=True, agency__in=agencies_for(user=user))
            .exclude(role__in=("api_client", "sysadmin")).select_related("agency").order_by("agency__name", "username"))


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_new(request):
    user = request.user
    if not (user.agency_id and predicates.is_office_supervisor(user, user.agency)):
        raise PermissionDenied(_("Only the supervisors of a legal office organise case-file evaluations."))
    try:
        services.load_schemes(actor=user)
    except schemes.SchemeError as exc:
        raise PermissionDenied(str(exc)) from None
    agencies = agencies_for(user=user).exclude(kind="legal_office").order_by("region__code", "name")
    values = {"title": "", "scheme": "", "period_start": "", "period_end": "", "sample_size": "5",
              "evaluators_per_case": "1", "agencies": [], "evaluators": []}
    errors = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("title", "scheme", "period_start", "period_end",
                                                                 "sample_size", "evaluators_per_case")}
        values["agencies"] = _ids(request.POST.getlist("agencies"))
        values["evaluators"] = _ids(request.POST.getlist("evaluators"))
        try:
            scheme_ids = _ids([values["scheme"]])
            campaign = services.create_campaign(
                actor=user, office=user.agency, title=values["title"],
                scheme=Scheme.objects.filter(pk__in=scheme_ids).first() if scheme_ids else None,
                period_start=_day(values["period_start"], "period_start"), period_end=_day(values["period_end"], "period_end"),
                agencies=list(agencies.filter(pk__in=values["agencies"])),
                evaluators=list(_evaluator_choices(user).filter(pk__in=values["evaluators"])),
                sample_size=_int(values["sample_size"], "sample_size"),
                evaluators_per_case=_int(values["evaluators_per_case"], "evaluators_per_case"))
        except (ValidationError, PermissionDenied) as exc:
            errors = ({f: " ".join(m) for f, m in exc.message_dict.items()} if isinstance(exc, ValidationError)
                      and hasattr(exc, "error_dict") else {"form": message_of(exc)})
        else:
            return redirect("evaluation:campaign", pk=campaign.pk)
    return render(request, "evaluation/campaign_new.html", {
        "values": values, "errors": errors, "schemes": Scheme.objects.order_by("code", "-version"),
        "agencies": agencies, "evaluators": _evaluator_choices(user)}, status=400 if errors else 200)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_detail(request, pk: int):
    campaign = selectors.campaign_for(user=request.user, pk=pk)
    manages = bool(predicates.can_manage_campaign(request.user, campaign.office))
    if request.method == "POST" and request.POST.get("action") == "draw":
        run_shown(request, lambda: services.draw_campaign(actor=request.user, campaign=campaign,
                                                          seed_value=request.POST.get("seed_value", "").strip() or None),
                  _("The sample is drawn and the evaluators are assigned."))
        return redirect("evaluation:campaign", pk=campaign.pk)
    assignments = selectors.assignments_of(campaign)
    if not manages:
        assignments = [a for a in assignments if a.evaluator_id == request.user.pk]
    submitted = {(e.case_id, e.evaluator_id): e for e in campaign.evaluations.all()}
    rows = [{"a": a, "evaluation": submitted.get((a.case_id, a.evaluator_id))} for a in assignments]
    return render(request, "evaluation/campaign_detail.html", {
        "campaign": campaign, "manages": manages, "rows": rows, "results": selectors.results_table(campaign),
        "population": selectors.closed_cases(campaign).count() if manages and not campaign.drawn else None,
        "draw_problems": services.verify_draw(campaign) if campaign.drawn else [],
        "agencies": campaign.agencies.order_by("name"), "evaluators": campaign.evaluators.select_related("agency").order_by("username"),
    })


def _posted_scores(request, scheme) -> tuple[dict, dict]:
    scores = {}
    for item in scheme.items.filter(auto_check=""):
        scores[item.code] = {"deduction": request.POST.get(f"deduction_{item.code}", "").strip(),
                             "finding": request.POST.get(f"finding_{item.code}", "")}
    vetoes = {v.code: request.POST.get(f"veto_note_{v.code}", "")
              for v in scheme.vetoes.filter(auto_check="") if request.POST.get(f"veto_{v.code}")}
    return scores, vetoes


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def score(request, campaign_id: int, case_id: int):
    """The evaluator's page: the automatic items with their findings and
    evidence links, the manual items' form (deduction within the item's
    range, findings), the veto items, the running score and grade."""
    campaign = selectors.campaign_for(user=request.user, pk=campaign_id)
    if not Assignment.objects.filter(campaign=campaign, case_id=case_id, evaluator=request.user).exists():
        raise Http404("not assigned")
    case = selectors.case_for_evaluation(user=request.user, pk=case_id)
    evaluation = services.start_evaluation(actor=request.user, case=case, scheme=campaign.scheme, campaign=campaign) \
        if request.method == "POST" else Evaluation.objects.filter(case=case, scheme=campaign.scheme, campaign=campaign,
                                                                    evaluator=request.user).first()
    errors, posted = {}, None
    if request.method == "POST":
        scores, vetoes = _posted_scores(request, campaign.scheme)
        posted = {"scores": scores, "vetoes": vetoes}
        submit = request.POST.get("action") == "submit"
        try:
            services.save_scores(actor=request.user, evaluation=evaluation, scores=scores, vetoes=vetoes, submit=submit)
        except (ValidationError, PermissionDenied) as exc:
            errors = ({f: " ".join(m) for f, m in exc.message_dict.items()} if isinstance(exc, ValidationError)
                      and hasattr(exc, "error_dict") else {"form": message_of(exc)})
        else:
            if submit:
                return redirect("evaluation:result", pk=evaluation.pk)
            return redirect("evaluation:score", campaign_id=campaign.pk, case_id=case.pk)
    if evaluation is not None and evaluation.status == "submitted":
        return redirect("evaluation:result", pk=evaluation.pk)
    result = selectors.compute_result(case=case, scheme=campaign.scheme, evaluation=evaluation)
    for item in result["items"]:
        if posted and not item["automatic"]:
            entry = posted["scores"].get(item["code"], {})
            item["form_deduction"], item["form_finding"] = entry.get("deduction", ""), entry.get("finding", "")
        else:
            item["form_deduction"] = "" if item["deduction"] is None else item["deduction"]
            item["form_finding"] = item["finding"]
        item["error"] = errors.get(f"deduction_{item['code']}") or errors.get(f"finding_{item['code']}", "")
    for veto in result["veto_items"]:
        if posted and not veto["automatic"]:
            veto["found"] = veto["code"] in posted["vetoes"]
            veto["note"] = posted["vetoes"].get(veto["code"], "")
        veto["error"] = errors.get(f"veto_{veto['code']}", "")
    return render(request, "evaluation/score.html", {
        "campaign": campaign, "case": case, "result": result, "errors": errors, "evaluation": evaluation,
        "links_open": _case_pages_open(request.user, case),
        "form_items": [i for i in result["items"] if i["section"] == "form"],
        "content_items": [i for i in result["items"] if i["section"] == "content"],
    }, status=400 if errors else 200)


def _case_pages_open(user, case) -> bool:
    """Whether the case's own pages (the evidence links) open for the user:
    its jurisdiction covers the case's agency. A cross-evaluator from another
    agency reads the records' names and numbers on the scoring page instead."""
    return agencies_for(user=user).filter(pk=case.agency_id).exists()


@staff_required
def result(request, pk: int):
    evaluation = selectors.evaluation_for(user=request.user, pk=pk)
    data = selectors.result_of(evaluation)
    rect = Rectification.objects.filter(evaluation=evaluation).first()
    return render(request, "evaluation/result.html", {"evaluation": evaluation, "result": data, "rectification": rect,
                                                      "links_open": _case_pages_open(request.user, evaluation.case)})


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def rectification(request, pk: int):
    r = selectors.rectification_for(user=request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "respond":
            run_shown(request, lambda: services.respond_rectification(actor=request.user, rectification=r,
                                                                      text=request.POST.get("text", "")),
                      _("The rectification is reported to the legal office."))
        elif action in ("accept", "return"):
            run_shown(request, lambda: services.review_rectification(actor=request.user, rectification=r,
                                                                     accept=action == "accept",
                                                                     note=request.POST.get("text", "")),
                      _("The rectification is accepted.") if action == "accept" else _("The rectification is returned."))
        return redirect("evaluation:rectification", pk=r.pk)
    return render(request, "evaluation/rectification.html", {
        "r": r, "may_respond": bool(predicates.can_respond(request.user, r))
        and r.status in (RectificationStatus.OPEN, RectificationStatus.RETURNED),
        "may_review": bool(predicates.can_review_rectification(request.user, r)) and r.status == RectificationStatus.RESPONDED,
    })
