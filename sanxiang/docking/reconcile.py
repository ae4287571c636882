"""Reconciliation between a lower instance and the platform above (issue 13
item 5; docs/docking.md "Reconciliation"; docs/decisions/0017).

Daily (the scheduled job ``docking.reconcile``) and on demand (`sanxiang
docking reconcile`, the button on the docking page), the lower instance
proves to the platform above that both hold the same objects:

1. **Summary** (``reconciliation.summary``): per bucket — object type,
   agency and day — the count and a SHA-256 of the sorted (key, version)
   pairs of the objects it has delivered (per object the newest version
   delivered), plus its backlog (messages waiting, the oldest one's age).
   The receiver computes the same over what it holds (``ReceivedObject``)
   and answers the buckets that differ.
2. **Keys** (``reconciliation.keys``, in chunks): for the differing buckets
   the (key, version) pairs; the receiver answers the keys it lacks or
   holds at an older version.
3. **Re-sends**: each of those objects again, the body of its newest
   delivered version unchanged, under a new message id derived from the
   original one's parts *and the run* — the receiver treats a message id it
   has seen as a duplicate with no effect, so a re-send under the original
   id would be ignored by a receiver that lost the record (restored from an
   older backup) but kept its inbox row. The receiver's version check keeps
   the re-send harmless where it does hold the object.
4. **Final summary**: the comparison once more; the receiver records the
   outcome — in agreement, repaired, or differences remain.

A bucket's **day** is the Asia/Shanghai calendar day of the ``timestamp``
of the message that carried the version held (when the change was written
at the source); its **agency** the unified social credit code the object
belongs to (``region:<code>`` for an object that belongs to a region). An
object that changes moves to its new day's bucket on both sides together.

Cost: the sender reads its delivered messages' (type, key, version,
bucket) in one query (each message's bucket is read from its body once and
kept on the row); the receiver reads its held objects in one query per
comparison and one per chunk of keys. Nothing per object except the
re-sends themselves.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import User
from sanxiang.core.refusals import Refused

from . import keys, predicates, services, webhooks
from .models import (InboxMessage, Instance, OutboxMessage, OutboxState, ReceivedObject, Reconciliation,
                     ReconciliationOutcome, Upstream)
from .registry import object_type

OBJECT_TYPE = "reconciliation"
SCHEMA = "reconciliation/1"
SUMMARY = "reconciliation.summary"
KEYS = "reconciliation.keys"
# The day of a bucket is a day in the province's time zone.
DAY_ZONE = ZoneInfo("Asia/Shanghai")
# (key, version) pairs per keys message: ~60 bytes a pair keeps a message
# well under the receiver's 1 MB limit.
PAIRS_PER_MESSAGE = 5000
# The scheduled job offers itself every interval; it reconciles when the last
# reconciliation is at least this old.
EVERY = timedelta(days=1)
# The to-do list warns when an instance has not reconciled for longer.
OVERDUE_AFTER = timedelta(days=2)
SYSTEM = "system:docking"


# --- buckets (both sides) ---------------------------------------------------

def day_of(timestamp) -> str:
    """The Asia/Shanghai day (YYYY-MM-DD) of a message's ISO timestamp; ""
    when it has none or it cannot be read."""
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp)
        except ValueError:
            return ""
    if not isinstance(timestamp, datetime) or timestamp.tzinfo is None:
        return ""
    return timestamp.astimezone(DAY_ZONE).date().isoformat()


def agency_of(object_type_name: str, obj) -> str:
    """The agency (or ``region:<code>``) an object belongs to, by its type's
    own ``scope`` — the same function the receiver checks the sender's
    trust-list entry with."""
    kind = object_type(object_type_name)
    if kind is None or not isinstance(obj, dict):
        return ""
    try:
        scope = kind.scope(obj)
    except (AttributeError, KeyError, TypeError, ValueError):
        return ""
    if scope.agency_code:
        return scope.agency_code[:64]
    return f"region:{scope.region_code}"[:64] if scope.region_code else ""


def bucket_label(agency: str, day: str) -> str:
    return f"{agency}|{day}"


def digest(pairs) -> str:
    """SHA-256 over the sorted ``key<US>version`` lines of a bucket."""
    lines = sorted(f"{key}\x1f{version}" for key, version in pairs)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _summary(buckets: dict[tuple[str, str, str], dict[str, int]]) -> dict[tuple[str, str, str], tuple[int, str]]:
    return {name: (len(pairs), digest(pairs.items())) for name, pairs in buckets.items()}


def received_fields(*, object_type_name: str, obj: dict, timestamp) -> dict:
    """The bucket of a version the receiver applies (services._receive)."""
    day = day_of(timestamp)
    return {"agency_code": agency_of(object_type_name, obj), "source_day": date.fromisoformat(day) if day else None,
            "received_at": timezone.now()}


def published_at(timestamp) -> datetime | None:
    """The source's time of the change (the message's ``timestamp``)."""
    try:
        value = datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else None
    except ValueError:
        return None
    return value if value is not None and value.tzinfo is not None else None


# --- sending side -------------------------------------------------------------

def fill_buckets(*, batch: int = 1000) -> int:
    """Read the bucket of every message that has none yet from its body
    (once per message, ever); returns how many were filled. Written as one
    UPDATE per bucket and batch of rows (a county has few buckets a day)."""
    todo = OutboxMessage.objects.filter(bucket="").exclude(object_type=OBJECT_TYPE).only("pk", "object_type", "body")
    by_label: dict[str, list[int]] = defaultdict(list)
    for row in todo.iterator(chunk_size=batch):
        try:
            payload = json.loads(row.body)
            label = bucket_label(agency_of(row.object_type, payload["data"].get("object")),
                                 day_of(payload.get("timestamp")))
        except (ValueError, KeyError, TypeError, AttributeError):
            label = "|"
        by_label[label].append(row.pk)
    for label, pks in by_label.items():
        for start in range(0, len(pks), batch):
            OutboxMessage.objects.filter(pk__in=pks[start:start + batch]).update(bucket=label)
    return sum(len(pks) for pks in by_label.values())


def sender_buckets() -> dict[tuple[str, str, str], dict[str, int]]:
    """(object type, agency, day) → {key: version} over the newest delivered
    version of every object (one query)."""
    newest: dict[tuple[str, str], tuple[int, str]] = {}
    rows = (OutboxMessage.objects.filter(state=OutboxState.DELIVERED).exclude(object_type=OBJECT_TYPE)
            .values_list("object_type", "object_key", "version", "bucket"))
    for kind, key, version, bucket in rows.iterator(chunk_size=2000):
        held = newest.get((kind, key))
        if held is None or version > held[0]:
            newest[(kind, key)] = (version, bucket)
    buckets: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for (kind, key), (version, bucket) in newest.items():
        agency, _, day = bucket.partition("|")
        buckets[(kind, agency, day)][key] = version
    return buckets


def backlog() -> dict:
    """Messages not delivered yet (waiting or undeliverable) and since when
    the oldest has waited."""
    row = (OutboxMessage.objects.filter(state__in=[OutboxState.PENDING, OutboxState.UNDELIVERABLE])
           .aggregate(n=Count("pk"), oldest=Min("created_at")))
    return {"waiting": row["n"] or 0, "oldest_waiting_at": row["oldest"].isoformat() if row["oldest"] else None}


class ReconcileFailed(Exception):
    """The platform above did not answer a reconciliation step as expected."""


@dataclass
class RunResult:
    run_id: str = ""
    buckets: int = 0
    objects: int = 0
    differing: int = 0
    requested: int = 0
    resent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    remaining: int = 0
    outcome: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "buckets": self.buckets, "objects": self.objects, "differing": self.differing,
                "requested": self.requested, "resent": self.resent, "outcomes": self.outcomes,
                "remaining": self.remaining, "outcome": self.outcome, "error": self.error}


def _signed_post(target: Upstream, msg_id: str, body: bytes) -> tuple[int, str]:
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=keys.signing_keys()).as_dict()
    try:
        status, _, text = services._post(target.url, body, headers)
    except (OSError, ValueError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    return status, text


def _step(target: Upstream, run_id: str, stage: int, event: str, obj: dict) -> dict:
    payload = {"type": event, "timestamp": timezone.now().isoformat(),
               "data": {"source": target.instance_code, "object_type": OBJECT_TYPE, "key": run_id, "version": stage,
                        "object": {"schema": SCHEMA, **obj}}}
    body = canonical_json(payload).encode("utf-8")
    msg_id = webhooks.message_id(target.instance_code, OBJECT_TYPE, run_id, stage, event)
    status, text = _signed_post(target, msg_id, body)
    answer = services._outcome_of(text)
    if status != 200 or answer.get("outcome") != "compared":
        raise ReconcileFailed(f"{event} (step {stage}): HTTP {status} {text[:200]}")
    return answer


def _bucket_entries(summary: dict) -> list[dict]:
    return [{"object_type": kind, "agency": agency, "day": day, "count": count, "hash": hashed}
            for (kind, agency, day), (count, hashed) in sorted(summary.items())]


def _newest_bodies(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], OutboxMessage]:
    """The newest delivered message of each wanted object (one query per
    object type and chunk of keys)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, key in wanted:
        by_type[kind].append(key)
    found: dict[tuple[str, str], OutboxMessage] = {}
    for kind, keys_ in by_type.items():
        for start in range(0, len(keys_), 500):
            rows = OutboxMessage.objects.filter(state=OutboxState.DELIVERED, object_type=kind,
                                                object_key__in=keys_[start:start + 500]).order_by("version")
            for row in rows:
                found[(kind, row.object_key)] = row  # the last one is the newest
    return found


def run(*, actor, now=None) -> RunResult:
    """One reconciliation with the platform above (see the module's text).
    Refused for anyone but a system administrator or the console; with no
    (active) upstream there is nothing to reconcile."""
    if not predicates.can_manage_docking(actor):
        raise Refused(predicates.can_manage_docking(actor))
    target = Upstream.objects.first()
    result = RunResult(run_id=f"rec_{timezone.now():%Y%m%d%H%M%S}_{secrets.token_hex(4)}")
    if target is None or not target.is_active:
        result.outcome, result.error = "skipped", "no active upstream"
        return result
    try:
        _run(target, result)
    except ReconcileFailed as exc:
        result.outcome, result.error = "failed", str(exc)[:300]
    with transaction.atomic():
        Upstream.objects.filter(pk=target.pk).update(last_reconciled_at=now or timezone.now(),
                                                     last_reconciliation=result.as_dict())
        append_audit(actor=actor, action="docking.reconcile", obj=target, payload=result.as_dict())
    return result


def run_as(user_id: int) -> RunResult:
    """``run`` as the user of that id (the page's button, on the queue)."""
    return run(actor=User.objects.get(pk=user_id))


def _run(target: Upstream, result: RunResult) -> None:
    fill_buckets()
    buckets = sender_buckets()
    summary = _summary(buckets)
    result.buckets, result.objects = len(summary), sum(count for count, _ in summary.values())
    stage = 1
    answer = _step(target, result.run_id, stage, SUMMARY,
                   {"final": False, "buckets": _bucket_entries(summary), "backlog": backlog()})
    differing = [(d["object_type"], d["agency"], d["day"]) for d in answer.get("differing", [])
                 if isinstance(d, dict)]
    result.differing = len(differing)
    if not differing:
        result.outcome = ReconciliationOutcome.AGREED
        return
    pairs = [(bucket, key, version) for bucket in differing for key, version in sorted(buckets.get(bucket, {}).items())]
    wanted: list[tuple[str, str]] = []
    chunks = [pairs[i:i + PAIRS_PER_MESSAGE] for i in range(0, len(pairs), PAIRS_PER_MESSAGE)] or [[]]
    for chunk in chunks:
        stage += 1
        grouped: dict[tuple[str, str, str], list] = defaultdict(list)
        for bucket, key, version in chunk:
            grouped[bucket].append([key, version])
        entries = [{"object_type": k, "agency": a, "day": d, "pairs": grouped.get((k, a, d), [])}
                   for (k, a, d) in (differing if chunk is chunks[0] else grouped)]
        answer = _step(target, result.run_id, stage, KEYS, {"buckets": entries})
        wanted += [(w["object_type"], w["key"]) for w in answer.get("wanted", []) if isinstance(w, dict)]
    result.requested = len(wanted)
    bodies = _newest_bodies(wanted)
    for kind, key in wanted:
        message = bodies.get((kind, key))
        if message is None:
            continue
        msg_id = webhooks.message_id(target.instance_code, kind, key, message.version, message.event_type,
                                     "resend", result.run_id)
        status, text = _signed_post(target, msg_id, message.body.encode("utf-8"))
        outcome = services._outcome_of(text).get("outcome", "") if status == 200 else f"http_{status}"
        result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        result.resent += 1
    stage += 1
    answer = _step(target, result.run_id, stage, SUMMARY,
                   {"final": True, "buckets": _bucket_entries(_summary(sender_buckets())), "backlog": backlog()})
    result.remaining = len(answer.get("differing", []))
    result.outcome = answer.get("reconciliation", "")


# --- receiving side -----------------------------------------------------------

def receiver_buckets(instance: Instance) -> dict[tuple[str, str, str], dict[str, int]]:
    buckets: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    rows = ReceivedObject.objects.filter(instance=instance).values_list(
        "object_type", "object_key", "version", "agency_code", "source_day")
    for kind, key, version, agency, day in rows.iterator(chunk_size=2000):
        buckets[(kind, agency, day.isoformat() if day else "")][key] = version
    return buckets


def _bad(message: str):
    return services.Answer(400, {"outcome": "error", "code": "bad_payload", "message": message})


def _read_buckets(obj: dict, *, with_pairs: bool) -> list[dict] | None:
    entries = obj.get("buckets")
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(n), str) for n in ("object_type", "agency", "day")):
            return None
        if with_pairs:
            pairs = entry.get("pairs")
            if not isinstance(pairs, list) or not all(
                    isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int)
                    and not isinstance(p[1], bool) for p in pairs):
                return None
        elif not (isinstance(entry.get("count"), int) and isinstance(entry.get("hash"), str)):
            return None
    return entries


def receive(*, instance: Instance, msg_id: str, payload: dict):
    """A reconciliation message from a lower instance (signature, window and
    trust list already checked by services.receive_message). The same id
    twice is answered as the first time, with no second effect."""
    event, obj = payload["type"], payload["data"]["object"]
    if event not in (SUMMARY, KEYS):
        return _bad(f"type：不支持的对账消息类型“{event[:64]}”。")
    entries = _read_buckets(obj, with_pairs=event == KEYS)
    if entries is None:
        return _bad("data.object.buckets 缺失或格式不正确（见 docs/schemas/docking/reconciliation.v1.schema.json）。")
    try:
        with transaction.atomic():
            previous = InboxMessage.objects.filter(instance=instance, msg_id=msg_id).first()
            if previous is not None:
                return services.Answer(200, {**previous.detail, "duplicate": True})
            data = payload["data"]
            if event == SUMMARY:
                answer = _compare(instance, data["key"], obj, entries)
            else:
                answer = _wanted(instance, data["key"], entries)
            InboxMessage.objects.create(instance=instance, msg_id=msg_id, object_type=OBJECT_TYPE,
                                        object_key=data["key"][:200], version=data["version"], outcome="compared",
                                        detail=answer)
            Instance.objects.filter(pk=instance.pk).update(last_message_at=timezone.now())
            append_audit(actor=f"instance:{instance.code}", action="docking.reconcile", obj=instance, payload={
                "msg_id": msg_id, "type": event, "run": data["key"], "step": data["version"],
                "differing": len(answer.get("differing", [])), "wanted": len(answer.get("wanted", []))})
            return services.Answer(200, answer)
    except IntegrityError:
        previous = InboxMessage.objects.filter(instance=instance, msg_id=msg_id).first()
        if previous is None:
            raise
        return services.Answer(200, {**previous.detail, "duplicate": True})


def _compare(instance: Instance, run_id: str, obj: dict, entries: list[dict]) -> dict:
    theirs = {(e["object_type"], e["agency"], e["day"]): (e["count"], e["hash"]) for e in entries}
    ours = _summary(receiver_buckets(instance))
    differing = sorted(name for name in set(theirs) | set(ours) if theirs.get(name) != ours.get(name))
    row, _ = Reconciliation.objects.get_or_create(instance=instance, run_id=run_id[:64])
    backlog_ = obj.get("backlog") if isinstance(obj.get("backlog"), dict) else {}
    waiting = backlog_.get("waiting")
    row.backlog_waiting = waiting if isinstance(waiting, int) and waiting >= 0 else 0
    row.backlog_oldest_at = published_at(backlog_.get("oldest_waiting_at"))
    row.buckets, row.source_objects = len(theirs), sum(count for count, _ in theirs.values())
    answer = {"outcome": "compared", "buckets": len(theirs),
              "differing": [{"object_type": k, "agency": a, "day": d} for k, a, d in differing]}
    if obj.get("final") is True:
        row.remaining = len(differing)
        row.outcome = (ReconciliationOutcome.AGREED if not differing and not row.differing
                       else ReconciliationOutcome.REPAIRED if not differing else ReconciliationOutcome.UNREPAIRED)
        row.finished_at = timezone.now()
        answer["reconciliation"] = row.outcome
    else:
        row.differing = len(differing)
        if not differing:
            row.outcome, row.remaining, row.finished_at = ReconciliationOutcome.AGREED, 0, timezone.now()
            answer["reconciliation"] = row.outcome
    row.save()
    return answer


def _wanted(instance: Instance, run_id: str, entries: list[dict]) -> dict:
    """The keys of the listed buckets this platform lacks or holds older; a
    key held at the same version in another bucket (received before buckets
    were kept) takes the sender's bucket."""
    theirs: dict[tuple[str, str], tuple[int, str, str]] = {}
    for e in entries:
        for key, version in e["pairs"]:
            theirs[(e["object_type"], key)] = (version, e["agency"], e["day"])
    held: dict[tuple[str, str], ReceivedObject] = {}
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, key in theirs:
        by_type[kind].append(key)
    for kind, keys_ in by_type.items():
        for start in range(0, len(keys_), 500):
            for row in ReceivedObject.objects.filter(instance=instance, object_type=kind,
                                                     object_key__in=keys_[start:start + 500]):
                held[(kind, row.object_key)] = row
    wanted, rebucketed = [], []
    for (kind, key), (version, agency, day) in sorted(theirs.items()):
        row = held.get((kind, key))
        if row is None or row.version < version:
            wanted.append({"object_type": kind, "key": key, "held_version": row.version if row else None})
        elif row.version == version and (row.agency_code, row.source_day.isoformat() if row.source_day else "") != (agency, day):
            row.agency_code, row.source_day = agency[:64], date.fromisoformat(day) if day else None
            rebucketed.append(row)
    if rebucketed:
        ReceivedObject.objects.bulk_update(rebucketed, ["agency_code", "source_day"])
    row, _ = Reconciliation.objects.get_or_create(instance=instance, run_id=run_id[:64])
    Reconciliation.objects.filter(pk=row.pk).update(requested=row.requested + len(wanted))
    return {"outcome": "compared", "wanted": wanted, "rebucketed": len(rebucketed)}


def due(now=None) -> bool:
    """Whether the daily reconciliation is due (an active upstream, last run
    at least a day ago)."""
    target = Upstream.objects.filter(is_active=True).first()
    if target is None:
        return False
    now = now or timezone.now()
    return target.last_reconciled_at is None or now - target.last_reconciled_at >= EVERY
