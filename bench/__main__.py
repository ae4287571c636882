"""Benchmarks: `python -m bench NAME [options]`; figures printed and written
to bench/results/NAME-<database>.json. Timing never decides a test.

  demo-startup   `sanxiang demo --no-serve` from an empty directory (SQLite)
  audit          audit-chain appends, full verification and a checkpoint
                 on a fresh database (SQLite by default; DATABASE_URL for PostgreSQL)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write(name: str, figures: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    figures = {"benchmark": name, "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": f"{os.cpu_count()} cores", **figures}
    db = figures.get("database", "sqlite")
    path = RESULTS / f"{name}-{db}.json"
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    print(f"written to {path}")


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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="name", required=True)
    d = sub.add_parser("demo-startup")
    d.add_argument("--runs", type=int, default=3)
    a = sub.add_parser("audit")
    a.add_argument("--entries", type=int, default=20000)
    args = parser.parse_args()
    {"demo-startup": demo_startup, "audit": audit}[args.name](args)


if __name__ == "__main__":
    main()
