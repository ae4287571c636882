"""Reads for the core domain.

Every read of non-public data takes the acting user and limits rows to the
user's jurisdiction (design.md, "Jurisdiction"):
- system administrator: everything;
- legal-office supervisor: every agency whose region lies in the supervised
  region's subtree (the province's office therefore sees all);
- agency roles (officer, reviewer, head, publicity admin, API client): their
  own agency only;
- anyone else (anonymous, an account without scope): nothing.

Lookups by id raise Http404 whether the row does not exist or lies outside
the user's jurisdiction, so a probe never learns which.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from django.core.exceptions import PermissionDenied

from . import predicates
from .changes import officer_source
from .todo import TodoItem
from .models import AGENCY_ROLES, Agency, AgencyKind, AuditEntry, FailedTask, Officer, OfficerStatus, Region, Role, User
from sanxiang.core import clock


def agency_scope(user) -> Q | None:
    """A filter on Agency rows this user may see privately; None means all."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.SYSADMIN or user.is_superuser:
        return None
    if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
        return Q(region__path__startswith=user.region.path)
    if user.role in AGENCY_ROLES and user.agency_id:
        return Q(pk=user.agency_id)
    return Q(pk__in=[])


def _scoped(qs: QuerySet, user, prefix: str) -> QuerySet:
    scope = agency_scope(user)
    if scope is None:
        return qs
    # Re-root the agency filter under the relation that leads to the agency.
    if prefix:
        return qs.filter(**{f"{prefix}__in": Agency.objects.filter(scope)})
    return qs.filter(scope)


def agencies_for(*, user) -> QuerySet[Agency]:
    return _scoped(Agency.objects.select_related("region", "legal_office"), user, "")


def get_in_scope(queryset: QuerySet, what: str, **lookup):
    """The one row of ``queryset`` (already limited to what the acting user
    may see) matching ``lookup``: Http404 naming ``what`` whether it does not
    exist, lies outside the scope or the id is malformed. Every lookup by id
    of every app goes through here."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"{what} not found") from None


def get_agency_for(*, user, pk) -> Agency:
    return get_in_scope(agencies_for(user=user), "agency", pk=pk)


def officers_for(*, user) -> QuerySet[Officer]:
    return _scoped(Officer.objects.select_related("agency", "agency__region", "enforcement_region"), user, "agency")


def get_officer_for(*, user, pk) -> Officer:
    return get_in_scope(officers_for(user=user), "officer", pk=pk)


def users_for(*, user) -> QuerySet[User]:
    """Accounts a user may see: system administrators see all; supervisors
    the accounts of agencies in their region (and supervisors below them);
    an agency head their agency's accounts; everyone else only themselves."""
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    qs = User.objects.select_related("agency", "region")
    if user.role == Role.SYSADMIN or user.is_superuser:
        return qs
    if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
        return qs.filter(Q(agency__region__path__startswith=user.region.path) | Q(region__path__startswith=user.region.path))
    if user.role == Role.AGENCY_HEAD and user.agency_id:
        return qs.filter(agency_id=user.agency_id)
    return qs.filter(pk=user.pk)


def regions_for(*, user) -> QuerySet[Region]:
    """Regions a user supervises or works in (for filters in the back office)."""
    if not getattr(user, "is_authenticated", False):
        return Region.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return Region.objects.all()
    if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
        return Region.objects.filter(path__startswith=user.region.path)
    if user.agency_id:
        return Region.objects.filter(pk=user.agency.region_id)
    return Region.objects.none()


def audit_entries_for(*, user) -> QuerySet[AuditEntry]:
    """The audit log is readable by system administrators and the province's
    legal office (the top of the tree); nobody else."""
    if not getattr(user, "is_authenticated", False):
        return AuditEntry.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return AuditEntry.objects.all()
    if user.role == Role.LEGAL_SUPERVISOR and user.region_id and user.region.parent_id is None:
        return AuditEntry.objects.all()
    return AuditEntry.objects.none()


# --- public reads (人员清单 and 亮证, 公示-8/9/12) -------------------------------

PUBLIC_OFFICER_FIELDS = ("name", "post", "certificate_number", "categories", "valid_from", "valid_to", "status")


def certificate_state(officer: Officer, *, on: date | None = None) -> str:
    """valid / expired / not_yet_valid / suspended / revoked, on a day."""
    on = on or clock.today()
    if officer.status == OfficerStatus.REVOKED:
        return "revoked"
    if officer.status == OfficerStatus.SUSPENDED:
        return "suspended"
    if on < officer.valid_from:
        return "not_yet_valid"
    if on > officer.valid_to:
        return "expired"
    return "valid"


# The state of a certificate on a day, as people read it (公示-8/9: the
# public list and the 亮证 page show it; the back office never calls an
# expired certificate 有效 because its status field says active).
CERTIFICATE_STATE_LABELS = {
    "valid": pgettext_lazy("certificate state", "valid"),
    "expired": pgettext_lazy("certificate state", "expired"),
    "not_yet_valid": pgettext_lazy("certificate state", "not yet valid"),
    "suspended": pgettext_lazy("certificate state", "suspended"),
    "revoked": pgettext_lazy("certificate state", "revoked"),
}


def certificate_state_label(officer: Officer, *, on: date | None = None) -> str:
    """The Chinese name of the certificate's state on a day."""
    return str(CERTIFICATE_STATE_LABELS[certificate_state(officer, on=on)])


def verify_certificate(*, number: str) -> Officer | None:
    """The officer holding a certificate number, for the public 亮证 page."""
    return (
        Officer.objects.select_related("agency", "enforcement_region")
        .only(*PUBLIC_OFFICER_FIELDS, "agency__name", "agency__phone", "agency__report_phone", "agency__report_url",
              "enforcement_region__name", "enforcement_region__code")
        .filter(certificate_number=number.strip().upper())
        .first()
    )


def officer_reported_by(officer: Officer) -> str:
    """The lower platform that reported an officer received through docking
    (core.changes.officer_source; one query on the 亮证 page), "" for an
    officer registered here."""
    return officer_source(officer)


def public_officer_list(*, region_code: str = "", agency_id=None, q: str = "") -> QuerySet[Officer]:
    """The public officer list: officers whose certificates are not revoked,
    filtered by region subtree, agency and a name or certificate number."""
    qs = (
        Officer.objects.select_related("agency", "agency__region", "enforcement_region")
        .exclude(status=OfficerStatus.REVOKED)
        .filter(agency__is_active=True)
    )
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(agency__region__path__startswith=region.path) if region else qs.none()
    if agency_id:
        qs = qs.filter(agency_id=agency_id)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(certificate_number__startswith=q.upper()))
    return qs.order_by("agency__region__code", "agency__name", "name")


def public_agencies(*, region_code: str = "") -> QuerySet[Agency]:
    qs = Agency.objects.select_related("region").filter(is_active=True)
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    return qs


def failed_tasks_for(*, user, resolved: bool = False) -> QuerySet[FailedTask]:
    """The job queue's tasks whose attempts are spent (sanxiang/core/queue.py):
    open ones (``resolved=False``) or those already re-enqueued; system
    administrators only (PermissionDenied for anyone else)."""
    if not predicates.can_manage_failed_tasks(user):
        raise PermissionDenied
    return FailedTask.objects.filter(final=True, resolved_at__isnull=not resolved).select_related("resolved_by")


def get_failed_task_for(*, user, pk) -> FailedTask:
    if not predicates.can_manage_failed_tasks(user):
        raise PermissionDenied
    return get_in_scope(FailedTask.objects.filter(final=True), "failed task", pk=pk)


def failed_tasks_todo(*, user, today):
    """The to-do item of system administrators while background tasks have
    failed every attempt (one item, one count query; core/todo.py)."""
    if not predicates.can_manage_failed_tasks(user):
        return []
    count = failed_tasks_for(user=user).count()
    if not count:
        return []
    return [TodoItem(kind="failed_tasks", label=_("Failed background tasks"),
                     title=_("%(count)d background task(s) failed every attempt") % {"count": count},
                     url=reverse("core:failed_tasks"))]


def legal_office_of(agency: Agency) -> Agency | None:
    """The agency's supervising legal office (public structure, no scope):
    the one it names, else the legal office of its region. Draw participants
    (inspections) and complaint routing (supervision) start here."""
    if agency.legal_office_id:
        return agency.legal_office
    return (Agency.objects.filter(region=agency.region, kind=AgencyKind.LEGAL_OFFICE, is_active=True)
            .order_by("pk").first())
