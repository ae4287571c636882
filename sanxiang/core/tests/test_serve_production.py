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

from sanxiang.conftest import free_port, process_gone
from sanxiang.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux/Unix only")


def server_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0", SANXIANG_REQUIRE_TOTP="0",
               PYTHONUNBUFFERED="1")
    return env


def start(data_dir: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, int, list[str]]:
    """`sanxiang serve ARGS` on a free port (``env``: instead of
    server_env(data_dir)); returns once it printed its "Serving on" line
    (the lines before it are returned too)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--port", str(port), *args],
                            env=env or server_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
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
    while len(_gunicorn_workers(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_gunicorn_workers(proc.pid)) == 2


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
    # Said once, by the master: a gunicorn worker leaving never runs the
    # master's code after gunicorn's run (it used to, and hung there).
    assert proc.stdout.read().count("Stopped.") == 1
    assert all(process_gone(pid) for pid in workers)


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


# --- the job queue's worker of a gunicorn master on the embedded SQLite queue ---------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _gunicorn_workers(master: int) -> list[int]:
    """The gunicorn workers of a `serve --workers` master (the job queue's
    `sanxiang worker` child of the embedded SQLite queue aside)."""
    return [pid for pid in children(master) if " worker " not in _cmdline(pid)]


def _sqlite_files_open(pid: int) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if ".sqlite3" in target:
            found.append(target)
    return found


def _wait_until(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _queue_worker(master: int) -> int | None:
    return next((pid for pid in children(master) if " worker " in _cmdline(pid)), None)


@pytest.fixture
def sqlite_queue_server(tmp_path):
    """`sanxiang serve --workers 2` on its own migrated data directory and
    its embedded SQLite job queue (whatever queue this test run uses)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir)
    env.pop("SANXIANG_QUEUE_URL", None)
    env["SANXIANG_QUEUE_NAME"] = f"serve-{os.getpid()}-{os.urandom(4).hex()}"
    subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], env=env, check=True)
    proc, port, _ = start(data_dir, "--workers", "2", "--threads", "2", env=env)
    try:
        yield proc, data_dir, env
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_gunicorn_master_on_the_sqlite_queue_runs_its_consumer_in_a_worker_child_and_keeps_no_sqlite_file_open(
        sqlite_queue_server):
    """A gunicorn worker forked while any thread of the master is inside an
    SQLite write transaction can never write that file again (see the next
    test). So the master runs no consumer thread: a `sanxiang worker` child
    consumes the queue (a task enqueued here runs there and records its
    failure in the server's database), and the master holds no SQLite file
    open once it serves."""
    import sqlite3

    from sanxiang.core import queue
    from sanxiang.evidence import tasks as evidence_tasks

    proc, data_dir, env = sqlite_queue_server
    _wait_until(lambda: _queue_worker(proc.pid), "the queue worker child")
    _wait_until(lambda: len(_gunicorn_workers(proc.pid)) == 2,
                "two gunicorn workers")
    assert _sqlite_files_open(proc.pid) == []

    queue.use_storage(f"sqlite:///{data_dir}/queue.sqlite3", env["SANXIANG_QUEUE_NAME"])
    try:
        queue.enqueue(evidence_tasks.build_archive.s(987654, actor_name="system:test", retries=0))
    finally:
        from django.conf import settings
        queue.use_storage(settings.QUEUE_URL, settings.QUEUE_NAME)

    def failure_recorded():
        with sqlite3.connect(data_dir / "sanxiang.sqlite3", timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM core_failedtask WHERE name = 'evidence.build_archive'").fetchone()[0]

    _wait_until(failure_recorded, "the worker child to run the task")


def test_the_queue_worker_child_is_restarted_when_killed_and_ends_with_its_master(sqlite_queue_server):
    proc, _, _ = sqlite_queue_server
    first = _wait_until(lambda: _queue_worker(proc.pid), "the queue worker child")
    os.kill(first, signal.SIGKILL)
    assert process_gone(first)
    second = _wait_until(lambda: (pid := _queue_worker(proc.pid)) and pid != first and pid, "a new queue worker")
    gunicorn_workers = [pid for pid in children(proc.pid) if pid != second]
    assert gunicorn_workers
    proc.kill()  # the master, outright: nothing stops its children in order
    proc.wait()
    assert process_gone(second, timeout=10)
    # gunicorn's workers notice their master is gone and end, releasing the
    # port for the restarted server (they used to hang on their way out).
    assert all(process_gone(pid, timeout=30) for pid in gunicorn_workers)


def test_a_fork_of_the_master_waits_while_the_queue_worker_is_being_spawned():
    """A gunicorn worker forked while the supervising thread is inside
    Popen would inherit the write end of Popen's exec-report pipe and keep
    Popen from ever returning (the queue worker then is never restarted).
    So, in a master that supervises a queue worker, os.fork() waits for a
    spawn in progress. Checked in a fresh interpreter: the fork hook is for
    the life of the process."""
    script = """
import os, threading, time
from sanxiang.core.management.commands.serve import QueueWorkerProcess
QueueWorkerProcess._guard_forks()
QueueWorkerProcess._guard_forks()  # registered once, whatever the number of calls
held = threading.Event()
def spawn():
    with QueueWorkerProcess._spawn_guard:
        held.set()
        time.sleep(1.0)
threading.Thread(target=spawn).start()
held.wait()
began = time.monotonic()
pid = os.fork()
if pid == 0:
    os._exit(0 if QueueWorkerProcess._spawn_guard.acquire(timeout=5) else 1)
waited = time.monotonic() - began
_, status = os.waitpid(pid, 0)
assert QueueWorkerProcess._spawn_guard.acquire(timeout=5), "the parent's guard was left held"
print(f"{waited:.2f} {os.waitstatus_to_exitcode(status)}")
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sanxiang.settings"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    waited, child_status = done.stdout.split()
    assert float(waited) >= 0.9  # the fork waited for the spawn to end
    assert child_status == "0"  # and the child can take the guard (it is not inherited held)


def test_why_a_worker_is_never_forked_from_a_process_inside_an_sqlite_write(tmp_path):
    """The hazard itself, on this machine's SQLite: a process forked while
    its parent held a write transaction cannot write the file even after
    the parent committed (SQLite's in-process lock bookkeeping is copied
    into the child, the lock it records is never released there)."""
    import sqlite3

    path = tmp_path / "hazard.sqlite3"
    parent = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    parent.execute("pragma journal_mode=wal")
    parent.execute("create table t (x)")
    read_end, write_end = os.pipe()
    parent.execute("begin exclusive")
    pid = os.fork()
    if pid == 0:  # the "worker"
        os.close(read_end)
        time.sleep(0.3)  # the parent has committed by now
        try:
            child = sqlite3.connect(path, timeout=1, isolation_level=None)
            child.execute("insert into t values (1)")
            os.write(write_end, b"wrote")
        except sqlite3.OperationalError as exc:
            os.write(write_end, str(exc).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    parent.execute("commit")
    os.waitpid(pid, 0)
    assert os.read(read_end, 200) == b"database is locked"
    parent.execute("insert into t values (2)")  # the parent itself is fine


# --- connections spread over the workers ----------------------------------------------


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _server_side_inodes(port: int, client_ports: set[int]) -> set[str]:
    """The inodes of the server's ends of the connections from
    `client_ports` to `port` (/proc/net/tcp: local port `port`, remote port
    one of ours)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) in client_ports:
            found.add(inode)
    return found


def test_a_worker_takes_a_new_connection_only_while_one_of_its_threads_is_free(demo_dir):
    """Two workers of one thread each, four connections opened one after
    the other without a request yet (a new connection holds a thread while
    gunicorn waits for its first bytes): each worker holds exactly one, the
    other two wait in the kernel's queue instead of piling up on the worker
    that woke first; once requests are sent, all four are answered."""
    proc, port, _ = start(demo_dir, "--workers", "2", "--threads", "1")
    sockets = []
    try:
        workers = _wait_until(lambda: len(found := _gunicorn_workers(proc.pid)) == 2 and found, "two gunicorn workers")
        for _ in range(4):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=30))
            time.sleep(0.3)
        ours = {s.getsockname()[1] for s in sockets}
        held = {pid: len(_socket_inodes(pid) & _server_side_inodes(port, ours)) for pid in workers}
        assert sorted(held.values()) == [1, 1], held
        for s in sockets:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        for s in sockets:
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
            assert answer.split()[1] == b"200", answer[:200]
    finally:
        for s in sockets:
            s.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
