"""The tus 1.0 protocol at /api/v1/uploads/: core, creation, checksum,
termination and expiration, with the refusals a client must be able to
rely on. (tuspy against a live server: test_tus_live.py.)"""

from __future__ import annotations

import base64
import hashlib
import os
import resource
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sanxiang.core.models import AuditEntry
from sanxiang.evidence import services, uploads
from sanxiang.evidence.models import EvidenceItem, Upload, UploadStatus
from sanxiang.evidence.storage import get_storage

from .conftest import jpeg_bytes, metadata_header, sha256_hex
from sanxiang.core import clock

pytestmark = pytest.mark.django_db
URL = "/api/v1/uploads/"


def tus(client, method, url, token, **headers):
    extra = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    return client.generic(method, url, **extra)


def create(client, w, data: bytes, token=None, **meta):
    meta = {"case": w.case.pk, "step": w.step.pk, "filename": "现场照片.jpg", "sha256": sha256_hex(data), **meta}
    return tus(client, "POST", URL, token or w.token, upload_length=str(len(data)),
               upload_metadata=metadata_header(**meta))


def patch(client, url, token, body: bytes, offset: int, checksum: str | None = None):
    extra = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_UPLOAD_OFFSET": str(offset)}
    if checksum:
        extra["HTTP_UPLOAD_CHECKSUM"] = checksum
    return client.generic("PATCH", url, body, content_type="application/offset+octet-stream", **extra)


def sha_b64(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_options_announce_version_extensions_size_and_checksum():
    r = Client().options(URL)
    assert r.status_code == 204
    assert r["Tus-Resumable"] == "1.0.0" and r["Tus-Version"] == "1.0.0"
    assert set(r["Tus-Extension"].split(",")) == {"creation", "checksum", "termination", "expiration"}
    assert int(r["Tus-Max-Size"]) > 0 and r["Tus-Checksum-Algorithm"] == "sha256"


def test_upload_in_two_chunks_creates_the_item_with_sniffed_type_and_audit(cases):
    w, c, data = cases, Client(), jpeg_bytes(300_000)
    r = create(c, w, data, place="长安区建设北大街", duration="0", captured_at="2026-03-02T10:15:00+08:00")
    assert r.status_code == 201, r.content
    assert r["Tus-Resumable"] == "1.0.0" and "Upload-Expires" in r
    url = r["Location"]
    head = tus(c, "HEAD", url, w.token)
    assert head.status_code == 200 and head["Upload-Offset"] == "0" and head["Upload-Length"] == str(len(data))
    r = patch(c, url, w.token, data[:100_000], 0, sha_b64(data[:100_000]))
    assert r.status_code == 204 and r["Upload-Offset"] == "100000"
    assert not EvidenceItem.objects.exists()
    r = patch(c, url, w.token, data[100_000:], 100_000)
    assert r.status_code == 204 and r["Upload-Offset"] == str(len(data))
    item = EvidenceItem.objects.get()
    assert r["Sanxiang-Evidence-Id"] == str(item.pk)
    assert (item.sha256, item.size, item.mime_type, item.kind) == (sha256_hex(data), len(data), "image/jpeg", "photo")
    assert item.case == w.case and item.step == w.step and item.officer is None  # a dock's token, no device
    assert item.place == "长安区建设北大街" and item.original_name == "现场照片.jpg"
    with get_storage().open(item.sha256) as fh:
        assert fh.read() == data
    entry = AuditEntry.objects.filter(action="evidence.upload").get()
    assert entry.object_id == str(item.pk) and item.sha256 in entry.payload
    assert not list(uploads.upload_dir().glob("*.part"))
    # HEAD after completion still answers (a client whose last response was lost)
    head = tus(c, "HEAD", url, w.token)
    assert head["Upload-Offset"] == str(len(data)) and head["Sanxiang-Evidence-Id"] == str(item.pk)


def test_type_is_sniffed_from_the_bytes_not_the_name(cases):
    w, c = cases, Client()
    data = b"%PDF-1.7\n" + b"x" * 1000
    r = create(c, w, data, filename="看起来像视频.mp4")
    patch(c, r["Location"], w.token, data, 0)
    item = EvidenceItem.objects.get()
    assert item.mime_type == "application/pdf" and item.kind == "document"


def test_wrong_declared_hash_is_refused_and_leaves_nothing(cases):
    w, c, data = cases, Client(), jpeg_bytes(50_000)
    r = create(c, w, data, sha256="0" * 64)
    url = r["Location"]
    r = patch(c, url, w.token, data, 0)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "sha256_mismatch" and body["field"] == "sha256" and sha256_hex(data) in body["message"]
    assert not EvidenceItem.objects.exists()
    assert list(get_storage().iter_all()) == []
    assert not list(uploads.upload_dir().glob("*.part"))
    assert Upload.objects.get().status == UploadStatus.FAILED
    assert AuditEntry.objects.filter(action="evidence.upload_refused").count() == 1
    assert tus(c, "HEAD", url, w.token).status_code == 410


def test_chunk_checksum_mismatch_is_460_and_the_chunk_is_discarded(cases):
    w, c, data = cases, Client(), jpeg_bytes(20_000)
    url = create(c, w, data)["Location"]
    r = patch(c, url, w.token, data[:10_000], 0, sha_b64(b"something else"))
    assert r.status_code == 460 and r.json()["code"] == "checksum_mismatch"
    assert tus(c, "HEAD", url, w.token)["Upload-Offset"] == "0"
    assert patch(c, url, w.token, data[:10_000], 0, sha_b64(data[:10_000])).status_code == 204
    assert patch(c, url, w.token, data[10_000:], 10_000, sha_b64(data[10_000:])).status_code == 204
    assert EvidenceItem.objects.get().sha256 == sha256_hex(data)


def test_unsupported_checksum_algorithm_is_400(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    url = create(c, w, data)["Location"]
    r = patch(c, url, w.token, data, 0, "md5 " + base64.b64encode(hashlib.md5(data).digest()).decode())
    assert r.status_code == 400 and r.json()["code"] == "checksum_algorithm"


def test_offset_mismatch_is_409_and_wrong_content_type_415(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    url = create(c, w, data)["Location"]
    r = patch(c, url, w.token, data[500:], 500)
    assert r.status_code == 409 and r["Upload-Offset"] == "0"
    r = c.generic("PATCH", url, data, content_type="application/octet-stream", HTTP_TUS_RESUMABLE="1.0.0",
                  HTTP_AUTHORIZATION=f"Bearer {w.token}", HTTP_UPLOAD_OFFSET="0")
    assert r.status_code == 415


def test_more_bytes_than_declared_are_refused(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    url = create(c, w, data)["Location"]
    assert patch(c, url, w.token, data + b"extra", 0).status_code == 413


def test_missing_version_header_is_412():
    r = Client().post(URL, HTTP_UPLOAD_LENGTH="10")
    assert r.status_code == 412 and r["Tus-Version"] == "1.0.0"


def test_creation_validates_metadata(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    r = tus(c, "POST", URL, w.token, upload_length="1000", upload_metadata=metadata_header(case=w.case.pk))
    assert r.status_code == 400 and r.json()["field"] == "sha256"
    r = create(c, w, data, case=w.other_case.pk, step="")
    assert r.status_code == 400 and r.json()["field"] == "case"  # another agency's case: as if it did not exist
    r = create(c, w, data, step=w.other_step.pk)
    assert r.status_code == 400 and r.json()["field"] == "step"
    r = create(c, w, data, device="NO-SUCH-DEVICE")
    assert r.status_code == 400 and r.json()["field"] == "device"
    r = create(c, w, data, captured_at="yesterday")
    assert r.status_code == 400 and r.json()["field"] == "captured_at"
    r = tus(c, "POST", URL, w.token, upload_length="1000", upload_metadata="case !!!")
    assert r.status_code == 400 and r.json()["field"] == "Upload-Metadata"
    r = tus(c, "POST", URL, w.token, upload_length=str(10**15), upload_metadata=metadata_header(case=w.case.pk))
    assert r.status_code == 413


def test_closed_case_takes_no_more_evidence(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    w.case.status, w.case.closed_on = "closed", clock.today()
    w.case.save()
    r = create(c, w, data)
    assert r.status_code == 400 and r.json()["field"] == "case"


def test_authentication_and_scope(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    r = c.post(URL, HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1000")
    assert r.status_code == 401 and r["Tus-Resumable"] == "1.0.0"
    r = create(c, w, data, token=w.read_only_token)
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"
    r = create(c, w, data, token="sx_bogus_token")
    assert r.status_code == 401


def test_an_upload_is_visible_only_to_its_creator(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    url = create(c, w, data)["Location"]
    assert tus(c, "HEAD", url, w.zhengding_token).status_code == 404
    assert patch(c, url, w.zhengding_token, data, 0).status_code == 404
    assert tus(c, "HEAD", "/api/v1/uploads/not-a-uuid", w.token).status_code == 404


def test_session_upload_needs_csrf_token(cases):
    w, data = cases, jpeg_bytes(1000)
    c = Client(enforce_csrf_checks=True)
    c.force_login(w.u_changan)
    meta = metadata_header(case=w.case.pk, sha256=sha256_hex(data))
    r = c.post(URL, HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1000", HTTP_UPLOAD_METADATA=meta)
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    c.get(f"/workbench/cases/{w.case.pk}/steps/{w.step.pk}/evidence/")  # sets the CSRF cookie
    token = c.cookies["csrftoken"].value
    r = c.post(URL, HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="1000", HTTP_UPLOAD_METADATA=meta,
               HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 201
    r = c.generic("PATCH", r["Location"], data, content_type="application/offset+octet-stream",
                  HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_OFFSET="0", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 204
    item = EvidenceItem.objects.get()
    assert item.uploaded_by == w.u_changan and item.officer == w.changan_officer


def test_termination_removes_the_partial(cases):
    w, c, data = cases, Client(), jpeg_bytes(10_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:5000], 0)
    assert len(list(uploads.upload_dir().glob("*.part"))) == 1
    assert tus(c, "DELETE", url, w.token).status_code == 204
    assert not list(uploads.upload_dir().glob("*.part")) and not Upload.objects.exists()
    assert tus(c, "HEAD", url, w.token).status_code == 404


def test_expired_uploads_are_gone_and_the_job_removes_partials(cases):
    w, c, data = cases, Client(), jpeg_bytes(10_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:5000], 0)
    Upload.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert tus(c, "HEAD", url, w.token).status_code == 410
    assert patch(c, url, w.token, data[5000:], 5000).status_code == 410
    assert services.expire_uploads() == 1
    assert not list(uploads.upload_dir().glob("*.part")) and not Upload.objects.exists()


def test_resume_after_restart_rehashes_the_partial(cases):
    """The hash state lives in the process; after a restart (simulated by
    forgetting it) the partial is re-hashed and the upload completes."""
    w, c, data = cases, Client(), jpeg_bytes(200_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:120_000], 0)
    uploads.hash_states._states.clear()
    # a crash after writing but before recording the offset leaves extra bytes: cut back
    with open(next(uploads.upload_dir().glob("*.part")), "ab") as fh:
        fh.write(b"garbage written before the crash")
    assert patch(c, url, w.token, data[120_000:], 120_000).status_code == 204
    assert EvidenceItem.objects.get().sha256 == sha256_hex(data)


def random_jpeg(size: int) -> bytes:
    """JPEG-looking bytes with no repeating pattern: a block written out of
    order or twice would change the hash."""
    return jpeg_bytes(32) + os.urandom(size - 32)


def test_a_large_patch_is_hashed_and_written_in_order_by_the_helper_threads(cases):
    w, c = cases, Client()
    size = 3 * uploads.FLUSH_EVERY + 12_345  # beyond FLUSH_EVERY: the appender and flusher threads run
    data = random_jpeg(size)
    url = create(c, w, data)["Location"]
    first = 2 * uploads.FLUSH_EVERY + 777
    r = patch(c, url, w.token, data[:first], 0, sha_b64(data[:first]))
    assert r.status_code == 204 and r["Upload-Offset"] == str(first)
    assert patch(c, url, w.token, data[first:], first).status_code == 204
    item = EvidenceItem.objects.get()
    assert item.sha256 == sha256_hex(data) and item.size == size
    with get_storage().open(item.sha256) as fh:
        assert fh.read() == data


def test_a_disk_that_refuses_bytes_mid_patch_gives_a_clear_error_and_the_upload_resumes(cases):
    """The file-size limit (RLIMIT_FSIZE, EFBIG) makes the kernel refuse
    writes past a size, as a full disk would."""
    w, c = cases, Client()
    size = 4 * uploads.FLUSH_EVERY
    data = random_jpeg(size)
    url = create(c, w, data)["Location"]
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * uploads.FLUSH_EVERY, hard))
    try:
        r = patch(c, url, w.token, data, 0)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert r.status_code == 507 and r.json()["code"] == "storage_write_failed"
    assert "存储空间不足" in r.json()["message"] and r["Upload-Offset"] == "0"
    assert not EvidenceItem.objects.exists()
    assert tus(c, "HEAD", url, w.token)["Upload-Offset"] == "0"
    assert patch(c, url, w.token, data, 0).status_code == 204
    assert EvidenceItem.objects.get().sha256 == sha256_hex(data)


def test_same_bytes_twice_are_stored_once(cases):
    w, c, data = cases, Client(), jpeg_bytes(5000)
    for _ in range(2):
        patch(c, create(c, w, data)["Location"], w.token, data, 0)
    assert EvidenceItem.objects.count() == 2
    assert list(get_storage().iter_all()) == [sha256_hex(data)]


def test_empty_file_completes_at_creation(cases):
    w, c = cases, Client()
    r = create(c, w, b"")
    assert r.status_code == 201 and r["Upload-Offset"] == "0"
    assert EvidenceItem.objects.get().size == 0
