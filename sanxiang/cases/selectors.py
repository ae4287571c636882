"""Reads of cases, always taking the acting user (jurisdiction as in
``sanxiang.core.selectors``: an agency's people see its cases, a legal
office the cases of agencies in its region, administrators everything).
A case outside the user's scope is "not found", never "forbidden"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.http import Http404

from sanxiang.core.models import Agency, Officer
from sanxiang.core.selectors import agencies_for, get_in_scope

from . import avlist, registry
from .models import AvExemption, Case, CaseDeadline, CaseStep, EvidencePreservation, Obligor, StepStatus
from sanxiang.core import clock


def cases_for(*, user) -> QuerySet[Case]:
    return Case.objects.select_related("agency", "agency__region").filter(agency__in=agencies_for(user=user))


def officer_of(user) -> Officer | None:
    """The officer record linked to a login, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Officer.objects.filter(user=user).first()


def my_cases(*, user) -> QuerySet[Case]:
    """An officer's own cases: assigned to the officer linked to the login,
    or opened by the login. Scoped like ``cases_for``."""
    qs = cases_for(user=user)
    officer = officer_of(user)
    from django.db.models import Q

    condition = Q(created_by=user)
    if officer is not None:
        condition |= Q(assignments__officer=officer)
    return qs.filter(condition).distinct()


def get_case_for(*, user, pk) -> Case:
    return get_in_scope(cases_for(user=user), "case", pk=pk)


def get_step_for(*, user, case_pk, pk) -> CaseStep:
    case = get_case_for(user=user, pk=case_pk)
    return get_in_scope(case.steps.select_related("case", "case__agency"), "step", pk=pk)


def get_preservation_for(*, user, case_pk, pk) -> EvidencePreservation:
    """A registration of preserved evidence (art. 56) of a case in scope."""
    case = get_case_for(user=user, pk=case_pk)
    return get_in_scope(case.preservations.select_related("deadline"), "preservation", pk=pk)


def preservations_of(*, case: Case) -> list[EvidencePreservation]:
    return list(case.preservations.select_related("deadline", "recorded_by").order_by("preserved_on", "id"))


def av_exemption_of(*, user, step: CaseStep) -> AvExemption:
    """The AV exemption asked for a step in scope (404 when none was asked)."""
    return get_in_scope(AvExemption.objects.filter(step__case__in=cases_for(user=user).values("pk"))
                        .select_related("step", "step__case"), "exemption", step=step)


def timeline(*, case: Case) -> list[CaseStep]:
    return list(case.steps.prefetch_related("officers").select_related("started_by", "completed_by")
                .order_by("started_at", "id"))


# --------------------------------------------------------------------------
# deadlines


def deadlines_for(*, user, mine: bool = False, agency_id=None) -> QuerySet[CaseDeadline]:
    """Open deadlines (not met, not superseded) of open cases in scope, the
    agency's own obligations only (a party's period lapses, nobody is late)."""
    cases = my_cases(user=user) if mine else cases_for(user=user)
    qs = CaseDeadline.objects.select_related("case", "case__agency").filter(
        case__in=cases.values("pk"), case__status="open", met_at__isnull=True, superseded=False, obligor=Obligor.AGENCY)
    if agency_id:
        qs = qs.filter(case__agency_id=agency_id)
    return qs.order_by("due_on", "id")


def overdue_deadlines(*, user, today: date | None = None, **kw) -> QuerySet[CaseDeadline]:
    today = today or clock.today()
    return deadlines_for(user=user, **kw).filter(due_on__lt=today)


def upcoming_deadlines(*, user, today: date | None = None, within_days: int = 14, **kw) -> QuerySet[CaseDeadline]:
    today = today or clock.today()
    return deadlines_for(user=user, **kw).filter(due_on__gte=today, due_on__lte=today + timedelta(days=within_days))


# --------------------------------------------------------------------------
# AV (记录-4)


def av_items_for_step(step: CaseStep) -> list:
    """AV evidence (photo, audio, video) attached to a step, from the app
    that registered it (``registry.register_step_av_items``: the evidence
    app); an empty list while none did."""
    return registry.step_av_items(step)


def issued_documents_for_step(*, user, step: CaseStep) -> list:
    """Numbered documents (文书) issued in a step (记录-2/记录-3) that ``user``
    may see, from the app that registered them
    (``registry.register_step_documents``: the documents app)."""
    return registry.step_documents(user=user, step=step)


def av_list_for(*, user, agency: Agency) -> list[avlist.AvEntry]:
    if not agencies_for(user=user).filter(pk=agency.pk).exists():
        raise Http404("agency not found")
    return avlist.merged_list(agency)


@dataclass
class AvCoverage:
    agency: Agency
    required: int = 0  # completed steps that needed AV
    with_av: int = 0  # ... with AV evidence attached
    exempted: int = 0  # ... without AV, exemption approved
    missing: int = 0  # ... neither (should not happen: completion is refused; counts older records)

    @property
    def share(self) -> float | None:
        return None if not self.required else self.with_av / self.required


def av_coverage(*, user, since: date | None = None, until: date | None = None) -> list[AvCoverage]:
    """Per agency in scope: the share of completed AV-requiring steps that
    have AV attached (记录-4, 记录-13 statistics)."""
    steps = CaseStep.objects.select_related("case", "case__agency").filter(
        case__agency__in=agencies_for(user=user), status=StepStatus.COMPLETED).exclude(av_requirement="")
    if since:
        steps = steps.filter(completed_at__date__gte=since)
    if until:
        steps = steps.filter(completed_at__date__lte=until)
    exempted = set(AvExemption.objects.filter(step__in=steps, approved_at__isnull=False).values_list("step_id", flat=True))
    report: dict[int, AvCoverage] = {}
    for step in steps.order_by("case__agency_id", "id"):
        row = report.setdefault(step.case.agency_id, AvCoverage(agency=step.case.agency))
        row.required += 1
        if av_items_for_step(step):
            row.with_av += 1
        elif step.pk in exempted:
            row.exempted += 1
        else:
            row.missing += 1
    return sorted(report.values(), key=lambda r: (r.agency.region.code, r.agency.name))


def pending_exemptions_for(*, user) -> QuerySet[AvExemption]:
    return AvExemption.objects.select_related("step", "step__case", "requested_by").filter(
        step__case__in=cases_for(user=user).values("pk"), approved_at__isnull=True).order_by("requested_at")
