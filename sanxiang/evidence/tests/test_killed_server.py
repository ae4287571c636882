"""A server killed (SIGKILL) in the middle of a PATCH leaves no evidence
item and no object in the store, only a partial in the uploads directory;
the restarted server resumes the upload from what was durably stored.

Runs the real `sanxiang serve` (waitress) in a subprocess on its own SQLite
file, whatever database the rest of the suite uses."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import metadata_header, mp4_bytes, sha256_hex

from sanxiang.conftest import free_port

MB = 1024 * 1024


def server_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0", SANXIANG_EVIDENCE_BACKEND="local",
               PYTHONUNBUFFERED="1")
    return env


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--port", str(port), "--jobs-interval", "0"],
                            env=server_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read())
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


FIXTURE_WORLD = "import django; django.setup(); from sanxiang.evidence.fixtures import main; main()"


@pytest.fixture
def server_world(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir)
    subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], env=env, check=True)
    out = subprocess.run([sys.executable, "-c", FIXTURE_WORLD], env={"DJANGO_SETTINGS_MODULE": "sanxiang.settings", **env},
                         check=True, capture_output=True, text=True).stdout
    return data_dir, json.loads(out.strip().splitlines()[-1])


def evidence_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "sanxiang.sqlite3") as db:
        return db.execute("SELECT count(*) FROM evidence_evidenceitem").fetchone()[0]


def stored_objects(data_dir: Path) -> list[Path]:
    root = data_dir / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_server_killed_mid_patch_leaves_no_item_and_no_object(server_world):
    data_dir, world = server_world
    data = mp4_bytes(6 * MB, seed=11)
    port = free_port()
    proc = start_server(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    headers = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {world['token']}"}
    try:
        r = requests.post(f"{base}/api/v1/uploads/", headers={
            **headers, "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata_header(case=world["case"], step=world["step"], sha256=sha256_hex(data))})
        assert r.status_code == 201, r.text
        url = r.headers["Location"]
        r = requests.patch(url, data=data[:MB], headers={**headers, "Upload-Offset": "0",
                                                          "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 204 and r.headers["Upload-Offset"] == str(MB)
        # The second PATCH announces 5 MB, sends 2 MB, and the server dies.
        path = url.split(str(port), 1)[1]
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall((f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                      f"Authorization: Bearer {world['token']}\r\nUpload-Offset: {MB}\r\n"
                      f"Content-Type: application/offset+octet-stream\r\nContent-Length: {5 * MB}\r\n\r\n").encode())
        sock.sendall(data[MB:3 * MB])
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert evidence_rows(data_dir) == 0
    assert stored_objects(data_dir) == []
    partials = list((data_dir / "uploads").glob("*.part"))
    assert len(partials) == 1 and partials[0].stat().st_size >= MB

    # Restarted, the server reports what it durably holds and the upload completes.
    port = free_port()
    proc = start_server(data_dir, port)
    try:
        url = f"http://127.0.0.1:{port}{path}"
        offset = int(requests.head(url, headers=headers).headers["Upload-Offset"])
        assert offset == MB
        r = requests.patch(url, data=data[offset:], headers={**headers, "Upload-Offset": str(offset),
                                                              "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 204, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert evidence_rows(data_dir) == 1
    objects = stored_objects(data_dir)
    assert [p.name for p in objects] == [sha256_hex(data)]
    assert sha256_hex(objects[0].read_bytes()) == sha256_hex(data)
    assert not list((data_dir / "uploads").glob("*.part"))
