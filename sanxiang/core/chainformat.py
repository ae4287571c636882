"""The audit chain's format: the one definition of how an entry is hashed
and what a checkpoint's signatures cover (docs/audit.md).

Plain Python (no Django): the platform's chain (``core.audit``) writes and
verifies with it, and the offline check of an archive package
(``evidence.archive.check``) recomputes the same hashes on a machine that
has no Django at all.

    entry_hash = SHA-256(canonical JSON of
        [prev_hash, seq, time, actor, action, object_type, object_id, payload])
    checkpoint message = canonical JSON of
        [tree_size, root_hash, last_entry_hash, created_at]   (UTF-8)

``time`` and ``created_at`` are UTC with microseconds
(``2026-04-01T08:00:00.000000Z``); a ``datetime`` given here is written so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone as dt_timezone

GENESIS_HASH = "0" * 64  # the prev_hash of entry #1

# The fields of an entry as the chain stores and exports them.
ENTRY_FIELDS = ("seq", "time", "actor", "action", "object_type", "object_id", "payload", "prev_hash", "entry_hash")


def canonical_json(value) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_time(value: datetime | str) -> str:
    """A moment as the chain writes it (UTC, microseconds, "Z"); anything
    else is taken as already written (an entry read back from an export)."""
    if isinstance(value, datetime):
        return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def entry_hash(*, prev_hash: str, seq: int, time: datetime | str, actor: str, action: str,
               object_type: str, object_id: str, payload: str) -> str:
    """The SHA-256 (hex) an entry with these fields must carry."""
    material = canonical_json([prev_hash, seq, format_time(time), actor, action, object_type, object_id, payload])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def entry_hash_of(entry: dict) -> str:
    """``entry_hash`` of an entry given as a mapping of its fields (a line of
    an archive's audit excerpt); KeyError when a hashed field is missing."""
    return entry_hash(prev_hash=entry["prev_hash"], seq=entry["seq"], time=entry["time"], actor=entry["actor"],
                      action=entry["action"], object_type=entry["object_type"], object_id=entry["object_id"],
                      payload=entry["payload"])


def checkpoint_message(*, tree_size: int, root_hash: str, last_entry_hash: str, created_at: datetime | str) -> bytes:
    """The exact bytes a checkpoint's HMAC-SHA256 and Ed25519 signature cover."""
    return canonical_json([tree_size, root_hash, last_entry_hash, format_time(created_at)]).encode("utf-8")


def checkpoint_message_of(checkpoint: dict) -> bytes:
    """``checkpoint_message`` of a checkpoint given as a mapping (an
    archive's audit/checkpoint.json)."""
    return checkpoint_message(tree_size=checkpoint["tree_size"], root_hash=checkpoint["root_hash"],
                              last_entry_hash=checkpoint["last_entry_hash"], created_at=checkpoint["created_at"])


def checkpoint_hmac(key: bytes, message: bytes) -> str:
    """The checkpoint's HMAC-SHA256 (hex) under ``key`` (AUDIT_SIGNING_KEY)."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def checkpoint_hmac_ok(key: bytes, message: bytes, signature: str) -> bool:
    return hmac.compare_digest(checkpoint_hmac(key, message), str(signature))
