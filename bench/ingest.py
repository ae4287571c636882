"""Ingest benchmark of the decision push API (公示-14).

`run_ingest_bench(records=N, batch=500)`:

1. makes a fresh data directory (SQLite; or the empty database named by
   DATABASE_URL), migrates it, creates one agency and an API token with
   scope publicity:push through `sanxiang token create`;
2. starts the real server (`sanxiang serve` in a subprocess on a free port);
3. pushes N realistic generated records (Faker zh_CN: companies, persons
   with valid GB 11643 ID numbers, valid GB 32100 credit codes, penalties
   and licences) over HTTP in batches with one keep-alive `requests`
   session, and times it end to end (JSON encoding, HTTP, validation,
   storage, audit, response);
4. measures the ceiling in a separate process on the same database: the
   same normalised rows bulk-inserted straight into the decision tables
   (Decision and DecisionVersion, `bulk_create` in batches of the same size,
   one transaction per batch), with no HTTP and no validation
   (`ceiling_records_per_s`); and once more with plain `executemany` SQL,
   no ORM (`ceiling_raw_sql_records_per_s`): what the database itself takes.

`--auto-publish` switches the agency's automatic publication on first (each
record is then also redacted, published, indexed for search and audited as
published: bench/results/ingest-<database>-autopublish.json); `--workers N`
serves through gunicorn (`sanxiang serve --workers N`) instead of waitress.
Before the HTTP run, one batch is pushed in-process through
validate_records + receive_records with the queries counted
(`in_process_queries_per_record`, `in_process_records_per_s`).

Run: `python -m bench.ingest --records 20000` (figures printed and written
to bench/results/ingest-<database>.json). Timing never decides a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parent.parent
AGENCY_NAME = "石家庄市长安区市场监督管理局"

_SETUP_AGENCY = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
from sanxiang.core import services
from sanxiang.core.models import Agency, AgencyKind
from sanxiang.core.validators import make_credit_code
code = make_credit_code(region_code="130102", serial=4242)
if not Agency.objects.filter(credit_code=code).exists():
    p = services.create_region(actor="bench", code="130000", name="河北省", level="province")
    c = services.create_region(actor="bench", code="130100", name="石家庄市", level="city", parent=p)
    r = services.create_region(actor="bench", code="130102", name="长安区", level="county", parent=c)
    services.create_agency(actor="bench", name=%r, credit_code=code, region=r, kind=AgencyKind.MARKET_REGULATION)
print(code)
""" % AGENCY_NAME

_CEILING = """
import django, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
from datetime import date
from django.db import connection, transaction
from sanxiang.core.models import Agency
from sanxiang.publicity.intake import validate_record
from sanxiang.publicity.models import Decision, DecisionVersion
args = json.loads(sys.argv[1])
raws = json.load(open(args["file"], encoding="utf-8"))
agency = Agency.objects.get(credit_code=args["agency"])
rows = []
for i, raw in enumerate(raws):
    rec, errors = validate_record(raw, index=i)
    assert not errors, errors
    rec["external_id"] = "CEIL-" + rec["external_id"]
    rows.append(rec)
batch = args["batch"]
started = time.perf_counter()
for i in range(0, len(rows), batch):
    chunk = rows[i:i + batch]
    with transaction.atomic():
        ds = Decision.objects.bulk_create([Decision(
            agency=agency, external_id=r["external_id"], kind=r["kind"], data=r, doc_number=r["doc_number"],
            party_name=r["party_name"], party_type=r["party_type"], decision_date=date.fromisoformat(r["decision_date"]),
        ) for r in chunk])
        DecisionVersion.objects.bulk_create([DecisionVersion(decision=d, number=1, data=d.data, source="bench",
                                                             actor="bench") for d in ds])
elapsed = time.perf_counter() - started

# The same rows once more through plain executemany (no ORM): the database's own rate.
from django.utils import timezone
d_table, v_table = Decision._meta.db_table, DecisionVersion._meta.db_table
cast = "::jsonb" if connection.vendor == "postgresql" else ""
insert_d = (f"INSERT INTO {d_table} (agency_id, external_id, kind, status, version, data, doc_number, party_name, "
            f"party_type, decision_date, not_public_reason, publication_due_provisional, publication_rule, received_at, withdrawal_due_provisional) "
            f"VALUES (%s, %s, %s, 'pending', 1, %s{cast}, %s, %s, %s, %s, '', false, '', %s, false)")
insert_v = (f"INSERT INTO {v_table} (decision_id, number, data, reason, source, actor, created_at) "
            f"VALUES (%s, 1, %s{cast}, '', 'bench', 'bench', %s)")
started = time.perf_counter()
for i in range(0, len(rows), batch):
    chunk = rows[i:i + batch]
    now = timezone.now()
    texts = [json.dumps(dict(r, external_id="RAW-" + r["external_id"])) for r in chunk]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(insert_d, [(agency.pk, "RAW-" + r["external_id"], r["kind"], t, r["doc_number"], r["party_name"],
                                    r["party_type"], r["decision_date"], now) for r, t in zip(chunk, texts)])
        ids = dict(Decision.objects.filter(agency=agency, external_id__in=["RAW-" + r["external_id"] for r in chunk])
                   .values_list("external_id", "id"))
        cur.executemany(insert_v, [(ids["RAW-" + r["external_id"]], t, now) for r, t in zip(chunk, texts)])
raw_elapsed = time.perf_counter() - started
print(json.dumps({"rows": len(rows), "seconds": elapsed, "raw_seconds": raw_elapsed, "vendor": connection.vendor}))
"""


_IN_PROCESS = """
import django, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from sanxiang.core.models import Agency
from sanxiang.publicity import services
from sanxiang.publicity.intake import validate_records
args = json.loads(sys.argv[1])
raws = json.load(open(args["file"], encoding="utf-8"))
agency = Agency.objects.get(credit_code=args["agency"])
def push(chunk):
    good, errors = validate_records(chunk)
    assert not errors, errors[:3]
    return services.receive_records(actor="bench", agency=Agency.objects.get(pk=agency.pk),
                                    records=[r for _, r in good], source="api")
push(raws[:50])  # warm-up: imports, caches
chunk = raws[50:]
with CaptureQueriesContext(connection) as queries:
    started = time.perf_counter()
    results = push(chunk)
    elapsed = time.perf_counter() - started
print(json.dumps({"records": len(chunk), "seconds": elapsed, "queries": len(queries),
                  "published": sum(r.published for r in results)}))
"""


# --- realistic records ----------------------------------------------------------------


def generate_records(n: int, *, seed: int = 20261127, prefix: str = "BENCH", first_number: int = 1) -> list[dict]:
    from sanxiang.publicity.generator import generate_records as generate

    return generate(n, seed=seed, prefix=prefix, agency_name=AGENCY_NAME, abbr="石长市监",
                    regions=["130102", "130104", "130105", "130108", "130123", "130202"], first_number=first_number)


# --- processes -------------------------------------------------------------------------


def _sanxiang(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sanxiang", *args], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True, **kw)


def _wait_serving(proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "Serving on" in line:
            return
        if not line and proc.poll() is not None:
            raise RuntimeError(f"sanxiang serve exited: {proc.stderr.read()}")
    raise RuntimeError("sanxiang serve did not start in time")


def run_ingest_bench(*, records: int, batch: int = 500, progress=None, threads: int = 4, seed: int = 20261127,
                     auto_publish: bool = False, workers: int = 0) -> dict:
    """Push `records` generated records through the real server and measure
    the raw insert ceiling on the same database. `progress(done, total)` is
    called after every batch, `progress(message)` at each phase. Returns the
    figures."""
    import requests

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
    tmp = Path(tempfile.mkdtemp(prefix="sanxiang-ingest-"))
    env = {**os.environ, "SANXIANG_DATA_DIR": str(tmp), "PYTHONPATH": str(ROOT), "SANXIANG_REQUIRE_TOTP": "0"}
    database = "postgresql" if env.get("DATABASE_URL", "").startswith(("postgres", "postgresql")) else "sqlite"
    if database == "sqlite":
        env.pop("DATABASE_URL", None)
    server = None
    say = progress or (lambda *a: None)
    loadavg = os.getloadavg()[0]
    try:
        say("migrating a fresh database")
        _sanxiang(["migrate"], env)
        agency_code = subprocess.run([sys.executable, "-c", _SETUP_AGENCY], env=env, cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
        created = _sanxiang(["token", "create", "--agency", agency_code, "--name", "bench", "--scopes", "publicity:push"], env)
        token = created.stdout.strip().splitlines()[-1]
        if auto_publish:
            _sanxiang(["publicity", "auto-publish", "--agency", agency_code, "on"], env)
        say(f"generating {records} records (Faker zh_CN)")
        data = generate_records(records, seed=seed)
        # the warm-up's 文号 follow the measured records' (one namespace per agency)
        warmup = generate_records(min(batch, 200), seed=seed + 1, prefix="WARM", first_number=records + 1)
        say("one batch in-process (queries counted)")
        in_process_data = generate_records(batch + 50, seed=seed + 2, prefix="INPROC", first_number=records + 1001)
        in_process_file = tmp / "in-process.json"
        in_process_file.write_text(json.dumps(in_process_data, ensure_ascii=False), encoding="utf-8")
        in_process = json.loads(subprocess.run(
            [sys.executable, "-c", _IN_PROCESS, json.dumps({"file": str(in_process_file), "agency": agency_code})],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        port = free_port()
        serve = ["serve", "--port", str(port), "--threads", str(threads)] + (["--workers", str(workers)] if workers else [])
        server = subprocess.Popen([sys.executable, "-m", "sanxiang", *serve],
                                  env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_serving(server)
        say(f"server on port {port}; pushing")
        url = f"http://127.0.0.1:{port}/api/v1/publicity/decisions"
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

        def post(chunk):
            body = json.dumps({"records": chunk}, ensure_ascii=False).encode("utf-8")
            response = session.post(url, data=body, timeout=300)
            response.raise_for_status()
            return response.json()

        post(warmup)  # first request pays imports, connection setup and caches
        accepted, latencies = 0, []
        started = time.perf_counter()
        for i in range(0, records, batch):
            t0 = time.perf_counter()
            result = post(data[i:i + batch])
            latencies.append(time.perf_counter() - t0)
            accepted += result["accepted"]
            if result["rejected"]:
                raise RuntimeError(f"generated records were rejected: {result['results'][:3]}")
            say(min(i + batch, records), records)
        elapsed = time.perf_counter() - started
        server.terminate()
        server.wait(timeout=30)
        server = None

        say("measuring the ceiling (bulk insert of the same rows)")
        records_file = tmp / "records.json"
        records_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        ceiling = json.loads(subprocess.run(
            [sys.executable, "-c", _CEILING, json.dumps({"file": str(records_file), "agency": agency_code, "batch": batch})],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        latencies.sort()
        return {
            "records": records, "accepted": accepted, "batch": batch, "database": database,
            "seconds": round(elapsed, 2), "records_per_s": round(records / elapsed),
            "batch_latency_p50_ms": round(latencies[len(latencies) // 2] * 1000),
            "batch_latency_max_ms": round(latencies[-1] * 1000),
            "ceiling_records_per_s": round(ceiling["rows"] / ceiling["seconds"]),
            "share_of_ceiling": round((records / elapsed) / (ceiling["rows"] / ceiling["seconds"]), 2),
            "ceiling_raw_sql_records_per_s": round(ceiling["rows"] / ceiling["raw_seconds"]),
            "server_threads": threads,
            "server": f"gunicorn --workers {workers} --threads {threads}" if workers else f"waitress --threads {threads}",
            "auto_publish": auto_publish,
            "in_process_records": in_process["records"],
            "in_process_records_per_s": round(in_process["records"] / in_process["seconds"]),
            "in_process_queries_per_record": round(in_process["queries"] / in_process["records"], 2),
            "in_process_published": in_process["published"],
            "loadavg": round(loadavg, 2),
            "loadavg_end": round(os.getloadavg()[0], 2),
            "note": "HTTP: one keep-alive client, batches in sequence, end to end (encode, send, validate, "
                    "receive_records, audit, respond). Ceiling: the same normalised rows bulk-inserted into "
                    "Decision + DecisionVersion directly, same batch size, no HTTP and no validation.",
        }
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if database == "sqlite":
            shutil.rmtree(tmp, ignore_errors=True)


def _bar(done, total=None) -> None:
    if total is None:  # a phase message
        sys.stderr.write(f"{done}\n")
        return
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=0, help="serve through gunicorn with N workers (default: waitress)")
    parser.add_argument("--auto-publish", action="store_true", help="the agency publishes received records automatically")
    args = parser.parse_args(argv)
    figures = run_ingest_bench(records=args.records, batch=args.batch, threads=args.threads, progress=_bar,
                               auto_publish=args.auto_publish, workers=args.workers)
    from bench.__main__ import write

    write("ingest", figures, suffix="-autopublish" if args.auto_publish else "")


if __name__ == "__main__":
    main()
