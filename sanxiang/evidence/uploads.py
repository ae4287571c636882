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
- On Linux a large body goes to disk with O_DIRECT instead (`_DirectAppender`):
  it is received into a small ring of page-aligned buffers reused from one
  PATCH to the next (`stream.readinto` where the stream has it: the socket
  itself under gunicorn, sanxiang/evidence/tus.py), hashed there, and the
  aligned blocks are written from them straight to the disk; the unaligned
  head and tail of a PATCH go through the page cache. No page-cache page is
  filled, which on a VM whose fresh pages are slow to touch was the upload's
  bottleneck (docs/server.md, "Figures"). Where O_DIRECT is refused
  (another system, a filesystem without it, or EVIDENCE_UPLOAD_DIRECT_IO =
  False), the helpers above do the work. Either way the closing fsync makes
  data and size durable before the offset is recorded.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import logging
import mmap
import os
import queue
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

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


# O_DIRECT (Linux): file offsets, lengths and buffer addresses of direct
# writes are multiples of DIRECT_ALIGN (4096 covers the logical block size
# of every disk and filesystem in use; a stricter one is met by falling back
# to the page cache). A body is received into DIRECT_RING buffers of
# DIRECT_BLOCK bytes (8 MiB in flight per PATCH, like WRITE_QUEUE), mmap-
# allocated (page-aligned) and kept for the next PATCH (at most
# DIRECT_POOL_KEEP of them idle per process).
_O_DIRECT = getattr(os, "O_DIRECT", 0)
DIRECT_ALIGN = 4096
DIRECT_BLOCK = 1024 * 1024
DIRECT_RING = 8
DIRECT_POOL_KEEP = 16


class _BufferPool:
    """Page-aligned buffers reused across PATCHes: a buffer the process has
    touched once costs nothing to touch again, a fresh one costs a page
    fault per page (and, on a ballooned VM, the host's first-touch cost)."""

    def __init__(self, size: int, keep: int):
        self.size, self.keep = size, keep
        self._lock = threading.Lock()
        self._idle: list[mmap.mmap] = []

    def take(self, count: int) -> list[mmap.mmap]:
        with self._lock:
            taken = [self._idle.pop() for _ in range(min(count, len(self._idle)))]
        return taken + [mmap.mmap(-1, self.size) for _ in range(count - len(taken))]

    def give(self, buffers) -> None:
        with self._lock:
            while buffers and len(self._idle) < self.keep:
                self._idle.append(buffers.pop())
        for buffer in buffers:
            buffer.close()


_buffers = _BufferPool(DIRECT_BLOCK, DIRECT_POOL_KEEP)


def open_direct(path) -> int | None:
    """A second descriptor on the partial for O_DIRECT writes, or None where
    direct I/O is off or refused (not Linux, a filesystem without it:
    EINVAL)."""
    if not _O_DIRECT or not settings.EVIDENCE_UPLOAD_DIRECT_IO:
        return None
    try:
        return os.open(path, os.O_WRONLY | _O_DIRECT)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
            logger.info("O_DIRECT refused for %s (%s): writing through the page cache", path, exc)
            return None
        raise


def pwrite_all(fd: int, view, position: int) -> None:
    while view:
        written = os.pwrite(fd, view, position)
        view, position = view[written:], position + written


class _DirectAppender:
    """Writes the blocks of one PATCH body at their file positions in a
    helper thread while the request thread receives and hashes the next
    ones into the other buffers of the ring (all three release the GIL).

    A block is (buffer, start, position, length): bytes buffer[start:start +
    length] belong at file `position`, and start == position % DIRECT_ALIGN,
    so the aligned middle of every block is aligned in memory too. That
    middle is written with O_DIRECT on `direct_fd`; the unaligned head and
    tail through `fd` (the page cache). A direct write the system refuses
    (EINVAL: a stricter alignment) switches the rest of the PATCH to the
    page cache. `take()` gives a free buffer (waiting for the writer when
    all are in flight: memory stays at DIRECT_RING buffers); `close()` waits
    for the last block, closes `direct_fd`, and re-raises a write error."""

    def __init__(self, fd: int, direct_fd: int):
        self.fd, self.direct_fd, self.error = fd, direct_fd, None
        self.direct_bytes = self.cached_bytes = 0
        self._buffers = _buffers.take(DIRECT_RING)
        self._free: queue.Queue = queue.Queue()
        for buffer in self._buffers:
            self._free.put(buffer)
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"direct-{fd}", daemon=True)
        self._thread.start()

    def _write_cached(self, view, position: int) -> None:
        pwrite_all(self.fd, view, position)
        self.cached_bytes += len(view)

    def _write(self, view, position: int) -> None:
        end = position + len(view)
        first = -(-position // DIRECT_ALIGN) * DIRECT_ALIGN
        last = end // DIRECT_ALIGN * DIRECT_ALIGN
        if self.direct_fd is None or last <= first:
            self._write_cached(view, position)
            return
        if first > position:
            self._write_cached(view[:first - position], position)
        middle, at = view[first - position:last - position], first
        while middle:
            try:
                written = os.pwrite(self.direct_fd, middle, at)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                logger.info("O_DIRECT write refused (%s): the rest through the page cache", exc)
                os.close(self.direct_fd)
                self.direct_fd = None
                break
            self.direct_bytes += written
            middle, at = middle[written:], at + written
            if written % DIRECT_ALIGN:  # a short write off the alignment: finish it cached
                break
        if middle:
            self._write_cached(middle, at)
        if end > last:
            self._write_cached(view[last - position:], last)

    def _run(self):
        while (block := self._queue.get()) is not None:
            buffer, start, position, length = block
            if self.error is None:
                try:
                    with memoryview(buffer) as whole, whole[start:start + length] as view:
                        self._write(view, position)
                except OSError as exc:
                    self.error = exc
            self._free.put(buffer)

    def take(self):
        if self.error is not None:
            raise self.error
        return self._free.get()

    def put(self, buffer, start: int, position: int, length: int) -> None:
        self._queue.put((buffer, start, position, length))

    def give_back(self, buffer) -> None:
        self._free.put(buffer)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.direct_fd is not None:
            os.close(self.direct_fd)
            self.direct_fd = None
        _buffers.give(self._buffers)
        self._buffers = []
        if self.error is not None:
            raise self.error


def _fill(stream, view) -> int:
    """Fill `view` from the stream, fewer bytes only at its end: the socket
    straight into the buffer where the stream has readinto (no copy in
    Python), else read() and one copy."""
    filled, size = 0, len(view)
    readinto = getattr(stream, "readinto", None)
    while filled < size:
        if readinto is not None:
            with view[filled:] as rest:
                n = readinto(rest)
        else:
            block = stream.read(size - filled)
            n = len(block)
            view[filled:filled + n] = block
        if not n:
            break
        filled += n
    return filled


def _receive_direct(stream, appender: _DirectAppender, offset: int, content_length: int | None,
                    hashers) -> int:
    """Receive the body into the appender's ring, hash each block, hand it
    over to be written; the number of bytes received."""
    received, position = 0, offset
    while content_length is None or received < content_length:
        buffer = appender.take()
        start = position % DIRECT_ALIGN
        want = DIRECT_BLOCK - start
        if content_length is not None:
            want = min(want, content_length - received)
        try:
            # Every view of the buffer is released before it is handed on
            # (a pooled mmap can only be closed once none is left).
            with memoryview(buffer) as whole, whole[start:start + want] as view:
                n = _fill(stream, view)
                if n:
                    with view[:n] as block:
                        for hasher in hashers:
                            hasher.update(block)
        except BaseException:
            appender.give_back(buffer)
            raise
        if not n:
            appender.give_back(buffer)
            break
        appender.put(buffer, start, position, n)
        received += n
        position += n
        if n < want:
            break
    return received


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
        large = content_length is None or content_length > FLUSH_EVERY
        direct_fd = open_direct(path) if large else None
        if direct_fd is not None:
            direct = _DirectAppender(fh.fileno(), direct_fd)
            try:
                received = _receive_direct(stream, direct, offset, content_length,
                                           [h for h in (hasher, chunk_hasher) if h is not None])
            finally:
                direct.close()
            logger.debug("upload %s: %d bytes at %d, %d of them with O_DIRECT", key, received, offset,
                         direct.direct_bytes)
        else:
            received = _receive_buffered(fh.fileno(), stream, content_length, large, hasher, chunk_hasher)
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


def _receive_buffered(fd: int, stream, content_length: int | None, large: bool, hasher, chunk_hasher) -> int:
    """Receive the body in READ_BUFFER reads and write it through the page
    cache (for a large body: in the `_Appender` thread, with write-back
    started every FLUSH_EVERY bytes); the number of bytes received."""
    received = 0
    left = content_length
    read = stream.read
    update = hasher.update
    flusher = _BackgroundFlush(fd) if large else None
    appender = _Appender(fd, flusher) if large else None
    write = appender.put if appender is not None else functools.partial(write_all, fd)
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
    return received


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
