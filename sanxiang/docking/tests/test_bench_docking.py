"""Smoke test of `sanxiang bench docking` (bench/docking.py;
docs/docking-bench.md): a county (SQLite), a city and the province
(PostgreSQL) as `sanxiang serve` subprocesses, county → city → province,
under a tiny push load with the province SIGKILLed twice and the city once
and each restarted. Every record pushed into the county is found by the
province's public search, once. No figure of speed is checked (timing
never decides a test). Needs PostgreSQL at 127.0.0.1:5432, like CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KEYS = {"rate", "duration_s", "sent", "received", "lost", "duplicates", "lag_p50_s", "lag_p95_s", "kills"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def _prefix() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.rstrip("/").rpartition("/")[2].partition("?")[0] + "_bench"
    return os.environ.get("SANXIANG_TEST_PG_PREFIX", "sx_docking_test") + "_bench"


def test_the_docking_bench_brings_every_record_pushed_into_the_county_to_the_province_once_through_kills():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "docking", "--rate", "4", "--duration", "12", "--down", "1",
         "--drain-timeout", "60", "--threads", "4", "--db-prefix", _prefix(), "--no-results"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["kills"] == 3 and [k["platform"] for k in figures["kill_log"]] == ["province", "city", "province"]
    assert figures["sent"] == 48 and figures["rejected_by_county"] == 0
    assert figures["received"] == figures["sent"] and figures["lost"] == 0, figures
    assert figures["duplicates"] == 0 and figures["city_duplicates"] == 0
    assert figures["province_stored"] == figures["sent"]


def test_every_database_name_the_bench_builds_fits_postgresql_even_from_a_long_prefix():
    """CI's database name with a five-digit process id made the template's
    "_building" name 69 bytes, which PostgreSQL cut short silently, so the
    migration connected to a database that did not exist."""
    sys.path.insert(0, str(ROOT))
    from bench.docking import PG_NAME_MAX, _fitting_prefix

    long_a = "sanxiang_ci_1796315286_4194304_bench"
    long_b = "sanxiang_ci_1796315286_4194305_bench"
    run_id = "20261203174900" + "9999"
    for prefix in (long_a, long_b, "sx_docking"):
        short = _fitting_prefix(prefix)
        for name in (f"{short}_template_{'f' * 16}_building", f"{short}_{run_id}_province", f"{short}_{run_id}_city"):
            assert len(name.encode()) <= PG_NAME_MAX, name
    assert _fitting_prefix("sx_docking") == "sx_docking"
    assert _fitting_prefix(long_a) != _fitting_prefix(long_b)
    with pytest.raises(ValueError, match="--db-prefix"):
        _fitting_prefix('bad"; DROP')
