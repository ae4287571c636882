"""The development secret key, kept in the data directory.

Where no SANXIANG_SECRET_KEY is configured (development and the demo), the
first start makes a random key and writes it to ``<data dir>/secret_key``
(mode 0600); every later start of any command (``sanxiang demo``, ``serve``,
``jobs run``, tests ...) reads the same file, so sessions, CSRF tokens and
the audit checkpoints' HMAC stay valid across restarts, and no installation
signs with a key published in the source code. Production never comes here:
it refuses to start without SANXIANG_SECRET_KEY (settings.py).

Plain Python, no Django: settings.py calls it while it is being imported.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE_NAME = "secret_key"
MIN_LENGTH = 50  # Django's own check (security.W009) asks for at least 50 characters


class SecretKeyFileError(Exception):
    """The key file cannot be made or read; the message says which file and why."""


def _read(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_LENGTH:
        raise SecretKeyFileError(f"{path} holds a key shorter than {MIN_LENGTH} characters: "
                                 "delete the file to have a new one made, or set SANXIANG_SECRET_KEY")
    return key


def data_dir_secret_key(data_dir: Path) -> str:
    """The key stored in ``data_dir``, made (random, 0600) if there is none.

    Two processes starting at once agree on one key: the new key is written
    to a private temporary file and linked into place only if no key file
    exists yet (an atomic create-if-absent); the loser reads the winner's."""
    path = Path(data_dir) / KEY_FILE_NAME
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyFileError(f"cannot read {path}: {exc}") from None
    key = secrets.token_urlsafe(48)  # 64 characters, 384 random bits
    tmp = path.with_name(f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read(path)
    except OSError as exc:
        raise SecretKeyFileError(
            f"cannot create the secret key file {path}: {exc.strerror or exc}. "
            "Make the data directory writable (SANXIANG_DATA_DIR) or set SANXIANG_SECRET_KEY") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
    return key
