"""The tuspy client (tusclient) against a live server: a whole upload, and
an upload whose connection is cut mid-file that resumes and ends with the
stored object's SHA-256 equal to the file's."""

from __future__ import annotations

import hashlib

import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from sanxiang.evidence.models import EvidenceItem
from sanxiang.evidence.hashing import hash_stream
from sanxiang.evidence.storage import get_storage

from .conftest import CuttingProxy, mp4_bytes, sha256_hex


class Sha256Uploader(Uploader):
    """tuspy sends SHA-1 chunk checksums by default; this server takes SHA-256."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def metadata(w, data: bytes, **extra) -> dict:
    return {"case": str(w.case.pk), "step": str(w.step.pk), "filename": "执法记录仪录像.mp4",
            "sha256": sha256_hex(data), "captured_at": "2026-03-02T09:30:00+08:00", "duration": "12.5",
            "place": "长安区中山东路", **extra}


def stored_sha256(item) -> str:
    with get_storage().open(item.sha256) as fh:
        return hash_stream(fh)[0]


@pytest.fixture
def tus(live_server, cases):
    return tus_client.TusClient(f"{live_server.url}/api/v1/uploads/", headers={"Authorization": f"Bearer {cases.token}"})


def test_tuspy_uploads_a_file(tus, cases, tmp_path):
    data = mp4_bytes(3 * 1024 * 1024 + 17)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    uploader = Sha256Uploader(file_path=str(path), client=tus, chunk_size=1024 * 1024, metadata=metadata(cases, data),
                              upload_checksum=True)
    uploader.upload()
    item = EvidenceItem.objects.get()
    assert item.sha256 == sha256_hex(data) and stored_sha256(item) == item.sha256
    assert item.kind == "video" and item.mime_type == "video/mp4" and item.duration_s == 12.5
    assert item.original_name == "执法记录仪录像.mp4"


@pytest.mark.parametrize("checksums", [False, True], ids=["plain", "with-chunk-checksums"])
def test_connection_cut_mid_file_resumes_and_the_object_matches(live_server, cases, tmp_path, checksums):
    """The proxy drops the connection in the middle of the second chunk; the
    client's retry asks the server for its offset (HEAD) and carries on."""
    data = mp4_bytes(5 * 1024 * 1024 + 333, seed=7)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    proxy = CuttingProxy(int(live_server.url.rsplit(":", 1)[1]), cut_after=int(1.5 * 1024 * 1024))
    try:
        client = tus_client.TusClient(f"http://127.0.0.1:{proxy.port}/api/v1/uploads/",
                                      headers={"Authorization": f"Bearer {cases.token}"})
        uploader = Sha256Uploader(file_path=str(path), client=client, chunk_size=1024 * 1024,
                                  metadata=metadata(cases, data), upload_checksum=checksums, retries=3, retry_delay=0)
        uploader.upload()
    finally:
        proxy.close()
    assert proxy.cuts == 1
    item = EvidenceItem.objects.get()
    assert item.sha256 == sha256_hex(data) and stored_sha256(item) == sha256_hex(data)


def test_connection_cut_then_a_new_client_resumes_by_url(live_server, cases, tmp_path):
    """A client that died (no retries) is followed by a new one that knows
    only the upload URL: it asks for the offset and finishes."""
    data = mp4_bytes(4 * 1024 * 1024, seed=9)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    proxy = CuttingProxy(int(live_server.url.rsplit(":", 1)[1]), cut_after=2 * 1024 * 1024 + 5000)
    headers = {"Authorization": f"Bearer {cases.token}"}
    try:
        client = tus_client.TusClient(f"http://127.0.0.1:{proxy.port}/api/v1/uploads/", headers=headers)
        first = Sha256Uploader(file_path=str(path), client=client, chunk_size=1024 * 1024, metadata=metadata(cases, data))
        with pytest.raises((TusUploadFailed, TusCommunicationError)):
            first.upload()
        url = first.url
    finally:
        proxy.close()
    assert not EvidenceItem.objects.exists()
    second = Sha256Uploader(file_path=str(path), url=url.replace(str(proxy.port), live_server.url.rsplit(":", 1)[1]),
                            client=tus_client.TusClient(f"{live_server.url}/api/v1/uploads/", headers=headers),
                            chunk_size=1024 * 1024, retries=3, retry_delay=0)
    # (a 409 is possible if the server is still storing the cut request's
    # bytes when the new client asks: tuspy then asks again, as it should)
    assert second.offset >= 2 * 1024 * 1024  # resumed, not restarted
    second.upload()
    assert EvidenceItem.objects.get().sha256 == sha256_hex(data)


def test_tuspy_with_a_wrong_declared_hash_is_refused(tus, cases, tmp_path):
    data = mp4_bytes(100_000)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    uploader = Sha256Uploader(file_path=str(path), client=tus, metadata=metadata(cases, data, sha256="a" * 64))
    with pytest.raises(TusUploadFailed) as failed:
        uploader.upload()
    assert failed.value.status_code == 422 and b"sha256_mismatch" in failed.value.response_content
    assert not EvidenceItem.objects.exists() and list(get_storage().iter_all()) == []
