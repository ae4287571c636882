"""Portal pages under load: the public search page and decision detail pages
through the production server at concurrency 8.

`run_pages_bench(records=N, ...)`:

1. fills a fresh database with N published decisions (bench/search.py's
   generator, then the search index), or, with `reuse=True`, accepts a
   database this bench filled before with exactly N decisions and a complete
   index (re-measuring after a code change without generating again);
2. starts the production server as a subprocess (`sanxiang serve --workers 2`,
   gunicorn with serve's default threads unless `threads` is given; waitress
   when the serve command has no --workers) on a free port and waits for its
   "Serving on" line;
3. drives it from `concurrency` threads, each with its own keep-alive
   connection (http.client), with a fixed, seeded sequence of requests:
   every other one is the first page of the portal search
   (/decisions/?q=…&region=…) over bench/search.py's query mix, the others a
   decision's detail page (/decisions/<id>/) of a random visible decision;
   `warmup` requests first (not timed), then `requests` timed ones;
4. reports p50/p95/p99 per page kind and overall (time from sending the
   request to the last byte of the response), requests/s over the timed
   phase, the count of responses that were not 2xx (must be 0), the CPU
   time per timed request of the server's processes and of the load
   generator (what decides the queueing on a small machine, and a figure a
   busy machine does not inflate the way it inflates latency), the server's
   resident memory, and the 1-minute load average at the start.

No response is cached anywhere: every request renders its page from the
database.

Run: `sanxiang bench pages --records 1000000` (SQLite in a temporary
directory) or with DATABASE_URL=postgres://… pointing at a fresh database.
The last stdout line is one JSON object; the figures are also written to
bench/results/pages-<database>-<records>.json. Timing never decides a test.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261


def _server_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("SANXIANG_DEBUG", None)
    return env


def _index_rows(connection) -> int:
    from sanxiang.publicity import search

    table = search.PG_TABLE if connection.vendor == "postgresql" else search.DOC_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def _settle(connection) -> None:
    """After a bulk load, what autovacuum would do later, in the middle of
    the measurement (as bench/search.py does; docs/search.md "The tuning"):
    on PostgreSQL VACUUM (ANALYZE), i.e. statistics for the planner, the
    visibility map, and every row's hint bits set, so that the first reads
    of a page do not write it; on SQLite ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def fill(*, records: int, reuse: bool, say, reindex: bool = False) -> dict:
    """Migrate, then generate `records` decisions and build the index, or
    accept an earlier fill of the same size (reuse; with reindex, its search
    index is built again by today's code first)."""
    from django.core.management import call_command
    from django.db import connection

    from bench.search import generate
    from sanxiang.publicity.models import PublicDecision
    from sanxiang.publicity.search import rebuild_index

    call_command("migrate", verbosity=0, interactive=False)
    existing = PublicDecision.objects.count()
    if existing:
        indexed = _index_rows(connection)
        if not reuse:
            raise RuntimeError("the pages benchmark needs an empty database (point DATABASE_URL at a fresh one), "
                               "or --reuse for one this benchmark filled before")
        visible = PublicDecision.objects.filter(visible=True).count()
        if existing != records or (indexed != visible and not reindex):
            raise RuntimeError(f"--reuse: the database holds {existing} decisions ({indexed} of {visible} visible "
                               f"ones indexed), not the {records} asked for with a complete index")
        say(f"reusing a database with {records} decisions")
        if not reindex:
            return {"generated": False}
        started = time.perf_counter()
        rebuild_index(progress=lambda done, total: done % 100_000 < 2000 and say(f"indexed {done}/{total}"))
        build_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return {"generated": False, "reindexed": True, "build_s": round(build_s, 1)}
    started = time.perf_counter()
    generate(records, progress=say)
    generate_s = time.perf_counter() - started
    _settle(connection)
    started = time.perf_counter()
    rebuild_index(progress=lambda done, total: done % 100_000 < 2000 and say(f"indexed {done}/{total}"))
    build_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"generated": True, "generate_s": round(generate_s, 1), "build_s": round(build_s, 1)}


def request_plan(*, count: int, agency_ids: list[int], public_ids: list[int], seed: int) -> list[tuple[str, str]]:
    """`count` (kind, path) pairs: search and detail alternate; searches
    cycle through bench/search.py's query mix (first page, the portal's own
    parameter names), details pick random visible decisions."""
    from bench.search import query_mix

    rng = random.Random(seed)
    searches = []
    for params in query_mix(agency_ids):
        names = {"q": "q", "region_code": "region", "agency_id": "agency", "kind": "kind", "category": "category",
                 "date_from": "from", "date_to": "to"}
        query = {names[k]: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in params.items()}
        searches.append("/decisions/?" + urlencode(query))
    rng.shuffle(searches)
    plan = []
    for i in range(count):
        if i % 2 == 0:
            plan.append(("search", searches[(i // 2) % len(searches)]))
        else:
            plan.append(("detail", f"/decisions/{rng.choice(public_ids)}/"))
    return plan


def sample_public_ids(*, size: int, seed: int) -> list[int]:
    """Up to `size` ids of decisions the portal shows, spread over the table."""
    from django.db.models import Max, Min

    from sanxiang.publicity.selectors import public_decisions

    rng = random.Random(seed)
    bounds = public_decisions().aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        raise RuntimeError("no visible public decision to request")
    candidates = {rng.randint(bounds["lo"], bounds["hi"]) for _ in range(size * 2)}
    ids = sorted(public_decisions().filter(id__in=candidates).values_list("id", flat=True))
    return ids[:size] if len(ids) > size else ids


def serve_command(*, port: int, workers: int, threads: int | None = None) -> tuple[list[str], str]:
    """The production server when the serve command has --workers, else the
    embedded default (waitress, 8 threads); `threads` per process (the serve
    command's default when None)."""
    base = [sys.executable, "-m", "sanxiang", "serve", "--host", "127.0.0.1", "--port", str(port)]
    help_text = subprocess.run(base[:4] + ["--help"], capture_output=True, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    extra = ["--threads", str(threads)] if threads else []
    if "--workers" in help_text and workers:
        return (base + ["--workers", str(workers)] + extra,
                f"gunicorn --workers {workers}" + (f" --threads {threads}" if threads else ""))
    return base + extra, "waitress" + (f" --threads {threads}" if threads else "")


def _cpu_s(pids) -> float:
    """CPU seconds (user + system) used so far by the processes `pids` (those
    that have ended since count nothing)."""
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_calibration_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop in this process: how fast
    the machine runs Python at the moment. On a shared virtual machine the
    same code's CPU per request drifts with it (measured here:
    165 to 285 ms for this loop on 2026-12-05, 79 to 146 ms that evening on
    another machine), so runs compare only with it beside them."""
    started = time.process_time()
    total = 0
    for n in range(3_000_000):
        total += n * n
    return round((time.process_time() - started) * 1000, 1)


def _database_pids() -> set[int]:
    """The processes of a PostgreSQL server on this machine (its backends
    keep the server's connections open through the run: CONN_MAX_AGE)."""
    pids = set()
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in {"postgres", "postmaster"}:
                pids.add(int(comm.parent.name))
        except OSError:
            continue
    return pids


def database_settings(connection) -> dict:
    """The PostgreSQL settings a figure depends on (deploy/postgresql/
    sanxiang.conf sets them for a deployment); nothing on SQLite."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                       [["shared_buffers", "effective_cache_size", "work_mem", "jit", "autovacuum"]])
        return dict(cursor.fetchall())


class Server:
    """`sanxiang serve` in its own process group, stopped by its id."""

    def __init__(self, *, data_dir: Path, workers: int, say, threads: int | None = None):
        self.port = free_port()
        self.command, self.kind = serve_command(port=self.port, workers=workers, threads=threads)
        self.say = say
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=_server_env(data_dir), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                if "Serving on" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(180) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "\n".join(self.lines[-30:]))
        say(f"{self.kind} serving on port {self.port}")

    def _pids(self) -> set[int]:
        """The server's process and its worker processes."""
        pids = {self.proc.pid}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except OSError:
                continue
            if int(fields.get("PPid", "0").strip()) == self.proc.pid:
                pids.add(int(fields["Pid"].strip()))
        return pids

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the server's processes:
        the cost of the requests whatever else the machine runs."""
        return _cpu_s(self._pids())

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes."""
        total = 0
        for pid in self._pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return round(total / 1024, 1)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def drive(port: int, plan: list[tuple[str, str]], *, concurrency: int) -> list[tuple[str, float, int, str]]:
    """Send the plan from `concurrency` threads over keep-alive connections;
    returns (kind, ms, status, path) per request."""
    results: list[tuple[str, float, int, str]] = []
    lock = threading.Lock()
    position = iter(range(len(plan)))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                break
            kind, path = plan[i]
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "zh-hans"})
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            mine.append((kind, (time.perf_counter() - started) * 1000, status, path))
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _percentiles(times: list[float]) -> dict:
    times = sorted(times)
    if not times:
        return {}

    def pct(p):
        return round(times[min(len(times) - 1, int(len(times) * p))], 2)

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(times[-1], 2),
            "mean_ms": round(statistics.mean(times), 2), "requests": len(times)}


def run_pages_bench(*, records: int, requests: int = 4000, warmup: int = 400, concurrency: int = 8,
                    workers: int = 2, threads: int | None = None, data_dir: str | None = None, reuse: bool = False, reindex: bool = False,
                    fill_only: bool = False, progress=None) -> dict:
    say = progress or (lambda message: None)
    loadavg_start = os.getloadavg()[0]
    temporary = None
    if data_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="sanxiang-pages-")
        data_dir = temporary.name
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.environ["SANXIANG_DATA_DIR"] = str(data)
    os.environ["DJANGO_SETTINGS_MODULE"] = "sanxiang.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # `sanxiang bench` sets Django up (a temporary data directory) before
        # this bench reads --data-dir: the fill must write the SQLite file the
        # server (started with SANXIANG_DATA_DIR=data) reads.
        connection.close()
        connection.settings_dict["NAME"] = str(data / "sanxiang.sqlite3")

    from sanxiang.core.models import Agency

    try:
        filled = fill(records=records, reuse=reuse, reindex=reindex, say=say)
        vendor = connection.vendor
        if fill_only:
            return {"records": records, "database": vendor, **filled, "note": "filled only, nothing measured"}
        agency_ids = list(Agency.objects.order_by("id").values_list("id", flat=True))
        public_ids = sample_public_ids(size=5000, seed=SEED)
        settings_used = database_settings(connection)
        connection.close()
        plan = request_plan(count=warmup + requests, agency_ids=agency_ids, public_ids=public_ids, seed=SEED)
        calibration_before = cpu_calibration_ms()
        server = Server(data_dir=data, workers=workers, threads=threads, say=say)
        try:
            say(f"warm-up: {warmup} requests")
            warm = drive(server.port, plan[:warmup], concurrency=concurrency)
            loadavg = os.getloadavg()[0]
            say(f"measuring: {requests} requests at concurrency {concurrency}")
            database_pids = _database_pids() if vendor == "postgresql" else set()
            cpu_before, own_before, db_before = server.cpu_s(), time.process_time(), _cpu_s(database_pids)
            started = time.perf_counter()
            timed = drive(server.port, plan[warmup:], concurrency=concurrency)
            elapsed = time.perf_counter() - started
            server_cpu, client_cpu = server.cpu_s() - cpu_before, time.process_time() - own_before
            database_cpu = _cpu_s(database_pids) - db_before
            rss = server.rss_mb()
        finally:
            server.stop()
        calibration = {"before": calibration_before, "after": cpu_calibration_ms()}
        errors = [(kind, status, path) for kind, _, status, path in warm + timed if not 200 <= status < 300]
        overall = _percentiles([ms for _, ms, _, _ in timed])
        per_kind = {kind: _percentiles([ms for k, ms, _, _ in timed if k == kind]) for kind in ("search", "detail")}
        slowest = sorted(timed, key=lambda r: -r[1])[:5]
        for kind, ms, status, path in slowest:
            say(f"slow: {ms:.1f} ms {kind} {path}")
        return {
            "records": records, "database": vendor, "server": server.kind, "concurrency": concurrency,
            **overall, "rps": round(len(timed) / elapsed, 1), "errors": len(errors),
            # CPU per timed request, server (all its processes) and load
            # generator: what decides the queueing on 2 cores, whatever the load.
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(len(timed), 1), 2),
            "client_cpu_ms_per_request": round(client_cpu * 1000 / max(len(timed), 1), 2),
            # PostgreSQL on this machine: its processes' CPU, the server's
            # backends opened during warm-up (none on SQLite: in the server).
            **({"database_cpu_ms_per_request": round(database_cpu * 1000 / max(len(timed), 1), 2),
                "database_settings": settings_used} if vendor == "postgresql" else {}),
            "search_p95_ms": per_kind["search"].get("p95_ms"), "detail_p95_ms": per_kind["detail"].get("p95_ms"),
            "search": per_kind["search"], "detail": per_kind["detail"],
            "warmup": warmup, "loadavg": round(loadavg_start, 2), "loadavg_measuring": round(loadavg, 2),
            "cpu_calibration_ms": calibration,
            "server_rss_mb": rss, **filled,
            "error_samples": [{"kind": k, "status": s, "path": p} for k, s, p in errors[:5]],
            "slowest": [{"ms": round(ms, 1), "kind": k, "path": p} for k, ms, _, p in slowest],
        }
    finally:
        connection.close()
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":  # a convenience for a quick local run
    print(json.dumps(run_pages_bench(records=int(os.environ.get("RECORDS", "2000")), progress=print),
                     ensure_ascii=False, indent=2, default=str))
