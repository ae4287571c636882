"""Officer pages for cases, usable on a phone (issue 4 item 8, seed 记录-1):
my cases, open a case, a case with its steps timeline and the steps it may
take next, start and complete a step (place, record, officers, AV upload
area), AV exemptions, deadlines, the AV list and its coverage.

Views parse input and call selectors and services; errors from the rules of
procedure are shown as they are (Chinese, with the article)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanxiang.core.selectors import agencies_for, officers_for
from sanxiang.core.refusals import message_of, run_shown
from sanxiang.core.services import record_view
from sanxiang.core.views import staff_required

from . import predicates, registry, selectors, services
from .forms import (
    AssignOfficerForm, CompleteStepForm, ExemptionForm, HearingNoticeForm, HearingRequestForm, HearingWaiverForm, OpenCaseForm,
    PreservationForm, PreservationHandledForm, ProposalForm, StartStepForm, TerminateForm, yuan_to_fen,
)
from .models import AvExemption, StepStatus
from sanxiang.core.parsing import optional_id
from sanxiang.core import clock
from sanxiang.rules.loader import get_rule

PAGE_SIZE = 30


def _form_errors(form) -> str:
    """A form's errors, each named by its field's label."""
    return "；".join(f"{form.fields[name].label}：{e}" if name in form.fields else e
                    for name, errs in form.errors.items() for e in errs)


@staff_required
def case_list(request):
    scope = request.GET.get("scope", "mine")
    qs = selectors.my_cases(user=request.user) if scope == "mine" else selectors.cases_for(user=request.user)
    status = request.GET.get("status", "open")
    if status in ("open", "closed", "terminated"):
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(title__contains=q) | qs.filter(party_name__contains=q)
    page = Paginator(qs.order_by("-opened_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/list.html", {
        "page": page, "scope": scope, "status": status, "q": q, "total": page.paginator.count,
        "can_open": predicates.can_handle(request.user, request.user.agency_id).ok,
    })


@staff_required
def open_case_view(request):
    user = request.user
    if not predicates.can_handle(user, user.agency_id):
        raise PermissionDenied
    officers_qs = officers_for(user=user).filter(agency_id=user.agency_id).order_by("name")
    form = OpenCaseForm(request.POST or None, officers_qs=officers_qs,
                        initial={"opened_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        fine = yuan_to_fen(d.get("proposed_fine_yuan"))
        try:
            case = services.open_case(
            actor=user, agency=user.agency, title=d["title"], act_kind=d["act_kind"], procedure=d["procedure"],
                party_name=d["party_name"], party_type=d["party_type"], party_credit_code=d["party_credit_code"],
                party_id_number=d["party_id_number"], opened_on=d["opened_on"], officers=list(d["officers"]),
                proposed_penalty_categories=["罚款"] if fine else [], proposed_fine_fen=fine)
        except ValidationError as exc:
            form.add_error(None, message_of(exc))
        else:
            messages.success(request, _("Case opened."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/open.html", {"form": form}, status=400 if form.errors else 200)


@staff_required
def case_detail(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    record_view(actor=request.user, obj=case, action="case.view", via="page")  # personal data read (issue 9)
    today = clock.today()
    definition = predicates.definition_of(case)
    can_write = predicates.can_handle(request.user, case.agency_id).ok
    assignments = list(case.assignments.select_related("officer"))
    can_change_officers = can_write and predicates.can_change_officers(case).ok
    return render(request, "cases/detail.html", {
        "case": case, "definition": definition, "steps": selectors.timeline(case=case),
        "next_steps": predicates.next_steps(case, on=today), "running": predicates.step_in_progress(case),
        "assignments": assignments,
        "deadlines": case.deadlines.order_by("due_on", "id"), "today": today,
        "can_write": can_write,
        # The officers section (记录-1: who handles the case): remove is offered
        # where the rules allow it, else the reason is shown.
        "can_change_officers": can_change_officers,
        "officer_rows": [(a, predicates.can_remove_officer(case, a.officer, on=today)) for a in assignments]
        if can_change_officers else [],
        "assign_form": AssignOfficerForm(officers_qs=officers_for(user=request.user).filter(agency_id=case.agency_id)
                                         .exclude(pk__in=[a.officer_id for a in assignments]).order_by("name"))
        if can_change_officers else None,
        # Termination (撤销立案): the agency head only.
        "can_terminate": predicates.can_approve(request.user, case.agency_id).ok and case.status == "open",
        "terminate_verdict": predicates.can_terminate(case),
        "terminate_form": TerminateForm(initial={"on": today}),
        "can_decide": predicates.can_decide(case, on=today) if "decision" in definition.codes else None,
        "panels": registry.case_panels(user=request.user, case=case),
        # The hearing (arts. 63-65): its notice, then the hearing step; evidence
        # preservation (art. 56) with its handling deadline.
        "hearing_record_open": predicates.can_record_hearing(case).ok,
        "hearing_held": case.hearing_on is not None or case.steps.filter(code="hearing", status=StepStatus.COMPLETED).exists(),
        "notice_form": HearingNoticeForm(initial={"notified_on": today}),
        "preservations": selectors.preservations_of(case=case),
        "preservation_form": PreservationForm(initial={"preserved_on": today}),
        "handled_form": PreservationHandledForm(initial={"handled_on": today}),
        "offers_preservation": "investigation" in definition.codes and case.act_kind == "penalty",
        "notice_rule": get_rule("penalty.hearing_notice_limit", on=today, agency=case.agency),
        "preservation_rule": get_rule("penalty.preservation_decision_limit", on=today, agency=case.agency),
        "hearing_form": HearingRequestForm(), "waiver_form": HearingWaiverForm(), "proposal_form": ProposalForm(initial={
            "categories": case.proposed_penalty_categories,
            "fine_yuan": None if case.proposed_fine_fen is None else case.proposed_fine_fen / 100}),
    })


@staff_required
def start_step_view(request, pk: int, code: str):
    case = selectors.get_case_for(user=request.user, pk=pk)
    if not predicates.can_handle(request.user, case.agency_id).ok:
        raise PermissionDenied
    definition = predicates.definition_of(case)
    if code not in definition.codes:
        raise Http404("no such step")
    spec = definition.step(code)
    officers_qs = officers_for(user=request.user).filter(agency_id=case.agency_id).order_by("name")
    assigned = [a.officer_id for a in case.assignments.all()]
    form = StartStepForm(request.POST or None, officers_qs=officers_qs, initial={"officers": assigned})
    verdict = predicates.can_start_step(case, code)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            step = services.start_step(actor=request.user, case=case, code=code, officers=list(d["officers"]),
                                       place=d["place"], note=d["note"], at_premises=d["at_premises"], at=d.get("at"))
        except ValidationError as exc:
            form.add_error(None, message_of(exc))
        else:
            messages.success(request, _("Step started: %(name)s.") % {"name": step.name})
            return redirect("cases:step", pk=case.pk, step_id=step.pk)
    return render(request, "cases/start_step.html", {"case": case, "spec": spec, "form": form, "verdict": verdict},
                  status=400 if form.errors else 200)


@staff_required
def step_detail(request, pk: int, step_id: int):
    step = selectors.get_step_for(user=request.user, case_pk=pk, pk=step_id)
    case = step.case
    can_write = predicates.can_handle(request.user, case.agency_id).ok
    form = CompleteStepForm(request.POST or None, initial={"place": step.place, "note": step.note}, step_code=step.code)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.complete_step(actor=request.user, step=step, note=d["note"], place=d["place"],
                                       documents=form.document_list(), served_on=d.get("served_on"), at=d.get("at"))
            except ValidationError as exc:
                form.add_error(None, message_of(exc))
            else:
                messages.success(request, _("Step completed: %(name)s.") % {"name": step.name})
                return redirect("cases:detail", pk=case.pk)
    exemption = AvExemption.objects.filter(step=step).select_related("requested_by", "approved_by").first()
    spec = predicates.definition_of(case).step(step.code)
    return render(request, "cases/step.html", {
        "case": case, "step": step, "spec": spec, "form": form, "can_write": can_write,
        "verdict": predicates.can_complete_step(step) if step.status == StepStatus.IN_PROGRESS else None,
        "av_items": selectors.av_items_for_step(step), "exemption": exemption, "exemption_form": ExemptionForm(),
        "issued_documents": selectors.issued_documents_for_step(user=request.user, step=step),
        "can_approve": exemption is not None and not exemption.is_approved
        and predicates.can_approve(request.user, case.agency_id).ok and request.user.pk != exemption.requested_by_id,
        "evidence_url": f"/workbench/cases/{case.pk}/steps/{step.pk}/evidence/",
    }, status=400 if form.errors else 200)


@staff_required
@require_POST
def request_exemption_view(request, pk: int, step_id: int):
    step = selectors.get_step_for(user=request.user, case_pk=pk, pk=step_id)
    form = ExemptionForm(request.POST)
    reason = form.data.get("reason", "")
    run_shown(request, lambda: services.request_av_exemption(actor=request.user, step=step, reason=reason),
              _("Exemption requested; the agency head must approve it."))
    return redirect("cases:step", pk=pk, step_id=step_id)


@staff_required
@require_POST
def approve_exemption_view(request, pk: int, step_id: int):
    step = selectors.get_step_for(user=request.user, case_pk=pk, pk=step_id)
    exemption = AvExemption.objects.filter(step=step).first()
    if exemption is None:
        raise Http404
    run_shown(request, lambda: services.approve_av_exemption(actor=request.user, exemption=exemption),
              _("Exemption approved."))
    return redirect("cases:step", pk=pk, step_id=step_id)


@staff_required
@require_POST
def hearing_request_view(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = HearingRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the party asked for a hearing."))
    else:
        run_shown(request, lambda: services.record_hearing_request(
            actor=request.user, case=case, requested_on=form.cleaned_data["requested_on"]),
            _("Hearing request recorded."))
    return redirect("cases:detail", pk=pk)


@staff_required
@require_POST
def hearing_waiver_view(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = HearingWaiverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the party waived a hearing in writing."))
    else:
        run_shown(request, lambda: services.record_hearing_waiver(
            actor=request.user, case=case, waived_on=form.cleaned_data["waived_on"]),
            _("Hearing waiver recorded."))
    return redirect("cases:detail", pk=pk)


@staff_required
@require_POST
def hearing_notice_view(request, pk: int):
    """听证通知书 served (art. 64 (2)): its day and the hearing day it names."""
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = HearingNoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_shown(request, lambda: services.record_hearing_notice(
            actor=request.user, case=case, notified_on=form.cleaned_data["notified_on"],
            hearing_on=form.cleaned_data["hearing_on"]), _("Hearing notice recorded."))
    return redirect(f"{reverse('cases:detail', kwargs={'pk': pk})}#hearing")


@staff_required
@require_POST
def preservation_view(request, pk: int):
    """证据先行登记保存 registered (art. 56): a handling deadline of 7 working days."""
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = PreservationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_shown(request, lambda: services.record_preservation(
            actor=request.user, case=case, preserved_on=form.cleaned_data["preserved_on"],
            items=form.cleaned_data["items"]), _("Evidence preservation registered."))
    return redirect(f"{reverse('cases:detail', kwargs={'pk': pk})}#preservation")


@staff_required
@require_POST
def preservation_handled_view(request, pk: int, preservation_id: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    preservation = selectors.get_preservation_for(user=request.user, case_pk=pk, pk=preservation_id)
    form = PreservationHandledForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_shown(request, lambda: services.handle_preservation(
            actor=request.user, case=case, preservation=preservation, handled_on=form.cleaned_data["handled_on"],
            handling=form.cleaned_data["handling"]), _("Handling decision recorded."))
    return redirect(f"{reverse('cases:detail', kwargs={'pk': pk})}#preservation")


@staff_required
@require_POST
def proposal_view(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = ProposalForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        run_shown(request, lambda: services.propose_decision(
            actor=request.user, case=case, categories=form.cleaned_data["categories"],
            fine_fen=yuan_to_fen(form.cleaned_data["fine_yuan"])),
            _("Proposed decision recorded."))
    return redirect("cases:detail", pk=pk)


@staff_required
@require_POST
def terminate_view(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = TerminateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_shown(request, lambda: services.terminate_case(
            actor=request.user, case=case, reason=form.cleaned_data["reason"], on=form.cleaned_data["on"]),
            _("Case terminated."))
    return redirect("cases:detail", pk=pk)


def _officer_for(request, officer_id):
    officer = officers_for(user=request.user).filter(pk=officer_id).first()
    if officer is None:
        raise Http404("officer not found")
    return officer


@staff_required
@require_POST
def assign_officer_view(request, pk: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    form = AssignOfficerForm(request.POST, officers_qs=officers_for(user=request.user).filter(agency_id=case.agency_id))
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_shown(request, lambda: services.assign_officer(
            actor=request.user, case=case, officer=form.cleaned_data["officer"], role=form.cleaned_data["role"]),
            _("Officer added: %(name)s.") % {"name": form.cleaned_data["officer"].name})
    return redirect("cases:detail", pk=pk)


@staff_required
@require_POST
def lead_officer_view(request, pk: int, officer_id: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    officer = _officer_for(request, officer_id)
    run_shown(request, lambda: services.set_lead_officer(actor=request.user, case=case, officer=officer),
              _("Lead officer: %(name)s.") % {"name": officer.name})
    return redirect("cases:detail", pk=pk)


@staff_required
@require_POST
def remove_officer_view(request, pk: int, officer_id: int):
    case = selectors.get_case_for(user=request.user, pk=pk)
    officer = _officer_for(request, officer_id)
    run_shown(request, lambda: services.remove_officer(actor=request.user, case=case, officer=officer),
              _("Officer removed: %(name)s.") % {"name": officer.name})
    return redirect("cases:detail", pk=pk)


@staff_required
def deadlines_view(request):
    today = clock.today()
    mine = request.GET.get("scope", "agency") == "mine"
    agency_id = optional_id(request.GET.get("agency"), field="agency")
    kw = {"mine": mine, "agency_id": agency_id}
    return render(request, "cases/deadlines.html", {
        "overdue": selectors.overdue_deadlines(user=request.user, today=today, **kw)[:200],
        "upcoming": selectors.upcoming_deadlines(user=request.user, today=today, within_days=30, **kw)[:200],
        "agencies": agencies_for(user=request.user).exclude(kind="legal_office"), "agency_id": agency_id,
        "mine": mine, "today": today,
    })


@staff_required
def av_view(request):
    """The AV list per agency and its coverage (记录-4)."""
    agencies = agencies_for(user=request.user).exclude(kind="legal_office")
    agency = None
    agency_id = optional_id(request.GET.get("agency"), field="agency") or request.user.agency_id
    if agency_id:
        agency = agencies.filter(pk=agency_id).first()
    return render(request, "cases/av.html", {
        "coverage": selectors.av_coverage(user=request.user),
        "agencies": agencies[:200], "agency": agency,
        "entries": selectors.av_list_for(user=request.user, agency=agency) if agency else [],
        "pending": selectors.pending_exemptions_for(user=request.user)[:100],
    })
