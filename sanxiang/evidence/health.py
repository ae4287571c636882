"""The evidence store's readiness check for /readyz (core/health.py),
registered in EvidenceConfig.ready.

Local storage: the evidence directory and the upload directory can take
new files — each is a writable directory, or, not made yet (a new
installation before its first upload), its nearest existing parent is. The
check asks the operating system (access(2), which also answers "no" on a
read-only mount) and writes nothing.

S3-compatible storage: a HEAD of the bucket answers (reachable, the bucket
exists and the credentials may see it).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from sanxiang.core.health import CheckFailed

from .storage import LocalStorage, get_storage


def _can_take_files(directory: Path) -> bool:
    path = Path(directory)
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def check_storage() -> None:
    storage = get_storage()
    if isinstance(storage, LocalStorage):
        for directory in (storage.root, Path(settings.EVIDENCE_UPLOAD_DIR)):
            if not _can_take_files(directory):
                raise CheckFailed("not writable")
        return
    try:
        storage.client.head_bucket(Bucket=storage.bucket)
    except Exception as exc:
        # The S3 error code (403, NoSuchBucket) is short and safe to show;
        # connection errors name the endpoint, so only their kind is.
        code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")) or type(exc).__name__
        raise CheckFailed(f"bucket unreachable ({code[:40]})") from None
