"""The evidence store's check on /readyz (evidence/health.py, registered in
EvidenceConfig.ready) with S3-compatible storage: a real S3 server (moto),
asked through the live server's /readyz."""

from __future__ import annotations

import socket

import pytest
import requests

from sanxiang.evidence.storage import S3Storage

pytestmark = pytest.mark.django_db(transaction=True)


def s3_settings(settings, endpoint: str, bucket: str) -> None:
    settings.EVIDENCE_BACKEND = "s3"
    settings.EVIDENCE_S3 = {"endpoint_url": endpoint, "bucket": bucket, "access_key": "k", "secret_key": "s",
                            "region": "us-east-1", "prefix": "evidence/"}


def readyz(live_server):
    response = requests.get(live_server.url + "/readyz", timeout=120)
    return response.status_code, response.json()["checks"]


def test_readyz_passes_when_the_bucket_answers(live_server, moto_endpoint, settings):
    S3Storage(endpoint_url=moto_endpoint, bucket="sx-ready", access_key="k", secret_key="s", create_bucket=True)
    s3_settings(settings, moto_endpoint, "sx-ready")
    status, checks = readyz(live_server)
    assert (status, checks["storage"]) == (200, "ok")


def test_readyz_names_storage_when_the_bucket_is_missing_without_naming_the_endpoint(live_server, moto_endpoint, settings):
    s3_settings(settings, moto_endpoint, "sx-never-made")
    status, checks = readyz(live_server)
    assert status == 503
    assert checks["storage"].startswith("bucket unreachable (")
    assert "127.0.0.1" not in checks["storage"] and "sx-never-made" not in checks["storage"]
    assert checks["database"] == "ok"


def test_readyz_names_storage_when_the_object_store_does_not_answer(live_server, settings):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    s3_settings(settings, f"http://127.0.0.1:{port}", "sx-nowhere")
    status, checks = readyz(live_server)
    assert status == 503 and checks["storage"].startswith("bucket unreachable (")
    assert str(port) not in checks["storage"]
