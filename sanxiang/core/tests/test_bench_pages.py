"""Smoke test of `sanxiang bench pages` (bench/pages.py; docs/performance.md):
a small database filled, the production server started as a subprocess, the
portal search page and decision pages driven at concurrency 8 over
keep-alive connections, and the last stdout line one JSON object with the
figures. No figure is checked (timing never decides a test); every response
must be a 2xx. SQLite in a temporary directory; ports 18400-18499."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KEYS = {"records", "database", "p50_ms", "p95_ms", "p99_ms", "search_p95_ms", "detail_p95_ms", "rps", "errors",
        "loadavg", "server", "concurrency", "requests", "search", "detail"}


def test_pages_bench_drives_search_and_decision_pages_and_prints_its_figures_as_the_last_line():
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SANXIANG_DATA_DIR"}}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "pages", "--records", "200", "--requests", "120", "--warmup", "16",
         "--no-results"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["records"] == 200 and figures["database"] == "sqlite" and figures["concurrency"] == 8
    assert figures["requests"] == 120
    assert figures["search"]["requests"] == 60 and figures["detail"]["requests"] == 60
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert not list((ROOT / "bench" / "results").glob("pages-sqlite-200.json"))
