"""`sanxiang serve --workers N`: gunicorn as a real subprocess (Linux).

The server runs on its own SQLite file in a temporary data directory with
the demo's regions, agencies, officers and logins (`sanxiang loaddemo`),
whatever database the rest of the suite uses. Uploads through it are tested
in sanxiang/evidence/tests/test_upload_production_server.py."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from sanxiang.conftest import free_port
from sanxiang.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux/Unix only")


def server_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0", SANXIANG_REQUIRE_TOTP="0",
               PYTHONUNBUFFERED="1")
    return env


def start(data_dir: Path, *args: str) -> tuple[subprocess.Popen, int, list[str]]:
    """`sanxiang serve ARGS` on a free port; returns once it printed its
    "Serving on" line (the lines before it are returned too)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--port", str(port), *args],
                            env=server_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Serving on"):
            return proc, port, lines
        if time.monotonic() > deadline:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("the server did not announce itself:\n" + "".join(lines))


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("serve-production") / "data"
    data_dir.mkdir()
    env = server_env(data_dir)
    subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "sanxiang", "loaddemo"], env=env, check=True, capture_output=True)
    return data_dir


@pytest.fixture(scope="module")
def production(demo_dir):
    proc, port, lines = start(demo_dir, "--workers", "2", "--threads", "2")
    yield proc, f"http://127.0.0.1:{port}", lines
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serve_with_workers_runs_gunicorn_with_that_many_worker_processes(production):
    proc, base, lines = production
    assert lines[-1].strip() == f"Serving on {base}/  (Ctrl+C to stop)"
    response = requests.get(base + "/", timeout=30)
    assert response.status_code == 200 and response.headers["Server"] == "gunicorn"
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(children(proc.pid)) == 2


def test_production_server_serves_public_pages_static_files_and_the_api(production):
    _, base, _ = production
    home = requests.get(base + "/", timeout=30)
    assert home.status_code == 200 and "执法人员清单" in home.text
    officers = requests.get(base + "/api/v1/public/officers?limit=1", timeout=30)
    assert officers.status_code == 200
    officer = officers.json()["items"][0]
    verify = requests.get(f"{base}/verify/{officer['certificate_number']}", timeout=30)
    assert verify.status_code == 200 and officer["name"] in verify.text
    openapi = requests.get(base + "/api/v1/openapi.json", timeout=30)
    assert openapi.status_code == 200 and openapi.json()["openapi"].startswith("3.")
    assert requests.get(base + "/static/sanxiang/site.css", timeout=30).status_code == 200
    refused = requests.get(base + "/api/v1/me", timeout=30)
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("application/json")


def test_a_login_session_holds_across_the_worker_processes(production):
    """Sessions live in the database: requests of one session, spread over
    new connections (any worker), all see the same logged-in user."""
    _, base, _ = production
    session = requests.Session()
    form = session.get(base + "/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(base + "/login/", data={"csrfmiddlewaretoken": token, "username": "officer",
                                                  "password": DEMO_PASSWORD},
                          headers={"Referer": base + "/login/"}, timeout=30, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    for _ in range(6):
        page = requests.get(base + "/workbench/", cookies=session.cookies, timeout=30,
                            headers={"Connection": "close"}, allow_redirects=False)
        assert page.status_code == 200 and "工作台" in page.text
    me = requests.get(base + "/api/v1/me", cookies=session.cookies, timeout=30, headers={"Connection": "close"})
    assert me.status_code == 200 and me.json()["username"] == "officer"


def test_sigterm_stops_the_production_server_gracefully(production):
    """Runs after the tests above on the same server (a second server on
    the same data directory would share its queue and database)."""
    proc, base, _ = production
    assert requests.get(base + "/", timeout=30).status_code == 200
    workers = children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert "Stopped." in proc.stdout.read()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def run_serve(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sanxiang", "serve", *args], env=server_env(data_dir),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers must be 1 or more, not 0"),
    (["--workers", "-3"], "--workers must be 1 or more, not -3"),
    (["--workers", "2", "--threads", "0"], "--threads must be 1 or more, not 0"),
    (["--workers", "2", "--port", "70000"], "--port must be between 1 and 65535, not 70000"),
    (["--port", "0"], "--port must be between 1 and 65535, not 0"),
    (["--workers", "two"], "--workers: invalid int value: 'two'"),
])
def test_bad_serve_flags_are_refused_with_a_clear_error(tmp_path, args, message):
    result = run_serve(*args, data_dir=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_already_taken_is_named_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_serve("--workers", "2", "--port", str(port), data_dir=tmp_path)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Try --port" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_on_windows_say_to_leave_them_out(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(CommandError, match="only on Linux and other Unix systems; on Windows leave out --workers"):
        call_command("serve", "--workers", "2")


def test_workers_without_gunicorn_installed_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gunicorn", None)  # import gunicorn → ImportError
    with pytest.raises(CommandError, match="--workers needs gunicorn, which is not installed: pip install gunicorn"):
        call_command("serve", "--workers", "2")


def test_a_worker_forked_while_the_queue_storage_was_in_use_gets_its_own(tmp_path):
    """gunicorn forks its workers from the master, where the embedded
    consumer's threads hold the queue storage's lock at any moment. A child
    forked while that lock is held hangs on its first queue call unless it
    takes a storage of its own (queue.reset_after_fork, serve's post_fork)."""
    import threading

    from django.conf import settings

    from sanxiang.core import queue

    # The hazard is the SQLite storage's (one connection behind one lock per
    # process): this test takes one whatever SANXIANG_QUEUE_URL says (the
    # PostgreSQL pass runs the suite on Redis, whose storage has no such lock).
    queue.use_storage(f"sqlite:///{tmp_path}/queue.sqlite3", "sx-fork-test")

    def child_exit_status(reset: bool) -> int | None:
        holding, release = threading.Event(), threading.Event()

        def consumer_thread():
            with queue.huey.storage.lock:
                holding.set()
                release.wait()

        thread = threading.Thread(target=consumer_thread, daemon=True)
        thread.start()
        assert holding.wait(timeout=30), "the consumer thread never took the storage's lock"
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                if reset:
                    queue.reset_after_fork()
                queue.pending_count()
            finally:
                os._exit(0)
        release.set()
        thread.join()
        deadline = time.monotonic() + (30 if reset else 5)
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None  # hung

    try:
        assert child_exit_status(reset=True) == 0
        assert child_exit_status(reset=False) is None  # the hazard the reset removes
    finally:
        queue.use_storage(settings.QUEUE_URL, settings.QUEUE_NAME)
