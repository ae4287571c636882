"""Custody and jurisdiction: evidence of another agency cannot be viewed
or downloaded, by page or by API; every view, download and share appends
to the audit chain; ranged downloads for video seeking."""

from __future__ import annotations

import pytest
from django.test import Client

from sanxiang.conftest import client_for
from sanxiang.core import services as core_services
from sanxiang.core.audit import verify_chain
from sanxiang.core.models import AuditEntry, Role
from sanxiang.evidence.models import EvidenceItem

from .conftest import jpeg_bytes, metadata_header, mp4_bytes, sha256_hex

pytestmark = pytest.mark.django_db


def upload(w, data: bytes, *, token=None, case=None, step=None, **meta) -> EvidenceItem:
    c = Client()
    headers = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_AUTHORIZATION": f"Bearer {token or w.token}"}
    case, step = case or w.case, step or w.step
    r = c.post("/api/v1/uploads/", HTTP_UPLOAD_LENGTH=str(len(data)), **headers, HTTP_UPLOAD_METADATA=metadata_header(
        case=case.pk, step=step.pk, sha256=sha256_hex(data), filename="现场.jpg", **meta))
    assert r.status_code == 201, r.content
    r = c.generic("PATCH", r["Location"], data, content_type="application/offset+octet-stream",
                  HTTP_UPLOAD_OFFSET="0", **headers)
    assert r.status_code == 204, r.content
    return EvidenceItem.objects.get(pk=r["Sanxiang-Evidence-Id"])


login = client_for


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def test_another_agencys_evidence_is_404_by_page_and_api(cases, settings):
    settings.REQUIRE_TOTP = False  # the legal-office accounts log in without their authenticator here
    w = cases
    item = upload(w, jpeg_bytes(5000), token=w.zhengding_token, case=w.other_case, step=w.other_step)
    changan = login(w.u_changan)
    for url in (f"/workbench/evidence/{item.pk}/", f"/workbench/evidence/{item.pk}/content",
                f"/workbench/cases/{w.other_case.pk}/steps/{w.other_step.pk}/evidence/"):
        assert changan.get(url).status_code == 404, url
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token}"}
    for url in (f"/api/v1/evidence/items/{item.pk}", f"/api/v1/evidence/items/{item.pk}/content"):
        r = Client().get(url, **auth)
        assert r.status_code == 404 and r.json()["code"] == "not_found", url
    assert Client().get(f"/api/v1/evidence/items?case={w.other_case.pk}", **auth).json() == []
    assert not AuditEntry.objects.filter(action__in=["evidence.view", "evidence.download"]).exists()
    # the owning agency and the city's legal office see it
    assert login(w.u_zhengding).get(f"/workbench/evidence/{item.pk}/").status_code == 200
    assert login(w.u_legal_sjz).get(f"/workbench/evidence/{item.pk}/content").status_code == 200
    # Tangshan's legal office does not
    assert login(w.u_legal_ts).get(f"/workbench/evidence/{item.pk}/content").status_code == 404


def test_every_view_and_download_appends_to_the_audit_chain(cases):
    w = cases
    data = jpeg_bytes(40_000)
    item = upload(w, data)
    c = login(w.u_changan)
    before = AuditEntry.objects.count()
    assert c.get(f"/workbench/evidence/{item.pk}/").status_code == 200
    for _ in range(3):
        r = c.get(f"/workbench/evidence/{item.pk}/content?download=1")
        assert b"".join(r.streaming_content) == data
        assert r["Content-Disposition"].startswith("attachment;")
    r = Client().get(f"/api/v1/evidence/items/{item.pk}/content", HTTP_AUTHORIZATION=f"Bearer {w.token}")
    assert b"".join(r.streaming_content) == data
    r = Client().get(f"/api/v1/evidence/items/{item.pk}", HTTP_AUTHORIZATION=f"Bearer {w.token}")
    assert r.json()["sha256"] == sha256_hex(data)
    assert actions()[before:] == ["evidence.view"] + ["evidence.download"] * 4 + ["evidence.view"]
    entry = AuditEntry.objects.filter(action="evidence.download").last()
    assert entry.object_id == str(item.pk) and entry.actor.startswith("api-")
    assert verify_chain().ok


def test_range_requests_for_video_seeking(cases):
    w = cases
    data = mp4_bytes(100_000)
    item = upload(w, data)
    c = login(w.u_changan)
    r = c.get(f"/workbench/evidence/{item.pk}/content", HTTP_RANGE="bytes=0-")
    assert r.status_code == 206 and r["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert r["Content-Disposition"].startswith("inline;")
    r = c.get(f"/workbench/evidence/{item.pk}/content", HTTP_RANGE="bytes=1000-1999")
    assert r.status_code == 206 and b"".join(r.streaming_content) == data[1000:2000]
    r = c.get(f"/workbench/evidence/{item.pk}/content", HTTP_RANGE="bytes=-100")
    assert b"".join(r.streaming_content) == data[-100:]
    r = c.get(f"/workbench/evidence/{item.pk}/content", HTTP_RANGE=f"bytes={len(data)}-")
    assert r.status_code == 416
    # the playback is audited once, not per seek
    assert AuditEntry.objects.filter(action="evidence.download").count() == 1


def test_share_link_is_audited_when_made_and_when_used(cases):
    w = cases
    data = jpeg_bytes(3000)
    item = upload(w, data)
    r = Client().post(f"/api/v1/evidence/items/{item.pk}/share", {"recipient": "石家庄市人民政府行政复议办公室",
                                                                   "reason": "行政复议调取证据", "days": 3},
                      content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {w.token}")
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "pending"  # a system's share waits for the head's approval
    link = r.json()["url"]
    head = core_services.create_user(actor="t", username="changan_head", password=w.password, role=Role.AGENCY_HEAD,
                                     agency=w.amr_changan)
    r = login(head).post(f"/api/v1/evidence/items/{item.pk}/shares/{r.json()['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "active", r.content
    r = Client().get(link.split("testserver", 1)[1])
    assert b"".join(r.streaming_content) == data
    assert Client().get("/evidence/shared/forged-token/").status_code == 404
    assert [a for a in actions() if a.startswith("evidence.")][-3:] == [
        "evidence.share", "evidence.share_approve", "evidence.download"]
    assert AuditEntry.objects.filter(action="evidence.download").last().actor.startswith("share:")


def test_upload_page_lists_the_steps_evidence_with_the_camera_input(cases):
    w = cases
    upload(w, jpeg_bytes(2000))
    r = login(w.u_changan).get(f"/workbench/cases/{w.case.pk}/steps/{w.step.pk}/evidence/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'accept="image/*,video/*,audio/*"' in html and "capture" in html and "evidence/upload.js" in html
    assert "现场.jpg" in html


def test_av_items_for_step_are_the_live_photo_audio_video_items(cases):
    from sanxiang.evidence.selectors import av_items_for_step

    w = cases
    photo = upload(w, jpeg_bytes(2000, seed=3))
    upload(w, b"%PDF-1.4 scan" * 10)
    assert list(av_items_for_step(w.step)) == [photo]
    EvidenceItem.objects.filter(pk=photo.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert not av_items_for_step(w.step).exists()


def test_upload_and_download_through_the_s3_backend(cases, settings, request):
    from .test_storage import make_s3

    endpoint = request.getfixturevalue("moto_endpoint")
    settings.EVIDENCE_BACKEND = "s3"
    settings.EVIDENCE_S3 = {"endpoint_url": endpoint, "bucket": "sx-e2e", "access_key": "k", "secret_key": "s",
                            "region": "us-east-1", "prefix": "evidence/"}
    make_s3(endpoint, "sx-e2e")  # creates the bucket
    data = mp4_bytes(300_000, seed=5)
    item = upload(cases, data)
    r = login(cases.u_changan).get(f"/workbench/evidence/{item.pk}/content", HTTP_RANGE="bytes=10-19")
    assert b"".join(r.streaming_content) == data[10:20]
    from sanxiang.evidence.storage import get_storage

    assert list(get_storage().iter_all()) == [sha256_hex(data)]
