"""Writes for cases (执法全过程记录, seed 记录-1 and 记录-4).

Every function is keyword-only, checks the acting user may handle the case,
refuses what the rules of procedure forbid (``predicates.py``; errors in
Chinese citing the article, with a stable code), writes in one transaction
and appends its audit entry inside that transaction.

Who may write: people of the case's agency acting in it (officer, agency
head) and the agency's API clients. Legal offices and administrators read.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, Officer
from sanxiang.core.vocabulary import PartyType, PenaltyCategory

from . import avlist, registry
from .models import (
    AvCategory, AvExemption, AvRequirement, Case, CaseDeadline, CaseOfficer, CaseStatus, CaseStep, DeadlineKind,
    EvidencePreservation, Obligor, OfficerRole, Procedure, StepStatus,
)
from .predicates import (
    Verdict, can_approve, can_change_officers, can_close, can_handle, can_complete_step, can_record_hearing, can_remove_officer, can_start_step,
    can_terminate, can_write_case,
    check_officer, check_summary_limits, definition_of, hearing_requested_in_time, step_in_progress,
)
from sanxiang.core import clock


# The rule that limits the decision, per act kind and procedure (counted
# from opening / acceptance).
DECISION_RULES = {("penalty", Procedure.GENERAL): "penalty.decision_limit",
                  ("license", Procedure.GENERAL): "licensing.decision_limit"}
SERVICE_RULES = {("penalty", Procedure.GENERAL): "penalty.service_limit"}


def requires_review_block(case: Case) -> str | None:
    """Why legal review (法制审核, penalty law art. 58) blocks a decision on
    this case, or None: the decision guards registered in ``registry.py``
    (the review app's, 审核-8). ``predicates.can_decide`` and the saves of a
    decision ask the same registry."""
    return registry.decision_block(case)


# --------------------------------------------------------------------------
# helpers


def _may_handle(actor, agency_id: int) -> None:
    verdict = can_handle(actor, agency_id)
    if not verdict:
        raise PermissionDenied(verdict.reason)


def _refuse(verdict: Verdict, field: str | None = None):
    raise ValidationError({field or verdict.field: ValidationError(verdict.reason, code=verdict.code)})


def _case_id_of(kwargs: dict) -> int:
    """The case a write acts on, from its keyword arguments."""
    if kwargs.get("case") is not None:
        return kwargs["case"].pk
    for name in ("step", "deadline"):
        if kwargs.get(name) is not None:
            return kwargs[name].case_id
    if kwargs.get("exemption") is not None:
        return CaseStep.objects.values_list("case_id", flat=True).get(pk=kwargs["exemption"].step_id)
    raise TypeError("a case write names its case (case=, step=, deadline= or exemption=)")


def case_write(func):
    """The one gate of every write on an existing case: inside the write's
    transaction, lock the case row and refuse unless ``can_write_case``
    (open; a closed or terminated case is filed as it stands). The status is
    read from the database, not from the caller's (maybe stale) instance.
    ``tests/test_closed_case_writes.py`` calls every public service of this
    module on a closed and on a terminated case."""

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=_case_id_of(kwargs))
            verdict = can_write_case(case)
            if not verdict:
                _refuse(verdict)
            return func(*args, **kwargs)

    guarded.case_write = True
    return guarded


def _past_day(day, field: str, what: str) -> date:
    """A day of a record entered after the fact (a notice served on paper
    last week): a real date, never in the future. Refusals name the field."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValidationError({field: ValidationError(f"{what}须为日期（YYYY-MM-DD）。", code="invalid")})
    if day > clock.today():
        raise ValidationError({field: ValidationError(
            f"{what}（{day:%Y年%m月%d日}）不能晚于今天（{clock.today():%Y年%m月%d日}）：请填写实际发生的日期。", code="future")})
    return day


def _day_of(at: datetime) -> date:
    return clock.local_date(at)


def _moment(at: datetime | None) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + timedelta(minutes=5):
        raise ValidationError({"at": ValidationError("记录时间不能晚于当前时间。", code="future")})
    return at


def _add_deadline(*, case: Case, kind: str, rule: str, start: date, obligor: str = Obligor.AGENCY,
                  met_at: datetime | None = None) -> CaseDeadline:
    result = deadline_for(rule=rule, start=start, agency=case.agency)
    case.deadlines.filter(kind=kind, superseded=False, met_at__isnull=True).update(superseded=True)
    return CaseDeadline.objects.create(
        case=case, kind=kind, obligor=obligor, start_on=start, due_on=result.date, provisional=result.provisional,
        rule_name=rule, rule_amount=int(result.rule.value), rule_unit=result.rule.unit,
        rule_reference=result.rule.reference, met_at=met_at,
    )


def recompute_provisional_deadlines(*, actor, year: int) -> int:
    """Recompute every stored provisional case deadline on the calendar as it
    now stands (called by the calendar load, core.calendar registry): same
    rule, same start, same agency. Each one whose date or provisional flag
    changes is saved and audited. Returns how many were looked at."""
    rows = list(CaseDeadline.objects.select_for_update().filter(provisional=True)
                .select_related("case__agency", "case__agency__region"))
    for d in rows:
        result = deadline_for(rule=d.rule_name, start=d.start_on, agency=d.case.agency)
        if (result.date, result.provisional) == (d.due_on, d.provisional):
            continue
        before = _deadline_payload(d)
        d.due_on, d.provisional = result.date, result.provisional
        d.save(update_fields=["due_on", "provisional"])
        append_audit(actor=actor, action="case.deadline_recompute", obj=d.case, payload={
            "deadline": d.pk, "calendar_year": year, "before": before, "after": _deadline_payload(d)})
    return len(rows)


def _meet(case: Case, *kinds: str, at: datetime) -> None:
    case.deadlines.filter(kind__in=kinds, superseded=False, met_at__isnull=True).update(met_at=at)


def _deadline_payload(d: CaseDeadline) -> dict:
    return {"kind": d.kind, "due_on": d.due_on.isoformat(), "rule": d.rule_name, "provisional": d.provisional}


def _officers_of(case: Case, officers) -> list[Officer]:
    if officers is None:
        return [a.officer for a in case.assignments.select_related("officer")]
    result = []
    for o in officers:
        if not isinstance(o, Officer):
            o = Officer.objects.filter(pk=o).first()
            if o is None:
                raise ValidationError({"officers": ValidationError("执法人员不存在。", code="officer_unknown")})
        result.append(o)
    return result


# --------------------------------------------------------------------------
# cases


@transaction.atomic
def open_case(*, actor, agency: Agency, title: str, act_kind: str, procedure: str = Procedure.GENERAL,
              party_name: str, party_type: str, opened_on: date | None = None, officers: list[Officer],
              lead: Officer | None = None, party_credit_code: str = "", party_id_number: str = "",
              proposed_penalty_categories: list[str] | None = None, proposed_fine_fen: int | None = None) -> Case:
    """立案 / 启动: a case of an agency following the process definition of
    its act kind and procedure. Deadlines counted from the opening day are
    computed at once (penalty law art. 60: decision within 90 days)."""
    _may_handle(actor, agency.pk)
    opened_on = opened_on or clock.today()
    if opened_on > clock.today():
        raise ValidationError({"opened_on": ValidationError("立案日期不能晚于今天。", code="future")})
    if party_type not in PartyType.values:
        raise ValidationError({"party_type": ValidationError(f"当事人类别无效（{'、'.join(PartyType.values)}）。",
                                                             code="invalid")})
    officers = _officers_of(None, officers) if officers else []
    if not officers:
        raise ValidationError({"officers": ValidationError("至少指定一名承办人员。", code="required")})
    for o in officers:
        if o.agency_id != agency.pk:
            raise ValidationError({"officers": ValidationError(f"执法人员{o.name}不属于本部门。", code="officer_other_agency")})
    case = Case(agency=agency, title=title.strip(), act_kind=act_kind, procedure=procedure, party_name=party_name.strip(),
                party_type=party_type, party_credit_code=party_credit_code.strip().upper(), party_id_number=party_id_number.strip().upper(),
                opened_on=opened_on, created_by=actor, proposed_penalty_categories=list(proposed_penalty_categories or []),
                proposed_fine_fen=proposed_fine_fen)
    case.full_clean(exclude=["created_by"])
    try:
        definition_of(case)
    except LookupError as exc:
        raise ValidationError({"procedure": ValidationError(str(exc), code="no_process")}) from None
    verdict = check_summary_limits(case, categories=case.proposed_penalty_categories, fine_fen=proposed_fine_fen, on=opened_on)
    if not verdict:
        _refuse(verdict)
    case.save()
    now = timezone.now()
    lead = lead or officers[0]
    for o in dict.fromkeys(officers):
        CaseOfficer.objects.create(case=case, officer=o, role=OfficerRole.LEAD if o == lead else OfficerRole.ASSIST, assigned_at=now)
    deadlines = []
    rule = DECISION_RULES.get((act_kind, procedure))
    if rule:
        deadlines.append(_add_deadline(case=case, kind=DeadlineKind.DECISION, rule=rule, start=opened_on))
    append_audit(actor=actor, action="case.open", obj=case, payload={
        "agency": agency.credit_code, "title": case.title, "act_kind": act_kind, "procedure": procedure,
        "opened_on": opened_on.isoformat(), "officers": [o.certificate_number for o in officers],
        "deadlines": [_deadline_payload(d) for d in deadlines]})
    registry.case_changed(actor=actor, case=case)
    return case


@transaction.atomic
@case_write
def assign_officer(*, actor, case: Case, officer: Officer, role: str = OfficerRole.ASSIST) -> CaseOfficer:
    """Put an officer on an open case (承办人员) as lead (主办人, the former
    lead then assists) or assisting officer. The officer must be of the
    case's agency and hold a certificate valid today that covers the act
    kind (``predicates.check_officer``, penalty law art. 42). For an officer
    already on the case, role "lead" makes them the lead
    (``set_lead_officer``); anything else is a duplicate."""
    _may_handle(actor, case.agency_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    verdict = can_change_officers(case)
    if not verdict:
        _refuse(verdict)
    if role not in OfficerRole.values:
        raise ValidationError({"role": ValidationError("承办角色无效（lead 主办、assist 协办）。", code="invalid")})
    if case.assignments.filter(officer=officer).exists():
        if role == OfficerRole.LEAD:
            return set_lead_officer(actor=actor, case=case, officer=officer)
        raise ValidationError({"officer": ValidationError(f"{officer.name}已是本案承办人员。", code="duplicate")})
    verdict = check_officer(case, officer, on=clock.today())
    if not verdict:
        _refuse(verdict, "officer")
    previous = None
    if role == OfficerRole.LEAD:
        previous = case.assignments.filter(role=OfficerRole.LEAD).select_related("officer").first()
        case.assignments.filter(role=OfficerRole.LEAD).update(role=OfficerRole.ASSIST)
    assignment = CaseOfficer.objects.create(case=case, officer=officer, role=role, assigned_at=timezone.now())
    append_audit(actor=actor, action="case.officer_assign", obj=case, payload={
        "officer": officer.certificate_number, "role": role,
        "previous_lead": previous.officer.certificate_number if previous else None})
    return assignment


@transaction.atomic
@case_write
def set_lead_officer(*, actor, case: Case, officer: Officer) -> CaseOfficer:
    """Make an officer already on the case its lead (主办人); the former lead
    stays on the case as an assisting officer. The new lead must be able to
    act today (``check_officer``)."""
    _may_handle(actor, case.agency_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    verdict = can_change_officers(case)
    if not verdict:
        _refuse(verdict)
    assignment = case.assignments.filter(officer=officer).first()
    if assignment is None:
        raise ValidationError({"officer": ValidationError(f"{officer.name}不是本案承办人员，请先加入本案。", code="not_assigned")})
    if assignment.role == OfficerRole.LEAD:
        raise ValidationError({"officer": ValidationError(f"{officer.name}已是本案主办人。", code="already_lead")})
    verdict = check_officer(case, officer, on=clock.today())
    if not verdict:
        _refuse(verdict, "officer")
    previous = case.assignments.filter(role=OfficerRole.LEAD).select_related("officer").first()
    case.assignments.filter(role=OfficerRole.LEAD).update(role=OfficerRole.ASSIST)
    assignment.role = OfficerRole.LEAD
    assignment.save(update_fields=["role"])
    append_audit(actor=actor, action="case.officer_lead", obj=case, payload={
        "officer": officer.certificate_number, "previous_lead": previous.officer.certificate_number if previous else None})
    return assignment


@transaction.atomic
@case_write
def remove_officer(*, actor, case: Case, officer: Officer) -> None:
    """Take an assisting officer off an open case. Refused for the lead
    (name another lead first) and when the officers left who may act today
    would be fewer than the act kind's minimum for its on-site steps
    (``predicates.can_remove_officer``: ``penalty.min_officers`` /
    ``coercion.min_officers``). The steps the officer took part in keep
    them in their record."""
    _may_handle(actor, case.agency_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    verdict = can_remove_officer(case, officer, on=clock.today())
    if not verdict:
        _refuse(verdict)
    assignment = case.assignments.get(officer=officer)
    role = assignment.role
    assignment.delete()
    append_audit(actor=actor, action="case.officer_remove", obj=case,
                 payload={"officer": officer.certificate_number, "role": role})


@transaction.atomic
@case_write
def terminate_case(*, actor, case: Case, reason: str, on: date) -> Case:
    """终止 / 撤销立案: end an open case before any decision, with the
    agency head's approval (an officer cannot terminate alone; the same
    head role that approves AV exemptions). A step under way ends with the
    case (status ``ended``: its record is closed, it was not carried out);
    the case's open deadlines are marked superseded, so nothing shows as
    overdue; ``closed_on`` is the day of termination. Seed 记录-1: the
    whole process is recorded, including how a case ended without a
    decision."""
    if not can_approve(actor, case.agency_id):
        raise PermissionDenied("终止案件（撤销立案）须经本部门负责人批准。")
    case = Case.objects.select_for_update().get(pk=case.pk)
    verdict = can_terminate(case)
    if not verdict:
        _refuse(verdict)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("请写明终止案件（撤销立案）的理由。", code="required")})
    if on is None:
        raise ValidationError({"on": ValidationError("请填写终止日期。", code="required")})
    if on > clock.today():
        raise ValidationError({"on": ValidationError("终止日期不能晚于今天。", code="future")})
    if on < case.opened_on:
        raise ValidationError({"on": ValidationError("终止日期不能早于立案（启动）日期。", code="before_opening")})
    latest = case.steps.order_by("-started_at").first()
    last_done = case.steps.filter(completed_at__isnull=False).order_by("-completed_at").first()
    for step, moment in ((latest, latest and latest.started_at), (last_done, last_done and last_done.completed_at)):
        if step is not None and on < _day_of(moment):
            raise ValidationError({"on": ValidationError(
                f"终止日期不能早于环节「{step.name}」的记录日期（{_day_of(moment):%Y年%m月%d日}）。", code="out_of_order")})
    now = timezone.now()
    running = step_in_progress(case)
    if running is not None:
        running.status, running.completed_at, running.completed_by = StepStatus.ENDED, now, actor
        running.save(update_fields=["status", "completed_at", "completed_by"])
    open_deadlines = list(case.deadlines.filter(met_at__isnull=True, superseded=False).order_by("due_on", "id"))
    case.deadlines.filter(pk__in=[d.pk for d in open_deadlines]).update(superseded=True)
    case.status, case.closed_on, case.current_step = CaseStatus.TERMINATED, on, ""
    case.termination_reason, case.terminated_by = reason, actor
    case.save(update_fields=["status", "closed_on", "current_step", "termination_reason", "terminated_by"])
    append_audit(actor=actor, action="case.terminate", obj=case, payload={
        "reason": reason, "on": on.isoformat(),
        "step_ended": {"id": running.pk, "code": running.code} if running else None,
        "deadlines_superseded": [_deadline_payload(d) for d in open_deadlines]})
    # 审核: a pending legal review has no decision left to review; 记录-3: a
    # terminated case's records are filed too (撤销立案 cases keep their
    # file), as on closure. The apps that do this registered here.
    registry.case_ended(actor=actor, case=case)
    return case


@transaction.atomic
@case_write
def propose_decision(*, actor, case: Case, categories: list[str], fine_fen: int | None = None,
                     confiscation_fen: int | None = None) -> Case:
    """Record the proposed decision (拟作出的处理决定); a summary case is held
    to art. 51's limits here already."""
    _may_handle(actor, case.agency_id)
    bad = [c for c in categories if c not in PenaltyCategory.values]
    if bad:
        raise ValidationError({"proposed_penalty_categories": ValidationError(f"处罚种类无效：{'、'.join(bad)}。", code="invalid")})
    for field, value in (("proposed_fine_fen", fine_fen), ("proposed_confiscation_fen", confiscation_fen)):
        if value is not None and value < 0:
            raise ValidationError({field: ValidationError("金额不能为负数。", code="invalid")})
    if fine_fen and "罚款" not in categories:
        categories = [*categories, "罚款"]
    verdict = check_summary_limits(case, categories=categories, fine_fen=fine_fen, confiscation_fen=confiscation_fen,
                                   on=clock.today())
    if not verdict:
        _refuse(verdict)
    before = {"categories": case.proposed_penalty_categories, "fine_fen": case.proposed_fine_fen,
              "confiscation_fen": case.proposed_confiscation_fen}
    case.proposed_penalty_categories, case.proposed_fine_fen, case.proposed_confiscation_fen = list(categories), fine_fen, confiscation_fen
    case.save(update_fields=["proposed_penalty_categories", "proposed_fine_fen", "proposed_confiscation_fen"])
    append_audit(actor=actor, action="case.propose_decision", obj=case, payload={
        "before": before, "after": {"categories": list(categories), "fine_fen": fine_fen, "confiscation_fen": confiscation_fen}})
    registry.case_changed(actor=actor, case=case)
    return case


# --------------------------------------------------------------------------
# steps


@transaction.atomic
@case_write
def start_step(*, actor, case: Case, code: str, officers=None, place: str = "", note: str = "",
               at: datetime | None = None, at_premises: bool = False) -> CaseStep:
    """Start a step of the case's process: who (officers, default the
    case's), when, where. Refused unless ``can_start_step`` allows it."""
    _may_handle(actor, case.agency_id)
    case = Case.objects.select_for_update().get(pk=case.pk)  # one step at a time, even under concurrent requests
    at = _moment(at)
    officer_list = _officers_of(case, officers)
    verdict = can_start_step(case, code, on=_day_of(at), officers=officer_list)
    if not verdict:
        _refuse(verdict)
    last = case.steps.filter(status=StepStatus.COMPLETED).order_by("-completed_at").first()
    if last is not None and at < last.completed_at:
        raise ValidationError({"at": ValidationError(f"开始时间不能早于上一环节「{last.name}」的完成时间。", code="out_of_order")})
    definition = definition_of(case)
    spec = definition.step(code)
    requirement = avlist.requirement_for_step(agency=case.agency, act_kind=case.act_kind, step_code=code,
                                              definition_av=spec.av, at_premises=at_premises)
    step = CaseStep(case=case, code=code, name=spec.name, started_at=at, place=place.strip(), note=note.strip(),
                    status=StepStatus.IN_PROGRESS, at_premises=at_premises, started_by=actor,
                    av_requirement=requirement.describe() if requirement else "")
    step.full_clean(exclude=["started_by", "completed_by", "case"])
    step.save()
    step.officers.set(officer_list)
    case.current_step = code
    case.save(update_fields=["current_step"])
    append_audit(actor=actor, action="case.step_start", obj=step, payload={
        "case": case.pk, "code": code, "at": at.isoformat(), "place": step.place,
        "officers": [o.certificate_number for o in officer_list], "av": step.av_requirement})
    return step


def _on_completion(*, case: Case, step: CaseStep, day: date, at: datetime,
                   served_on: date | None = None) -> list[CaseDeadline]:
    """What completing a step means for the case: its dates and deadlines."""
    new: list[CaseDeadline] = []
    code, kind = step.code, case.act_kind
    if code == "notification":
        # The notice takes effect for the party on the day it is served (the
        # step records it; the completion day when not given).
        case.notified_on = served_on or day
        if kind == "penalty" and case.procedure == Procedure.GENERAL:
            # The party asks for a hearing within 5 working days of being
            # notified (art. 64 (1)): counted from the day of service.
            new.append(_add_deadline(case=case, kind=DeadlineKind.HEARING_REQUEST, rule="penalty.hearing_request_limit",
                                     start=case.notified_on, obligor=Obligor.PARTY))
    elif code == "hearing":
        case.hearing_on = day
    elif code == "decision":
        case.decided_on = day
        _meet(case, DeadlineKind.DECISION, at=at)
        if kind == "coercion":
            _meet(case, DeadlineKind.SEIZURE, DeadlineKind.SEIZURE_EXTENSION, at=at)
        rule = SERVICE_RULES.get((kind, case.procedure))
        if rule:
            new.append(_add_deadline(case=case, kind=DeadlineKind.SERVICE, rule=rule, start=day))
    elif code == "service":
        case.served_on = day
        _meet(case, DeadlineKind.SERVICE, at=at)
    elif code == "execution" and kind == "coercion":
        case.seized_on = day
        new.append(_add_deadline(case=case, kind=DeadlineKind.SEIZURE, rule="coercion.seizure_limit", start=day))
    elif code == "extension" and kind == "coercion":
        current = case.deadlines.filter(kind=DeadlineKind.SEIZURE, superseded=False).order_by("-id").first()
        start = current.due_on if current else day
        if current:
            current.superseded = True
            current.save(update_fields=["superseded"])
        new.append(_add_deadline(case=case, kind=DeadlineKind.SEIZURE_EXTENSION, rule="coercion.seizure_extension", start=start))
    return new


@transaction.atomic
@case_write
def complete_step(*, actor, step: CaseStep, note: str | None = None, place: str | None = None,
                  documents: list[dict] | None = None, at: datetime | None = None,
                  served_on: date | None = None) -> CaseStep:
    """Close a step's record. A step that needs AV (记录-4) completes only
    with AV evidence attached or an approved exemption; completing the final
    step closes the case (结案). ``served_on`` (notification step only) is
    the day the notice was served on the party, from which the party's
    periods (the hearing request) count; it lies between the step's start
    and its completion."""
    _may_handle(actor, step.case.agency_id)
    case = Case.objects.select_for_update().get(pk=step.case_id)
    step = CaseStep.objects.select_related("case", "case__agency").get(pk=step.pk)
    at = _moment(at)
    if at < step.started_at:
        raise ValidationError({"at": ValidationError("完成时间不能早于开始时间。", code="out_of_order")})
    verdict = can_complete_step(step, on=_day_of(at))
    if not verdict:
        _refuse(verdict)
    definition = definition_of(case)
    final = not definition.step(step.code).next
    if final:
        verdict = can_close(case)
        if not verdict:
            _refuse(verdict)
    if note is not None:
        step.note = note.strip()
    if place is not None:
        step.place = place.strip()
    if documents is not None:
        if not all(isinstance(d, dict) and str(d.get("kind", "")).strip() for d in documents):
            raise ValidationError({"documents": ValidationError("每份文书须写明种类（kind）。", code="invalid")})
        step.documents = [{"kind": str(d["kind"]).strip(), "number": str(d.get("number", "")).strip()} for d in documents]
    step.status, step.completed_at, step.completed_by = StepStatus.COMPLETED, at, actor
    step.save()
    day = _day_of(at)
    if served_on is not None:
        if step.code != "notification":
            raise ValidationError({"served_on": ValidationError("只有告知环节记录送达日期。", code="not_a_notice")})
        if isinstance(served_on, datetime) or not isinstance(served_on, date):
            raise ValidationError({"served_on": ValidationError("送达日期须为日期（YYYY-MM-DD）。", code="invalid")})
        if served_on > day:
            raise ValidationError({"served_on": ValidationError(
                f"送达日期 {served_on} 不能晚于本环节完成日 {day}。", code="after_completion")})
        if served_on < _day_of(step.started_at):
            raise ValidationError({"served_on": ValidationError(
                f"送达日期 {served_on} 不能早于本环节开始日 {_day_of(step.started_at)}。", code="before_start")})
    new = _on_completion(case=case, step=step, day=day, at=at, served_on=served_on)
    if final:
        case.status, case.closed_on = CaseStatus.CLOSED, day
    case.current_step = "" if final else case.current_step
    case.save()
    append_audit(actor=actor, action="case.step_complete", obj=step, payload={
        "case": case.pk, "code": step.code, "at": at.isoformat(), "documents": step.documents,
        **({"served_on": served_on.isoformat()} if served_on else {}),
        "av_exemption": bool(step.needs_av and hasattr(step, "av_exemption")),
        "deadlines": [_deadline_payload(d) for d in new], "closed": final})
    registry.case_changed(actor=actor, case=case)
    if final:
        # 记录-3 / 记录-12: the e-case file (电子案卷) is built once the closing
        # has committed (the evidence app's case-ended hook).
        registry.case_ended(actor=actor, case=case)
    return step


# --------------------------------------------------------------------------
# hearing and preservation


def _hearing_answer_open(actor, case: Case, field: str) -> None:
    """What the party's answer to the hearing notice (a request or a
    waiver) needs first: an officer who handles the case, a case that may
    still record it (can_record_hearing) and a notice already given. The
    case is read again from the database."""
    _may_handle(actor, case.agency_id)
    case.refresh_from_db()
    verdict = can_record_hearing(case)
    if not verdict:
        _refuse(verdict, field)
    if case.notified_on is None:
        raise ValidationError({field: ValidationError("尚未告知当事人听证权利。", code="not_notified")})


@transaction.atomic
@case_write
def record_hearing_request(*, actor, case: Case, requested_on: date) -> Case:
    """The party asked for a hearing (art. 63). Within the period counted
    from the notice (art. 64 (1)) it binds: the decision waits for it."""
    _hearing_answer_open(actor, case, "requested_on")
    if case.hearing_waived_on is not None:
        raise ValidationError({"requested_on": ValidationError(
            f"当事人已于{case.hearing_waived_on:%Y年%m月%d日}书面放弃听证。", code="hearing_waived")})
    _past_day(requested_on, "requested_on", "当事人申请听证日期")
    if requested_on < case.notified_on:
        raise ValidationError({"requested_on": ValidationError(
            f"当事人申请听证日期不能早于告知送达日期（{case.notified_on:%Y年%m月%d日}）。", code="invalid")})
    limit = case.deadlines.filter(kind=DeadlineKind.HEARING_REQUEST, superseded=False).order_by("-id").first()
    if limit is not None and requested_on > limit.due_on:
        raise ValidationError({"requested_on": ValidationError(
            f"当事人应当在告知后{limit.rule_amount}个工作日内提出听证要求，期限已于{limit.due_on:%Y年%m月%d日}届满（{limit.rule_reference}）。",
            code="hearing_request_late")})
    case.hearing_requested, case.hearing_requested_on = True, requested_on
    case.save(update_fields=["hearing_requested", "hearing_requested_on"])
    if limit is not None:
        limit.met_at = timezone.now()
        limit.save(update_fields=["met_at"])
    append_audit(actor=actor, action="case.hearing_request", obj=case, payload={"requested_on": requested_on.isoformat()})
    return case


@transaction.atomic
@case_write
def record_hearing_waiver(*, actor, case: Case, waived_on: date) -> Case:
    """The party stated in writing that it will not ask for a hearing
    (放弃听证): its request period ends there, and the decision need not
    wait for the period to run out (art. 64 (1))."""
    _hearing_answer_open(actor, case, "waived_on")
    if case.hearing_requested:
        raise ValidationError({"waived_on": ValidationError("当事人已要求听证，不能再登记放弃听证。", code="hearing_requested")})
    _past_day(waived_on, "waived_on", "当事人书面放弃听证日期")
    if waived_on < case.notified_on:
        raise ValidationError({"waived_on": ValidationError(
            f"放弃听证日期不能早于告知送达日期（{case.notified_on:%Y年%m月%d日}）。", code="invalid")})
    case.hearing_waived_on = waived_on
    case.save(update_fields=["hearing_waived_on"])
    _meet(case, DeadlineKind.HEARING_REQUEST, at=timezone.now())
    append_audit(actor=actor, action="case.hearing_waiver", obj=case, payload={"waived_on": waived_on.isoformat()})
    return case


@transaction.atomic
@case_write
def record_hearing_notice(*, actor, case: Case, notified_on: date, hearing_on: date) -> CaseDeadline:
    """听证通知书 served on ``notified_on`` for a hearing on ``hearing_on``
    (penalty law art. 64 (2): the party is told the time and place at least
    seven days — working days, art. 85 — before the hearing; dated rule
    ``penalty.hearing_notice_limit``). The notice may be entered after the
    fact with the day it was really served, never a day in the future; the
    hearing day may lie ahead. A new notice (the hearing moved) replaces the
    earlier one until the hearing was held."""
    _may_handle(actor, case.agency_id)
    case.refresh_from_db()
    verdict = can_record_hearing(case)
    if not verdict:
        _refuse(verdict, "notified_on")
    if not case.hearing_requested:
        raise ValidationError({"notified_on": ValidationError("当事人未要求听证，无须送达听证通知书。", code="hearing_not_requested")})
    if case.hearing_on is not None or case.steps.filter(code="hearing", status=StepStatus.COMPLETED).exists():
        raise ValidationError({"notified_on": ValidationError("本案已举行听证，不能再送达听证通知书。", code="hearing_held")})
    _past_day(notified_on, "notified_on", "听证通知书送达日期")
    if isinstance(hearing_on, datetime) or not isinstance(hearing_on, date):
        raise ValidationError({"hearing_on": ValidationError("听证日期须为日期（YYYY-MM-DD）。", code="invalid")})
    if case.hearing_requested_on is not None and notified_on < case.hearing_requested_on:
        raise ValidationError({"notified_on": ValidationError(
            f"听证通知书送达日期不能早于当事人申请听证日期（{case.hearing_requested_on:%Y年%m月%d日}）。", code="out_of_order")})
    result = deadline_for(rule="penalty.hearing_notice_limit", start=notified_on, agency=case.agency)
    if hearing_on < result.date:
        raise ValidationError({"hearing_on": ValidationError(
            f"应当在举行听证的{result.rule.value}个工作日前通知当事人；{notified_on:%Y年%m月%d日}送达通知的，"
            f"听证最早于{result.date:%Y年%m月%d日}举行（{result.rule.reference}）。", code="hearing_too_early")})
    deadline = _add_deadline(case=case, kind=DeadlineKind.HEARING_NOTICE, rule="penalty.hearing_notice_limit",
                             start=notified_on, obligor=Obligor.NOT_BEFORE, met_at=timezone.now())
    previous = {"notified_on": case.hearing_notified_on and case.hearing_notified_on.isoformat(),
                "hearing_on": case.hearing_scheduled_on and case.hearing_scheduled_on.isoformat()}
    case.hearing_notified_on, case.hearing_scheduled_on = notified_on, hearing_on
    case.save(update_fields=["hearing_notified_on", "hearing_scheduled_on"])
    append_audit(actor=actor, action="case.hearing_notice", obj=case,
                 payload={"notified_on": notified_on.isoformat(), "hearing_on": hearing_on.isoformat(),
                          "earliest": deadline.due_on.isoformat(),
                          "replaces": previous if previous["notified_on"] else None})
    return deadline


@transaction.atomic
@case_write
def record_preservation(*, actor, case: Case, preserved_on: date, items: str = "") -> EvidencePreservation:
    """证据先行登记保存 (penalty law art. 56): evidence that may be lost or
    hard to obtain later is registered and kept, with the agency head's
    approval, and a decision on it is due within 7 working days (dated rule
    ``penalty.preservation_decision_limit``; a deadline row of the case).
    Entered after the fact with its real day, never a future one."""
    _may_handle(actor, case.agency_id)
    case.refresh_from_db()
    _past_day(preserved_on, "preserved_on", "先行登记保存日期")
    if preserved_on < case.opened_on:
        raise ValidationError({"preserved_on": ValidationError(
            f"先行登记保存日期不能早于立案（启动）日期（{case.opened_on:%Y年%m月%d日}）。", code="before_opening")})
    if case.decided_on is not None and preserved_on > case.decided_on:
        raise ValidationError({"preserved_on": ValidationError("登记保存日期不能晚于作出决定的日期。", code="after_decision")})
    items = (items or "").strip()
    if not items:
        raise ValidationError({"items": ValidationError("请写明先行登记保存的物品（名称、规格、数量）。", code="required")})
    deadline = _add_deadline(case=case, kind=DeadlineKind.PRESERVATION, rule="penalty.preservation_decision_limit",
                             start=preserved_on)
    # Each registration has its own handling period: a later one does not
    # supersede an earlier one still open (_add_deadline supersedes by kind).
    case.deadlines.filter(kind=DeadlineKind.PRESERVATION, superseded=True, met_at__isnull=True,
                          preservation__isnull=False).update(superseded=False)
    preservation = EvidencePreservation.objects.create(case=case, preserved_on=preserved_on, items=items,
                                                       deadline=deadline, recorded_by=actor, recorded_at=timezone.now())
    append_audit(actor=actor, action="case.preservation", obj=case,
                 payload={"preservation": preservation.pk, "preserved_on": preserved_on.isoformat(), "items": items,
                          "due_on": deadline.due_on.isoformat(), "rule": deadline.rule_name})
    return preservation


@transaction.atomic
@case_write
def handle_preservation(*, actor, case: Case, preservation: EvidencePreservation, handled_on: date,
                        handling: str) -> EvidencePreservation:
    """The decision on preserved evidence (art. 56: 及时作出处理决定 — release,
    transfer, confiscation ...), made on ``handled_on``: it meets the
    registration's deadline (late if after its due day; the row keeps both)."""
    _may_handle(actor, case.agency_id)
    preservation = EvidencePreservation.objects.select_for_update().select_related("deadline").get(pk=preservation.pk)
    if preservation.case_id != case.pk:
        raise ValidationError({"preservation": ValidationError("该登记保存不属于本案。", code="other_case")})
    if preservation.handled_on is not None:
        raise ValidationError({"handled_on": ValidationError(
            f"该登记保存已于{preservation.handled_on:%Y年%m月%d日}作出处理决定。", code="already_handled")})
    _past_day(handled_on, "handled_on", "处理决定日期")
    if handled_on < preservation.preserved_on:
        raise ValidationError({"handled_on": ValidationError(
            f"处理决定日期不能早于先行登记保存日期（{preservation.preserved_on:%Y年%m月%d日}）。", code="out_of_order")})
    handling = (handling or "").strip()
    if not handling:
        raise ValidationError({"handling": ValidationError("请写明处理决定（如解除登记保存、移送、依法没收）。", code="required")})
    preservation.handled_on, preservation.handling = handled_on, handling
    preservation.save(update_fields=["handled_on", "handling"])
    deadline = preservation.deadline
    deadline.met_at = timezone.make_aware(datetime.combine(handled_on, datetime.min.time().replace(hour=12)), clock.SHANGHAI)
    deadline.save(update_fields=["met_at"])
    append_audit(actor=actor, action="case.preservation_handled", obj=case, payload={
        "preservation": preservation.pk, "handled_on": handled_on.isoformat(), "handling": handling,
        "due_on": deadline.due_on.isoformat(), "late": handled_on > deadline.due_on})
    return preservation


@transaction.atomic
@case_write
def meet_deadline(*, actor, deadline: CaseDeadline, note: str = "") -> CaseDeadline:
    """Mark a deadline met by an act the steps do not record themselves
    (e.g. the handling decision on preserved evidence)."""
    _may_handle(actor, deadline.case.agency_id)
    if deadline.met_at is not None:
        raise ValidationError({"deadline": ValidationError("该期限已标记为完成。", code="already_met")})
    deadline.met_at = timezone.now()
    deadline.save(update_fields=["met_at"])
    append_audit(actor=actor, action="case.deadline_met", obj=deadline.case,
                 payload={"kind": deadline.kind, "due_on": deadline.due_on.isoformat(), "note": note})
    return deadline


# --------------------------------------------------------------------------
# AV list and exemptions (记录-4)


@transaction.atomic
@case_write
def request_av_exemption(*, actor, step: CaseStep, reason: str) -> AvExemption:
    """Why a step that needs AV has none (device failure, the party's
    safety ...); it counts only once the agency head approves it."""
    _may_handle(actor, step.case.agency_id)
    if not step.needs_av:
        raise ValidationError({"reason": ValidationError("本环节无须音像记录。", code="av_not_required")})
    if step.status != StepStatus.IN_PROGRESS:
        raise ValidationError({"reason": ValidationError("该环节已完成。", code="step_not_in_progress")})
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": ValidationError("请写明未能音像记录的具体理由。", code="required")})
    if AvExemption.objects.filter(step=step).exists():
        raise ValidationError({"reason": ValidationError("已提交过免于音像记录的申请。", code="duplicate")})
    exemption = AvExemption.objects.create(step=step, reason=reason.strip(), requested_by=actor, requested_at=timezone.now())
    append_audit(actor=actor, action="case.av_exemption_request", obj=step, payload={"reason": exemption.reason})
    return exemption


@transaction.atomic
@case_write
def approve_av_exemption(*, actor, exemption: AvExemption) -> AvExemption:
    """The agency head (负责人) of the case's agency approves; never the
    person who asked."""
    case = exemption.step.case
    if not can_approve(actor, case.agency_id):
        raise PermissionDenied("免于音像记录须经本部门负责人批准。")
    if actor.pk == exemption.requested_by_id:
        raise PermissionDenied("申请人不能批准自己的申请。")
    if exemption.is_approved:
        raise ValidationError({"exemption": ValidationError("该申请已批准。", code="already_approved")})
    exemption.approved_by, exemption.approved_at = actor, timezone.now()
    exemption.save(update_fields=["approved_by", "approved_at"])
    append_audit(actor=actor, action="case.av_exemption_approve", obj=exemption.step,
                 payload={"reason": exemption.reason, "requested_by": exemption.requested_by.username})
    return exemption


@transaction.atomic
def set_av_requirement(*, actor, agency: Agency, act_kind: str, step_code: str = "", place: str = "", content: str,
                       category: str = AvCategory.SCENE, whole_process: bool = False, required: bool = True,
                       device: str = "", retention_years: int | None = None) -> AvRequirement:
    """Add or replace an entry of the agency's AV list (its head, 记录-4).
    A whole-process entry of the default list cannot be switched off or
    narrowed (国办发〔2018〕118号)."""
    if not can_approve(actor, agency.pk):
        raise PermissionDenied("音像记录事项清单由本部门负责人制定。")
    default = next((e for e in avlist.default_list() if e.key == (act_kind, step_code, place.strip())), None)
    if default is not None and default.whole_process and (not required or not whole_process):
        raise ValidationError({"required": ValidationError(
            f"该事项依规定须全过程音像记录，不能取消或改为非全过程（{default.basis}）。", code="whole_process_mandatory")})
    row = AvRequirement.objects.filter(agency=agency, act_kind=act_kind, step_code=step_code, place=place.strip()).first()
    before = None if row is None else {"required": row.required, "whole_process": row.whole_process, "content": row.content}
    row = row or AvRequirement(agency=agency, act_kind=act_kind, step_code=step_code, place=place.strip())
    row.required, row.whole_process, row.content, row.category = required, whole_process, content.strip(), category
    row.device, row.retention_years = device.strip(), retention_years
    row.full_clean()
    row.save()
    append_audit(actor=actor, action="cases.av_requirement_set", obj=row, payload={
        "agency": agency.credit_code, "act_kind": act_kind, "step": step_code, "place": row.place, "before": before,
        "after": {"required": required, "whole_process": whole_process, "content": row.content}})
    return row


__all__ = [
    "approve_av_exemption", "assign_officer", "complete_step", "meet_deadline", "open_case", "propose_decision",
    "handle_preservation", "record_hearing_notice", "record_hearing_request", "record_preservation", "remove_officer", "request_av_exemption",
    "requires_review_block", "set_av_requirement", "set_lead_officer", "start_step", "terminate_case",
    "hearing_requested_in_time",
]
