"""The platform's Ed25519 key: it signs every audit checkpoint so that
anyone holding the public key — an archives office, a court, a reviewer
with a copy of an e-case file and no network — can verify a checkpoint,
and nobody without the private key can make one (记录-12; the HMAC kept
beside it proves nothing to someone who does not hold its secret).
docs/decisions/0010-public-key-checkpoints.md.

The private key lives in a PEM file (``AUDIT_ED25519_KEY_FILE``; default
``DATA_DIR/keys/audit-ed25519.pem``), made on first use with mode 0600.
Back it up with the database: a lost key means later checkpoints are
signed by a new key (old ones keep verifying against the old public key,
which every signature row and every archive package carries).

Verification (`verify`) needs only the `cryptography` package, no Django:
the offline archive check uses it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

ALGORITHM = "ed25519"
_lock = threading.Lock()
_cache: dict[str, object] = {}


def key_id(public_key_hex: str) -> str:
    """A short name for a public key: the first 16 hex digits of SHA-256 of
    its 32 raw bytes (what people compare by eye or read out by phone)."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def verify(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    """Does the Ed25519 `signature_hex` over `message` verify with the raw
    public key `public_key_hex`? False for anything malformed."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def key_path() -> Path:
    from django.conf import settings

    configured = settings.AUDIT_ED25519_KEY_FILE
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "audit-ed25519.pem"


def load_or_create_private_key(path: Path):
    """The Ed25519 private key in the PEM file at `path`, made (mode 0600,
    fsynced) if there is none; also the docking key (sanxiang.docking.keys)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:  # O_EXCL: of two processes starting at once, one key wins and both use it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(f"{path} is not an unencrypted Ed25519 private key in PEM: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def private_key():
    path = key_path()
    with _lock:
        cached = _cache.get(str(path))
        if cached is None:
            cached = _cache[str(path)] = load_or_create_private_key(path)
        return cached


def public_key_hex() -> str:
    from cryptography.hazmat.primitives import serialization

    return private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign(message: bytes) -> tuple[str, str]:
    """(public key hex, signature hex) of `message`."""
    return public_key_hex(), private_key().sign(message).hex()
