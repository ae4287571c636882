"""This instance's own docking key pair: it signs every message sent
upward. Made on first use like the audit key (a PEM file, mode 0600):
``DOCKING_ED25519_KEY_FILE``, default ``DATA_DIR/keys/docking-ed25519.pem``.
Its public key (``sanxiang docking key``) is what the platform above
registers for this instance. Rotation: make a new file, register its public
key above (the old one stays valid for the overlap period), then switch the
setting; while both are configured (``DOCKING_PREVIOUS_KEY_FILE``) every
message carries both signatures."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from sanxiang.core.signing import load_or_create_private_key

from . import webhooks


def key_path() -> Path:
    configured = settings.DOCKING_ED25519_KEY_FILE
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "docking-ed25519.pem"


def signing_keys() -> list:
    """The keys every message is signed with: the current one first, then
    the previous one while a rotation's overlap lasts."""
    keys = [load_or_create_private_key(key_path())]
    previous = settings.DOCKING_PREVIOUS_KEY_FILE
    if previous and Path(previous).exists() and Path(previous) != key_path():
        keys.append(load_or_create_private_key(Path(previous)))
    return keys


def public_key() -> str:
    """``whpk_…`` of the current key (what the platform above registers)."""
    return webhooks.public_key_text(signing_keys()[0])


def existing_public_key() -> str | None:
    """``whpk_…`` of the current key if it was made already, else None (a
    page that shows the key must not make one: a read never writes)."""
    if not key_path().exists():
        return None
    return public_key()
