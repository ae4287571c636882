"""The evidence store's readiness check for /readyz (core/health.py),
registered in EvidenceConfig.ready.

Local storage: the evidence directory and the upload directory can take
new files — each is a writable directory, or, not made yet (a new
installation before its first upload), its nearest existing parent is. The
check asks the operating system (access(2), which also answers "no" on a
read-only mount) and writes nothing.

S3-compatible storage: a HEAD of the bucket answers (reachable, the bucket
exists and the credentials may see it), asked once with short timeouts.
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


_clients: dict[tuple, object] = {}


def _probe_client():
    """An S3 client of the configured store for this check alone: one
    attempt, a 3-second connect and a 5-second read timeout (the store's own
    client retries five times, right for uploads, too slow for a probe)."""
    conf = dict(settings.EVIDENCE_S3)
    key = tuple(sorted(conf.items()))
    client = _clients.get(key)
    if client is None:
        import boto3  # lazy, as in storage.py: only an S3 deployment needs boto3
        from botocore.config import Config

        client = boto3.client(
            "s3", endpoint_url=conf["endpoint_url"] or None, aws_access_key_id=conf["access_key"] or None,
            aws_secret_access_key=conf["secret_key"] or None, region_name=conf["region"] or None,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=5,
                          s3={"addressing_style": "path"}))
        _clients[key] = client
    return client


def check_storage() -> None:
    storage = get_storage()
    if isinstance(storage, LocalStorage):
        for directory in (storage.root, Path(settings.EVIDENCE_UPLOAD_DIR)):
            if not _can_take_files(directory):
                raise CheckFailed("not writable")
        return
    try:
        _probe_client().head_bucket(Bucket=storage.bucket)
    except Exception as exc:
        # The S3 error code (403, NoSuchBucket) is short and safe to show;
        # connection errors name the endpoint, so only their kind is.
        code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")) or type(exc).__name__
        raise CheckFailed(f"bucket unreachable ({code[:40]})") from None
