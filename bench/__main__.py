"""Benchmarks: `sanxiang bench NAME [options]` (or `python -m bench NAME`).
Progress goes to stderr; the last line on stdout is one JSON object with the
figures, which are also written to bench/results/NAME-<database>.json.
Timing never decides a test.

  search         portal search p50/p95/p99 over a fixed query mix (--records N)
  pages          the portal's search page and decision pages through the
                 production server at concurrency 8: p50/p95/p99 per page kind,
                 requests/s, non-2xx responses (--records N)
  ingest         records/s through the HTTP push API in batches of 500, with the
                 raw insert rate of the same rows as the ceiling (--records N)
  upload         tus upload MB/s through `serve --workers 2` (gunicorn) against
                 min(SHA-256 rate, fsync'd write rate) before and after as the
                 ceiling, and each worker's peak memory (--size 2G)
  audit          audit-chain appends, full verification and a checkpoint
  queue          the job queue: tasks enqueued/s and done/s by a consumer's
                 threads, on SQLite or Redis storage (--storage, --tasks N)
  demo-startup   `sanxiang demo --no-serve` from an empty directory (SQLite)
  cluster        the production topology on this machine (PostgreSQL, Redis, moto
                 S3, two web processes, two workers) under a mixed load with one
                 web process and one worker SIGKILLed mid-run: lost/duplicated
                 records, uploads completed, search p95, 5xx (--duration 300)
  docking        a county, a city and the province platform (county → city →
                 province) under a push load into the county, the province
                 SIGKILLed twice and the city once: sent, received, lost,
                 duplicates, lag p50/p95 to searchable at the province
                 (--rate 100 --duration 600; bench/results/docking.json)

SQLite in a temporary directory by default; DATABASE_URL for PostgreSQL
(point it at a fresh database).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write(name: str, figures: dict, *, suffix: str = "") -> None:
    RESULTS.mkdir(exist_ok=True)
    figures = {"benchmark": name, "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": f"{os.cpu_count()} cores", **figures}
    db = figures.get("database", "sqlite")
    path = RESULTS / f"{name}-{db}{suffix}.json"
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written to {path}", file=sys.stderr)
    print(json.dumps(figures, ensure_ascii=False, default=str))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Progress:
    """A progress line on stderr; accepts (done, total) or a message."""

    def __init__(self, label: str):
        self.label, self.started = label, time.perf_counter()

    def __call__(self, done, total=None):
        elapsed = time.perf_counter() - self.started
        if total is None:
            sys.stderr.write(f"\r\x1b[K[{elapsed:6.1f}s] {self.label}: {done}")
        else:
            width = 30
            filled = int(width * done / total) if total else width
            rate = done / elapsed if elapsed else 0
            sys.stderr.write(f"\r\x1b[K{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate:,.0f}/s")
        sys.stderr.flush()

    def done(self):
        sys.stderr.write("\n")


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B")
    return int(float(text[:-1]) * units[text[-1]]) if text and text[-1] in units else int(text)


def search(args) -> None:
    from bench.search import run_search_bench

    progress = Progress("search")
    figures = run_search_bench(records=args.records, progress=progress, reuse=args.reuse)
    progress.done()
    write("search", figures, suffix=f"-{args.records}")


def queue(args) -> None:
    from .queue import run, write as write_queue

    progress = Progress("queue")
    figures = run(storage=args.storage, tasks=args.tasks, workers=args.workers, redis_url=args.redis_url,
                  say=progress)
    progress.done()
    write_queue(figures)


def pages(args) -> None:
    from bench.pages import run_pages_bench

    if args.fill_only and not args.data_dir and "DATABASE_URL" not in os.environ:
        sys.exit("--fill-only needs --data-dir (or DATABASE_URL): a temporary database is deleted at the end")
    progress = Progress("pages")
    figures = run_pages_bench(records=args.records, requests=args.requests, warmup=args.warmup,
                              concurrency=args.concurrency, workers=args.workers, threads=args.threads,
                              data_dir=args.data_dir,
                              reuse=args.reuse, reindex=args.reindex, fill_only=args.fill_only, progress=progress)
    progress.done()
    if args.fill_only or args.no_results:  # nothing measured, or a smoke test: stdout only
        print(json.dumps({"benchmark": "pages", **figures}, ensure_ascii=False, default=str))
        return
    write("pages", figures, suffix=f"-{args.records}")


def ingest(args) -> None:
    from bench.ingest import run_ingest_bench

    progress = Progress("ingest")
    figures = run_ingest_bench(records=args.records, batch=args.batch, progress=progress,
                               auto_publish=args.auto_publish, workers=args.workers)
    progress.done()
    write("ingest", figures, suffix="-autopublish" if args.auto_publish else "")


def upload(args) -> None:
    from bench.upload import run_upload_bench

    progress = Progress("upload")
    figures = run_upload_bench(size_bytes=parse_size(args.size), server=args.server, workers=args.workers,
                               threads=args.threads, progress=progress)
    progress.done()
    write("upload", figures, suffix=f"-{args.size}-{args.server}")


def demo_startup(args) -> None:
    runs = []
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SANXIANG_DATA_DIR"}}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sanxiang", "demo", "--no-serve"], cwd=tmp, env=env, check=True,
                           capture_output=True)
            first = time.perf_counter() - started
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sanxiang", "demo", "--no-serve"], cwd=tmp, env=env, check=True,
                           capture_output=True)
            again = time.perf_counter() - started
        runs.append({"from_empty_s": round(first, 2), "rerun_s": round(again, 2)})
    write("demo-startup", {"database": "sqlite", "runs": runs,
                           "from_empty_median_s": sorted(r["from_empty_s"] for r in runs)[len(runs) // 2]})


def audit(args) -> None:
    tmp = tempfile.mkdtemp(prefix="sanxiang-bench-")
    os.environ.setdefault("SANXIANG_DATA_DIR", tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "sanxiang.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from sanxiang.core.audit import append_audit, create_checkpoint, verify_chain

    vendor = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    call_command("migrate", verbosity=0, interactive=False)
    from sanxiang.core.models import AuditEntry

    if AuditEntry.objects.exists():
        sys.exit("audit benchmark needs an empty database (point DATABASE_URL at a fresh one)")
    started = time.perf_counter()
    for i in range(args.entries):
        append_audit(actor="bench", action="bench.append", object_type="bench", object_id=str(i),
                     payload={"i": i, "text": "行政处罚决定书 冀石市监罚〔2026〕12号"})
    append_s = time.perf_counter() - started
    started = time.perf_counter()
    result = verify_chain()
    verify_s = time.perf_counter() - started
    started = time.perf_counter()
    create_checkpoint()
    checkpoint_s = time.perf_counter() - started
    assert result.ok, result.reason
    write("audit", {
        "database": vendor, "entries": args.entries, "checkpoint_interval": settings.AUDIT_CHECKPOINT_INTERVAL,
        "append_total_s": round(append_s, 2), "appends_per_s": round(args.entries / append_s),
        "verify_s": round(verify_s, 2), "verified_per_s": round(args.entries / verify_s),
        "checkpoint_now_s": round(checkpoint_s, 3),
        "note": "each append is its own transaction (as in a service write), with the chain lock",
    })
    connection.close()


def cluster(args) -> None:
    from bench.cluster import run_cluster_bench

    figures = run_cluster_bench(duration=args.duration, push_rate=args.push_rate, batch=args.batch,
                                search_rate=args.search_rate, view_rate=args.view_rate,
                                upload_size=parse_size(args.upload_size), upload_chunk=parse_size(args.upload_chunk),
                                uploaders=args.uploaders, kill_at=args.kill_at, port_base=args.port_base,
                                keep=args.keep, push_timeout=args.push_timeout, threads=args.threads)
    if args.no_results:  # a smoke test: the figures on stdout only
        print(json.dumps({"benchmark": "cluster", **figures}, ensure_ascii=False, default=str))
        return
    write("cluster", figures, suffix=args.suffix)


def docking(args) -> None:
    from bench.docking import _fitting_prefix, run_docking_bench, write as write_docking

    try:
        _fitting_prefix(args.db_prefix)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    figures = run_docking_bench(rate=args.rate, duration=args.duration, batch=args.batch, down=args.down,
                                drain_timeout=args.drain_timeout, threads=args.threads, keep=args.keep,
                                db_prefix=args.db_prefix)
    if args.no_results:  # a smoke test: the figures on stdout only
        print(json.dumps({"benchmark": "docking", **figures}, ensure_ascii=False, default=str))
        return
    write_docking(figures, name="docking" + args.suffix)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="name", required=True)
    q = sub.add_parser("queue")
    q.add_argument("--storage", choices=("sqlite", "redis"), default="sqlite")
    q.add_argument("--tasks", type=int, default=20_000)
    q.add_argument("--workers", type=int, default=2, help="consumer threads (default 2)")
    q.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    d = sub.add_parser("demo-startup")
    d.add_argument("--runs", type=int, default=3)
    a = sub.add_parser("audit")
    a.add_argument("--entries", type=int, default=20000)
    s = sub.add_parser("search")
    s.add_argument("--records", type=int, default=100_000)
    s.add_argument("--reuse", action="store_true",
                   help="accept a database this benchmark filled before with exactly --records decisions and its index")
    p = sub.add_parser("pages")
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=4000, help="timed requests (default 4000)")
    p.add_argument("--warmup", type=int, default=400, help="requests sent before timing (default 400)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="server worker processes (gunicorn; 0 = waitress)")
    p.add_argument("--threads", type=int, default=None, help="threads per server process (default: serve's)")
    p.add_argument("--data-dir", help="keep the SQLite database and files here (default: a temporary directory)")
    p.add_argument("--reuse", action="store_true",
                   help="accept a database this benchmark filled before with exactly --records decisions")
    p.add_argument("--reindex", action="store_true", help="with --reuse: build the search index again first")
    p.add_argument("--fill-only", action="store_true", help="fill the database and stop (nothing measured)")
    p.add_argument("--no-results", action="store_true", help="print the figures only, write no results file")
    i = sub.add_parser("ingest")
    i.add_argument("--records", type=int, default=20_000)
    i.add_argument("--batch", type=int, default=500)
    i.add_argument("--auto-publish", action="store_true", help="the agency publishes at once (no pre-publication check)")
    i.add_argument("--workers", type=int, default=0, help="serve through gunicorn with N workers (default: waitress)")
    c = sub.add_parser("cluster")
    c.add_argument("--duration", type=float, default=300, help="seconds of load (default 300)")
    c.add_argument("--push-rate", type=float, default=100, help="records/s pushed (default 100)")
    c.add_argument("--batch", type=int, default=50, help="records per push request (default 50)")
    c.add_argument("--search-rate", type=float, default=20, help="public searches/s (default 20)")
    c.add_argument("--view-rate", type=float, default=3, help="an officer's page views/s (default 3)")
    c.add_argument("--upload-size", default="200M", help="bytes per tus upload, e.g. 200M (default)")
    c.add_argument("--upload-chunk", default="32M", help="bytes per PATCH (default 32M)")
    c.add_argument("--uploaders", type=int, default=2, help="uploads at a time (default 2)")
    c.add_argument("--kill-at", type=float, default=0.4, help="share of the run at which to SIGKILL (default 0.4)")
    c.add_argument("--port-base", type=int, default=18700, help="S3 on this port, web on +10 and +11")
    c.add_argument("--push-timeout", type=float, default=15, help="seconds before a push is sent again (default 15)")
    c.add_argument("--threads", type=int, default=8, help="threads of each web process (default 8)")
    c.add_argument("--keep", action="store_true", help="keep the database and the work directory (logs)")
    c.add_argument("--suffix", default="", help="results file name suffix (default: none)")
    c.add_argument("--no-results", action="store_true", help="print the figures only, write no results file")
    dk = sub.add_parser("docking")
    dk.add_argument("--rate", type=float, default=100, help="decisions/s pushed into the county (default 100)")
    dk.add_argument("--duration", type=float, default=600, help="seconds of pushing (default 600)")
    dk.add_argument("--batch", type=int, default=None, help="records per push request (default rate/10)")
    dk.add_argument("--down", type=float, default=None,
                    help="seconds a killed platform stays down before it is started again (default: RestartSec= "
                         "of deploy/systemd/sanxiang-web.service, as systemd would)")
    dk.add_argument("--drain-timeout", type=float, default=300,
                    help="seconds to wait after the load for the province to have everything (default 300)")
    dk.add_argument("--threads", type=int, default=8, help="threads of each platform's server (default 8)")
    dk.add_argument("--db-prefix", default="sx_docking", help="PostgreSQL database name prefix (default sx_docking)")
    dk.add_argument("--keep", action="store_true", help="keep the databases and the work directory (logs)")
    dk.add_argument("--suffix", default="", help="results file name suffix (default: none: docking.json)")
    dk.add_argument("--no-results", action="store_true", help="print the figures only, write no results file")
    u = sub.add_parser("upload")
    u.add_argument("--size", default="256M", help="e.g. 256M, 2G")
    u.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn",
                   help="gunicorn: through `sanxiang serve --workers N` (default); waitress: `sanxiang serve`")
    u.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    u.add_argument("--threads", type=int, default=None, help="threads per server process (default: serve's)")
    args = parser.parse_args(argv)
    {"demo-startup": demo_startup, "audit": audit, "queue": queue, "search": search, "pages": pages, "ingest": ingest, "upload": upload,
     "cluster": cluster, "docking": docking}[args.name](args)


if __name__ == "__main__":
    main()
