"""Reads of the docking app, each taking the acting user (system
administrators only: the trust list, keys and message errors are the
operator's business)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sanxiang.api.models import ApiToken, PushReceipt
from sanxiang.core.selectors import get_in_scope
from sanxiang.core.todo import TodoItem
from sanxiang.publicity.api import PUSH_SCOPE
from sanxiang.publicity.models import Decision, DecisionStatus

from . import predicates, reconcile
from .models import InboxMessage, Instance, OutboxMessage, OutboxState, Reconciliation, ReconciliationOutcome, Upstream


def _require(user) -> None:
    if not predicates.can_view_docking(user):
        raise PermissionDenied


def upstream_for(*, user) -> Upstream | None:
    _require(user)
    return Upstream.objects.first()


def outbox_counts_for(*, user) -> dict[str, int]:
    _require(user)
    rows = OutboxMessage.objects.values("state").annotate(n=Count("pk"))
    counts = {state: 0 for state in OutboxState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def troubled_messages_for(*, user, limit: int = 200):
    """Messages that need attention: failed at least once and still
    waiting, undeliverable, or refused by the receiver; newest first."""
    _require(user)
    trouble = Q(state__in=[OutboxState.UNDELIVERABLE, OutboxState.REFUSED]) | Q(state=OutboxState.PENDING,
                                                                                 attempts__gt=0)
    return OutboxMessage.objects.filter(trouble).order_by("-pk")[:limit]


def get_message_for(*, user, pk) -> OutboxMessage:
    _require(user)
    return get_in_scope(OutboxMessage.objects.all(), "docking message", pk=pk)


def instances_for(*, user):
    _require(user)
    return Instance.objects.prefetch_related("regions", "agencies", "keys").annotate(
        received=Count("inbox", filter=Q(inbox__outcome="applied")),
        refused=Count("inbox", filter=Q(inbox__outcome="refused")))


def docking_todo(*, user, today):
    """System administrators' to-do while the platform above stopped our
    messages (410) or messages could not be delivered (one item each, two
    queries; core/todo.py)."""
    if not predicates.can_view_docking(user):
        return []
    items = []
    url = reverse("docking:index")
    row = Upstream.objects.filter(is_active=False).first()
    if row is not None:
        items.append(TodoItem(kind="docking_disabled", label=_("Docking stopped"),
                              title=_("The platform above refused our messages (410): sending is stopped"),
                              url=url, detail=row.disabled_reason[:120]))
    stuck = OutboxMessage.objects.filter(state__in=[OutboxState.UNDELIVERABLE, OutboxState.REFUSED]).count()
    if stuck:
        items.append(TodoItem(kind="docking_undeliverable", label=_("Docking messages not delivered"),
                              title=_("%(count)d message(s) to the platform above were not delivered") % {"count": stuck},
                              url=url))
    return items


# --- supervision (reconciliation, lag, backlog; docs/docking.md "Lag and backlog") ---

# The lag figures are taken over the last day's arrivals, at most this many
# newest ones per platform or client (a bounded read at any rate).
LAG_WINDOW = timedelta(hours=24)
LAG_SAMPLE = 5000


def _require_supervision(user) -> None:
    if not predicates.can_view_supervision(user):
        raise PermissionDenied


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class Lag:
    count: int = 0
    p50: float | None = None
    p95: float | None = None
    newest: float | None = None  # the newest arrival's lag

    @classmethod
    def of(cls, pairs: list[tuple[datetime, datetime]]) -> "Lag":
        """From (received, sent) pairs, newest first; seconds."""
        values = [max((received - sent).total_seconds(), 0.0) for received, sent in pairs]
        if not values:
            return cls()
        return cls(count=len(values), p50=_percentile(values, 0.50), p95=_percentile(values, 0.95), newest=values[0])


@dataclass
class InstanceRow:
    instance: Instance
    reconciliation: Reconciliation | None
    lag: Lag
    backlog_waiting: int | None
    backlog_oldest_at: datetime | None
    last_message_at: datetime | None
    overdue: bool = False  # not reconciled for more than reconcile.OVERDUE_AFTER
    unrepaired: bool = False


@dataclass
class ClientRow:
    token: ApiToken
    lag: Lag
    signed: int  # signed pushes among the sample
    pushes: int
    backlog_waiting: int
    backlog_oldest_at: datetime | None
    last_message_at: datetime | None


@dataclass
class Supervision:
    instances: list[InstanceRow] = field(default_factory=list)
    clients: list[ClientRow] = field(default_factory=list)


def _latest_reconciliations(instance_ids) -> dict[int, Reconciliation]:
    latest = (Reconciliation.objects.filter(instance_id__in=instance_ids).values("instance_id")
              .annotate(last=Max("pk")).values_list("last", flat=True))
    return {r.instance_id: r for r in Reconciliation.objects.filter(pk__in=list(latest))}


def _instance_states(instances, now) -> list[InstanceRow]:
    latest = _latest_reconciliations([i.pk for i in instances])
    rows = []
    for instance in instances:
        last = latest.get(instance.pk)
        since = last.started_at if last else instance.registered_at
        rows.append(InstanceRow(
            instance=instance, reconciliation=last, lag=Lag(),
            backlog_waiting=last.backlog_waiting if last else None,
            backlog_oldest_at=last.backlog_oldest_at if last else None,
            last_message_at=instance.last_message_at,
            overdue=instance.is_active and now - since > reconcile.OVERDUE_AFTER,
            unrepaired=last is not None and last.outcome == ReconciliationOutcome.UNREPAIRED))
    return rows


def supervision_for(*, user, now=None) -> Supervision:
    """Every registered lower platform's last reconciliation, lag (arrival
    minus the source's time of the change, last 24 h) and backlog (as its
    last reconciliation reported it), and every case system's (API token
    with the push scope) lag (arrival minus the signed push's
    webhook-timestamp, or minus the start of the newest decision date it
    carried when unsigned) and backlog (its agency's records received but
    not yet published). A bounded number of queries per row."""
    _require_supervision(user)
    now = now or timezone.now()
    since = now - LAG_WINDOW
    result = Supervision(instances=_instance_states(list(Instance.objects.all()), now))
    for row in result.instances:
        pairs = list(InboxMessage.objects.filter(instance=row.instance, received_at__gte=since,
                                                 published_at__isnull=False, outcome="applied")
                     .order_by("-received_at").values_list("received_at", "published_at")[:LAG_SAMPLE])
        row.lag = Lag.of(pairs)
    tokens = [t for t in ApiToken.objects.filter(revoked_at__isnull=True).select_related("agency").order_by("agency__name", "name")
              if PUSH_SCOPE in (t.scopes or [])]
    waiting = {r["agency_id"]: r for r in Decision.objects.filter(
        status=DecisionStatus.PENDING, agency_id__in={t.agency_id for t in tokens}).values("agency_id").annotate(
        n=Count("pk"), oldest=Min("received_at"))}
    for token in tokens:
        receipts = list(PushReceipt.objects.filter(token=token, received_at__gte=since)
                        .order_by("-received_at").values_list("received_at", "sent_at", "signed")[:LAG_SAMPLE])
        last = receipts[0][0] if receipts else token.last_used_at
        agency_waiting = waiting.get(token.agency_id, {})
        result.clients.append(ClientRow(
            token=token, lag=Lag.of([(r, s) for r, s, _ in receipts if s is not None]),
            signed=sum(1 for *_, signed in receipts if signed), pushes=len(receipts),
            backlog_waiting=agency_waiting.get("n", 0), backlog_oldest_at=agency_waiting.get("oldest"),
            last_message_at=last))
    return result


def supervision_todo(*, user, today):
    """The supervisors' to-do (system administrators, the platform's legal
    office): each lower platform that has not reconciled for more than two
    days, or whose last reconciliation left differences it could not repair
    (two queries; core/todo.py)."""
    if not predicates.can_view_supervision(user):
        return []
    now = timezone.now()
    url = reverse("docking:supervision")
    items = []
    for row in _instance_states(list(Instance.objects.filter(is_active=True)), now):
        name = str(row.instance)
        if row.unrepaired:
            items.append(TodoItem(kind="docking_unrepaired", label=_("Reconciliation differences"),
                                  title=_("%(platform)s: reconciliation found differences it could not repair")
                                  % {"platform": name}, url=url,
                                  detail=_("%(count)d bucket(s) still differ") % {"count": row.reconciliation.remaining}))
        if row.overdue:
            items.append(TodoItem(kind="docking_not_reconciled", label=_("Not reconciled"),
                                  title=_("%(platform)s has not reconciled for more than two days") % {"platform": name},
                                  url=url))
    return items
