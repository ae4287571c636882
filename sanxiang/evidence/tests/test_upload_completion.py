"""An upload whose last bytes were durably received, but whose serving
process died before the evidence item was made (found by `sanxiang bench
cluster`: a web process SIGKILLed while it stored a finished upload in S3
left the upload at its full offset with no item, and a tus client that sees
the full offset sends nothing more). The last PATCH queues a delayed check
before it records the full offset; the check completes such an upload from
its partial, and leaves every other upload alone."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.conf import settings
from django.test import Client

from sanxiang.core import queue
from sanxiang.core.models import AuditEntry
from sanxiang.evidence import services, uploads
from sanxiang.evidence.models import EvidenceItem, Upload, UploadStatus
from sanxiang.evidence.storage import get_storage

from .conftest import sha256_hex
from .test_tus_protocol import create, patch, random_jpeg, tus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_queue():
    queue.flush()
    yield
    queue.flush()


def after_the_check() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=settings.EVIDENCE_UPLOAD_COMPLETION_CHECK + 1)


def test_an_upload_whose_process_died_after_its_last_bytes_is_completed_by_the_queued_check(cases):
    w, c = cases, Client()
    data = random_jpeg(300_000)
    url = create(c, w, data)["Location"]
    assert patch(c, url, w.token, data[:100_000], 0).status_code == 204
    upload = Upload.objects.get()
    # What the killed process left: the rest of the bytes durable in the
    # partial, the check queued and the full offset recorded, no item.
    with open(uploads.partial_path(upload.pk), "ab") as fh:
        fh.write(data[100_000:])
        fh.flush()
        os.fsync(fh.fileno())
    uploads.hash_states._states.clear()  # the hash state died with the process
    services.schedule_stalled_upload_check(upload)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    head = tus(c, "HEAD", url, w.token)
    assert head["Upload-Offset"] == str(len(data)) and "Sanxiang-Evidence-Id" not in head

    queue.run_pending()  # not before its time: a live request may still be completing it
    assert not EvidenceItem.objects.exists()
    assert queue.run_pending(now=after_the_check()) == 1

    item = EvidenceItem.objects.get()
    assert item.sha256 == sha256_hex(data) and item.size == len(data)
    with get_storage().open(item.sha256) as fh:
        assert fh.read() == data
    upload.refresh_from_db()
    assert upload.status == UploadStatus.COMPLETED and upload.evidence_id == item.pk
    assert AuditEntry.objects.filter(action="evidence.upload", object_id=str(item.pk)).count() == 1
    assert tus(c, "HEAD", url, w.token)["Sanxiang-Evidence-Id"] == str(item.pk)
    assert not uploads.partial_path(upload.pk).exists()


def test_the_last_patch_queues_the_check_which_leaves_a_completed_upload_alone(cases):
    w, c = cases, Client()
    data = random_jpeg(50_000)
    url = create(c, w, data)["Location"]
    assert patch(c, url, w.token, data[:20_000], 0).status_code == 204
    assert queue.pending_count() == 0  # only the last bytes queue it
    r = patch(c, url, w.token, data[20_000:], 20_000)
    assert r.status_code == 204 and r["Sanxiang-Evidence-Id"]
    assert queue.pending_count() == 1
    assert queue.run_pending(now=after_the_check()) == 1
    assert EvidenceItem.objects.count() == 1
    assert AuditEntry.objects.filter(action="evidence.upload").count() == 1


def test_the_check_waits_while_a_request_holds_the_upload(cases):
    w, c = cases, Client()
    data = random_jpeg(40_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:10_000], 0)
    upload = Upload.objects.get()
    with open(uploads.partial_path(upload.pk), "ab") as fh:
        fh.write(data[10_000:])
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    with open(uploads.partial_path(upload.pk), "r+b") as fh, uploads._Locked(fh, str(upload.pk)):
        with pytest.raises(uploads.UploadBusy):  # the queue retries it later
            services.finish_stalled_upload(upload_id=upload.pk)
    assert not EvidenceItem.objects.exists()
    assert services.finish_stalled_upload(upload_id=upload.pk).sha256 == sha256_hex(data)


def test_the_check_refuses_bytes_that_are_not_the_declared_file(cases):
    w, c = cases, Client()
    data = random_jpeg(40_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:10_000], 0)
    upload = Upload.objects.get()
    with open(uploads.partial_path(upload.pk), "ab") as fh:
        fh.write(b"\0" * (len(data) - 10_000))
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    with pytest.raises(services.HashMismatch):
        services.finish_stalled_upload(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and not EvidenceItem.objects.exists()


def test_the_check_completes_an_upload_whose_partial_was_already_moved_into_the_store(cases):
    """LocalStorage renames the partial into the store; a process killed
    after that and before the item was committed leaves the object alone."""
    w, c = cases, Client()
    data = random_jpeg(60_000)
    url = create(c, w, data)["Location"]
    patch(c, url, w.token, data[:30_000], 0)
    upload = Upload.objects.get()
    with open(uploads.partial_path(upload.pk), "ab") as fh:
        fh.write(data[30_000:])
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    get_storage().put_file(uploads.partial_path(upload.pk), sha256_hex(data))
    assert not uploads.partial_path(upload.pk).exists()

    item = services.finish_stalled_upload(upload_id=upload.pk)
    assert item.sha256 == sha256_hex(data) and item.mime_type == "image/jpeg"
    assert Upload.objects.get().status == UploadStatus.COMPLETED
    assert services.finish_stalled_upload(upload_id=upload.pk) is None  # once
    assert EvidenceItem.objects.count() == 1
