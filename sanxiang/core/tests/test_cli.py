"""The `sanxiang` command as a user runs it: help, the production guard, and
`sanxiang demo` from an empty directory to a served platform."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SANXIANG_DATA_DIR", "DJANGO_SETTINGS_MODULE"}}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_the_commands_in_plain_words():
    out = subprocess.run(["sanxiang", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("demo", "serve", "migrate", "createuser", "audit verify", "audit checkpoint", "calendar load"):
        assert command in out


def test_production_mode_refuses_the_default_secret(tmp_path):
    r = subprocess.run(["sanxiang", "migrate"], capture_output=True, text=True, cwd=tmp_path,
                       env=clean_env(SANXIANG_ENV="production"))
    assert r.returncode == 2
    assert "SANXIANG_SECRET_KEY" in r.stderr and "Traceback" not in r.stderr


def test_demo_starts_from_an_empty_directory_and_serves_the_key_pages(tmp_path):
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "demo", "--port", str(port)], cwd=tmp_path,
                            env=clean_env(PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if "Serving on" in line:
                break
            assert time.monotonic() - started < 180, "demo did not start within 180 s:\n" + "".join(output)
        assert proc.poll() is None, "".join(output)
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/" in text
        for username in ("officer", "reviewer", "head", "publicity", "legal_hebei", "admin"):
            assert f" {username} " in text
        base = f"http://127.0.0.1:{port}"
        home = requests.get(base + "/", timeout=10)
        assert home.status_code == 200 and "执法人员清单" in home.text
        officer = requests.get(base + "/api/v1/public/officers?limit=1", timeout=10).json()["items"][0]
        verify = requests.get(f"{base}/verify/{officer['certificate_number']}", timeout=10)
        assert verify.status_code == 200 and officer["name"] in verify.text
        openapi = requests.get(base + "/api/v1/openapi.json", timeout=10)
        assert openapi.status_code == 200 and openapi.json()["openapi"].startswith("3.")
        css = requests.get(base + "/static/sanxiang/site.css", timeout=10)
        assert css.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    db = tmp_path / "sanxiang-data" / "sanxiang.sqlite3"
    assert db.exists()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # Running it again is safe: nothing is loaded twice.
    again = subprocess.run([sys.executable, "-m", "sanxiang", "demo", "--no-serve"], cwd=tmp_path, env=clean_env(),
                           capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "already present" in again.stdout
