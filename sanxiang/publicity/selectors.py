"""Reads of the publicity domain.

Public reads (portal, feeds, public API) touch only PublicDecision,
PublicVersion and WithdrawalNotice: redacted copies. Private reads take the
acting user and go through core's jurisdiction scope.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from sanxiang.core.models import Region, RegionLevel
from sanxiang.core.selectors import agencies_for, get_in_scope, public_agencies

from . import services
from .redaction import field_text, marked_segments
from .models import (Decision, DecisionStatus, EarlyEndApplication, EarlyEndStatus, PublicDecision, PublicVersion,
                     WithdrawalNotice, display_only)
from sanxiang.core import changes, clock


# --- public ---------------------------------------------------------------------


def public_decisions(*, today: date | None = None) -> QuerySet[PublicDecision]:
    """What the portal may show: visible, and not past its 公示截止期 even if
    the scheduled job has not run yet today."""
    today = today or clock.today()
    return PublicDecision.objects.filter(visible=True).filter(Q(publicity_end__isnull=True) | Q(publicity_end__gt=today))


def latest_public(*, limit: int = 10, agency_id: int | None = None) -> list[PublicDecision]:
    qs = public_decisions().select_related("agency")
    if agency_id:
        qs = qs.filter(agency_id=agency_id)
    return list(qs.order_by("-published_at", "-id")[:limit])


@dataclass(frozen=True)
class PortalFilterChoices:
    """The portal search form's region and agency lists as plain tuples:
    regions (code, name, is_county), agencies (id, name). Every search page
    carries them (a province: 122 regions, 550 agencies); model instances
    and a template loop over them cost more than the search itself
    (docs/performance.md)."""

    regions: list[tuple[str, str, bool]]
    agencies: list[tuple[int, str]]


# The search form's lists are held per process between requests (~2.5 ms a
# search page at a province, 1.6 of them the server's CPU; docs/performance.md)
# and read again after a region or agency was saved or deleted in this
# process (core.changes.reference_generation), else after at most
# PORTAL_LISTS_SECONDS (a change made by another web process). At most
# PORTAL_LISTS_HELD region codes are held (the code comes from the query
# string).
PORTAL_LISTS_SECONDS = 60
PORTAL_LISTS_HELD = 512
_portal_lists: dict[str, tuple[float, int, PortalFilterChoices]] = {}


def portal_filter_choices(*, region_code: str = "") -> PortalFilterChoices:
    """Regions down to counties (code order) and the active agencies under
    the chosen region (all without one), legal offices left out."""
    now, generation = time.monotonic(), changes.reference_generation()
    held = _portal_lists.get(region_code)
    if held is not None and held[1] == generation and now - held[0] < PORTAL_LISTS_SECONDS:
        return held[2]
    regions = [(code, name, level == RegionLevel.COUNTY) for code, name, level in
               Region.objects.exclude(level=RegionLevel.TOWNSHIP).order_by("code").values_list("code", "name", "level")]
    agencies = list(public_agencies(region_code=region_code).exclude(kind="legal_office").values_list("pk", "name"))
    choices = PortalFilterChoices(regions=regions, agencies=agencies)
    if len(_portal_lists) >= PORTAL_LISTS_HELD:
        _portal_lists.clear()
    _portal_lists[region_code] = (now, generation, choices)
    return choices


def get_public_decision(*, pk: int) -> PublicDecision | None:
    """A visible public decision, or None (withdrawn, expired or never
    public), loaded for display only (models.display_only: it cannot be
    saved back as loaded)."""
    with display_only():
        return public_decisions().select_related("agency").filter(pk=pk).first()


def public_history(*, public_id: int) -> list[dict]:
    """Number, publication time and correction reason of every published
    version of a public decision, oldest first, as plain values: the portal
    page shows only these (no version's stored data decoded, no public-text
    guard fingerprints)."""
    return list(PublicVersion.objects.filter(public_id=public_id).order_by("number")
                .values("number", "published_at", "reason"))


def withdrawal_notice_for(*, public_id: int) -> WithdrawalNotice | None:
    return WithdrawalNotice.objects.select_related("agency").filter(decision__public__pk=public_id).first()


def withdrawal_notices(*, agency_id: int | None = None) -> QuerySet[WithdrawalNotice]:
    qs = WithdrawalNotice.objects.select_related("agency").order_by("-withdrawn_at")
    return qs.filter(agency_id=agency_id) if agency_id else qs


# --- private (jurisdiction-scoped) ------------------------------------------------


def decisions_for(*, user) -> QuerySet[Decision]:
    return Decision.objects.filter(agency__in=agencies_for(user=user)).select_related("agency")


def get_decision_for(*, user, pk) -> Decision:
    return get_in_scope(decisions_for(user=user), "decision", pk=pk)


def pending_for(*, user) -> QuerySet[Decision]:
    return decisions_for(user=user).filter(status=DecisionStatus.PENDING).order_by("publication_due", "id")


def overdue_for(*, user, today: date | None = None) -> QuerySet[Decision]:
    """Decisions not yet published whose publication due date has passed."""
    today = today or clock.today()
    return pending_for(user=user).filter(publication_due__lt=today)


@dataclass(frozen=True)
class Timeliness:
    published_on_time: int
    published_late: int
    overdue_unpublished: int

    @property
    def due_total(self) -> int:
        return self.published_on_time + self.published_late + self.overdue_unpublished

    @property
    def rate(self) -> float | None:
        """Share published on time among all that were due (None if none were)."""
        return self.published_on_time / self.due_total if self.due_total else None


def publication_backlog(*, today: date | None = None) -> dict[str, int]:
    """The platform-wide publication backlog, for the operator's /metrics
    (core/metrics.py): decisions received and not yet published
    ("awaiting": pending, whatever their due date) and, among them, those
    past their publication due date ("overdue", 公示-14). Counts only, no
    record, so no acting user's scope: the figure is the platform's, like
    the queue's depth. One query."""
    today = today or clock.today()
    counts = Decision.objects.filter(status=DecisionStatus.PENDING).aggregate(
        awaiting=Count("id"), overdue=Count("id", filter=Q(publication_due__lt=today)))
    return {"awaiting": counts["awaiting"], "overdue": counts["overdue"]}


def timeliness_for(*, user, today: date | None = None, agency_id: int | None = None) -> Timeliness:
    today = today or clock.today()
    qs = decisions_for(user=user).exclude(publication_due__isnull=True)
    if agency_id:
        qs = qs.filter(agency_id=agency_id)
    published = list(qs.filter(published_at__isnull=False).values_list("published_at", "publication_due"))
    on_time = sum(1 for at, due in published if clock.local_date(at) <= due)
    return Timeliness(published_on_time=on_time, published_late=len(published) - on_time,
                      overdue_unpublished=qs.filter(published_at__isnull=True, status=DecisionStatus.PENDING,
                                                    publication_due__lt=today).count())


def early_end_queue_for(*, user) -> QuerySet[EarlyEndApplication]:
    return EarlyEndApplication.objects.filter(decision__agency__in=agencies_for(user=user),
                                              status=EarlyEndStatus.APPLIED).select_related("decision", "decision__agency")


@dataclass(frozen=True)
class CheckedField:
    """One field of the pre-publication check: the private text cut into
    (segment, kind) pairs (kind set where the public copy hides it) and the
    text that will be public ("" when the field is not published)."""

    key: str
    private: list[tuple[str, str | None]]
    public: str
    published: bool

    @property
    def kinds(self) -> list[str]:
        return [kind for _, kind in self.private if kind]


@dataclass(frozen=True)
class PublicationCheck:
    version: int
    title: str
    fields: list[CheckedField]

    @property
    def kinds(self) -> list[str]:
        """Every kind of removal, once, in order of first appearance."""
        return list(dict.fromkeys(k for f in self.fields for k in f.kinds))


def publication_check_for(*, user, pk) -> PublicationCheck:
    """The decision's private record beside the public copy exactly as
    publish_decision will make it (the same services._public_copy), with
    every hidden span marked."""
    decision = get_decision_for(user=user, pk=pk)
    findings: dict = {}
    copy = services._public_copy(decision, findings_out=findings)
    fields = []
    for key, value in decision.data.items():
        text = field_text(value)
        if not text:
            continue
        fields.append(CheckedField(key=key, private=marked_segments(text, findings.get(key, ())),
                                   public=field_text(copy.data.get(key)), published=key in copy.data))
    return PublicationCheck(version=decision.version, title=copy.title, fields=fields)
