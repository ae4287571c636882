"""The receiving side of a tus upload: bytes streamed into a partial file,
hashed while they arrive, never held whole in memory.

- The partial lives at EVIDENCE_UPLOAD_DIR/<upload id>.part. `Upload.offset`
  in the database is the truth: bytes are written, fsynced, and only then is
  the offset advanced; a partial longer than the offset (a crash between the
  two) is cut back on the next PATCH.
- The SHA-256 state of each upload is kept in this process (hashlib objects
  cannot be saved) together with the offset it covers; after a restart, or
  when another worker process took the previous PATCH, the partial is
  re-hashed from its start (streamed) before appending.
- One PATCH at a time per upload: an exclusive non-blocking lock on the
  partial file (flock, so it holds across worker processes); a second
  concurrent PATCH gets 423 Locked.
- A body over FLUSH_EVERY is written by a helper thread (`_Appender`) while
  the request thread reads and hashes, and a second helper
  (`_BackgroundFlush`) has the disk start writing what arrived every
  FLUSH_EVERY bytes (sync_file_range on Linux, else fdatasync), so the
  closing fsync waits only for the tail (记录-11: a 2 GB
  body-camera file at the speed of one hash plus one durable write;
  docs/evidence.md, "Benchmark").
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import queue
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from django.conf import settings

try:  # POSIX; on Windows a process-local lock is the fallback
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

# Read the request body in pieces of this size: the bounded buffer (记录-11
# "即时上传": a 2 GB body-camera file must not need 2 GB of server memory).
# 256 KiB, not 1 MiB: gunicorn's body reader copies each piece through
# in-memory buffers several times, and 1 MiB pieces cost it 0.54 s of CPU
# per GB against 0.20 s for 256 KiB (as much as the SHA-256 itself: 0.6 s;
# docs/server.md) — CPU the 2 shared cores need for hashing.
READ_BUFFER = 256 * 1024


# Every this many bytes appended, a helper thread asks the disk to write
# what has arrived so far while more keeps arriving, so the fsync that makes
# a PATCH durable at its end waits only for the tail.
FLUSH_EVERY = 16 * 1024 * 1024


def _linux_sync_file_range():
    """sync_file_range(2) from the C library (Linux), else None. With
    SYNC_FILE_RANGE_WRITE it starts writing the file's dirty pages back and
    returns: no journal commit and no disk-cache flush each time, as an
    fdatasync would cost (the fsync at the end of the PATCH makes it all
    durable, data and size together)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - a libc without it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _linux_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int) -> None:
    """Have the disk start writing what was appended to `fd` so far (whole
    file: pages already written back or under way are skipped); fdatasync
    where sync_file_range is not available."""
    if _sync_file_range is None:
        getattr(os, "fdatasync", os.fsync)(fd)
        return
    if _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class _BackgroundFlush:
    """Overlaps writing a partial to disk with receiving the rest of it.

    `wrote(n)` after each append; `close()` stops the helper and re-raises
    any error it met (a failed write-back request must not go unnoticed;
    the fsync at the end of the PATCH still reports the disk's errors).
    """

    def __init__(self, fd: int):
        self.fd, self.pending, self.error = fd, 0, None
        self._wake, self._stop = threading.Event(), False
        self._thread = threading.Thread(target=self._run, name=f"flush-{fd}", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                start_writeback(self.fd)
            except OSError as exc:
                self.error = exc
                return

    def wrote(self, n: int) -> None:
        self.pending += n
        if self.pending >= FLUSH_EVERY:
            self.pending = 0
            self._wake.set()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join()
        if self.error is not None:
            raise self.error


# Blocks waiting for the writer thread: the most a PATCH holds in memory
# beyond the block being read is this many READ_BUFFERs (8 MiB).
WRITE_QUEUE = 32


def write_all(fd: int, block) -> None:
    """Write the whole block (os.write may write less than it is given)."""
    view = memoryview(block)
    while view:
        view = view[os.write(fd, view):]


class _Appender:
    """Writes received blocks to the partial in a helper thread while the
    request thread reads and hashes the next ones (both release the GIL in
    C), so receiving, hashing and writing overlap on a multi-core server.
    Blocks are written in order; the queue is bounded, so memory stays flat.
    `close()` waits for the last block and re-raises a write error."""

    def __init__(self, fd: int, flusher: _BackgroundFlush | None):
        self.fd, self.flusher, self.error = fd, flusher, None
        self._queue: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE)
        self._thread = threading.Thread(target=self._run, name=f"append-{fd}", daemon=True)
        self._thread.start()

    def _run(self):
        while (block := self._queue.get()) is not None:
            if self.error is not None:
                continue  # keep draining so the producer never blocks
            try:
                write_all(self.fd, block)
            except OSError as exc:
                self.error = exc
                continue
            if self.flusher is not None:
                self.flusher.wrote(len(block))

    def put(self, block) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(block)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


class UploadBusy(Exception):
    """Another request is writing this upload."""


class OffsetMoved(Exception):
    """Another PATCH at the same offset stored its bytes while this one
    waited: the offset it was checked against is stale (tus: 409)."""

    def __init__(self, recorded: int):
        super().__init__(recorded)
        self.recorded = recorded


class ChunkChecksumMismatch(Exception):
    """The chunk's bytes do not match its Upload-Checksum (tus: 460)."""


def upload_dir() -> Path:
    path = Path(settings.EVIDENCE_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload_id) -> Path:
    return upload_dir() / f"{upload_id}.part"


class _HashStates:
    """upload id → (offset covered, hashlib object); least recently used
    states are dropped beyond `limit` (they are rebuilt by re-hashing)."""

    def __init__(self, limit: int = 512):
        self._lock = threading.Lock()
        self._states: OrderedDict[str, tuple[int, object]] = OrderedDict()
        self._limit = limit

    def take(self, key: str, offset: int):
        with self._lock:
            state = self._states.pop(key, None)
        if state is not None and state[0] == offset:
            return state[1]
        return None

    def put(self, key: str, offset: int, hasher) -> None:
        with self._lock:
            self._states[key] = (offset, hasher)
            self._states.move_to_end(key)
            while len(self._states) > self._limit:
                self._states.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)


hash_states = _HashStates()
_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


class _Locked:
    """Exclusive, non-blocking lock on an open partial file."""

    def __init__(self, fh, key: str):
        self.fh, self.key, self._thread_lock = fh, key, None

    def __enter__(self):
        with _local_locks_guard:
            lock = _local_locks.setdefault(self.key, threading.Lock())
        if not lock.acquire(blocking=False):
            raise UploadBusy(self.key)
        self._thread_lock = lock
        if fcntl is not None:
            try:
                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.release()
                raise UploadBusy(self.key) from None
        return self

    def __exit__(self, *exc):
        if fcntl is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
        self._thread_lock.release()


def rehash(fh, length: int):
    """SHA-256 state over the first `length` bytes of an open file."""
    hasher = hashlib.sha256()
    fh.seek(0)
    left = length
    while left > 0:
        block = fh.read(min(READ_BUFFER, left))
        if not block:
            raise OSError(f"partial upload shorter than its offset ({length - left} < {length})")
        hasher.update(block)
        left -= len(block)
    return hasher


def receive_chunk(*, upload_id: str, offset: int, stream, content_length: int | None,
                  checksum: tuple[str, bytes] | None, on_stored, on_durable=None,
                  recorded_offset=None) -> tuple[int, object]:
    """Append the request body to the partial file at `offset`.

    `stream.read(n)` gives the body; `content_length` bounds it (None: read
    to the end). `checksum` is (algorithm, digest) from Upload-Checksum: a
    chunk that does not match is discarded (ChunkChecksumMismatch); a chunk
    cut short by a dropped connection is kept (bytes are bytes, the final
    SHA-256 decides) unless it carries a checksum, which then cannot be
    verified, so it is discarded too.

    `recorded_offset()`, if given, reads the offset on record once the lock
    is held: a PATCH checked against an offset that another PATCH has since
    moved raises OffsetMoved before it cuts anything (it would otherwise cut
    the other one's durable bytes back to its stale offset).

    `on_stored(new_offset)` is called after the bytes are durable and must
    record the new offset (in the database); `on_durable(new_offset,
    hasher)`, if given, is called after it while the lock is still held (the
    completion of an upload whose last bytes these were: no other request
    or the stalled-upload task can complete it at the same time). Returns
    (new offset, hasher over the first new-offset bytes).
    """
    key = str(upload_id)
    path = partial_path(key)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b", buffering=0) as fh, _Locked(fh, key):
        if recorded_offset is not None and (recorded := recorded_offset()) != offset:
            raise OffsetMoved(recorded)
        size = os.fstat(fh.fileno()).st_size
        if size < offset:
            raise OSError(f"partial upload {key} has {size} bytes, fewer than its offset {offset}")
        if size > offset:
            fh.truncate(offset)  # bytes written after the last recorded offset (a crash): drop them
        hasher = hash_states.take(key, offset) or rehash(fh, offset)
        fh.seek(offset)
        before = hasher.copy() if checksum else None
        chunk_hasher = hashlib.new(checksum[0]) if checksum else None
        received = 0
        left = content_length
        read = stream.read
        update = hasher.update
        large = content_length is None or content_length > FLUSH_EVERY
        flusher = _BackgroundFlush(fh.fileno()) if large else None
        appender = _Appender(fh.fileno(), flusher) if large else None
        write = appender.put if appender is not None else functools.partial(write_all, fh.fileno())
        try:
            while left is None or left > 0:
                block = read(READ_BUFFER if left is None else min(READ_BUFFER, left))
                if not block:
                    break
                update(block)
                if chunk_hasher is not None:
                    chunk_hasher.update(block)
                write(block)
                received += len(block)
                if left is not None:
                    left -= len(block)
        finally:
            try:
                if appender is not None:
                    appender.close()
            finally:
                if flusher is not None:
                    flusher.close()
        complete = content_length is None or received == content_length
        if checksum and (not complete or chunk_hasher.digest() != checksum[1]):
            fh.truncate(offset)
            hash_states.put(key, offset, before)
            if complete:
                raise ChunkChecksumMismatch(key)
            return offset, before
        if received:
            os.fsync(fh.fileno())
        new_offset = offset + received
        on_stored(new_offset)
        hash_states.put(key, new_offset, hasher)
        if on_durable is not None:
            on_durable(new_offset, hasher)
        return new_offset, hasher


def finish_stalled(upload_id, length: int, complete) -> bool:
    """An upload whose `length` bytes are all durably received (its offset
    says so) but whose completion never ran: the process that received the
    last bytes died first. Under the partial's lock, hash the partial and
    call `complete(hasher)`. UploadBusy when a request holds the lock (it is
    completing the upload now, or receiving); False when the partial is
    gone."""
    key = str(upload_id)
    try:
        fd = os.open(partial_path(key), os.O_RDWR)
    except FileNotFoundError:
        return False
    with os.fdopen(fd, "r+b", buffering=0) as fh, _Locked(fh, key):
        size = os.fstat(fh.fileno()).st_size
        if size < length:
            raise OSError(f"partial upload {key} has {size} bytes, fewer than its recorded offset {length}")
        if size > length:
            fh.truncate(length)
        complete(hash_states.take(key, length) or rehash(fh, length))
    return True


def discard(upload_id) -> None:
    hash_states.drop(str(upload_id))
    partial_path(upload_id).unlink(missing_ok=True)
