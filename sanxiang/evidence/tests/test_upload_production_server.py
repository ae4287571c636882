"""Evidence uploads through the production server, `sanxiang serve
--workers 2` (gunicorn, gthread) as a real subprocess on its own SQLite file:
the tuspy client, a resume after a cut PATCH, and proof that a PATCH body is
received and written while the client is still sending it (streaming; no
timing: the partial file is read while the client holds back the rest)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from .conftest import CuttingProxy, metadata_header, mp4_bytes, sha256_hex
from .test_killed_server import FIXTURE_WORLD, evidence_rows, free_port, server_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux/Unix only")

MB = 1024 * 1024


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """(base URL, data dir, world) of `sanxiang serve --workers 2`."""
    data_dir = tmp_path_factory.mktemp("upload-production") / "data"
    data_dir.mkdir()
    env = server_env(data_dir)
    subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], env=env, check=True)
    out = subprocess.run([sys.executable, "-c", FIXTURE_WORLD], env={"DJANGO_SETTINGS_MODULE": "sanxiang.settings", **env},
                         check=True, capture_output=True, text=True).stdout
    world = json.loads(out.strip().splitlines()[-1])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--workers", "2", "--threads", "2",
                             "--port", str(port), "--jobs-interval", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Serving on"):
                break
        assert proc.poll() is None, "".join(lines)
        yield f"http://127.0.0.1:{port}", data_dir, world
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def headers(world) -> dict:
    return {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {world['token']}"}


def tus_metadata(world, data: bytes) -> dict:
    return {"case": str(world["case"]), "step": str(world["step"]), "filename": "执法记录仪录像.mp4",
            "sha256": sha256_hex(data), "captured_at": "2026-03-02T09:30:00+08:00"}


def stored_object(data_dir: Path, sha256: str) -> Path:
    return data_dir / "evidence" / sha256[:2] / sha256[2:4] / sha256


def test_tuspy_uploads_through_the_production_server_with_the_right_sha256(production, tmp_path):
    base, data_dir, world = production
    data = mp4_bytes(4 * MB + 123, seed=31)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    client = tus_client.TusClient(f"{base}/api/v1/uploads/", headers={"Authorization": f"Bearer {world['token']}"})
    uploader = Sha256Uploader(file_path=str(path), client=client, chunk_size=MB, metadata=tus_metadata(world, data),
                              upload_checksum=True)
    uploader.upload()
    head = requests.head(uploader.url, headers=headers(world), timeout=30)
    assert head.headers["Upload-Offset"] == str(len(data)) and head.headers["Sanxiang-Evidence-Id"]
    stored = stored_object(data_dir, sha256_hex(data))
    assert sha256_hex(stored.read_bytes()) == sha256_hex(data)


def test_a_cut_patch_resumes_through_the_production_server(production, tmp_path):
    """A proxy drops the connection in the middle of the second PATCH; tuspy
    asks for the offset (HEAD, maybe answered by the other worker) and
    finishes; the stored object's SHA-256 is the file's."""
    base, data_dir, world = production
    data = mp4_bytes(5 * MB + 77, seed=32)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    proxy = CuttingProxy(int(base.rsplit(":", 1)[1]), cut_after=int(1.5 * MB))
    try:
        client = tus_client.TusClient(f"http://127.0.0.1:{proxy.port}/api/v1/uploads/",
                                      headers={"Authorization": f"Bearer {world['token']}"})
        uploader = Sha256Uploader(file_path=str(path), client=client, chunk_size=MB, metadata=tus_metadata(world, data),
                                  retries=5, retry_delay=1)
        uploader.upload()
    finally:
        proxy.close()
    assert proxy.cuts == 1
    stored = stored_object(data_dir, sha256_hex(data))
    assert sha256_hex(stored.read_bytes()) == sha256_hex(data)


def test_a_patch_body_is_written_to_disk_while_the_client_is_still_sending_it(production):
    """48 MB announced in one PATCH; the client sends 32 MB and holds back
    the rest. Before it sends another byte, the server has already written
    more than 16 MB of the body to the partial file — more than every buffer
    on the way holds (socket buffers, 256 KiB reads, the writer's 8 MiB queue)
    — while the upload's offset is still 0 (the PATCH has not ended). A
    server that buffers the body first (waitress) writes nothing before the
    last byte arrives. Then the rest is sent and the upload completes."""
    base, data_dir, world = production
    data = mp4_bytes(48 * MB, seed=33)
    sent_first, written_before_end = 32 * MB, 16 * MB
    created = requests.post(f"{base}/api/v1/uploads/", timeout=30, headers={
        **headers(world), "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata_header(case=world["case"], step=world["step"], sha256=sha256_hex(data))})
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    path = url.split(base, 1)[1]
    partial = data_dir / "uploads" / f"{path.rstrip('/').rsplit('/', 1)[1]}.part"
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall((f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                      f"Authorization: Bearer {world['token']}\r\nUpload-Offset: 0\r\n"
                      f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n\r\n").encode())
        sock.sendall(data[:sent_first])
        # Wait (bounded, generously) for the server to get the bytes already sent to disk.
        deadline = time.monotonic() + 120
        while (partial.stat().st_size if partial.exists() else 0) <= written_before_end and time.monotonic() < deadline:
            time.sleep(0.05)
        written = partial.stat().st_size if partial.exists() else 0
        assert written > written_before_end, f"only {written} bytes written while the client held back the rest"
        assert written <= sent_first
        head = requests.head(url, headers=headers(world), timeout=30)
        assert head.headers["Upload-Offset"] == "0"  # the PATCH is still open
        sock.sendall(data[sent_first:])
        response = b""
        while b"\r\n\r\n" not in response:
            piece = sock.recv(65536)
            assert piece, response
            response += piece
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.split()[1] == b"204", response
    assert f"Upload-Offset: {len(data)}".encode() in response
    stored = stored_object(data_dir, sha256_hex(data))
    assert stored.stat().st_size == len(data) and sha256_hex(stored.read_bytes()) == sha256_hex(data)
    assert not partial.exists()
    assert evidence_rows(data_dir) >= 1


def test_the_write_back_request_of_a_large_patch_reports_a_refusal(tmp_path):
    """The helper that has the disk start writing every FLUSH_EVERY bytes
    (sync_file_range on Linux) raises what the kernel refuses, so
    `_BackgroundFlush.close()` can hand it to the PATCH (507/500)."""
    import errno
    import os

    from sanxiang.evidence import uploads

    path = tmp_path / "part"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"x" * (2 * MB))
    uploads.start_writeback(fd)  # accepted: the bytes are on their way to disk
    os.close(fd)
    with pytest.raises(OSError) as refused:
        uploads.start_writeback(fd)  # a closed descriptor
    assert refused.value.errno == errno.EBADF


def test_a_patch_checked_against_an_offset_that_moved_meanwhile_cuts_nothing(cases):
    """Two PATCHes at the same offset (a client's retry while its first try
    was still being received, on another worker): the second was checked
    against the old offset before the first stored its bytes. Once it holds
    the lock it finds the offset moved and is refused (409) — before, it cut
    the partial back to its stale offset, under bytes already on record
    (found as 'partial has 1048576 bytes, fewer than its offset 2097152')."""
    import io

    from sanxiang.evidence import services, uploads
    from sanxiang.evidence.models import Upload

    from django.test import Client

    data = mp4_bytes(2 * MB, seed=34)

    client = Client()
    created = client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_AUTHORIZATION=f"Bearer {cases.token}",
                          HTTP_UPLOAD_LENGTH=str(len(data)),
                          HTTP_UPLOAD_METADATA=metadata_header(case=cases.case.pk, step=cases.step.pk,
                                                               sha256=sha256_hex(data)))
    assert created.status_code == 201
    upload = Upload.objects.get()
    stale = Upload.objects.get(pk=upload.pk)  # the retry's view: offset 0
    first = services.receive_upload_chunk(upload=upload, offset=0, stream=io.BytesIO(data[:MB]), content_length=MB,
                                          checksum=None)
    assert first.offset == MB
    with pytest.raises(uploads.OffsetMoved) as moved:
        services.receive_upload_chunk(upload=stale, offset=0, stream=io.BytesIO(data[:MB // 2]),
                                      content_length=MB // 2, checksum=None)
    assert moved.value.recorded == MB
    assert uploads.partial_path(upload.pk).stat().st_size == MB  # nothing cut
    answer = client.generic("PATCH", f"/api/v1/uploads/{upload.pk}", data[MB:],
                            content_type="application/offset+octet-stream", HTTP_TUS_RESUMABLE="1.0.0",
                            HTTP_AUTHORIZATION=f"Bearer {cases.token}", HTTP_UPLOAD_OFFSET=str(MB))
    assert answer.status_code == 204 and answer["Upload-Offset"] == str(len(data))
