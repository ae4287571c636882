"""Smoke test of `sanxiang bench cluster` (bench/cluster.py; docs/cluster-bench.md):
the whole production topology — PostgreSQL, the queue on Redis, moto's S3
server, two `sanxiang serve --workers 1` and two `sanxiang worker` — under a
short, light load, with one web process and one worker SIGKILLed and
restarted. Every pushed record is stored once with the content sent, every
upload ends as evidence whose object in S3 has the declared SHA-256, the
queue drains and the audit chain verifies. No figure is checked (timing
never decides a test). PostgreSQL only: the bench makes its own database
there; its ports are 18750-18761."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KEYS = {"duration_s", "pushed", "stored", "lost", "duplicates", "uploads", "uploads_ok", "search_p95_ms",
        "errors_5xx", "kills", "audit_ok", "loadavg", "database", "queue"}


@pytest.mark.postgres_only
def test_cluster_bench_stores_every_record_once_and_completes_every_upload_through_a_kill():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cluster", "--duration", "20", "--upload-size", "5M", "--push-rate", "10",
         "--search-rate", "5", "--port-base", "18750", "--no-results"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["database"] == "postgresql" and figures["kills"] == 2
    assert figures["pushed"] == 200 and figures["stored"] == 200
    assert figures["lost"] == 0 and figures["duplicates"] == 0 and figures["stored_hash_matches_sent"]
    assert figures["uploads"] >= 1 and figures["uploads_ok"] == figures["uploads"], figures["upload_problems"]
    assert figures["errors_5xx"] == 0, figures["errors_5xx_sample"]
    assert figures["queue"]["engine"] == "redis" and figures["queue"]["drained"]
    assert figures["audit_ok"], figures["audit_verify"]
    assert figures["page_views"] > 0 and figures["client_errors"] == 0, figures["client_errors_sample"]
