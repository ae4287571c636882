"""Cluster benchmark: the production topology on this machine, under a mixed
load and a fault (issue 12 item 6; docs/cluster-bench.md).

`run_cluster_bench(duration=300, ...)`:

1. starts, each as a subprocess in its own process group with its log in a
   temporary directory: a fresh PostgreSQL database (127.0.0.1:5432, a copy
   of an empty database that `sanxiang migrate` brought to the source's
   migrations, made once per migration state; dropped at the end unless
   ``keep``), the job queue on Redis (127.0.0.1:6379 db 4, or the URL in
   SANXIANG_BENCH_REDIS_URL, under a queue
   name unique to the run), an S3-compatible store (moto's server, bucket
   created at start), then a world (one agency with automatic publication, an
   officer who logs in, an open case with a step, a push token and an
   upload token; bench/cluster_world.py), two web processes
   (`sanxiang serve --workers 1` on two ports, one shared data directory,
   SANXIANG_ENV=production) and two workers (`sanxiang worker`);
2. drives for ``duration`` seconds a mixed load, every client spreading its
   requests over both web ports and failing over to the other when one
   refuses: pushes of generated decisions (POST /api/v1/publicity/decisions
   in batches, each record with a unique key, a batch retried unchanged on
   a timeout, a dropped connection or a 5xx, as a case system does), public
   portal searches, tus uploads of big files two at a time (resumed with
   HEAD and PATCH from the server's offset after a failure) and an
   officer's page views (工作台, case list, case page);
3. at ``kill_at`` of the run SIGKILLs one web process and one worker (their
   whole process group, as systemd's KillMode=control-group leaves nothing
   behind) and restarts each after 2-5 s (Restart=always);
4. stops the load, lets unfinished pushes and uploads complete, waits for
   the queue to drain (bounded), and checks: every pushed record stored
   exactly once (count by key, no second version, and a hash over the
   stored fields equal to the hash over what was sent), every upload
   completed with its evidence item and the object in S3 whose SHA-256 is
   the declared one, the queue drained, `sanxiang audit verify` passes;
   search p95 over the run; 5xx responses (a connection refused or reset by
   the killed process is counted apart, as ``connection_errors``).

The last stdout line is one JSON object, also written to
bench/results/cluster-postgresql.json. Progress goes to stderr every few
seconds. Every process started is stopped, also on Ctrl+C or a failure.
Timing never decides a test.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/4"
# Another Redis database for the run's queue (e.g. redis://127.0.0.1:6379/5):
# the bench's own environment variable, never passed to the processes it starts.
REDIS_URL_VARIABLE = "SANXIANG_BENCH_REDIS_URL"
BUCKET = "sanxiang-cluster"
SEND_BLOCK = MB
# Fields of a pushed record compared with what is stored (Decision.data).
SEARCH_TERMS = ["罚款", "食品", "广告", "有限公司", "市场监督", "保质期", "王", "张", "李", "明码标价", "不合格产品",
                "许可", "石家庄", "长安区", "警告", "虚假广告"]
SEARCH_FILTERS = ["", "", "", "&kind=penalty", "&kind=license", "&region=130102", "&sort=date"]
PAGE_VIEWS = ["/workbench/", "/workbench/cases/", "/workbench/cases/{case}/"]


def as_stored(rec: dict) -> dict:
    """A record as sent, with money in fen as the platform stores it
    (``fine_yuan`` "12000.50" → ``fine_fen`` 1200050; intake keeps the
    other fields of these generated records as they are)."""
    from decimal import Decimal

    out = dict(rec)
    for kind in ("fine", "confiscation"):
        if f"{kind}_yuan" in out:
            out[f"{kind}_fen"] = int(Decimal(str(out.pop(f"{kind}_yuan"))) * 100)
    return out


def record_digest(rec: dict, keys) -> str:
    """SHA-256 over the record's fields named by ``keys`` (canonical JSON,
    values as text): the same function for what was sent and what is
    stored."""
    picked = {k: str(rec.get(k)) if not isinstance(rec.get(k), (list, bool)) else rec.get(k) for k in sorted(keys)}
    return hashlib.sha256(json.dumps(picked, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def digest_of_all(digests: dict[str, str]) -> str:
    """One SHA-256 over every (key, record digest), in key order."""
    h = hashlib.sha256()
    for key in sorted(digests):
        h.update(f"{key}\t{digests[key]}\n".encode("utf-8"))
    return h.hexdigest()


def say(message: str) -> None:
    sys.stderr.write(f"[{datetime.now(timezone.utc):%H:%M:%S}Z] {message}\n")
    sys.stderr.flush()


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- statistics shared by the load threads ----------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.search_ms: list[float] = []
        self.page_ms: list[float] = []
        self.push_ms: list[float] = []
        self.errors_5xx: list[str] = []
        self.client_errors: list[str] = []

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def get(self, name: str) -> int:
        return self.counts.get(name, 0)

    def server_error(self, what: str, status: int, body: bytes | str = b"") -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        with self.lock:
            self.errors_5xx.append(f"{what}: {status} {text[:200]}")

    def client_error(self, what: str, status: int, body: bytes | str = b"") -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        with self.lock:
            self.client_errors.append(f"{what}: {status} {text[:300]}")


class Ports:
    """The web ports; each client takes them in turn and moves to the next
    one when a port refuses (what a load balancer's health check does)."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self._n = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._n += 1
            return self.ports[self._n % len(self.ports)]

    def other(self, port: int) -> int:
        return self.ports[(self.ports.index(port) + 1) % len(self.ports)]


def _plain_http_cookies(session) -> None:
    """Production cookies are Secure (TLS ends at nginx in front of the web
    processes); the bench talks plain HTTP to them, so it keeps sending the
    cookies it got (a session refreshed by the idle timeout is set again)."""
    for cookie in session.cookies:
        cookie.secure = False


def _is_refused(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, ConnectionRefusedError):
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
    return False


# --- processes -------------------------------------------------------------------------


class Service:
    """One subprocess in its own process group, its output appended to a log."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, *, ready: str | None = None,
                 port: int | None = None):
        self.name, self.argv, self.env, self.log, self.ready, self.port = name, argv, env, log, ready, port
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 120) -> None:
        self.starts += 1
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            out.write(f"\n=== start {self.starts} at {datetime.now(timezone.utc).isoformat(timespec='seconds')}: "
                      f"{' '.join(self.argv)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        if self.ready is None and self.port is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.log}\n{self.tail()}")
            if self.ready is not None:
                with open(self.log, "rb") as fh:
                    fh.seek(offset)
                    if self.ready.encode() in fh.read():
                        return
            elif self.port is not None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f} s; log: {self.log}\n{self.tail()}")

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (what systemd leaves of a unit
        whose main process was killed: nothing)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self, grace: float = 10) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group, the leader included
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- where the CPU went -------------------------------------------------------------------


class CpuMeter:
    """CPU seconds used while the load ran, by part of the topology: each
    service's process group (all its processes; a process killed keeps its
    last sample), the PostgreSQL backends of the run's database, this load
    generator, and the whole machine (/proc/stat: also what else ran).
    /proc is read every ``interval`` seconds by a thread of its own."""

    def __init__(self, services: list[Service], database: str, interval: float = 2.0):
        self.services, self.database, self.interval = services, database, interval
        self.tick = os.sysconf("SC_CLK_TCK")
        self.groups: dict[int, str] = {}  # process group -> service name (restarts add groups)
        self.base: dict[tuple[int, str], float] = {}
        self.last: dict[tuple[int, str], tuple[str, float]] = {}
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.machine_start = self.process_start = 0.0

    @staticmethod
    def _machine_busy() -> float:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait

    def _sample(self) -> dict[tuple[int, str], tuple[str, float]]:
        for s in self.services:
            if s.proc is not None:
                self.groups[s.proc.pid] = s.name
        seen = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
                comm = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                group = self.groups.get(int(fields[2]))
                if group is None and comm == "postgres":
                    with open(f"/proc/{entry}/cmdline", "rb") as fh:
                        if f" {self.database} ".encode() in fh.read().replace(b"\0", b" "):
                            group = "postgresql"
                if group is None:
                    continue
                # (pid, start time) names a process even if the pid is reused
                seen[(int(entry), fields[19])] = (group, (int(fields[11]) + int(fields[12])) / self.tick)
            except (OSError, ValueError, IndexError):
                continue  # the process ended while being read
        return seen

    def start(self) -> None:
        self.base = {k: v for k, (_, v) in self._sample().items()}
        self.machine_start, self.process_start = self._machine_busy(), sum(os.times()[:2])
        self.thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self.last.update(self._sample())

    def finish(self, duration: float) -> dict:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        self.last.update(self._sample())
        used: dict[str, float] = {}
        for key, (group, cpu) in self.last.items():
            used[group] = used.get(group, 0.0) + cpu - self.base.get(key, 0.0)
        used["load_generator"] = sum(os.times()[:2]) - self.process_start
        machine = self._machine_busy() - self.machine_start
        out = {k: round(v, 1) for k, v in sorted(used.items())}
        out["machine_busy"] = round(machine, 1)
        out["machine_capacity"] = round((os.cpu_count() or 1) * duration, 1)
        out["outside_the_run"] = round(machine - sum(used.values()), 1)
        return out


# --- the load -------------------------------------------------------------------------


class Load:
    """The clients. ``stop`` ends the generation of new work; ``finish``
    (later) ends the retries of work already started."""

    def __init__(self, *, ports: Ports, world: dict, records: list[dict], stats: Stats, duration: float,
                 push_rate: float, batch: int, push_timeout: float, search_rate: float, view_rate: float,
                 upload_size: int, upload_chunk: int, uploaders: int, run_id: str):
        self.ports, self.world, self.records, self.stats = ports, world, records, stats
        self.duration, self.push_rate, self.batch, self.push_timeout = duration, push_rate, batch, push_timeout
        self.search_rate, self.view_rate = search_rate, view_rate
        self.upload_size, self.upload_chunk, self.uploaders, self.run_id = upload_size, upload_chunk, uploaders, run_id
        self.stop = threading.Event()
        self.finish = threading.Event()
        self.started = 0.0
        self._next_batch = 0
        self._batch_lock = threading.Lock()
        self.sent_keys: set[str] = set()
        self.acked_keys: set[str] = set()
        self.rejected: dict[str, list] = {}
        self.uploads: list[dict] = []
        self.uploads_lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self._base = None
        self._base_hasher = None

    # -- common
    def _headers(self, token: str | None = None) -> dict:
        h = {"User-Agent": "sanxiang-cluster-bench"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return h

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> None:
        self.started = time.monotonic()
        pushers = max(2, int(self.push_rate / self.batch * 2) + 1)
        for i in range(min(pushers, 6)):
            self.threads.append(threading.Thread(target=self._pusher, name=f"push-{i}", daemon=True))
        # portal visitors arrive on their own: enough concurrent clients that
        # slow answers do not lower the offered rate much
        searchers = max(1, min(8, int(self.search_rate / 3) + 1))
        for i in range(searchers):
            self.threads.append(threading.Thread(target=self._searcher, args=(i, searchers), name=f"search-{i}",
                                                 daemon=True))
        if self.view_rate > 0:
            self.threads.append(threading.Thread(target=self._viewer, name="views", daemon=True))
        if self.uploaders and self.upload_size:
            self._base = os.urandom(self.upload_size - 64)
            self._base_hasher = hashlib.sha256(self._base)
            for i in range(self.uploaders):
                self.threads.append(threading.Thread(target=self._uploader, args=(i,), name=f"upload-{i}", daemon=True))
        for t in self.threads:
            t.start()

    # -- pushes
    def _take_batch(self) -> tuple[int, list[dict]] | None:
        with self._batch_lock:
            k = self._next_batch
            start = k * self.batch
            if start >= len(self.records):
                return None
            self._next_batch += 1
        return k, self.records[start:start + self.batch]

    def _pusher(self) -> None:
        import requests

        session = requests.Session()
        while not self.stop.is_set():
            taken = self._take_batch()
            if taken is None:
                self.stats.add("push_records_exhausted")
                return
            k, chunk = taken
            due = k * self.batch / self.push_rate
            wait = due - self._elapsed()
            if wait > 0 and self.stop.wait(wait):
                return  # due after the end of the run: never sent
            if self._elapsed() > self.duration:
                return
            self._push(session, chunk)

    def _push(self, session, chunk: list[dict]) -> None:
        import requests

        body = json.dumps({"records": chunk}, ensure_ascii=False).encode("utf-8")
        keys = [r["external_id"] for r in chunk]
        with self.stats.lock:
            self.sent_keys.update(keys)
        headers = {**self._headers(self.world["push_token"]), "Content-Type": "application/json"}
        port = self.ports.next()
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.stats.add("push_retries")
                if self.finish.is_set():
                    self.stats.add("push_batches_abandoned")
                    return
                time.sleep(min(5.0, 0.2 * 2 ** min(attempt - 2, 5)) * random.uniform(0.7, 1.3))
            started = time.perf_counter()
            try:
                response = session.post(f"http://127.0.0.1:{port}/api/v1/publicity/decisions", data=body,
                                        headers=headers, timeout=self.push_timeout)
            except requests.Timeout:
                self.stats.add("push_timeouts")
                port = self.ports.other(port)
                continue
            except requests.ConnectionError as exc:
                self.stats.add("connection_refused" if _is_refused(exc) else "connection_errors")
                port = self.ports.other(port)
                continue
            if response.status_code >= 500:
                self.stats.server_error("push", response.status_code, response.content)
                port = self.ports.other(port)
                continue
            if response.status_code in (423, 429):
                continue
            if response.status_code != 200:
                self.stats.client_error("push", response.status_code, response.content)
                return
            with self.stats.lock:
                self.stats.push_ms.append((time.perf_counter() - started) * 1000)
            results = response.json()["results"]
            ok = [r["external_id"] for r in results if r["status"] in ("created", "unchanged", "corrected")]
            bad = [r for r in results if r["status"] not in ("created", "unchanged", "corrected")]
            with self.stats.lock:
                self.acked_keys.update(ok)
                for r in bad:
                    self.rejected[r["external_id"]] = r["errors"]
            self.stats.add("push_batches")
            self.stats.add("push_created", sum(1 for r in results if r["status"] == "created"))
            self.stats.add("push_unchanged", sum(1 for r in results if r["status"] == "unchanged"))
            if bad:
                self.stats.add("push_rejected", len(bad))
            return

    # -- public searches
    def _searcher(self, index: int, of: int) -> None:
        import requests

        session = requests.Session()
        rng = random.Random(1000 + index)
        interval = of / self.search_rate
        n = 0
        while not self.stop.is_set():
            due = (n + index / of) * interval
            n += 1
            wait = due - self._elapsed()
            if wait > 0 and self.stop.wait(wait):
                return
            q = quote(rng.choice(SEARCH_TERMS)) + rng.choice(SEARCH_FILTERS)
            self._get(session, f"/decisions/?q={q}", "search", self.stats.search_ms)

    def _get(self, session, path: str, what: str, latencies: list, *, allow_login_redirect: bool = False) -> None:
        import requests

        port = self.ports.next()
        for attempt in range(4):
            started = time.perf_counter()
            try:
                response = session.get(f"http://127.0.0.1:{port}{path}", timeout=30, allow_redirects=False,
                                       headers=self._headers())
            except requests.Timeout:
                self.stats.add(f"{what}_timeouts")
                return
            except requests.ConnectionError as exc:
                self.stats.add("connection_refused" if _is_refused(exc) else "connection_errors")
                port = self.ports.other(port)
                continue
            ms = (time.perf_counter() - started) * 1000
            _plain_http_cookies(session)
            if response.status_code >= 500:
                self.stats.server_error(what, response.status_code, response.content)
                return
            if response.status_code != 200:
                self.stats.client_error(f"{what} {path}", response.status_code, response.headers.get("Location", ""))
                return
            with self.stats.lock:
                latencies.append(ms)
            self.stats.add(what)
            return
        self.stats.add(f"{what}_gave_up")

    # -- an officer's page views
    def _login(self, session) -> None:
        import requests

        while not self.stop.is_set():
            port = self.ports.next()
            base = f"http://127.0.0.1:{port}"
            try:
                session.get(f"{base}/login/", timeout=30)
                _plain_http_cookies(session)
                response = session.post(f"{base}/login/", timeout=30, allow_redirects=False, data={
                    "username": self.world["username"], "password": self.world["password"], "otp_token": "",
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
                    headers={"Origin": base, "Referer": f"{base}/login/"})
            except requests.ConnectionError:
                time.sleep(0.5)
                continue
            _plain_http_cookies(session)
            if response.status_code == 302 and session.cookies.get("sessionid"):
                self.stats.add("logins")
                return
            raise RuntimeError(f"the officer could not log in: {response.status_code} {response.text[:300]}")

    def _viewer(self) -> None:
        import requests

        session = requests.Session()
        self._login(session)
        interval = 1 / self.view_rate
        n = 0
        while not self.stop.is_set():
            due = n * interval
            wait = due - self._elapsed()
            if wait > 0 and self.stop.wait(wait):
                return
            path = PAGE_VIEWS[n % len(PAGE_VIEWS)].format(case=self.world["case"])
            n += 1
            self._get(session, path, "page_views", self.stats.page_ms)

    # -- tus uploads
    def _content(self, suffix: bytes, start: int, end: int):
        """memoryviews of bytes start..end-1 of base + suffix."""
        base = memoryview(self._base)
        n_base = len(self._base)
        pos = start
        while pos < end:
            if pos < n_base:
                stop = min(end, n_base, pos + SEND_BLOCK)
                yield base[pos:stop]
            else:
                stop = end
                yield memoryview(suffix)[pos - n_base:stop - n_base]
            pos = stop

    def _uploader(self, index: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            suffix = f"{self.run_id}-{index}-{n}".encode().ljust(64, b".")
            hasher = self._base_hasher.copy()
            hasher.update(suffix)
            entry = {"sha256": hasher.hexdigest(), "size": self.upload_size, "id": None, "evidence_id": None,
                     "resumes": 0, "ok": False, "error": ""}
            with self.uploads_lock:
                self.uploads.append(entry)
            try:
                self._upload(entry, suffix)
            except Exception as exc:  # recorded, counted as not ok; the run goes on
                entry["error"] = f"{type(exc).__name__}: {exc}"
                say(f"upload {index}-{n} failed: {entry['error']}")

    def _tus(self, port: int, method: str, path: str, headers: dict, body=None, timeout: float = 120):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {self.world['upload_token']}",
                               **headers}.items():
                conn.putheader(key, value)
            conn.endheaders()
            if body is not None:
                for piece in body:
                    conn.send(piece)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def _upload(self, entry: dict, suffix: bytes) -> None:
        size = entry["size"]
        meta = {"case": str(self.world["case"]), "step": str(self.world["step"]), "sha256": entry["sha256"],
                "filename": f"recording-{entry['sha256'][:8]}.mp4", "category": "scene"}
        metadata = ",".join(f"{k} {b64encode(v.encode()).decode()}" for k, v in meta.items())
        port = self.ports.next()
        # creation: retried (on the other port) until it answers
        while True:
            try:
                status, headers, payload = self._tus(port, "POST", "/api/v1/uploads/",
                                                     {"Upload-Length": str(size), "Upload-Metadata": metadata,
                                                      "Content-Length": "0"})
            except OSError as exc:
                self.stats.add("connection_refused" if isinstance(exc, ConnectionRefusedError) else "connection_errors")
                port = self.ports.other(port)
                if self.finish.wait(0.5):
                    raise RuntimeError("creation never answered") from None
                continue
            if status >= 500:
                self.stats.server_error("upload POST", status, payload)
                port = self.ports.other(port)
                time.sleep(0.5)
                continue
            if status != 201:
                self.stats.client_error("upload POST", status, payload)
                raise RuntimeError(f"creation refused: {status} {payload[:200]!r}")
            break
        location = urlsplit(headers.get("Location") or headers.get("location")).path
        entry["id"] = location.rstrip("/").rsplit("/", 1)[-1]
        self.stats.add("uploads_started")
        offset = 0
        failures = 0
        while True:
            if offset >= size:
                # every byte is in: the evidence item must exist (HEAD names it)
                status, headers, payload = self._head(port, location)
                port = headers.pop("_port")
                if headers.get("Sanxiang-Evidence-Id"):
                    entry["evidence_id"] = int(headers["Sanxiang-Evidence-Id"])
                    entry["ok"] = True
                    self.stats.add("uploads_completed")
                    return
                failures += 1
                if failures > 30:
                    raise RuntimeError("all bytes received but no evidence item (completion lost)")
                time.sleep(2)
                continue
            end = min(size, offset + self.upload_chunk)
            try:
                status, headers, payload = self._tus(
                    port, "PATCH", location,
                    {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                     "Content-Length": str(end - offset)},
                    body=self._content(suffix, offset, end), timeout=300)
            except OSError as exc:
                self.stats.add("connection_refused" if isinstance(exc, ConnectionRefusedError) else "connection_errors")
                failures += 1
                entry["resumes"] += 1
                self.stats.add("upload_resumes")
                port = self.ports.other(port)
            else:
                if status == 204:
                    offset = int(headers["Upload-Offset"])
                    if offset >= size and headers.get("Sanxiang-Evidence-Id"):
                        entry["evidence_id"] = int(headers["Sanxiang-Evidence-Id"])
                        entry["ok"] = True
                        self.stats.add("uploads_completed")
                        return
                    continue
                if status >= 500:
                    self.stats.server_error("upload PATCH", status, payload)
                elif status not in (409, 423):
                    self.stats.client_error("upload PATCH", status, payload)
                    raise RuntimeError(f"PATCH refused: {status} {payload[:200]!r}")
                failures += 1
                entry["resumes"] += 1
                self.stats.add("upload_resumes")
            if failures > 50:
                raise RuntimeError("too many failures")
            time.sleep(min(5.0, 0.5 * failures))
            status, headers, payload = self._head(port, location)
            port = headers.pop("_port")
            offset = int(headers["Upload-Offset"])

    def _head(self, port: int, location: str):
        """HEAD until a web process answers; the headers carry the port that did."""
        for attempt in range(120):
            try:
                status, headers, payload = self._tus(port, "HEAD", location, {}, timeout=60)
            except OSError as exc:
                self.stats.add("connection_refused" if isinstance(exc, ConnectionRefusedError) else "connection_errors")
                port = self.ports.other(port)
                time.sleep(0.5)
                continue
            if status >= 500:
                self.stats.server_error("upload HEAD", status, payload)
                time.sleep(0.5)
                continue
            if status != 200:
                self.stats.client_error("upload HEAD", status, payload)
                raise RuntimeError(f"HEAD refused: {status} {payload[:200]!r}")
            headers["_port"] = port
            return status, headers, payload
        raise RuntimeError("no web process answered HEAD")


# --- the run --------------------------------------------------------------------------


def _pg_connect(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def run_cluster_bench(*, duration: float = 300, push_rate: float = 100, batch: int = 50, search_rate: float = 20,
                      view_rate: float = 3, upload_size: int = 200 * MB, upload_chunk: int = 32 * MB,
                      uploaders: int = 2, kill_at: float = 0.4, port_base: int = 18700, keep: bool = False,
                      push_timeout: float = 15, drain_timeout: float = 120, tail_timeout: float = 300,
                      threads: int = 8) -> dict:
    run_id = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + f"{os.getpid() % 10000:04d}"
    redis_url = os.environ.get(REDIS_URL_VARIABLE) or REDIS_URL
    database = f"sx_cluster_{run_id}"
    queue_name = f"sx-cluster-{run_id}"
    work = Path(tempfile.mkdtemp(prefix="sanxiang-cluster-"))
    logs = work / "logs"
    logs.mkdir()
    data_dir = work / "data"
    data_dir.mkdir()
    s3_port, web_ports = port_base, [port_base + 10, port_base + 11]
    for port in (s3_port, *web_ports):
        if not _port_free(port):
            raise RuntimeError(f"port {port} is taken (another cluster bench running? use --port-base)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SANXIANG_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "SANXIANG_DATA_DIR": str(data_dir), "SANXIANG_ENV": "production",
        "SANXIANG_SECRET_KEY": secrets.token_urlsafe(48), "SANXIANG_SSL_REDIRECT": "0",
        "SANXIANG_ALLOWED_HOSTS": "127.0.0.1,localhost", "SANXIANG_REQUIRE_TOTP": "0",
        "SANXIANG_QUEUE_URL": redis_url, "SANXIANG_QUEUE_NAME": queue_name,
        "SANXIANG_EVIDENCE_BACKEND": "s3", "SANXIANG_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "SANXIANG_S3_BUCKET": BUCKET, "SANXIANG_S3_ACCESS_KEY": "cluster-bench", "SANXIANG_S3_SECRET_KEY": "cluster-bench",
        "SANXIANG_S3_REGION": "us-east-1", "SANXIANG_S3_PREFIX": "evidence/",
        # the queued check that a finished upload was completed: soon, so the
        # queue drains soon after the load stops (default 60 s)
        "SANXIANG_UPLOAD_COMPLETION_CHECK_SECONDS": "5",
        # moto's server keeps objects above this many bytes in spooled temp files, not in memory
        "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(8 * MB),
    })
    services: list[Service] = []
    db_created = False
    loadavg = round(os.getloadavg()[0], 2)
    stats = Stats()
    load = None
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def on_term(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        # Ctrl+C and a plain kill both stop everything it started (also when
        # it was started in the background, where SIGINT comes ignored).
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
    try:
        say(f"work directory {work} (logs in {logs})")
        template = _migrated_template(env, logs)
        with _pg_connect() as conn:
            conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        db_created = True
        say(f"database {database} (a copy of the migrated empty {template}); queue {redis_url} name {queue_name}")
        s3 = Service("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], env,
                     logs / "s3.log", port=s3_port)
        services.append(s3)
        s3.start()
        _make_bucket(env, s3_port)
        n_records = int(push_rate * duration) + batch
        world_file = work / "world.json"
        records_file = work / "records.json"
        subprocess.run([sys.executable, "-m", "bench.cluster_world", str(world_file), str(records_file),
                        str(n_records), run_id], env=env, cwd=ROOT, check=True, stdout=open(logs / "setup.log", "ab"),
                       stderr=subprocess.STDOUT)
        world = json.loads(world_file.read_text(encoding="utf-8"))
        records = json.loads(records_file.read_text(encoding="utf-8"))
        say(f"world ready: agency {world['agency']}, case {world['case']}; {len(records)} records generated")

        gunicorn, worker_cmd = _production_commands()
        webs = []
        for i, port in enumerate(web_ports):
            argv = [sys.executable, "-m", "sanxiang", "serve", "--host", "127.0.0.1", "--port", str(port)]
            argv += ["--workers", "1", "--threads", str(threads)] if gunicorn else ["--threads", str(threads)]
            webs.append(Service(f"web{i + 1}", argv, env, logs / f"web{i + 1}.log", ready=f"Serving on", port=port))
        workers = []
        for i in range(2):
            if worker_cmd:
                argv = [sys.executable, "-m", "sanxiang", "worker", "--workers", "2"]
            else:  # before `sanxiang worker` existed: the scheduled jobs, every 30 s
                argv = [sys.executable, "-c", "import subprocess, sys, time\nwhile True:\n"
                        "    subprocess.run([sys.executable, '-m', 'sanxiang', 'jobs', 'run'])\n    time.sleep(30)"]
            workers.append(Service(f"worker{i + 1}", argv, env, logs / f"worker{i + 1}.log"))
        services += webs + workers
        _start_all(webs + workers)
        say(f"web processes on {web_ports} ({'gunicorn --workers 1' if gunicorn else 'waitress'}, {threads} threads), "
            f"2 workers ({'sanxiang worker' if worker_cmd else 'jobs run every 30 s'})")

        load = Load(ports=Ports(web_ports), world=world, records=records, stats=stats, duration=duration,
                    push_rate=push_rate, batch=batch, push_timeout=push_timeout, search_rate=search_rate,
                    view_rate=view_rate, upload_size=upload_size, upload_chunk=upload_chunk, uploaders=uploaders,
                    run_id=run_id)
        meter = CpuMeter(services, database)
        meter.start()
        load.start()
        kills, kill_time = 0, duration * kill_at
        killed: list[tuple[Service, float]] = []
        next_report = 5.0
        while load._elapsed() < duration:
            time.sleep(0.2)
            elapsed = load._elapsed()
            if not kills and elapsed >= kill_time:
                for victim in (webs[0], workers[0]):
                    victim.kill()
                    kills += 1
                    killed.append((victim, elapsed + random.uniform(2, 5)))
                    say(f"SIGKILL {victim.name} (pid {victim.proc.pid}) at {elapsed:.0f} s")
            for victim, when in list(killed):
                if elapsed >= when:
                    killed.remove((victim, when))
                    threading.Thread(target=_restart, args=(victim,), daemon=True).start()
            for s in services:
                if s not in [v for v, _ in killed] and s.proc is not None and s.proc.poll() is not None \
                        and s.name != "s3" and not getattr(s, "restarting", False):
                    say(f"{s.name} exited on its own with {s.proc.returncode}; restarting (log {s.log})")
                    stats.add("unexpected_exits")
                    threading.Thread(target=_restart, args=(s,), daemon=True).start()
            if elapsed >= next_report:
                next_report += 5
                c = stats.counts
                say(f"{elapsed:5.0f}s  pushed {len(load.acked_keys)}/{len(load.sent_keys)} acked  "
                    f"searches {c.get('search', 0)}  views {c.get('page_views', 0)}  uploads "
                    f"{c.get('uploads_completed', 0)}/{c.get('uploads_started', 0)}  5xx {len(stats.errors_5xx)}  "
                    f"refused {c.get('connection_refused', 0)}  conn errors {c.get('connection_errors', 0)}  "
                    f"retries {c.get('push_retries', 0)}  load {os.getloadavg()[0]:.1f}")
        load.stop.set()
        cpu = meter.finish(load._elapsed())
        say(f"CPU seconds during the load: {cpu}")
        say("load stopped; letting started pushes and uploads finish")
        for s, _ in killed:  # a restart still due
            _restart(s)
        tail_deadline = time.monotonic() + tail_timeout
        for t in load.threads:
            t.join(timeout=max(0.1, tail_deadline - time.monotonic()))
            if time.monotonic() > tail_deadline:
                load.finish.set()
        load.finish.set()
        for t in load.threads:
            t.join(timeout=30)
        say("waiting for the queue to drain")
        queue = _drain(env, drain_timeout)
        say(f"queue: {queue}")
        _stop_all(webs + workers)
        say("checking what was stored")
        manifest = work / "manifest.json"
        keys_sent = sorted(load.sent_keys)
        by_key = {r["external_id"]: r for r in records}
        manifest.write_text(json.dumps({
            "agency": world["agency"],
            "sent": {k: record_digest(as_stored(by_key[k]), as_stored(by_key[k]).keys()) for k in keys_sent},
            "fields": {k: sorted(as_stored(by_key[k]).keys()) for k in keys_sent},
            "uploads": [u for u in load.uploads if u["id"]],
        }, ensure_ascii=False), encoding="utf-8")
        # the stored data and the audit chain are checked side by side
        audit_proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "audit", "verify"], env=env, cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check = subprocess.run([sys.executable, "-m", "bench.cluster_world", "--check", str(manifest)], env=env,
                               cwd=ROOT, capture_output=True, text=True)
        audit_out, audit_err = audit_proc.communicate()
        (logs / "check.log").write_text(check.stdout + check.stderr)
        if check.returncode != 0:
            raise RuntimeError(f"the check failed to run: {check.stderr[-2000:]}")
        found = json.loads(check.stdout.strip().splitlines()[-1])
        audit = subprocess.CompletedProcess(audit_proc.args, audit_proc.returncode, audit_out, audit_err)
        (logs / "audit.log").write_text(audit.stdout + audit.stderr)
        c = stats.counts
        figures = {
            "duration_s": duration, "pushed": len(keys_sent), "stored": found["stored"], "lost": found["lost"],
            "duplicates": found["duplicates"], "uploads": len(load.uploads), "uploads_ok": found["uploads_ok"],
            "search_p95_ms": _round(_percentile(stats.search_ms, 95)), "errors_5xx": len(stats.errors_5xx),
            "kills": kills, "audit_ok": audit.returncode == 0,
            "loadavg": loadavg, "loadavg_end": round(os.getloadavg()[0], 2), "database": "postgresql",
            "queue": queue, "server": (f"gunicorn --workers 1 --threads {threads} (x2)" if gunicorn else f"waitress --threads {threads} (x2)"),
            "worker": "sanxiang worker (x2)" if worker_cmd else "sanxiang jobs run every 30 s (x2)",
            "stored_hash_matches_sent": found["hash_sent"] == found["hash_stored"],
            "hash_sent": found["hash_sent"], "hash_stored": found["hash_stored"],
            "content_mismatches": found["mismatches"], "versions_beyond_first": found["extra_versions"],
            "acknowledged": len(load.acked_keys), "rejected": len(load.rejected),
            "push_rate_target": push_rate, "push_rate_achieved": round(len(keys_sent) / duration, 1),
            "push_batch": batch, "push_retries": c.get("push_retries", 0), "push_timeouts": c.get("push_timeouts", 0),
            "push_unchanged_on_retry": c.get("push_unchanged", 0),
            "push_batch_p50_ms": _round(_percentile(stats.push_ms, 50)),
            "push_batch_p95_ms": _round(_percentile(stats.push_ms, 95)),
            "searches": len(stats.search_ms), "search_rate_target": search_rate,
            "search_p50_ms": _round(_percentile(stats.search_ms, 50)),
            "search_p99_ms": _round(_percentile(stats.search_ms, 99)),
            "page_views": len(stats.page_ms), "page_p95_ms": _round(_percentile(stats.page_ms, 95)),
            "upload_size_mb": round(upload_size / MB, 1), "upload_chunk_mb": round(upload_chunk / MB, 1),
            "uploads_resumed": sum(1 for u in load.uploads if u["resumes"]),
            "upload_mb_total": round(sum(u["size"] for u in load.uploads if u["ok"]) / MB),
            "upload_failures": [u["error"] for u in load.uploads if u["error"]][:5],
            "s3_objects_verified": found["s3_verified"], "upload_problems": found["upload_problems"],
            "content_mismatch_sample": found["mismatch_sample"],
            "connection_refused": c.get("connection_refused", 0), "connection_errors": c.get("connection_errors", 0),
            "unexpected_exits": c.get("unexpected_exits", 0),
            "errors_5xx_sample": stats.errors_5xx[:5], "client_errors": len(stats.client_errors),
            "client_errors_sample": stats.client_errors[:5],
            "rejected_sample": list(load.rejected.items())[:3],
            "audit_verify": (audit.stdout.strip() or audit.stderr.strip())[-300:],
            "queue_url": redis_url, "cpu_s": cpu,
        }
        return figures
    except KeyboardInterrupt:
        say("interrupted: stopping everything")
        raise
    finally:
        if load is not None:
            load.stop.set()
            load.finish.set()
        _stop_all(services)
        _cleanup_queue(queue_name, redis_url)
        if db_created and not keep:
            try:
                with _pg_connect() as conn:
                    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            except Exception as exc:  # reported, never hiding the run's own error
                say(f"could not drop {database}: {exc}")
        if keep:
            say(f"kept: database {database}, work directory {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        if threading.current_thread() is threading.main_thread():
            for s, handler in previous.items():
                signal.signal(s, handler)


def _start_all(services: list[Service]) -> None:
    """Start the services side by side; the first failure is raised."""
    errors: list[BaseException] = []

    def start(s: Service) -> None:
        try:
            s.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _stop_all(services: list[Service], grace: float = 5) -> None:
    """SIGTERM to every group at once, then whatever is left SIGKILLed."""
    threads = [threading.Thread(target=s.stop, kwargs={"grace": grace}) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _round(value):
    return None if value is None else round(value, 1)


def _production_commands() -> tuple[bool, bool]:
    """(serve has --workers, `sanxiang worker` exists), read from the source."""
    commands = ROOT / "sanxiang" / "core" / "management" / "commands"
    serve = (commands / "serve.py").read_text(encoding="utf-8")
    return '"--workers"' in serve, (commands / "worker.py").exists()


def _migration_state() -> str:
    """SHA-256 over every migration file: names the migrated template."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "sanxiang").glob("*/migrations/*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _migrated_template(env: dict, logs: Path) -> str:
    """An empty database migrated to the source's migrations, made once per
    migration state (migrating PostgreSQL from nothing takes about a minute
    here); each run's fresh database is a copy of it (CREATE DATABASE ...
    TEMPLATE)."""
    name = f"sx_cluster_template_{_migration_state()}"
    with _pg_connect() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('sx_cluster_template'))")
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return name
            for (old,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sx\\_cluster\\_template\\_%%'").fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
            building = name + "_building"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"')
            conn.execute(f'CREATE DATABASE "{building}"')
            say(f"migrating a template database {name} (once per migration state)")
            started = time.monotonic()
            with open(logs / "setup.log", "ab") as out:
                subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                               env={**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{building}"},
                               check=True, stdout=out, stderr=subprocess.STDOUT)
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            say(f"template migrated in {time.monotonic() - started:.0f} s")
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('sx_cluster_template'))")


def _restart(service: Service) -> None:
    service.restarting = True
    try:
        service.start()
        say(f"{service.name} restarted (pid {service.proc.pid})")
    except Exception as exc:
        say(f"{service.name} did not restart: {exc}")
    finally:
        service.restarting = False


def _make_bucket(env: dict, port: int) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="cluster-bench",
                          aws_secret_access_key="cluster-bench", region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}))
    client.create_bucket(Bucket=BUCKET)


_PENDING = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
try:
    from sanxiang.core import queue
except ImportError:
    print(json.dumps({"engine": "none"}))
else:
    print(json.dumps({"engine": "redis" if not queue.is_embedded() else "sqlite",
                      "pending": queue.pending_count(), "failed": queue.failed_count()}))
"""


def _drain(env: dict, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while True:
        done = subprocess.run([sys.executable, "-c", _PENDING], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            return {"engine": "unknown", "error": done.stderr.strip()[-300:]}
        state = json.loads(done.stdout.strip().splitlines()[-1])
        if state.get("engine") == "none" or state.get("pending", 0) == 0 or time.monotonic() > deadline:
            state["drained"] = state.get("pending", 0) == 0 if state.get("engine") != "none" else None
            state["drain_wait_s"] = round(time.monotonic() - started, 1)
            return state
        time.sleep(2)


def _cleanup_queue(name: str, url: str = REDIS_URL) -> None:
    try:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"*{name}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception as exc:
        say(f"could not remove the run's queue keys: {exc}")
