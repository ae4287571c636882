"""Reads of the evidence domain, always through the acting user's
jurisdiction (sanxiang.core.selectors.agencies_for). Lookups by id raise
Http404 whether the row is missing or out of scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.apps import apps
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from sanxiang.core.models import Role
from sanxiang.core.vocabulary import EVIDENCE_MANAGERS
from sanxiang.core.selectors import agencies_for, get_in_scope

from .models import AV_KINDS, ArchivePackage, Device, DeviceAssignment, EvidenceItem, FixityAlert, Upload
from sanxiang.core import clock


def cases_for(*, user) -> QuerySet:
    Case = apps.get_model("cases", "Case")
    return Case.objects.filter(agency__in=agencies_for(user=user))


def get_case_for(*, user, pk):
    return get_in_scope(cases_for(user=user).select_related("agency"), "case", pk=pk)


def get_step_for(*, user, case_id, step_id):
    case = get_case_for(user=user, pk=case_id)
    return case, get_in_scope(case.steps.all(), "step", pk=step_id)


def evidence_for(*, user, include_deleted: bool = False) -> QuerySet[EvidenceItem]:
    qs = EvidenceItem.objects.select_related("case", "step", "officer", "device", "uploaded_by").filter(
        case__agency__in=agencies_for(user=user), purged_at__isnull=True)
    return qs if include_deleted else qs.filter(deleted_at__isnull=True)


def get_evidence_for(*, user, pk, include_deleted: bool = False) -> EvidenceItem:
    return get_in_scope(evidence_for(user=user, include_deleted=include_deleted), "evidence", pk=pk)


def av_items_for_step(step) -> QuerySet[EvidenceItem]:
    """Non-deleted photo/audio/video items of a step (the cases app checks
    the AV list with it: a step that needs AV has some)."""
    return EvidenceItem.objects.filter(step=step, kind__in=AV_KINDS, deleted_at__isnull=True, purged_at__isnull=True)


# How an evidence item is named in a document's 证据 list (issue 11 item 6).
EVIDENCE_KIND_WORDS = {"photo": "现场照片", "audio": "录音", "video": "录像", "document": "书证", "other": "证据材料"}


def evidence_lines_for_case(case) -> list[str]:
    """The case's evidence items (not deleted), oldest first, one line
    each for a 文书's 证据 list: kind, name, when and where captured
    (registered as ``cases.registry.register_case_evidence``). A read; the
    caller already holds the case in its scope."""
    lines = []
    items = EvidenceItem.objects.filter(case=case, deleted_at__isnull=True, purged_at__isnull=True)
    for item in items.order_by("captured_at", "id"):
        when = clock.local_time(item.captured_at)
        where = f"，{item.place}" if item.place else ""
        name = f"（{item.original_name}）" if item.original_name else ""
        lines.append(f"{EVIDENCE_KIND_WORDS.get(item.kind, '证据材料')}{name}："
                     f"{when.year}年{when.month}月{when.day}日{when.hour}时{when.minute:02d}分{where}")
    return lines


def get_upload_for(*, user, pk) -> Upload:
    """An upload is visible to the account that created it only."""
    try:
        key = uuid.UUID(str(pk))
    except (ValueError, TypeError):
        raise Http404("upload not found") from None
    return get_in_scope(Upload.objects.select_related("case", "created_by", "device", "step"), "upload",
                        pk=key, created_by=user)


def fixity_alerts_for(*, user) -> QuerySet[FixityAlert]:
    if getattr(user, "is_superuser", False) or getattr(user, "role", None) == Role.SYSADMIN:
        return FixityAlert.objects.all()
    if getattr(user, "role", None) in EVIDENCE_MANAGERS:  # the head or a legal office, within their scope
        shas = EvidenceItem.objects.filter(case__agency__in=agencies_for(user=user)).values("sha256")
        return FixityAlert.objects.filter(sha256__in=shas)
    return FixityAlert.objects.none()


# --- recorders -------------------------------------------------------------------


def devices_for(*, user) -> QuerySet[Device]:
    return Device.objects.select_related("agency").filter(agency__in=agencies_for(user=user))


def get_device_for(*, user, pk) -> Device:
    return get_in_scope(devices_for(user=user), "device", pk=pk)


@dataclass
class AssignmentUsage:
    assignment: DeviceAssignment
    start: date
    end: date
    days: int
    days_used: int
    uploads: int
    gaps: list[tuple[date, date]] = field(default_factory=list)  # runs of days with no upload


@dataclass
class DeviceUsage:
    device: Device
    per_assignment: list[AssignmentUsage]
    uploads_by_day: dict[date, int]
    unassigned_uploads: int


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def device_usage(*, device: Device, today: date | None = None) -> DeviceUsage:
    """Uploads per capture day, and per assignment the days with none (gaps):
    an officer who carried a recorder for 20 days and uploaded on 3 shows 17
    gap days (记录-8 use, management and supervision of recorders)."""
    today = today or clock.today()
    per_day = dict(
        EvidenceItem.objects.filter(device=device, purged_at__isnull=True)
        .annotate(day=TruncDate("captured_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day").annotate(n=Count("id")).values_list("day", "n")
    )
    result = []
    covered: set[date] = set()
    for assignment in device.assignments.select_related("officer").order_by("valid_from"):
        end = min(assignment.valid_to or today, today)
        if end < assignment.valid_from:
            result.append(AssignmentUsage(assignment, assignment.valid_from, end, 0, 0, 0))
            continue
        days = [assignment.valid_from + timedelta(days=i) for i in range((end - assignment.valid_from).days + 1)]
        covered.update(days)
        used = [d for d in days if per_day.get(d)]
        result.append(AssignmentUsage(
            assignment=assignment, start=assignment.valid_from, end=end, days=len(days), days_used=len(used),
            uploads=sum(per_day.get(d, 0) for d in days), gaps=_runs([d for d in days if not per_day.get(d)])))
    unassigned = sum(n for d, n in per_day.items() if d not in covered)
    return DeviceUsage(device=device, per_assignment=result, uploads_by_day=dict(sorted(per_day.items())),
                       unassigned_uploads=unassigned)


def step_evidence(*, user, step) -> QuerySet[EvidenceItem]:
    return evidence_for(user=user).filter(step=step)


def case_evidence_counts(*, user, case) -> dict:
    qs = evidence_for(user=user).filter(case=case)
    return qs.aggregate(total=Count("id"), av=Count("id", filter=Q(kind__in=AV_KINDS)))


def archives_for(*, user, case) -> QuerySet[ArchivePackage]:
    """The e-case file packages of a case the user may see (newest first)."""
    return ArchivePackage.objects.filter(case=get_case_for(user=user, pk=case.pk if hasattr(case, "pk") else case))


def get_archive_for(*, user, pk) -> ArchivePackage:
    return get_in_scope(ArchivePackage.objects.select_related("case", "case__agency"), "archive package",
                        pk=pk, case__agency__in=agencies_for(user=user))


def get_share_for(*, user, item, pk):
    """A share of an item the user may see (the item came from
    get_evidence_for); 404 otherwise."""
    from .models import EvidenceShare

    text = str(pk or "")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise Http404("share not found")
    return get_in_scope(EvidenceShare.objects.select_related("item__case__agency", "shared_by"), "share", pk=pk, item=item)
