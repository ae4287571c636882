"""The audit chain: one append-only, hash-chained log for every state change
that matters (logins, role changes, publication, evidence access ...).

entry_hash = SHA-256(canonical JSON of
    [prev_hash, seq, time, actor, action, object_type, object_id, payload])

Appends are serialised so concurrent writers cannot fork the chain: on
PostgreSQL a transaction-scoped advisory lock, on SQLite the IMMEDIATE
transaction mode set in settings (one writer at a time), and in both a
UNIQUE constraint on ``seq`` as the last line of defence.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone as dt_timezone

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEntry

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x5A_58_41_55  # "SXAU"


def canonical_json(value) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_time(value: datetime) -> str:
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_entry_hash(*, prev_hash: str, seq: int, time: datetime, actor: str, action: str,
                       object_type: str, object_id: str, payload: str) -> str:
    material = canonical_json([prev_hash, seq, format_time(time), actor, action, object_type, object_id, payload])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def actor_label(actor) -> str:
    """How an actor is named in the chain: a user's username, or a system name."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    username = getattr(actor, "username", None)
    if username is not None:
        return username or "anonymous"
    return str(actor)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def append_audit(*, actor, action: str, obj=None, object_type: str = "", object_id: str = "", payload=None) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the write it
    records, so the change and its audit entry commit or roll back together."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    payload_text = canonical_json(payload if payload is not None else {})
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        seq = (last.seq + 1) if last else 1
        prev_hash = last.entry_hash if last else GENESIS_HASH
        now = timezone.now()
        actor_name = actor_label(actor)
        entry = AuditEntry(
            seq=seq, time=now, actor=actor_name, action=action, object_type=object_type,
            object_id=str(object_id), payload=payload_text, prev_hash=prev_hash,
        )
        entry.entry_hash = compute_entry_hash(
            prev_hash=prev_hash, seq=seq, time=now, actor=actor_name, action=action,
            object_type=object_type, object_id=str(object_id), payload=payload_text,
        )
        entry.save(force_insert=True)
    return entry
