"""Every write of the task table's tasks (issue 16 part 2; docs/measures.md).
Each asks its predicate, writes in one transaction and appends its audit
entry.

- ``roll_out``: the province's legal office rolls the table out to the
  units of its region: a Task per measure and responsible agency existing
  in core (table.UNIT_KINDS), its deadline moved to the roll-out year, and
  a Filing where the measure requires one (备案). Re-running adds the tasks
  of agencies created since; nothing is duplicated.
- the unit: ``add_report`` (progress), ``upload_evidence`` (a document),
  ``submit_task`` (marks it done);
- ``check_platform_evidence``: records what the platform shows (proofs.py);
- the legal office: ``accept_task`` / ``return_task``;
- filings outside the catalogue's workflow: ``submit_filing`` (unit),
  ``decide_filing`` (legal office: 已备案 or 退回).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency, AgencyKind, Region
from sanxiang.core.refusals import Refused, reject
from sanxiang.evidence.filetypes import HEAD_BYTES, sniff

from . import predicates
from .models import EvidenceKind, Filing, FilingStatus, Rollout, Task, TaskEvidence, TaskReport, TaskState
from .proofs import PROOFS
from .table import Measure, table_named

# The largest document a unit uploads as evidence, and the types accepted
# (a technical limit of the platform, not a legal parameter).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
}
MAX_TEXT = 4000


def _check(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("agency", "agency__region", "rollout").get(pk=task.pk)


def _text(value, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        reject(name, "应为文字。", "invalid")
    if required and not text:
        reject(name, "此项必填。", "required")
    if len(text) > limit:
        reject(name, f"不得超过 {limit} 字。", "too_long")
    return text


# --- roll-out ---------------------------------------------------------------------


@dataclass
class RolloutResult:
    rollout: Rollout
    created: int = 0
    filings: int = 0
    existing: int = 0
    not_on_platform: list[tuple[str, str]] = field(default_factory=list)  # (measure code, unit label)


def units_for(measure: Measure, agencies: list[Agency]) -> list[Agency]:
    """The agencies of ``agencies`` responsible for ``measure`` (table.UNIT_KINDS)."""
    found, seen = [], set()
    for kind in measure.unit_kinds():
        if not kind.on_platform:
            continue
        for agency in agencies:
            if agency.pk in seen or agency.region.level not in kind.levels:
                continue
            if kind.agencies == "legal":
                ok = agency.kind == AgencyKind.LEGAL_OFFICE
            elif kind.agencies == "departments":
                ok = agency.kind != AgencyKind.LEGAL_OFFICE
            else:
                ok = agency.kind == kind.agencies
            if ok:
                found.append(agency)
                seen.add(agency.pk)
    return found


def _recipient(to: str, agency: Agency, *, legal_offices: dict[int, Agency], market: dict[int, Agency],
               top: Agency | None) -> Agency | None:
    if to == "province_legal_office":
        return top
    if to == "own_market_regulation":
        return market.get(agency.region_id)
    if agency.kind == AgencyKind.LEGAL_OFFICE:
        return agency
    return agency.legal_office or legal_offices.get(agency.region_id)


def roll_out(*, actor, table: str = "task-breakdown-2017", region: Region | None = None,
             year: int | None = None) -> RolloutResult:
    """Roll ``table`` out to the units of ``region`` (the actor's region by
    default) with deadlines moved to ``year`` (the table's own year by
    default): one Task per measure × responsible agency, a Filing where the
    measure requires one. Safe to re-run."""
    _check(predicates.can_roll_out(actor))
    try:
        spec = table_named(table)
    except KeyError:
        reject("table", f"没有名为“{table}”的任务分解表。", "unknown_table")
    if region is None:
        region = getattr(actor, "region", None)
    if region is None:
        reject("region", "请指定下发的行政区域。", "required")
    if year is not None and not (2000 <= int(year) <= 2100):
        reject("year", "年份须在 2000 至 2100 之间。", "out_of_range")
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().filter(table=spec.name, region=region).first()
        if rollout is None:
            rollout = Rollout.objects.create(table=spec.name, region=region, year=year or spec.year,
                                             rolled_out_at=clock.now(),
                                             rolled_out_by=None if isinstance(actor, str) else actor)
        result = RolloutResult(rollout=rollout)
        agencies = list(Agency.objects.filter(is_active=True, region__path__startswith=region.path)
                        .select_related("region", "legal_office"))
        legal_offices = {a.region_id: a for a in agencies if a.kind == AgencyKind.LEGAL_OFFICE}
        market = {a.region_id: a for a in agencies if a.kind == AgencyKind.MARKET_REGULATION}
        top = legal_offices.get(region.pk)
        existing = set(Task.objects.filter(rollout=rollout).values_list("measure_code", "agency_id"))
        new_tasks, filing_of = [], {}
        for measure in spec.measures:
            result.not_on_platform += [(measure.code, k.label) for k in measure.unit_kinds() if not k.on_platform]
            for agency in units_for(measure, agencies):
                if (measure.code, agency.pk) in existing:
                    result.existing += 1
                    continue
                task = Task(rollout=rollout, measure_code=measure.code, system=measure.system, agency=agency,
                            deadline=measure.deadline_for(agency.region.level, year=rollout.year),
                            ongoing=measure.ongoing or measure.deadline is None)
                new_tasks.append(task)
                if measure.filing:
                    filing_of[id(task)] = Filing(
                        kind=measure.filing.kind, catalogue_kind=measure.filing.catalogue,
                        recipient=_recipient(measure.filing.to, agency, legal_offices=legal_offices, market=market, top=top))
        for task in new_tasks:
            task.save()
            filing = filing_of.get(id(task))
            if filing is not None:
                filing.task = task
                filing.save()
                result.filings += 1
        result.created = len(new_tasks)
        append_audit(actor=actor, action="measures.roll_out", obj=rollout, payload={
            "table": spec.name, "region": region.code, "year": rollout.year, "tasks_created": result.created,
            "filings_created": result.filings})
    return result


# --- the unit's work ---------------------------------------------------------------


def add_report(*, actor, task: Task, text: str, on=None) -> TaskReport:
    _check(predicates.can_work_on_task(actor, task))
    text = _text(text, "text")
    on = on or clock.today()
    if on > clock.today():
        reject("on", "进展日期不得晚于今天。", "future_date")
    with transaction.atomic():
        task = _locked(task)
        if task.state == TaskState.ACCEPTED:
            reject("task", "任务已验收，不能再报送进展。", "task_accepted")
        report = TaskReport.objects.create(task=task, text=text, on=on, by=actor)
        append_audit(actor=actor, action="measures.report", obj=task, payload={"report": report.pk, "on": str(on)})
    return report


def upload_evidence(*, actor, task: Task, upload, label: str) -> TaskEvidence:
    """A document proving the measure (PDF, DOCX, XLSX, JPEG or PNG, at most
    MAX_UPLOAD_BYTES; its type read from its bytes, not its name)."""
    _check(predicates.can_work_on_task(actor, task))
    label = _text(label, "label", limit=255)
    if upload is None:
        reject("file", "请选择要上传的文件。", "required")
    if upload.size > MAX_UPLOAD_BYTES:
        reject("file", f"文件过大：不得超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。", "too_large")
    if upload.size == 0:
        reject("file", "文件为空。", "empty")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)

    def opener():
        upload.seek(0)
        return upload

    mime = sniff(head, opener)
    upload.seek(0)
    if mime not in ALLOWED_TYPES:
        reject("file", f"只接受 {'、'.join(ALLOWED_TYPES.values())} 文件（此文件为 {mime}）。", "file_type")
    with transaction.atomic():
        task = _locked(task)
        if task.state == TaskState.ACCEPTED:
            reject("task", "任务已验收，不能再添加证据。", "task_accepted")
        evidence = TaskEvidence(task=task, kind=EvidenceKind.UPLOAD, label=label, file_type=mime, file_size=upload.size,
                                by=actor)
        name = (getattr(upload, "name", "") or "document").rsplit("/", 1)[-1][-80:]
        evidence.file.save(name, upload, save=False)
        evidence.save()
        append_audit(actor=actor, action="measures.evidence_upload", obj=task,
                     payload={"evidence": evidence.pk, "type": mime, "size": upload.size, "label": label})
    return evidence


def check_platform_evidence(*, actor, tasks) -> int:
    """Record what the platform shows for each task's measure (proofs.py);
    returns the number of new evidence rows. A unit checks its own tasks, a
    legal office those of its region; a console process any."""
    tasks = list(tasks)
    if not tasks:
        return 0
    for task in tasks:
        if not (predicates.can_work_on_task(actor, task) or predicates.can_decide_task(actor, task)):
            _check(predicates.can_work_on_task(actor, task))
    open_tasks = [t for t in tasks if t.state != TaskState.ACCEPTED and t.measure_code in PROOFS]
    by_code: dict[str, list[Task]] = {}
    for task in open_tasks:
        by_code.setdefault(task.measure_code, []).append(task)
    created = 0
    with transaction.atomic():
        have = set(TaskEvidence.objects.filter(task__in=open_tasks, kind=EvidenceKind.PLATFORM)
                   .values_list("task_id", "object_type", "object_id"))
        for code, group in by_code.items():
            found = PROOFS[code]([t.agency for t in group])
            for task in group:
                for proof in found.get(task.agency_id, []):
                    if (task.pk, proof.object_type, proof.object_id) in have:
                        continue
                    TaskEvidence.objects.create(task=task, kind=EvidenceKind.PLATFORM, label=proof.label, url=proof.url,
                                                object_type=proof.object_type, object_id=proof.object_id,
                                                by=None if isinstance(actor, str) else actor)
                    have.add((task.pk, proof.object_type, proof.object_id))
                    created += 1
        if created:  # a check that finds nothing new writes nothing
            append_audit(actor=actor, action="measures.evidence_check", object_type="measures.task",
                         object_id=str(tasks[0].pk) if len(tasks) == 1 else "",
                         payload={"tasks": len(tasks), "evidence_found": created})
    return created


def submit_task(*, actor, task: Task) -> Task:
    """The unit marks the task done (needs at least one piece of evidence)."""
    _check(predicates.can_work_on_task(actor, task))
    with transaction.atomic():
        task = _locked(task)
        if task.state not in (TaskState.OPEN, TaskState.RETURNED):
            reject("task", "任务已报完成或已验收。", "task_not_open")
        if not task.evidence.exists():
            reject("evidence", "请先添加完成证据（平台证据或上传文件），再报完成。", "no_evidence")
        task.state = TaskState.SUBMITTED
        task.submitted_at, task.submitted_by = clock.now(), (None if isinstance(actor, str) else actor)
        task.save(update_fields=["state", "submitted_at", "submitted_by"])
        append_audit(actor=actor, action="measures.task_submit", obj=task, payload={"measure": task.measure_code})
    return task


def accept_task(*, actor, task: Task) -> Task:
    _check(predicates.can_decide_task(actor, task))
    with transaction.atomic():
        task = _locked(task)
        if task.state != TaskState.SUBMITTED:
            reject("task", "只有已报完成的任务可以验收。", "task_not_submitted")
        task.state = TaskState.ACCEPTED
        task.decided_at, task.decided_by = clock.now(), (None if isinstance(actor, str) else actor)
        task.accepted_on, task.return_reason = clock.today(), ""
        task.save(update_fields=["state", "decided_at", "decided_by", "accepted_on", "return_reason"])
        append_audit(actor=actor, action="measures.task_accept", obj=task, payload={"measure": task.measure_code})
    return task


def return_task(*, actor, task: Task, reason: str) -> Task:
    _check(predicates.can_decide_task(actor, task))
    reason = _text(reason, "reason")
    with transaction.atomic():
        task = _locked(task)
        if task.state != TaskState.SUBMITTED:
            reject("task", "只有已报完成的任务可以退回。", "task_not_submitted")
        task.state = TaskState.RETURNED
        task.decided_at, task.decided_by = clock.now(), (None if isinstance(actor, str) else actor)
        task.return_reason = reason
        task.save(update_fields=["state", "decided_at", "decided_by", "return_reason"])
        append_audit(actor=actor, action="measures.task_return", obj=task,
                     payload={"measure": task.measure_code, "reason": reason})
    return task


# --- filings outside the catalogue's workflow ----------------------------------------


def _locked_filing(filing: Filing) -> Filing:
    return (Filing.objects.select_for_update(of=("self",))
            .select_related("task", "task__agency", "task__agency__region").get(pk=filing.pk))


def submit_filing(*, actor, filing: Filing, reference: str) -> Filing:
    _check(predicates.can_work_on_task(actor, filing.task))
    reference = _text(reference, "reference", limit=255)
    with transaction.atomic():
        filing = _locked_filing(filing)
        if filing.catalogue_kind:
            reject("filing", "此项备案通过清单管理（报送清单版本）办理。", "catalogue_filing")
        if filing.status not in (FilingStatus.NOT_SUBMITTED, FilingStatus.RETURNED):
            reject("filing", "已报送或已备案。", "filing_not_open")
        filing.status, filing.reference, filing.submitted_at = FilingStatus.SUBMITTED, reference, clock.now()
        filing.save(update_fields=["status", "reference", "submitted_at"])
        append_audit(actor=actor, action="measures.filing_submit", obj=filing, payload={"reference": reference})
    return filing


def decide_filing(*, actor, filing: Filing, accept: bool, reason: str = "") -> Filing:
    _check(predicates.can_decide_task(actor, filing.task))
    reason = "" if accept else _text(reason, "reason")
    with transaction.atomic():
        filing = _locked_filing(filing)
        if filing.catalogue_kind:
            reject("filing", "此项备案通过清单管理（清单版本的备案审查）办理。", "catalogue_filing")
        if filing.status != FilingStatus.SUBMITTED:
            reject("filing", "只有已报送的备案可以办理。", "filing_not_submitted")
        filing.status = FilingStatus.FILED if accept else FilingStatus.RETURNED
        filing.decided_at, filing.decided_by = clock.now(), (None if isinstance(actor, str) else actor)
        filing.return_reason = reason
        filing.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
        append_audit(actor=actor, action="measures.filing_decide", obj=filing,
                     payload={"filed": accept, "reason": reason})
    return filing


def tasks_of_rollout(rollout: Rollout):
    """Every task of a roll-out (for the console's evidence check)."""
    return Task.objects.filter(rollout=rollout).select_related("agency", "agency__region", "rollout")


EVIDENCE_JOB_ACTOR = "system:measures-evidence"


def check_all_platform_evidence() -> int:
    """The job ``measures.evidence``: the platform's evidence check over every
    task not yet accepted whose measure the platform can prove (proofs.py),
    so a list filed or officers published today show on the matrix's tasks
    without anyone pressing the button. One finder call per measure."""
    tasks = (Task.objects.exclude(state=TaskState.ACCEPTED).filter(measure_code__in=list(PROOFS))
             .select_related("agency", "agency__region", "rollout"))
    return check_platform_evidence(actor=EVIDENCE_JOB_ACTOR, tasks=tasks)


