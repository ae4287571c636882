"""Reads of the task table's tasks (each takes the acting user and applies
jurisdiction through core's agency scope; none writes).

A task's status (未开始/进行中/已完成/逾期) is derived here from its stored
state, its activity and its deadline against the official clock
(``task_status``): a task is never "overdue" because a row said so once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.catalog.models import CatalogueVersion, VersionStatus
from sanxiang.core import clock
from sanxiang.core.models import Agency, AgencyKind, Region
from sanxiang.core.predicates import supervises_platform
from sanxiang.core.selectors import agencies_for, get_in_scope
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import Role
from sanxiang.supervision.alerts import AlertCandidate, horizon

from . import predicates
from .models import Filing, FilingStatus, Rollout, Task, TaskEvidence, TaskReport, TaskState, TaskStatus
from .table import SYSTEMS, table_named

STATUS_ORDER = (TaskStatus.OVERDUE, TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED, TaskStatus.DONE)
TODO_LIMIT = 50


def _annotated(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.annotate(
        has_reports=Exists(TaskReport.objects.filter(task=OuterRef("pk"))),
        has_evidence=Exists(TaskEvidence.objects.filter(task=OuterRef("pk"))),
    )


def task_status(task: Task, *, today: date | None = None) -> str:
    """已完成 once accepted; 逾期 when its deadline has passed on the official
    clock and it is not accepted; 进行中 when the unit has reported, added
    evidence, marked it done or had it returned; else 未开始. An ongoing
    measure (长期执行, no deadline) is never overdue."""
    today = today or clock.today()
    if task.state == TaskState.ACCEPTED:
        return TaskStatus.DONE
    if task.deadline is not None and task.deadline < today:
        return TaskStatus.OVERDUE
    active = task.state in (TaskState.SUBMITTED, TaskState.RETURNED)
    if not active:
        reports = getattr(task, "has_reports", None)
        evidence = getattr(task, "has_evidence", None)
        if reports is None:
            reports = task.reports.exists()
        if evidence is None:
            evidence = task.evidence.exists()
        active = bool(reports or evidence)
    return TaskStatus.IN_PROGRESS if active else TaskStatus.NOT_STARTED


def tasks_for(*, user) -> QuerySet[Task]:
    """Tasks of the agencies the user may see (a unit its own; a legal office its region's)."""
    return _annotated(Task.objects.filter(agency__in=agencies_for(user=user))
                      .select_related("agency", "agency__region", "rollout"))


def get_task_for(*, user, pk) -> Task:
    return get_in_scope(tasks_for(user=user), "task", pk=pk)


def rollout_for(*, user) -> Rollout | None:
    """The roll-out covering the user's region (a legal office) or agency (a unit)."""
    region = getattr(user, "region", None) if getattr(user, "region_id", None) else None
    if region is None and getattr(user, "agency_id", None):
        region = user.agency.region
    rollouts = Rollout.objects.select_related("region").order_by("-rolled_out_at", "-pk")
    if region is None:
        return rollouts.first() if getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.SYSADMIN else None
    for rollout in rollouts:
        if region.path.startswith(rollout.region.path):
            return rollout
    return None


@dataclass
class Matrix:
    rollout: Rollout | None
    measures: list = field(default_factory=list)  # table Measures (columns)
    rows: list = field(default_factory=list)  # [{"agency": Agency, "cells": [cell or None]}]
    counts: dict = field(default_factory=dict)  # status -> number of tasks
    regions: list = field(default_factory=list)  # the filter's choices
    region: Region | None = None
    system: str = ""
    status: str = ""


def matrix(*, user, region_code: str = "", system: str = "", status: str = "", today: date | None = None) -> Matrix:
    """Units × measures of the roll-out covering the user: one cell a task
    ({"task": id, "status": …}), None where the measure is not the unit's.
    Filters: a region of the user's jurisdiction (its subtree), a system,
    a status (rows with at least one task of that status). Counts are over
    the filtered tasks."""
    if not predicates.can_see_matrix(user):
        return Matrix(rollout=None)
    today = today or clock.today()
    rollout = rollout_for(user=user)
    if rollout is None:
        return Matrix(rollout=None)
    table = table_named(rollout.table)
    measures = [m for m in table.measures if not system or m.system == system]
    tasks = tasks_for(user=user).filter(rollout=rollout)
    scope_region = user.region if getattr(user, "region_id", None) else rollout.region
    regions = list(Region.objects.filter(path__startswith=scope_region.path).order_by("path")[:200])
    region = next((r for r in regions if r.code == region_code), None) if region_code else None
    if region is not None:
        tasks = tasks.filter(agency__region__path__startswith=region.path)
    if system:
        tasks = tasks.filter(system=system)
    cells: dict[int, dict[str, dict]] = {}
    agencies: dict[int, Agency] = {}
    counts = {s: 0 for s in TaskStatus.values}
    for task in tasks.only("pk", "measure_code", "agency", "deadline", "state", "system",
                           "agency__name", "agency__kind", "agency__region__code", "agency__region__name",
                           "agency__region__path", "agency__region__level", "rollout"):
        s = task_status(task, today=today)
        counts[s] += 1
        agencies[task.agency_id] = task.agency
        cells.setdefault(task.agency_id, {})[task.measure_code] = {
            "task": task.pk, "status": s, "label": TaskStatus(s).label, "deadline": task.deadline}
    order = sorted(agencies.values(), key=lambda a: (a.region.path, a.kind != AgencyKind.LEGAL_OFFICE, a.name))
    rows = []
    for agency in order:
        mine = cells.get(agency.pk, {})
        if status and not any(c["status"] == status for c in mine.values()):
            continue
        rows.append({"agency": agency, "cells": [mine.get(m.code) for m in measures],
                     "done": sum(1 for c in mine.values() if c["status"] == TaskStatus.DONE), "total": len(mine)})
    return Matrix(rollout=rollout, measures=measures, rows=rows, counts=counts, regions=regions, region=region,
                  system=system if system in SYSTEMS else "", status=status)


# --- filings ----------------------------------------------------------------------


@dataclass(frozen=True)
class FilingView:
    status: str
    label: str
    url: str = ""  # the catalogue version carrying it, where the catalog app files it
    version: CatalogueVersion | None = None


def filing_views(filings: list[Filing]) -> dict[int, FilingView]:
    """The status of each filing (keyed by filing id): from the unit's
    catalogue versions where the catalog app carries the filing (已备案 once
    a version is accepted; else the open version's 已报送/退回; else 未报送),
    from the filing row otherwise. Two queries whatever the number."""
    linked = [f for f in filings if f.catalogue_kind]
    versions: dict[tuple[int, str], list[CatalogueVersion]] = {}
    if linked:
        rows = CatalogueVersion.objects.filter(
            agency_id__in={f.task.agency_id for f in linked}, kind__in={f.catalogue_kind for f in linked},
        ).order_by("-number")
        for v in rows:
            versions.setdefault((v.agency_id, v.kind), []).append(v)
    out = {}
    for f in filings:
        if not f.catalogue_kind:
            out[f.pk] = FilingView(f.status, FilingStatus(f.status).label)
            continue
        mine = versions.get((f.task.agency_id, f.catalogue_kind), [])
        accepted = next((v for v in mine if v.status == VersionStatus.ACCEPTED), None)
        open_version = next((v for v in mine if v.status in (VersionStatus.SUBMITTED, VersionStatus.RETURNED)), None)
        if accepted:
            v, s = accepted, FilingStatus.FILED
        elif open_version:
            v = open_version
            s = FilingStatus.SUBMITTED if v.status == VersionStatus.SUBMITTED else FilingStatus.RETURNED
        else:
            v, s = (mine[0] if mine else None), FilingStatus.NOT_SUBMITTED
        url = ""
        if v is not None:
            url = (reverse("review:catalogue_version", kwargs={"vid": v.pk}) if f.catalogue_kind == "review_catalogue"
                   else reverse("catalog:version", kwargs={"pk": v.pk}))
        out[f.pk] = FilingView(s, FilingStatus(s).label, url, v)
    return out


def filings_for(*, user, status: str = "") -> list[tuple[Filing, FilingView]]:
    filings = list(Filing.objects.filter(task__in=tasks_for(user=user))
                   .select_related("task", "task__agency", "task__agency__region", "recipient")
                   .order_by("task__agency__region__path", "task__agency__name", "task__measure_code")[:2000])
    views = filing_views(filings)
    return [(f, views[f.pk]) for f in filings if not status or views[f.pk].status == status]


# --- the unit's own tasks, the to-do list and the alert ----------------------------


def unit_tasks(*, user, today: date | None = None) -> list[tuple[Task, str]]:
    """The tasks of the user's own agency with their status, overdue first."""
    if not getattr(user, "agency_id", None):
        return []
    today = today or clock.today()
    tasks = [(t, task_status(t, today=today)) for t in tasks_for(user=user).filter(agency_id=user.agency_id)]
    return sorted(tasks, key=lambda p: (STATUS_ORDER.index(p[1]), p[0].deadline or date.max, p[0].system,
                                        p[0].measure_code))


def _title(task: Task) -> str:
    measure = table_named(task.rollout.table).measure(task.measure_code)
    return f"{task.measure_code} {measure.measure if measure else ''}"


def todo(*, user, today: date):
    """Overdue, due and returned tasks of the user's unit; tasks waiting for
    the legal office's acceptance; for a legal office a line on its matrix
    naming the overdue tasks of its region (bounded: a few queries)."""
    items = []
    if getattr(user, "agency_id", None) and user.role in predicates.UNIT_ROLES:
        own = (tasks_for(user=user).filter(agency_id=user.agency_id)
               .filter(Q(state=TaskState.RETURNED) | Q(state=TaskState.OPEN, deadline__isnull=False))
               .order_by("deadline")[:TODO_LIMIT])
        for task in own:
            label = _("Task returned") if task.state == TaskState.RETURNED else _("Task of the three-systems table")
            items.append(TodoItem(kind="measures.task", label=label, title=_title(task),
                                  url=reverse("measures:task", kwargs={"pk": task.pk}), due=task.deadline,
                                  detail=task.agency.name))
    if getattr(user, "role", "") == Role.LEGAL_SUPERVISOR and getattr(user, "region_id", None):
        waiting = tasks_for(user=user).filter(state=TaskState.SUBMITTED)
        if not supervises_platform(user):
            waiting = waiting.exclude(agency_id=user.agency_id)
        for task in waiting.order_by("submitted_at")[:TODO_LIMIT]:
            items.append(TodoItem(kind="measures.accept", label=_("Task to accept"), title=_title(task),
                                  url=reverse("measures:task", kwargs={"pk": task.pk}), detail=task.agency.name))
        overdue = tasks_for(user=user).filter(deadline__lt=today).exclude(state=TaskState.ACCEPTED)
        first = overdue.order_by("deadline").values_list("deadline", flat=True).first()
        if first is not None:
            n = overdue.count()
            items.append(TodoItem(kind="measures.matrix", label=_("Task matrix"),
                                  title=_("%(n)s tasks of the three-systems table are overdue in your region") % {"n": n},
                                  url=reverse("measures:matrix") + "?status=overdue", due=first))
    return items


def overdue_alert_candidates(*, today: date):
    """Rule measures.task_overdue: every task not accepted whose deadline
    falls on or before the yellow horizon (one query)."""
    last = horizon("measures.task_overdue", today=today)
    rows = (Task.objects.filter(deadline__isnull=False, deadline__lte=last).exclude(state=TaskState.ACCEPTED)
            .select_related("agency", "rollout"))
    for task in rows:
        yield AlertCandidate(key=f"task:{task.pk}", title=f"{_title(task)}（{task.agency.name}）", due=task.deadline,
                             agency=task.agency_id, object_url=reverse("measures:task", kwargs={"pk": task.pk}))
