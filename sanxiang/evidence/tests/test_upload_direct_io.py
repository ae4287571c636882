"""The O_DIRECT receiving path of sanxiang/evidence/uploads.py (a large
PATCH body on Linux): bytes land at their offsets whatever the alignment of
the PATCH, the unaligned head and tail go through the page cache, a chunk
that fails its checksum is cut back, and where direct I/O is off or refused
the page-cache path does the work. Then the same through gunicorn, where
the body is read straight from the client's socket: a body of known length
followed by a chunked one on the same connection."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import socket
import sys
import tempfile

import pytest

from sanxiang.evidence import uploads

from .conftest import metadata_header, mp4_bytes, sha256_hex

MB = 1024 * 1024

linux_direct_io = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="O_DIRECT is Linux only")


class ReadintoStream(io.RawIOBase):
    """A body that offers readinto (as the socket body under gunicorn does),
    handing out at most `piece` bytes a call, like a socket."""

    def __init__(self, data: bytes, piece: int = 300_001):
        self._data, self._at, self._piece = memoryview(data), 0, piece

    def readable(self):
        return True

    def readinto(self, view):
        n = min(len(view), self._piece, len(self._data) - self._at)
        view[:n] = self._data[self._at:self._at + n]
        self._at += n
        return n


class ReadStream:
    """A body with read() only (Django's request stream, waitress)."""

    def __init__(self, data: bytes):
        self.read = io.BytesIO(data).read


def patch(upload_id, offset: int, body: bytes, *, readinto: bool = True, checksum=None):
    stream = ReadintoStream(body) if readinto else ReadStream(body)
    return uploads.receive_chunk(upload_id=upload_id, offset=offset, stream=stream, content_length=len(body),
                                 checksum=checksum, on_stored=lambda new_offset: None)


def direct_bytes_logged(records) -> list[int]:
    return [r.args[3] for r in records if r.name == uploads.__name__ and "O_DIRECT" in r.msg and len(r.args) == 4]


@linux_direct_io
@pytest.mark.parametrize("readinto", [True, False], ids=["readinto", "read"])
def test_patches_at_unaligned_offsets_land_exactly_with_their_aligned_middle_written_direct(readinto, caplog):
    """Three PATCHes of odd sizes (the second and third start off any 4 KiB
    boundary); the partial is byte for byte the data, the hash is the data's,
    and each PATCH wrote all but its unaligned head and tail with O_DIRECT."""
    data = mp4_bytes(17 * MB + 1234 + 20 * MB + 77 + 16 * MB + 4097, seed=41)
    cuts = [0, 17 * MB + 1234, 17 * MB + 1234 + 20 * MB + 77, len(data)]
    caplog.set_level(logging.DEBUG, logger=uploads.__name__)
    for start, end in zip(cuts, cuts[1:]):
        new_offset, hasher = patch("direct-1", start, data[start:end], readinto=readinto)
        assert new_offset == end
    assert hasher.hexdigest() == sha256_hex(data)
    assert uploads.partial_path("direct-1").read_bytes() == data

    def aligned_middle(start, end):
        return max(0, end // 4096 * 4096 - -(-start // 4096) * 4096)

    assert direct_bytes_logged(caplog.records) == [aligned_middle(a, b) for a, b in zip(cuts, cuts[1:])]


@linux_direct_io
def test_a_large_chunk_failing_its_checksum_is_cut_back_and_the_hash_state_kept():
    """460 on the direct path: the partial is cut back to the chunk's offset,
    and the next (right) chunk at that offset completes with the right hash."""
    first, second = mp4_bytes(17 * MB + 5, seed=42), mp4_bytes(18 * MB + 3, seed=43)
    patch("direct-2", 0, first)
    wrong = ("sha256", hashlib.sha256(b"something else").digest())
    with pytest.raises(uploads.ChunkChecksumMismatch):
        patch("direct-2", len(first), second, checksum=wrong)
    assert uploads.partial_path("direct-2").stat().st_size == len(first)
    right = ("sha256", hashlib.sha256(second).digest())
    new_offset, hasher = patch("direct-2", len(first), second, checksum=right)
    assert new_offset == len(first) + len(second)
    assert hasher.hexdigest() == sha256_hex(first + second)
    assert uploads.partial_path("direct-2").read_bytes() == first + second


@linux_direct_io
def test_bytes_past_the_recorded_offset_are_cut_back_before_a_direct_patch():
    """A crash left a direct-written tail after the recorded offset; the next
    PATCH at the recorded offset cuts it and writes over it."""
    data = mp4_bytes(40 * MB + 999, seed=44)
    patch("direct-3", 0, data[:20 * MB + 1])
    with open(uploads.partial_path("direct-3"), "ab") as fh:
        fh.write(b"\0" * (3 * MB))  # received, never recorded
    uploads.hash_states._states.clear()  # as after a restart: re-hashed from disk
    new_offset, hasher = patch("direct-3", 20 * MB + 1, data[20 * MB + 1:])
    assert new_offset == len(data) and hasher.hexdigest() == sha256_hex(data)
    assert uploads.partial_path("direct-3").read_bytes() == data


def test_with_direct_io_off_a_large_patch_goes_through_the_page_cache(settings, caplog):
    settings.EVIDENCE_UPLOAD_DIRECT_IO = False
    data = mp4_bytes(17 * MB + 3, seed=45)
    caplog.set_level(logging.DEBUG, logger=uploads.__name__)
    new_offset, hasher = patch("direct-4", 0, data)
    assert new_offset == len(data) and hasher.hexdigest() == sha256_hex(data)
    assert uploads.partial_path("direct-4").read_bytes() == data
    assert direct_bytes_logged(caplog.records) == []


def refusing_directory():
    """A directory on a filesystem that refuses O_DIRECT (tmpfs before Linux
    6.6), or None."""
    for base in ("/dev/shm", "/run/user/%d" % os.getuid() if hasattr(os, "getuid") else ""):
        if not base or not os.path.isdir(base) or not os.access(base, os.W_OK):
            continue
        directory = tempfile.mkdtemp(dir=base)
        try:
            fd = os.open(os.path.join(directory, "probe"), os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
        except OSError:
            return directory
        os.close(fd)
        os.unlink(os.path.join(directory, "probe"))
        os.rmdir(directory)
    return None


@linux_direct_io
def test_a_filesystem_that_refuses_o_direct_gets_the_page_cache_path(settings, caplog):
    directory = refusing_directory()
    if directory is None:
        pytest.skip("no filesystem here refuses O_DIRECT (tmpfs accepts it since Linux 6.6)")
    settings.EVIDENCE_UPLOAD_DIR = directory
    data = mp4_bytes(17 * MB + 11, seed=46)
    caplog.set_level(logging.DEBUG, logger=uploads.__name__)
    try:
        new_offset, hasher = patch("direct-5", 0, data)
        assert new_offset == len(data) and hasher.hexdigest() == sha256_hex(data)
        assert uploads.partial_path("direct-5").read_bytes() == data
        assert direct_bytes_logged(caplog.records) == []
        assert any("O_DIRECT refused" in r.getMessage() for r in caplog.records)
    finally:
        uploads.discard("direct-5")
        os.rmdir(directory)


# Through gunicorn: the body read straight from the client's socket.

from .test_upload_production_server import headers, production, stored_object  # noqa: E402,F401


def read_response(sock) -> bytes:
    response = b""
    while b"\r\n\r\n" not in response:
        piece = sock.recv(65536)
        assert piece, response
        response += piece
    return response


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux/Unix only")
def test_a_socket_read_body_then_a_chunked_body_on_one_gunicorn_connection(production):
    """PATCH 1 (Content-Length, sent in the same packet as its headers, so
    gunicorn holds the first body bytes when the view starts) is read from
    the socket by the upload; PATCH 2 on the same keep-alive connection, at
    an unaligned offset, is chunked (no length: gunicorn's reader). Both are
    answered 204 and the stored object is the data."""
    import requests

    base, data_dir, world = production
    data = mp4_bytes(20 * MB + 4321 + 17 * MB + 5, seed=47)
    cut = 20 * MB + 4321
    created = requests.post(f"{base}/api/v1/uploads/", timeout=30, headers={
        **headers(world), "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata_header(case=world["case"], step=world["step"], sha256=sha256_hex(data))})
    assert created.status_code == 201, created.text
    path = created.headers["Location"].split(base, 1)[1]
    common = (f"Host: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {world['token']}\r\n"
              "Content-Type: application/offset+octet-stream\r\n")
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=120) as sock:
        sock.sendall(f"PATCH {path} HTTP/1.1\r\n{common}Upload-Offset: 0\r\nContent-Length: {cut}\r\n\r\n".encode()
                     + data[:6000])
        sock.sendall(data[6000:cut])
        first = read_response(sock)
        assert first.split()[1] == b"204" and f"Upload-Offset: {cut}".encode() in first, first
        sock.sendall(f"PATCH {path} HTTP/1.1\r\n{common}Upload-Offset: {cut}\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        for at in range(cut, len(data), 3 * MB + 1):
            piece = data[at:at + 3 * MB + 1]
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        second = read_response(sock)
    assert second.split()[1] == b"204" and f"Upload-Offset: {len(data)}".encode() in second, second
    stored = stored_object(data_dir, sha256_hex(data))
    assert sha256_hex(stored.read_bytes()) == sha256_hex(data)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux/Unix only")
def test_a_patch_refused_before_its_body_is_read_leaves_the_connection_usable(production):
    """While one PATCH holds the upload, a second one (its headers and body
    in one packet, so gunicorn holds body bytes when the view starts) gets
    423 without reading its body; gunicorn discards that body (it keeps the
    connection for a body under 64 KiB), and the next request on the same
    connection is answered. Then the first PATCH ends."""
    import time

    import requests

    base, data_dir, world = production
    data = mp4_bytes(20 * MB, seed=48)
    created = requests.post(f"{base}/api/v1/uploads/", timeout=30, headers={
        **headers(world), "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata_header(case=world["case"], step=world["step"], sha256=sha256_hex(data))})
    assert created.status_code == 201, created.text
    path = created.headers["Location"].split(base, 1)[1]
    partial = data_dir / "uploads" / f"{path.rstrip('/').rsplit('/', 1)[1]}.part"
    common = (f"Host: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {world['token']}\r\n"
              "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n")
    address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
    with socket.create_connection(address, timeout=120) as holder, socket.create_connection(address, timeout=60) as other:
        holder.sendall(f"PATCH {path} HTTP/1.1\r\n{common}Content-Length: {len(data)}\r\n\r\n".encode() + data[:3 * MB])
        deadline = time.monotonic() + 60
        while (partial.stat().st_size if partial.exists() else 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert partial.stat().st_size > 0  # the first PATCH holds the lock and is writing
        other.sendall(f"PATCH {path} HTTP/1.1\r\n{common}Content-Length: 50000\r\n\r\n".encode() + data[:50000])
        refused = read_response(other)
        assert refused.split()[1] == b"423", refused
        body_length = int(refused.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        rest = refused.split(b"\r\n\r\n", 1)[1]
        while len(rest) < body_length:
            rest += other.recv(65536)
        other.sendall(f"HEAD {path} HTTP/1.1\r\n{common}\r\n".encode())
        head = read_response(other)
        assert head.split()[1] == b"200" and b"Upload-Offset: 0" in head, head
        holder.sendall(data[3 * MB:])
        finished = read_response(holder)
    assert finished.split()[1] == b"204" and f"Upload-Offset: {len(data)}".encode() in finished, finished
    assert sha256_hex(stored_object(data_dir, sha256_hex(data)).read_bytes()) == sha256_hex(data)
