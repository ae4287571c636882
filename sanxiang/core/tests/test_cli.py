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
        assert home.text.count('class="result"') == 10  # the latest published demo decisions
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


def test_createuser_and_token_commands(world, monkeypatch):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from sanxiang.core.models import AuditEntry, User

    monkeypatch.setenv("SANXIANG_NEW_PASSWORD", "a-long-enough-pass-42")
    out = StringIO()
    call_command("createuser", "--username", "head_lunan", "--role", "agency_head",
                 "--agency", world.amr_lunan.credit_code, stdout=out)
    user = User.objects.get(username="head_lunan")
    assert user.agency == world.amr_lunan and user.check_password("a-long-enough-pass-42")
    with pytest.raises(CommandError, match="该角色必须属于一个执法部门"):
        call_command("createuser", "--username", "nobody", "--role", "officer")
    with pytest.raises(CommandError, match="--agency"):
        call_command("createuser", "--username", "x", "--role", "officer", "--agency", "91350100M000100Y43")

    out = StringIO()
    call_command("token", "create", "--agency", world.amr_lunan.credit_code, "--name", "办案系统", stdout=out)
    clear = out.getvalue().strip().splitlines()[-1]
    assert clear.startswith("sx_")
    prefix = clear[3:].split("_")[0]
    call_command("token", "revoke", prefix, stdout=StringIO())
    assert AuditEntry.objects.filter(action="api_token.revoke").exists()


def test_role_change_is_audited_and_moves_the_scope(world):
    from sanxiang.core import selectors, services
    from sanxiang.core.models import AuditEntry

    assert not selectors.officers_for(user=world.u_changan).filter(pk=world.lunan_officer.pk).exists()
    services.set_user_role(actor=world.u_admin, user=world.u_changan, role="legal_supervisor",
                           region=world.ts, agency=world.legal_ts)
    assert selectors.officers_for(user=world.u_changan).filter(pk=world.lunan_officer.pk).exists()
    entry = AuditEntry.objects.filter(action="user.role_change").latest("seq")
    assert entry.actor == "sysadmin" and '"role":"officer"' in entry.payload and '"role":"legal_supervisor"' in entry.payload
