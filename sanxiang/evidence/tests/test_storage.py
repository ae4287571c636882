"""One storage contract, two backends: the local directory and an
S3-compatible store (a real moto server on localhost, no mocking)."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from sanxiang.evidence.hashing import hash_stream
from sanxiang.evidence.storage import LocalStorage, ObjectMissing, S3Storage

from .conftest import sha256_hex

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_s3(endpoint: str, bucket: str) -> S3Storage:
    storage = S3Storage(bucket=bucket, endpoint_url=endpoint, access_key="testing", secret_key="testing",
                        region="us-east-1", prefix="evidence/", create_bucket=True)
    storage.PART_SIZE = 5 * MB  # S3's smallest part: exercises multipart on a 12 MB file
    from boto3.s3.transfer import TransferConfig

    storage.transfer = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    return storage


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    endpoint = request.getfixturevalue("moto_endpoint")
    return make_s3(endpoint, f"sx-{request.node.name.lower().replace('[', '-').replace(']', '')[:40]}")


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_open_exists_size_delete_iter(storage, tmp_path):
    data = os.urandom(12 * MB + 5)  # multipart on S3
    sha = sha256_hex(data)
    assert not storage.exists(sha)
    assert storage.put_file(write(tmp_path, "a", data), sha) is True
    assert storage.exists(sha) and storage.size(sha) == len(data)
    with storage.open(sha) as fh:
        assert hash_stream(fh) == (sha, len(data))
    with storage.open(sha, 100, 200) as fh:
        assert fh.read() == data[100:200]
    with storage.open(sha, len(data) - 10) as fh:
        assert fh.read() == data[-10:]
    assert list(storage.iter_all()) == [sha]
    storage.delete(sha)
    storage.delete(sha)  # idempotent
    assert not storage.exists(sha) and list(storage.iter_all()) == []
    with pytest.raises(ObjectMissing):
        storage.open(sha)
    with pytest.raises(ObjectMissing):
        storage.size(sha)


def test_same_content_is_stored_once(storage, tmp_path):
    data = b"the same photo"
    sha = sha256_hex(data)
    assert storage.put_file(write(tmp_path, "a", data), sha) is True
    assert storage.put_file(write(tmp_path, "b", data), sha) is False
    assert list(storage.iter_all()) == [sha]


def test_names_must_be_sha256(storage):
    with pytest.raises(ValueError):
        storage.exists("../../etc/passwd")


def test_local_objects_are_fanned_out_read_only_and_leave_no_temp_files(tmp_path):
    store = LocalStorage(tmp_path / "store")
    data = b"x" * 1000
    sha = sha256_hex(data)
    source = write(tmp_path, "upload.part", data)
    store.put_file(source, sha)
    path = tmp_path / "store" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not source.exists()  # same disk: moved, not copied
    assert [p.name for p in path.parent.iterdir()] == [sha]


def test_s3_objects_live_under_their_hash_in_the_bucket(moto_endpoint, tmp_path):
    store = make_s3(moto_endpoint, "sx-layout")
    data = b"recorder clip"
    sha = sha256_hex(data)
    store.put_file(write(tmp_path, "a", data), sha)
    keys = [o["Key"] for o in store.client.list_objects_v2(Bucket="sx-layout")["Contents"]]
    assert keys == [f"evidence/{sha}"]


def test_the_configured_backend_is_s3_when_settings_say_so(moto_endpoint, settings, tmp_path):
    from sanxiang.evidence.storage import get_storage

    settings.EVIDENCE_BACKEND = "s3"
    settings.EVIDENCE_S3 = {"endpoint_url": moto_endpoint, "bucket": "sx-settings", "access_key": "k", "secret_key": "s",
                            "region": "us-east-1", "prefix": "ev/"}
    store = get_storage()
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    data = b"via settings"
    store.put_file(write(tmp_path, "a", data), sha256_hex(data))
    assert store.exists(sha256_hex(data))
