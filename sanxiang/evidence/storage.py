"""The evidence store: immutable objects named by their SHA-256.

One interface, two backends, chosen by settings (design.md: switching
engines is configuration, never a code fork):

    put_file(path, sha256) -> bool   store the file at `path` under `sha256`;
                                     True if newly stored, False if the
                                     object was already there (dedup). The
                                     file at `path` may be consumed (moved);
                                     the caller removes it if it still exists.
    open(sha256, start=0, end=None)  a binary stream of bytes start..end-1
    exists(sha256) -> bool
    size(sha256) -> int
    delete(sha256)                   idempotent
    iter_all()                       every stored sha256 (order unspecified)

`put_file` trusts the caller's hash: the tus server computes it while the
bytes stream in (never a second read of a 2 GB file); the fixity job
re-hashes stored objects on a schedule (记录-12).

Backends:
- LocalStorage: DATA_DIR/evidence/ab/cd/<sha256>, written by fsync + atomic
  rename (a crash leaves either the whole object or nothing), read-only
  files.
- S3Storage: any S3-compatible store through boto3 (imported lazily, so the
  local default needs nothing of it); multipart upload for big files,
  streaming (ranged) downloads.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Iterator

from django.conf import settings


SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
COPY_BUFFER = 1024 * 1024


class StorageError(Exception):
    pass


class ObjectMissing(StorageError):
    """No object under that SHA-256."""


def check_sha256(sha256: str) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
    return sha256


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Reader:
    """A read-only stream over ``_raw`` that closes it (also as a context
    manager): what ``open(sha256)`` returns, whatever the backend."""

    _raw: BinaryIO

    def close(self) -> None:
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Window(_Reader):
    """A read-only view of bytes start..end-1 of an open file."""

    def __init__(self, fh: BinaryIO, start: int, end: int):
        self._raw, self._left = fh, max(0, end - start)
        fh.seek(start)

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._raw.read(n)
        self._left -= len(data)
        return data


class LocalStorage:
    name = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise ObjectMissing(sha256) from None

    def put_file(self, path, sha256: str) -> bool:
        target = self.path(sha256)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(path)
        try:
            same_device = source.stat().st_dev == target.parent.stat().st_dev
        except FileNotFoundError:
            raise StorageError(f"nothing to store at {source}") from None
        if same_device:
            # The partial upload is already on this disk: fsync it and rename
            # it into place (no second write of the bytes).
            with open(source, "rb+") as fh:
                os.fsync(fh.fileno())
            staged = source
        else:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
            staged = Path(tmp)
            try:
                with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                    shutil.copyfileobj(src, out, COPY_BUFFER)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
        os.chmod(staged, 0o444)
        os.replace(staged, target)  # atomic: the object is whole or absent
        _fsync_dir(target.parent)
        return True

    def open(self, sha256: str, start: int = 0, end: int | None = None):
        try:
            fh = open(self.path(sha256), "rb")
        except FileNotFoundError:
            raise ObjectMissing(sha256) from None
        if end is None:
            end = os.fstat(fh.fileno()).st_size
        return _Window(fh, start, end)

    def delete(self, sha256: str) -> None:
        target = self.path(sha256)
        try:
            target.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(target.parent)

    def iter_all(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir() or len(first.name) != 2:
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for entry in sorted(second.iterdir()):
                    if SHA256_RE.match(entry.name) and entry.is_file():
                        yield entry.name


class _S3Body(_Reader):
    """The streaming body of a GET, read in bounded pieces."""

    def __init__(self, body):
        self._raw = body

    def read(self, n: int = -1) -> bytes:
        return self._raw.read(None if n is None or n < 0 else n)


class S3Storage:
    """S3-compatible object storage. Objects are `<prefix><sha256>` in one
    bucket; big files go up in multipart parts straight from the file (never
    held in memory)."""

    name = "s3"
    PART_SIZE = 64 * 1024 * 1024

    def __init__(self, *, bucket: str, endpoint_url: str = "", access_key: str = "", secret_key: str = "",
                 region: str = "us-east-1", prefix: str = "evidence/", create_bucket: bool = False):
        import boto3  # lazy: only an S3 deployment needs boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None, region_name=region or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}),
        )
        self.transfer = TransferConfig(multipart_threshold=self.PART_SIZE, multipart_chunksize=self.PART_SIZE,
                                       max_concurrency=4, use_threads=True)
        if create_bucket:
            self.ensure_bucket()

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{check_sha256(sha256)}"

    def _head(self, sha256: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise ObjectMissing(sha256)
        return int(head["ContentLength"])

    def put_file(self, path, sha256: str) -> bool:
        if self.exists(sha256):
            return False
        # Written under its final key only once complete: S3 makes an object
        # (or a completed multipart upload) visible atomically.
        self.client.upload_file(str(path), self.bucket, self.key(sha256), Config=self.transfer,
                                ExtraArgs={"ContentType": "application/octet-stream", "Metadata": {"sha256": sha256}})
        return True

    def open(self, sha256: str, start: int = 0, end: int | None = None):
        from botocore.exceptions import ClientError

        kwargs = {"Bucket": self.bucket, "Key": self.key(sha256)}
        if start or end is not None:
            if end is not None and end <= start:
                return _Window(_EmptyFile(), 0, 0)
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = self.client.get_object(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise ObjectMissing(sha256) from None
            raise
        return _S3Body(response["Body"])

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def iter_all(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix):]
                if SHA256_RE.match(name):
                    yield name


class _EmptyFile:
    def seek(self, *_):
        pass

    def read(self, *_):
        return b""

    def close(self):
        pass


_lock = threading.Lock()
_cache: dict[tuple, object] = {}


def get_storage():
    """The configured backend (settings.EVIDENCE_BACKEND); one instance per
    configuration, so tests that change the settings get a fresh one."""
    backend = settings.EVIDENCE_BACKEND
    if backend == "s3":
        conf = dict(settings.EVIDENCE_S3)
        key = ("s3", tuple(sorted(conf.items())))
    else:
        key = ("local", str(settings.EVIDENCE_DIR))
    with _lock:
        storage = _cache.get(key)
        if storage is None:
            if backend == "s3":
                storage = S3Storage(**conf)
            else:
                storage = LocalStorage(Path(settings.EVIDENCE_DIR))
            _cache[key] = storage
        return storage
