"""The platform's side of the archive check: the keys a package checked on
the platform is verified with (the offline checker, ``archive.check``, is
given them; it never reads Django settings itself)."""

from __future__ import annotations

from sanxiang.core import audit

from .check import Report, check_archive


def platform_public_keys() -> frozenset:
    """The Ed25519 keys a package checked on the platform may be signed
    with: its own and those it replaced (``AUDIT_ED25519_PREVIOUS_KEYS``);
    empty where it has none (the signature is then reported unpinned)."""
    return frozenset(audit.known_public_keys() or ())


def check_with_platform_keys(path) -> Report:
    """``check_archive`` with this platform's HMAC key and public keys."""
    return check_archive(path, signing_key=audit.hmac_key(), public_key=platform_public_keys())
