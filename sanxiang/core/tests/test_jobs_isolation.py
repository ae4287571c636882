"""Scheduled jobs (issue 9, §8): one failing job never skips the others, and
two runners (threads, processes) never run the same job at once — the lock
is a row in the database (core.ScheduledJob), taken by one conditional
UPDATE. The jobs below are this module's own functions run through the real
runner, lock table and database."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from sanxiang.core.jobs import Busy, Failed, run_jobs
from sanxiang.core.models import ScheduledJob

HERE = "sanxiang.core.tests.test_jobs_isolation"
RAN: list[str] = []
started = threading.Event()
release = threading.Event()


def boom() -> int:
    RAN.append("boom")
    raise RuntimeError("the store is unreachable")


def seven() -> int:
    RAN.append("seven")
    return 7


def wait_for_release() -> int:
    RAN.append("slow")
    started.set()
    assert release.wait(30), "the test never released the job"
    return 1


def record_interval() -> int:
    """For the two-process test: note when this process held the job."""
    import time

    path = Path(os.environ["SX_JOB_TRACE"])
    begin = time.monotonic_ns()
    time.sleep(1.5)
    with path.open("a") as f:
        f.write(json.dumps({"pid": os.getpid(), "begin": begin, "end": time.monotonic_ns()}) + "\n")
    return 1


@pytest.fixture(autouse=True)
def _reset():
    RAN.clear()
    started.clear()
    release.clear()
    yield
    release.set()


@pytest.mark.django_db
def test_a_job_that_raises_does_not_skip_the_next_and_the_failure_is_logged_and_recorded(caplog):
    caplog.set_level(logging.ERROR, logger="sanxiang.core.jobs")
    done = run_jobs(registry={"t.boom": f"{HERE}.boom", "t.seven": f"{HERE}.seven"})
    assert RAN == ["boom", "seven"]
    assert done["t.seven"] == 7
    assert isinstance(done["t.boom"], Failed) and "the store is unreachable" in done["t.boom"].error
    assert any("t.boom failed" in r.getMessage() and r.exc_info for r in caplog.records)
    failed, ok = ScheduledJob.objects.get(name="t.boom"), ScheduledJob.objects.get(name="t.seven")
    assert failed.last_ok is False and failed.consecutive_failures == 1 and "RuntimeError" in failed.last_error
    assert ok.last_ok is True and ok.last_result == 7 and ok.consecutive_failures == 0
    assert failed.owner == ok.owner == "" and failed.locked_until is None  # both locks released
    run_jobs(registry={"t.boom": f"{HERE}.boom"})
    assert ScheduledJob.objects.get(name="t.boom").consecutive_failures == 2


@pytest.mark.django_db
def test_jobs_run_exits_non_zero_when_a_job_failed_after_running_the_others(settings):
    from django.core.management.base import CommandError

    from sanxiang.core import jobs

    original = dict(jobs.JOBS)
    jobs.JOBS.clear()
    jobs.JOBS.update({"t.boom": f"{HERE}.boom", "t.seven": f"{HERE}.seven"})
    try:
        with pytest.raises(CommandError, match="t.boom"):
            call_command("jobs", "run")
    finally:
        jobs.JOBS.clear()
        jobs.JOBS.update(original)
    assert RAN == ["boom", "seven"]


@pytest.mark.django_db(transaction=True)
def test_two_runners_with_their_own_connections_never_run_the_same_job_at_once():
    registry = {"t.slow": f"{HERE}.wait_for_release", "t.seven": f"{HERE}.seven"}
    first: dict = {}
    def other_runner():
        try:
            first.update(run_jobs(registry=registry))
        finally:
            connection.close()  # this thread's own connection

    runner = threading.Thread(target=other_runner)
    runner.start()
    assert started.wait(30)
    holder = ScheduledJob.objects.get(name="t.slow").owner
    assert holder and str(os.getpid()) in holder

    second = run_jobs(registry=registry)  # this thread: another connection
    assert second["t.slow"] == Busy(owner=holder)
    assert second["t.seven"] == 7  # a busy job does not hold up the others
    assert RAN.count("slow") == 1

    release.set()
    runner.join(30)
    assert first["t.slow"] == 1
    third = run_jobs(registry={"t.slow": f"{HERE}.wait_for_release"})  # free again (released at once)
    assert third["t.slow"] == 1 and RAN.count("slow") == 2


@pytest.mark.django_db
def test_an_expired_lease_is_taken_over(settings):
    """A runner that died holding the lock blocks the job for one lease only."""
    from datetime import timedelta

    from sanxiang.core import clock

    ScheduledJob.objects.create(name="t.seven", owner="dead-host:1:1", locked_until=clock.now() + timedelta(minutes=5))
    assert run_jobs(registry={"t.seven": f"{HERE}.seven"})["t.seven"] == Busy(owner="dead-host:1:1")
    ScheduledJob.objects.filter(name="t.seven").update(locked_until=clock.now() - timedelta(seconds=1))
    assert run_jobs(registry={"t.seven": f"{HERE}.seven"})["t.seven"] == 7


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_never_run_the_same_job_at_once(tmp_path):
    """Two real `python` processes on the PostgreSQL test database start the
    same job together: whatever the order, their runs never overlap."""
    trace = tmp_path / "trace.jsonl"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    script = (
        "import django, json; django.setup();"
        "from sanxiang.core.jobs import run_jobs, Busy;"
        f"r = run_jobs(registry={{'t.trace': '{HERE}.record_interval'}})['t.trace'];"
        "print(json.dumps('busy' if isinstance(r, Busy) else r))"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "sanxiang.settings", "SX_JOB_TRACE": str(trace)}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    runs = sorted((json.loads(line) for line in trace.read_text().splitlines()), key=lambda r: r["begin"])
    assert len(runs) == outcomes.count(1) and outcomes.count(1) + outcomes.count("busy") == 2
    for a, b in zip(runs, runs[1:]):
        assert a["end"] <= b["begin"], "two processes ran the job at the same time"
