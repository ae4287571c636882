"""Reads of catalogues.

Private reads (drafts, submissions, returns, import reports) take the acting
user and stay within the user's jurisdiction (core.selectors.agency_scope);
lookups by id raise Http404 whether the row is missing or out of reach.

Public reads see accepted versions only. The version in force on a day is
the accepted version with the latest effective date on or before that day
(公示-4: the public site shows the current list, kept up to date).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from sanxiang.core import selectors as core_selectors
from sanxiang.core.selectors import get_in_scope
from sanxiang.core.models import Agency, Region

from .models import ITEM_MODELS, PUBLIC_KINDS, CatalogueKind, CatalogueVersion, ImportAttempt, VersionStatus
from .predicates import can_decide_filing, can_edit_catalogues
from sanxiang.core import clock

# --- private -------------------------------------------------------------------


def versions_for(*, user, kinds=PUBLIC_KINDS) -> QuerySet[CatalogueVersion]:
    """Every version (any status) of the given kinds (by default the public
    lists; the review app asks for its review catalogue) of agencies in the
    user's jurisdiction."""
    return CatalogueVersion.objects.select_related("agency", "agency__region", "agency__legal_office").filter(
        agency__in=core_selectors.agencies_for(user=user), kind__in=list(kinds),
    )


def get_version_for(*, user, pk, kinds=PUBLIC_KINDS) -> CatalogueVersion:
    return get_in_scope(versions_for(user=user, kinds=kinds), "catalogue version", pk=pk)


def audit_entries_for(*, user, version: CatalogueVersion) -> QuerySet:
    """The audit entries about a version, under every reference the chain
    has named it by (its own, and the review app's before the review
    catalogue moved here: ``audit_references``), for those who may read the
    audit log (core.selectors.audit_entries_for)."""
    query = Q()
    for object_type, object_id in version.audit_references():
        query |= Q(object_type=object_type, object_id=object_id)
    return core_selectors.audit_entries_for(user=user).filter(query).order_by("seq")


def get_import_for(*, user, pk) -> ImportAttempt:
    return get_in_scope(ImportAttempt.objects.select_related("version"), "import", pk=pk, version__in=versions_for(user=user))


def editable_agencies(*, user) -> list[Agency]:
    """Agencies whose catalogues the user compiles (their own, for editors)."""
    return [a for a in core_selectors.agencies_for(user=user) if can_edit_catalogues(user, a)]


def filing_queue(*, user, kinds=PUBLIC_KINDS) -> list[CatalogueVersion]:
    """Submitted versions the user's legal office has to accept or return."""
    qs = versions_for(user=user, kinds=kinds).filter(status=VersionStatus.SUBMITTED).order_by("submitted_at", "pk")
    return [v for v in qs if can_decide_filing(user, v.agency)]


def lists_overview(*, user, agency: Agency) -> list[dict]:
    """Per list kind of an agency: the version in force, the one in the works
    and the count of versions (for the back-office page)."""
    if not core_selectors.agencies_for(user=user).filter(pk=agency.pk).exists():
        raise Http404("agency not found")
    today = clock.today()
    rows = []
    for kind in PUBLIC_KINDS:
        versions = CatalogueVersion.objects.filter(agency=agency, kind=kind)
        rows.append({
            "kind": kind,
            "in_force": version_in_force(agency=agency, kind=kind, on=today),
            "open": versions.exclude(status=VersionStatus.ACCEPTED).first(),
            "count": versions.count(),
        })
    return rows


# --- public --------------------------------------------------------------------


def public_versions(*, agency: Agency, kind: str) -> QuerySet[CatalogueVersion]:
    """Accepted versions of a list, newest first (the public version history)."""
    return CatalogueVersion.objects.filter(agency=agency, kind=kind, status=VersionStatus.ACCEPTED).order_by(
        "-effective_date", "-number")


def version_in_force(*, agency: Agency, kind: str, on: date | None = None) -> CatalogueVersion | None:
    on = on or clock.today()
    return public_versions(agency=agency, kind=kind).filter(effective_date__lte=on).first()


def public_version(*, agency: Agency, kind: str, number: int | None = None, on: date | None = None) -> CatalogueVersion | None:
    """A numbered accepted version, or the one in force."""
    if number is not None:
        return public_versions(agency=agency, kind=kind).filter(number=number).first()
    return version_in_force(agency=agency, kind=kind, on=on)


def public_items(*, version: CatalogueVersion | None, q: str = "") -> QuerySet:
    """Items of an accepted version (an empty list for none), searchable by name."""
    if version is None or version.status != VersionStatus.ACCEPTED:
        return ITEM_MODELS[CatalogueKind.ENFORCEMENT_ITEMS].objects.none()
    qs = version.items()
    q = (q or "").strip()
    if q and hasattr(qs.model, "name"):
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return qs


def get_public_agency(*, pk) -> Agency:
    return get_in_scope(Agency.objects.select_related("region"), "agency", pk=pk, is_active=True)


def public_catalogue_agencies(*, region_code: str = "", on: date | None = None) -> QuerySet[Agency]:
    """Active agencies with at least one accepted list in force, in a region subtree."""
    on = on or clock.today()
    qs = core_selectors.public_agencies(region_code=region_code)
    published = CatalogueVersion.objects.filter(status=VersionStatus.ACCEPTED, effective_date__lte=on,
                                                kind__in=list(PUBLIC_KINDS))
    return (qs.filter(catalogue_versions__in=published)
            .annotate(list_count=Count("catalogue_versions__kind", filter=Q(catalogue_versions__in=published), distinct=True))
            .order_by("region__code", "name"))


def public_regions() -> QuerySet[Region]:
    return Region.objects.filter(level__in=["province", "city"]).order_by("code")
