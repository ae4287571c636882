"""Standard Webhooks 1.0 with asymmetric signatures (``v1a``, Ed25519): the
signing and verification every docking message goes through (公示-18,
公示-19; docs/docking.md), and case systems' signed pushes into the push
API (sanxiang/api/signing.py; docs/docking.md "Case systems"). It lives in
core so that both the docking app and the lower API app use one copy;
``sanxiang.docking.webhooks`` re-exports it.

A message is an HTTP POST whose body is signed together with its id and the
attempt's timestamp: the signed content is ``{webhook-id}.{webhook-timestamp}.
{body}`` over the raw body bytes, and ``webhook-signature`` carries one or
more space-separated ``v1a,<base64 signature>`` entries (more than one while
a key is being rotated). Keys are written ``whsk_<base64>`` (the 32-byte
private seed) and ``whpk_<base64>`` (the 32-byte public key), as the
specification serialises them.

This module needs only the ``cryptography`` package: no Django, no
database. The receiver's trust list (which public keys belong to which
instance) lives in docking/models.py, a case system's key on its API token; this module only answers "is this message
signed by one of these keys, and is it fresh".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = "v1a"
SECRET_PREFIX = "whsk_"
PUBLIC_PREFIX = "whpk_"
# The specification asks receivers to refuse attempts whose timestamp is
# too far from their clock (replay protection); five minutes each way is
# what its reference libraries use.
TOLERANCE_SECONDS = 5 * 60
# At most this many signatures are tried (a header of thousands would make
# verification a denial of service).
MAX_SIGNATURES = 8
MAX_ID_LENGTH = 255


class WebhookError(Exception):
    """A message that cannot be accepted: `code` is stable (it is answered
    to the sender and documented in docs/docking.md), `message` explains."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Headers:
    id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"webhook-id": self.id, "webhook-timestamp": str(self.timestamp), "webhook-signature": self.signature}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_secret_key() -> str:
    return secret_key_text(Ed25519PrivateKey.generate())


def secret_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return SECRET_PREFIX + _b64(raw)


def load_secret_key(text: str) -> Ed25519PrivateKey:
    if not isinstance(text, str) or not text.startswith(SECRET_PREFIX):
        raise ValueError(f"a signing key is written {SECRET_PREFIX}<base64 of 32 bytes>")
    try:
        raw = _unb64(text[len(SECRET_PREFIX):])
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(f"not an Ed25519 signing key: {SECRET_PREFIX}<base64 of 32 bytes> expected") from None


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return PUBLIC_PREFIX + _b64(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    """The public key of ``whpk_<base64>``; ValueError naming the problem."""
    if not isinstance(text, str) or not text.startswith(PUBLIC_PREFIX):
        raise ValueError(f"a public key is written {PUBLIC_PREFIX}<base64 of 32 bytes>")
    try:
        raw = _unb64(text[len(PUBLIC_PREFIX):].strip())
        if len(raw) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(f"not an Ed25519 public key: {PUBLIC_PREFIX}<base64 of 32 bytes> expected") from None


def fingerprint(public_text: str) -> str:
    """A short name for a public key that people compare by eye: the first
    16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(load_public_key(public_text).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()[:16]


def message_id(*parts) -> str:
    """The id of a message from what it carries — (source instance, object
    type, key, version) — so a retry or a replay of the same version has the
    same id and the receiver recognises it. Never contains a full stop (the
    specification forbids it in the signed prefix)."""
    joined = "\x1f".join(str(part) for part in parts)
    return "msg_" + hashlib.sha256(joined.encode("utf-8")).hexdigest()[:40]


def _signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode("ascii") + body


def sign(*, msg_id: str, body: bytes, keys: list[Ed25519PrivateKey], timestamp: int | None = None) -> Headers:
    """The three headers of one attempt of `body`, signed by every key
    given (the current one first; during a rotation also the previous one)."""
    if not keys:
        raise ValueError("at least one signing key is needed")
    if "." in msg_id or not msg_id.isascii() or not msg_id or len(msg_id) > MAX_ID_LENGTH:
        raise ValueError("a message id is printable ASCII without full stops, at most 255 characters")
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    content = _signed_content(msg_id, stamp, body)
    signature = " ".join(f"{SCHEME},{_b64(key.sign(content))}" for key in keys)
    return Headers(id=msg_id, timestamp=stamp, signature=signature)


def read_headers(headers) -> Headers:
    """The three headers from a mapping (case-insensitive names, as Django's
    ``request.headers``); WebhookError naming the header that is missing or
    malformed."""
    values = {}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        value = headers.get(name)
        if value is None or not str(value).strip():
            raise WebhookError("missing_header", f"the {name} header is missing")
        values[name] = str(value).strip()
    msg_id = values["webhook-id"]
    if "." in msg_id or not msg_id.isascii() or not msg_id.isprintable() or len(msg_id) > MAX_ID_LENGTH:
        raise WebhookError("bad_header", "webhook-id must be printable ASCII without full stops, at most 255 characters")
    stamp = values["webhook-timestamp"]
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise WebhookError("bad_header", "webhook-timestamp must be whole seconds since 1970 (Unix time)")
    return Headers(id=msg_id, timestamp=int(stamp), signature=values["webhook-signature"])


def verify(headers: Headers, body: bytes, public_keys: list[str], *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> str:
    """Check the timestamp window, then that one ``v1a`` signature verifies
    under one of `public_keys` (``whpk_…``, the sender's trusted keys).
    Returns the public key that verified; WebhookError otherwise."""
    current = time.time() if now is None else now
    if abs(current - headers.timestamp) > tolerance:
        raise WebhookError("stale_timestamp",
                           f"webhook-timestamp is more than {tolerance} seconds from this server's clock")
    content = _signed_content(headers.id, headers.timestamp, body)
    signatures = []
    for entry in headers.signature.split(" ")[:MAX_SIGNATURES]:
        scheme, _, value = entry.partition(",")
        if scheme != SCHEME or not value:
            continue  # other schemes (v1 HMAC, later versions) are not ours to check
        try:
            signatures.append(_unb64(value))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
    if not signatures:
        raise WebhookError("bad_signature", "webhook-signature holds no v1a (Ed25519) signature")
    for text in public_keys:
        try:
            key = load_public_key(text)
        except ValueError:
            continue
        for signature in signatures:
            try:
                key.verify(signature, content)
            except InvalidSignature:
                continue
            return text
    raise WebhookError("bad_signature", "no signature verifies under the sender's trusted keys")


# The specification's example retry schedule (delay before each attempt
# after the first): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h — about three days in all. A message still undelivered after
# the last attempt is listed as undeliverable (with a retry button).
RETRY_SCHEDULE_SECONDS = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)


def next_delay(attempts: int, retry_after: float | None = None) -> float | None:
    """Seconds to wait before the next attempt after `attempts` failed ones
    (None: the schedule is spent). A Retry-After from the receiver is
    honoured when it asks for longer than the schedule would wait."""
    if attempts >= len(RETRY_SCHEDULE_SECONDS):
        return None
    delay = float(RETRY_SCHEDULE_SECONDS[attempts])
    if retry_after is not None and retry_after > delay:
        delay = float(retry_after)
    return delay


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent
    or unreadable. Capped at one day so a wrong header cannot park a route
    for ever."""
    if not value:
        return None
    value = value.strip()
    seconds: float | None
    if value.isdigit():
        seconds = float(value)
    else:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, min(seconds, 86400.0))
