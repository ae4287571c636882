"""The portal on a real PostgreSQL streaming replica: where its reads land
and how far the replica trails a publication (docs/scaling.md, step 4).

Needs a PostgreSQL primary with a streaming hot standby, both reachable:

    DATABASE_URL=postgres://…/<fresh database on the primary>
    SANXIANG_REPLICA_URLS=postgres://…/<the same database on the standby>
    python -m bench.replica --records 2000

1. migrates the primary's fresh database, fills it with `records` published
   decisions (bench/search.py's generator) and the search index, and waits
   until the standby has them;
2. starts `sanxiang serve` (a subprocess, waitress) with both variables set,
   on a free port of 18800-18899, and sends `requests` anonymous GETs of the
   portal search and decision pages; reads each server's scan counters of
   the public-copies table (pg_stat_user_tables) before and after, so the
   result says how many scans each server did for those pages;
3. publishes `samples` decisions one after another through the publishing
   service on the primary and, after each commit, polls the standby (1 ms
   apart) until the public copy is visible there: the replication lag as a
   visitor would meet it.

The last stdout line is one JSON object; also written to
bench/results/replica-postgresql.json. Timing never decides a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "replica-postgresql.json"


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
    import django

    django.setup()


def _scans(alias: str) -> int:
    """Sequential plus index scans of the public copies on one server."""
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                       "WHERE relname = 'publicity_publicdecision'")
        return int(cursor.fetchone()[0])


def _wait_for_replica(alias: str, count: int, timeout: float = 300) -> None:
    from sanxiang.publicity.models import PublicDecision

    end = time.monotonic() + timeout
    while PublicDecision.objects.using(alias).count() < count:
        if time.monotonic() > end:
            raise RuntimeError(f"the replica {alias} did not catch up within {timeout} s")
        time.sleep(0.2)


def _serve(port: int, data_dir: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SANXIANG_DATA_DIR": data_dir, "SANXIANG_JOBS_INTERVAL": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "Serving on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180) or proc.poll() is not None:
        _stop(proc)
        raise RuntimeError("the server did not start:\n" + "\n".join(lines[-30:]))
    return proc, lines


def _stop(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _portal_requests(port: int, ids: list[int], queries: list[str], n: int) -> tuple[list[float], int]:
    rng = random.Random(7)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, bad = [], 0
    for i in range(n):
        path = (f"/decisions/?{urlencode({'q': rng.choice(queries)})}" if i % 2 == 0
                else f"/decisions/{rng.choice(ids)}/")
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        bad += response.status != 200
    conn.close()
    return times, bad


def _publish_lag(alias: str, samples: int) -> list[float]:
    """Publish `samples` decisions through the service on the primary; for
    each, the time from the service's return (committed) until the standby
    shows the public copy."""
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Agency, Role
    from sanxiang.publicity import services
    from sanxiang.publicity.models import Decision, PublicDecision

    agency = Agency.objects.filter(kind="market_regulation").order_by("id").first()
    admin = core_services.create_user(actor="bench", username=f"bench_pub_{os.getpid()}",
                                      password=f"bench-{os.getpid()}-{time.time_ns()}", role=Role.PUBLICITY_ADMIN,
                                      agency=agency)
    lags = []
    for n in range(samples):
        record = {"external_id": f"lag-{os.getpid()}-{n}", "kind": "penalty",
                  "doc_number": f"冀长市监罚〔2026〕{90000 + n}号", "party_name": "石家庄市某某食品有限公司",
                  "party_type": "legal_person", "party_credit_code": "91350100M000100Y43",
                  "legal_representative": "王大明", "decision_date": "2026-09-30", "violation_type": "销售过期食品",
                  "facts": "当事人销售超过保质期的食品。", "basis": "《中华人民共和国食品安全法》第一百二十四条",
                  "penalty_categories": ["罚款"], "fine_fen": 500000, "content": "罚款人民币5000元。"}
        result = services.receive_records(actor="bench", agency=agency, records=[record], source="api")[0]
        if result.outcome != "created":
            raise RuntimeError(f"the bench's record was refused: {result}")
        public = services.publish_decision(actor=admin, decision=Decision.objects.get(pk=result.decision_id))
        committed = time.perf_counter()
        while not PublicDecision.objects.using(alias).filter(pk=public.pk).exists():
            time.sleep(0.001)
        lags.append((time.perf_counter() - committed) * 1000)
    return lags


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 2)


def run_replica_bench(*, records: int, requests: int, samples: int, progress=print) -> dict:
    loadavg = round(os.getloadavg()[0], 2)
    _setup()
    import tempfile

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from bench.search import QUERIES, generate
    from sanxiang.publicity.models import PublicDecision
    from sanxiang.publicity.search import rebuild_index

    if connections["default"].vendor != "postgresql" or not settings.DATABASE_REPLICAS:
        raise SystemExit("bench.replica needs DATABASE_URL=postgres://… and SANXIANG_REPLICA_URLS=postgres://…")
    alias = settings.DATABASE_REPLICAS[0]
    end = time.monotonic() + 60
    while True:  # a database just made on the primary reaches the standby a moment later
        try:
            connections[alias].ensure_connection()
            break
        except Exception:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        if not cursor.fetchone()[0]:
            raise SystemExit(f"{alias} is not a standby (pg_is_in_recovery() is false)")
    call_command("migrate", verbosity=0)
    if PublicDecision.objects.exists():
        raise SystemExit("the primary's database is not fresh: give the bench an empty database")
    progress(f"generating {records} decisions")
    generate(records)
    rebuild_index()
    _wait_for_replica(alias, records)
    ids = list(PublicDecision.objects.filter(visible=True).values_list("id", flat=True))

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sx-replica-bench-") as data_dir:
        proc, lines = _serve(port, data_dir)
        try:
            _portal_requests(port, ids, QUERIES, 20)  # warm-up
            before = {"default": _scans("default"), alias: _scans(alias)}
            times, bad = _portal_requests(port, ids, QUERIES, requests)
            after = {"default": _scans("default"), alias: _scans(alias)}
        finally:
            _stop(proc)
    progress(f"{requests} portal requests done; measuring the lag of {samples} publications")
    lags = _publish_lag(alias, samples)
    return {
        "benchmark": "replica", "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "machine": f"{os.cpu_count()} cores", "loadavg": loadavg,
        "database": "postgresql", "records": records, "replica": "streaming hot standby, asynchronous, same machine",
        "requests": requests, "non_2xx": bad,
        "p95_ms": _pct(times, 95), "p50_ms": _pct(times, 50),
        "publicdecision_scans_on_primary": after["default"] - before["default"],
        "publicdecision_scans_on_replica": after[alias] - before[alias],
        "lag_samples": samples, "lag_p50_ms": _pct(lags, 50), "lag_p95_ms": _pct(lags, 95),
        "lag_max_ms": round(max(lags), 2), "lag_mean_ms": round(statistics.mean(lags), 2),
        "note": "p50/p95: anonymous portal requests (search page and decision page alternating) through "
                "`sanxiang serve` with SANXIANG_REPLICA_URLS; scans: pg_stat_user_tables of the public copies on "
                "each server during those requests; lag: from the publishing service's commit on the primary to "
                "the public copy being visible on the standby, polled every 1 ms",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    # The bench process's own data directory (secret key file), never ./sanxiang-data.
    import tempfile

    os.environ.setdefault("SANXIANG_DATA_DIR", tempfile.mkdtemp(prefix="sx-replica-bench-self-"))
    result = run_replica_bench(records=args.records, requests=args.requests, samples=args.samples,
                               progress=lambda m: print(m, file=sys.stderr, flush=True))
    RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
