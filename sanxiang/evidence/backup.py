"""The evidence app's part of backups (sanxiang/core/backup.py, docs/backup.md),
registered in EvidenceConfig.ready: the archive folder as a file root, the
S3 object list, and the checks run after a restore — every archive
package's four-property check and every evidence object's SHA-256 against
the database."""

from __future__ import annotations

import hashlib
from typing import Iterator

from django.conf import settings

from sanxiang.core.backup import Check

from .archive.build import archive_dir
from .archive.keys import check_with_platform_keys
from .archive.layout import PROPERTIES
from .models import ArchivePackage, EvidenceItem
from .storage import ObjectMissing, get_storage

CHUNK = 1024 * 1024


def _live_objects() -> Iterator[tuple[str, int]]:
    """(SHA-256, size) of every object a not-purged evidence item names."""
    rows = (EvidenceItem.objects.filter(purged_at__isnull=True).values_list("sha256", "size")
            .distinct().order_by("sha256"))
    yield from rows.iterator()


def object_list() -> Iterator[dict]:
    """S3 only: the objects stay in the store; the backup lists them."""
    if settings.EVIDENCE_BACKEND != "s3":
        return
    storage = get_storage()
    for sha, size in _live_objects():
        yield {"key": storage.key(sha), "sha256": sha, "size": size}


def evidence_check(*, quick: bool = False) -> Iterator[Check]:
    storage = get_storage()
    for sha, size in _live_objects():
        try:
            if quick:
                actual_size = storage.size(sha)
                ok = actual_size == size
                yield Check("evidence", sha, ok, "" if ok else f"{actual_size} bytes, the database says {size}")
                continue
            digest, actual_size = hashlib.sha256(), 0
            with storage.open(sha) as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    actual_size += len(chunk)
        except ObjectMissing:
            yield Check("evidence", sha, False, "the object is missing from the evidence store")
            continue
        actual = digest.hexdigest()
        if actual != sha:
            yield Check("evidence", sha, False, f"the stored bytes hash to {actual}")
        elif actual_size != size:
            yield Check("evidence", sha, False, f"{actual_size} bytes, the database says {size}")
        else:
            yield Check("evidence", sha, True)


def archive_check(*, quick: bool = False) -> Iterator[Check]:
    root = archive_dir()
    for package in ArchivePackage.objects.order_by("pk").iterator():
        path = root / package.path
        if not path.is_file():
            yield Check("archive", package.path, False, "the package file is missing")
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != package.sha256:
            yield Check("archive", package.path, False,
                        f"SHA-256 {digest.hexdigest()}, the database says {package.sha256}")
            continue
        report = check_with_platform_keys(path)
        failed = [p for p in PROPERTIES if not report.passed(p)]
        yield Check("archive", package.path, report.ok,
                    "four-property check passed" if report.ok else
                    f"four-property check failed: {', '.join(failed)}: "
                    + "; ".join(str(f) for f in report.findings[:3]))
