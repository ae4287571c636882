"""The job queue (issue 12 item 1, sanxiang/core/queue.py): every test runs
on both storages — a SQLite file and Redis (db 1) — each test in its own
queue namespace, through the real storage and real consumers: a
`sanxiang worker` process, consumer threads, or ``run_pending`` (the same
execution path, in the test's thread). The tasks below are this module's
own functions declared on the real queue; the scheduled job, the archive
and the failed-tasks page are the platform's own."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock, jobs, metrics, queue, services
from sanxiang.core.models import AuditEntry, FailedTask, Role, ScheduledJob
from sanxiang.core.tests import queue_probe

REDIS_URL = "redis://127.0.0.1:6379/1"
RAN: list[str] = []
_ran_lock = threading.Lock()
HEALED: set[str] = set()


@queue.task(name="test.queue.record", retries=0)
def record(tag: str) -> None:
    with _ran_lock:
        RAN.append(tag)


@queue.task(name="test.queue.boom", retries=3, retry_delay=60)
def boom(tag: str) -> None:
    with _ran_lock:
        RAN.append(f"boom:{tag}")
    raise RuntimeError(f"the store for {tag} is unreachable")


@queue.task(name="test.queue.flaky", retries=0)
def flaky(tag: str) -> None:
    """Fails until the test heals it (the cause fixed), then records."""
    if tag not in HEALED:
        raise RuntimeError(f"{tag}: the archive disk is full")
    with _ran_lock:
        RAN.append(f"healed:{tag}")


def counted_job() -> int:
    """A scheduled job of this module: counts its runs."""
    with _ran_lock:
        RAN.append("job")
    time.sleep(0.3)  # long enough for the second consumer to arrive while it runs
    return 1


@pytest.fixture(params=["sqlite", "redis"])
def storage(request, tmp_path):
    """The queue on a SQLite file or on Redis db 1, in a namespace of its
    own; emptied and put back afterwards."""
    name = f"sx-queue-test-{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{tmp_path}/queue.sqlite3" if request.param == "sqlite" else REDIS_URL
    queue.use_storage(url, name)
    RAN.clear()
    HEALED.clear()
    try:
        yield type("Storage", (), {"url": url, "name": name, "kind": request.param})
    finally:
        queue.flush()
        queue.use_storage(django_settings.QUEUE_URL, django_settings.QUEUE_NAME)


def _wait_for(predicate, what: str, timeout: float = 60.0):
    """Wait for a state a consumer brings about; the deadline is generous
    (never the thing tested: a task that never runs fails the test)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- a real `sanxiang worker` process ------------------------------------------


@pytest.fixture(scope="module")
def worker_data_dir(tmp_path_factory):
    """A migrated SQLite data directory of its own for the worker process
    (the test database of this run is not reachable from another process)."""
    data = tmp_path_factory.mktemp("worker-data")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SANXIANG_DATA_DIR"] = str(data)
    subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "-v", "0"], env=env, check=True, timeout=600)
    return data


def _rows(db: Path, sql: str, *params):
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_sanxiang_worker_process_runs_tasks_enqueued_here_and_the_scheduled_jobs(storage, worker_data_dir):
    """`sanxiang worker` on the same storage takes a task this process
    enqueued (an archive of a case its database lacks: it fails, and the
    worker records the failure in its database) and, from its own
    scheduler, runs every scheduled job once."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SANXIANG_DATA_DIR=str(worker_data_dir), SANXIANG_QUEUE_URL=storage.url,
               SANXIANG_QUEUE_NAME=storage.name, SANXIANG_JOBS_INTERVAL="600")
    worker_db = worker_data_dir / "sanxiang.sqlite3"
    _rows(worker_db, "DELETE FROM core_failedtask")
    _rows(worker_db, "DELETE FROM core_scheduledjob")
    from sanxiang.evidence import tasks as evidence_tasks

    task = evidence_tasks.build_archive.s(987654, actor_name="system:test", retries=0)
    queue.enqueue(task)
    proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "worker", "--workers", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Worker consuming"), first + proc.stderr.read()[-2000:]
        assert storage.name in first
        _wait_for(lambda: _rows(worker_db, "SELECT count(*) FROM core_failedtask WHERE final = 1")[0][0] == 1,
                  "the worker to record the failed task")
        _wait_for(lambda: _rows(worker_db, "SELECT count(*) FROM core_scheduledjob WHERE last_ok = 1")[0][0]
                  == len(jobs.JOBS), "the worker to run every scheduled job")
    finally:
        proc.send_signal(2)  # SIGINT: stop after the running tasks
        proc.communicate(timeout=60)
    name, task_id, attempts, error = _rows(worker_db, "SELECT name, task_id, attempts, error FROM core_failedtask")[0]
    assert (name, task_id, attempts) == ("evidence.build_archive", str(task.id), 1)
    assert "does not exist" in error
    assert queue.pending_count() == 0


# --- delivery: at least once, never lost to a dead worker ---------------------------------


def _lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def _probe_worker(storage, data_dir: Path, lease: float, *extra: str) -> subprocess.Popen:
    """A `sanxiang worker` process (the real command) with the probe tasks
    declared, a heartbeat lease of ``lease`` seconds, no scheduled jobs."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_QUEUE_URL=storage.url, SANXIANG_QUEUE_NAME=storage.name,
               SANXIANG_QUEUE_LEASE_SECONDS=str(lease))
    proc = subprocess.Popen([sys.executable, "-c", queue_probe.WORKER, "--no-periodic", *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline()
    assert first.startswith("Worker consuming"), first
    return proc


def _end(proc: subprocess.Popen, sig: int = 9) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.communicate(timeout=60)


def test_a_task_of_a_worker_killed_mid_run_runs_to_completion_once_more_in_the_next_worker(
        storage, worker_data_dir, tmp_path):
    """A `sanxiang worker` is SIGKILLed while a task runs (it waits for a
    file the test has not made); the task it had completed before is done.
    A new worker takes the killed one's task back once its heartbeat has run
    out (lease 2 s), runs it to completion, and the queue drains: the
    killed task ran exactly once more, the completed one never again."""
    log, release = tmp_path / "ran.log", tmp_path / "release"
    queue_probe.note(str(log), "quick")
    queue_probe.wait_for_file(str(log), "slow", str(release))
    first = _probe_worker(storage, worker_data_dir, 2, "--workers", "1")
    try:
        _wait_for(lambda: _lines(log) == ["done quick", "start slow"], "the first worker to start the slow task")
        assert queue.inflight_count() == 1 and queue.pending_count() == 0
    finally:
        _end(first, 9)  # SIGKILL: no clean-up of any kind
    assert queue.inflight_count() == 1  # still recorded as taken by the dead worker
    second = _probe_worker(storage, worker_data_dir, 2, "--workers", "1")
    try:
        _wait_for(lambda: _lines(log).count("start slow") == 2, "the second worker to take the task back")
        release.touch()
        _wait_for(lambda: "done slow" in _lines(log), "the task to complete")
        _wait_for(lambda: queue.inflight_count() == 0 and queue.pending_count() == 0, "the queue to drain")
    finally:
        _end(second, 2)
    assert _lines(log) == ["done quick", "start slow", "start slow", "done slow"]
    assert queue.inflight_count() == 0 and queue.pending_count() == 0


def test_a_live_slow_workers_task_is_not_taken_back_while_its_heartbeat_goes_on(storage, worker_data_dir, tmp_path):
    """A worker runs a task for five leases (1 s) while another worker and
    this test reap all along: the heartbeat keeps it, nobody runs it a
    second time; released, it completes once and the queue drains."""
    log, release = tmp_path / "ran.log", tmp_path / "release"
    queue_probe.wait_for_file(str(log), "slow", str(release))
    slow = _probe_worker(storage, worker_data_dir, 1, "--workers", "1")
    other = None
    try:
        _wait_for(lambda: _lines(log) == ["start slow"], "the worker to start the task")
        other = _probe_worker(storage, worker_data_dir, 1, "--workers", "1")
        end = time.monotonic() + 5
        while time.monotonic() < end:
            assert queue.reap() == 0
            time.sleep(0.2)
        assert _lines(log) == ["start slow"] and queue.inflight_count() == 1 and queue.pending_count() == 0
        release.touch()
        _wait_for(lambda: queue.inflight_count() == 0 and "done slow" in _lines(log), "the task to complete")
    finally:
        _end(slow, 2)
        if other is not None:
            _end(other, 2)
    assert _lines(log) == ["start slow", "done slow"] and queue.pending_count() == 0


def test_a_worker_stopped_by_sigterm_puts_its_running_task_back_at_once(storage, worker_data_dir, tmp_path):
    """systemd's stop (SIGTERM) interrupts the running task: it goes back to
    the queue as the worker exits, not one lease later (60 s here)."""
    log, release = tmp_path / "ran.log", tmp_path / "release"
    queue_probe.wait_for_file(str(log), "slow", str(release))
    worker = _probe_worker(storage, worker_data_dir, 60, "--workers", "1")
    try:
        _wait_for(lambda: _lines(log) == ["start slow"], "the worker to start the task")
    finally:
        _end(worker, 15)
    assert queue.pending_count() == 1 and queue.inflight_count() == 0
    release.touch()
    queue.run_pending()
    assert _lines(log) == ["start slow", "start slow", "done slow"]
    assert queue.pending_count() == 0 and queue.inflight_count() == 0


def test_the_reaper_returns_only_the_unacknowledged_tasks_of_a_consumer_whose_heartbeat_ran_out(storage, tmp_path):
    """On the real storage, a second consumer (its own storage object, lease
    3 s) takes two tasks, completes one (acknowledged) and dies with the
    other in flight: while its heartbeat lasts the reaper returns nothing;
    once it has run out, exactly the unacknowledged task comes back, and
    running the queue completes it; a second reaping finds nothing.

    The last beat was at most a third of a lease before the heartbeat
    stopped, so the consumer is alive for at least two thirds of a lease
    after: the reaper is asked within that time (a loaded machine once took
    longer than a whole 1 s lease between the stop and the question)."""
    log = tmp_path / "ran.log"
    storage_class, options = queue.storage_options(storage.url, storage.name)
    options["lease"] = 3
    other = storage_class(storage.name, **options)
    try:
        queue_probe.note(str(log), "first")
        queue_probe.note(str(log), "second")
        token, data = other.claim()
        other.ack(token)
        assert other.claim() is not None
        other.stop_heartbeat()
        stopped = time.monotonic()
        assert queue.reap() == 0  # its heartbeat still lasts
        assert time.monotonic() - stopped < 2 * options["lease"] / 3, "the machine was too slow to ask in time"
        assert queue.inflight_count() == 1 and queue.pending_count() == 0
        assert "\nsanxiang_queue_in_flight 1.0\n" in metrics.render().decode()
        _wait_for(lambda: queue.reap() == 1, "the dead consumer's heartbeat to run out")
        assert queue.reap() == 0 and queue.inflight_count() == 0 and queue.pending_count() == 1
        assert queue.run_pending() == 1
    finally:
        other.close()
    assert _lines(log) == ["done second"]
    assert queue.inflight_count() == 0 and queue.pending_count() == 0


# --- periodic jobs: once across consumers ------------------------------------------


@pytest.fixture
def test_job():
    jobs.register_job("test.queue.counted", counted_job)
    try:
        yield jobs.PERIODIC["test.queue.counted"]
    finally:
        wrapper = jobs.PERIODIC.pop("test.queue.counted")
        jobs.JOBS.pop("test.queue.counted")
        queue.TASKS.pop(wrapper.name, None)
        queue.LABELS.pop(wrapper.name, None)
        wrapper.unregister()


def _offered(wrapper) -> int:
    """The job's offers waiting in the queue (not its scheduled retries)."""
    return sum(1 for t in queue.huey.pending() if t.name == wrapper.name)


@pytest.mark.django_db(transaction=True)
def test_a_due_periodic_job_offered_by_two_consumers_runs_once(storage, test_job):
    """Two consumers' schedulers both offer the due job in the same minute
    (each enqueues the periodic task, as Scheduler.enqueue_periodic_tasks
    does); their worker threads race for the two offers: the job runs once
    (the ScheduledJob lock row, "free and due" in one UPDATE). Offered again
    at once, it is not due; after its interval it runs again, once."""
    consumers = [queue.EmbeddedConsumer(workers=1, periodic=True).start(scheduler=False) for _ in range(2)]

    def offer_and_wait(what):
        for _ in consumers:
            queue.enqueue(test_job.s())
        _wait_for(lambda: _offered(test_job) == 0
                  and not ScheduledJob.objects.filter(name="test.queue.counted", owner__gt="").exists(), what)
        time.sleep(0.5)  # the other offer's run, had the lock let it through, would have begun by now

    try:
        offer_and_wait("both offers to be taken")
        assert RAN.count("job") == 1
        offer_and_wait("the second offers to be taken")  # again at once: not due
        assert RAN.count("job") == 1
        # One interval later (the last start moved back), due again: once.
        ScheduledJob.objects.filter(name="test.queue.counted").update(
            last_started_at=clock.now() - dt.timedelta(seconds=django_settings.JOBS_INTERVAL))
        offer_and_wait("the job's next run")
        assert RAN.count("job") == 2
    finally:
        for c in consumers:
            c.stop()
    row = ScheduledJob.objects.get(name="test.queue.counted")
    assert row.last_ok is True and row.owner == "" and row.last_result == 1


def test_a_retried_offer_runs_a_job_only_if_its_last_run_failed_or_it_is_due(storage, test_job, db):
    """A retry of an offer (fewer attempts left than declared) must not run
    the job again when another consumer has just run it; it does when the
    last run failed. 重试 from the page (run now) runs it whatever."""
    retry = test_job.s(retries=test_job.retries - 1)
    queue.enqueue(test_job.s())
    queue.run_pending()
    assert RAN.count("job") == 1
    queue.enqueue(retry)
    queue.run_pending()
    assert RAN.count("job") == 1  # ran a moment ago, succeeded: not again
    ScheduledJob.objects.filter(name="test.queue.counted").update(last_ok=False)
    queue.enqueue(test_job.s(retries=test_job.retries - 1))
    queue.run_pending()
    assert RAN.count("job") == 2  # the last run failed: the retry runs it
    queue.enqueue(queue.task_again(test_job.name, [], {}))
    queue.run_pending()
    assert RAN.count("job") == 3


def healing_job() -> int:
    """A scheduled job of this module that fails until the test heals it."""
    if "job" not in HEALED:
        raise RuntimeError("the publicity store is unreachable")
    with _ran_lock:
        RAN.append("healed job")
    return 1


@pytest.fixture
def failing_job():
    jobs.register_job("test.queue.healing", healing_job)
    try:
        yield jobs.PERIODIC["test.queue.healing"]
    finally:
        wrapper = jobs.PERIODIC.pop("test.queue.healing")
        jobs.JOBS.pop("test.queue.healing")
        queue.TASKS.pop(wrapper.name, None)
        queue.LABELS.pop(wrapper.name, None)
        wrapper.unregister()


def test_a_scheduled_jobs_failure_is_resolved_when_a_later_run_of_it_succeeds(storage, failing_job, db):
    """The job fails: its failure row is open (and its retry scheduled).
    Healed, its next scheduled run succeeds: the row is resolved by the
    system and audited; the retry that comes due afterwards finds the job
    done and opens no new row."""
    queue.enqueue(failing_job.s())
    queue.run_pending()
    row = FailedTask.objects.get(name=failing_job.name)
    assert row.resolved_at is None and row.attempts == 1 and not row.final
    HEALED.add("job")
    ScheduledJob.objects.filter(name="test.queue.healing").update(
        last_started_at=clock.now() - dt.timedelta(seconds=django_settings.JOBS_INTERVAL))
    queue.enqueue(failing_job.s())  # the next minute's offer, the job due again
    queue.run_pending()
    assert RAN == ["healed job"]
    row.refresh_from_db()
    assert row.resolved_at is not None and row.resolved_by is None
    entry = AuditEntry.objects.get(action="queue.failure_resolved")
    assert json.loads(entry.payload)["failed_task_id"] == row.task_id
    queue.run_pending(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))  # the retry, due
    assert RAN == ["healed job"] and FailedTask.objects.filter(resolved_at__isnull=True).count() == 0
    assert queue.pending_count() == 0 and queue.failed_count() == 0


# --- retries, failure records, the page ---------------------------------------------


def _scheduled_delay(before: dt.datetime) -> float:
    [retry] = queue.huey.scheduled()
    return (retry.eta - before).total_seconds()


def test_a_raising_task_is_retried_with_growing_delays_then_listed_as_failed(storage, world, no_totp):
    """boom: 3 retries, 60 s then doubling. Each attempt's retry is
    scheduled in the real storage 60, 120, 240 s after it; the fourth
    attempt is the last: one FailedTask row, final, 4 attempts, shown to
    the system administrator with its error and a 重试 button."""
    boom("A")
    delays = []
    moment = None
    for _attempt in range(3):
        before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert queue.run_pending(now=moment) == 1
        delay = _scheduled_delay(before)
        delays.append(delay)
        assert queue.run_pending(now=moment) == 0  # the retry waits for its time
        moment = (before + dt.timedelta(seconds=delay + 1)).replace(tzinfo=dt.timezone.utc)
    assert [round(d / 60) for d in delays] == [1, 2, 4], delays
    assert 60 <= delays[0] < 90 and 120 <= delays[1] < 150 and 240 <= delays[2] < 270
    row = FailedTask.objects.get()
    assert not row.final and row.attempts == 3  # still retrying: not on the page
    assert queue.run_pending(now=moment) == 1
    assert queue.pending_count() == 0
    assert RAN == ["boom:A"] * 4
    row.refresh_from_db()
    assert row.final and row.attempts == 4 and row.name == "test.queue.boom" and row.args == ["A"]
    assert row.error == "RuntimeError: the store for A is unreachable"
    assert "Traceback" in row.traceback and "test_queue.py" in row.traceback
    assert row.first_failed_at < row.last_failed_at
    assert queue.failed_count() == 1

    page = client_for(world.u_admin).get("/workbench/failed-tasks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "失败的后台任务" in html and "the store for A is unreachable" in html and "重试" in html
    assert "test.queue.boom" in html and "&#x27;A&#x27;" in html
    workbench = client_for(world.u_admin).get("/workbench/").content.decode()
    assert 'href="/workbench/failed-tasks/"' in workbench and "1 个后台任务多次尝试均失败" in workbench


def test_only_the_system_administrator_sees_the_failed_tasks(storage, world, no_totp):
    flaky("B")
    queue.run_pending()
    row = FailedTask.objects.get(final=True)
    for user in (world.u_changan, world.u_legal_sjz, world.u_legal_hebei):
        client = client_for(user)
        assert client.get("/workbench/failed-tasks/").status_code == 403
        assert client.post("/workbench/failed-tasks/", {"task": row.pk}).status_code == 403
        assert "/workbench/failed-tasks/" not in client.get("/workbench/").content.decode()
    row.refresh_from_db()
    assert row.resolved_at is None and queue.pending_count() == 0
    assert client_for(world.u_admin).get("/workbench/failed-tasks/").status_code == 200


def test_retry_from_the_page_runs_the_task_again(storage, world, no_totp, django_capture_on_commit_callbacks):
    """The administrator fixes the cause and presses 重试 (POST, CSRF): the
    row is resolved by them, audited, and the task — enqueued once the
    retry commits — runs again with its arguments and succeeds."""
    flaky("C")
    queue.run_pending()
    row = FailedTask.objects.get(final=True)
    assert row.attempts == 1 and RAN == []
    HEALED.add("C")
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.u_admin)
    assert strict.post("/workbench/failed-tasks/", {"task": row.pk}).status_code == 403  # no CSRF token
    admin = client_for(world.u_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/workbench/failed-tasks/", {"task": row.pk}, follow=True)
    assert response.status_code == 200
    assert "任务已重新排队" in response.content.decode()
    assert RAN == ["healed:C"]
    row.refresh_from_db()
    assert row.resolved_by == world.u_admin and row.resolved_at is not None and row.retried_as
    entry = AuditEntry.objects.get(action="queue.task_retry")
    assert entry.object_id == str(row.pk) and f'"new_task_id":"{row.retried_as}"' in entry.payload.replace(" ", "")
    assert queue.failed_count() == 0
    # A second press names why nothing happens; nothing is enqueued.
    again = admin.post("/workbench/failed-tasks/", {"task": row.pk}, follow=True).content.decode()
    assert "已经重新排队，不能重复重试" in again and queue.pending_count() == 0
    assert "失败的后台任务" in again and "最近已重试" in again
    bad = admin.post("/workbench/failed-tasks/", {"task": "abc"})
    assert bad.status_code == 400


def test_a_task_that_failed_again_after_a_retry_comes_back_as_a_new_row(storage, world):
    flaky("D")
    queue.run_pending()
    first = FailedTask.objects.get(final=True)
    services.retry_failed_task(actor=world.u_admin, failed=first)
    # (the test's transaction does not commit: enqueue what the commit would)
    queue.enqueue(queue.task_again(first.name, first.args, first.kwargs))
    queue.run_pending()
    rows = list(FailedTask.objects.order_by("id"))
    assert len(rows) == 2 and rows[0].resolved_at is not None and rows[1].resolved_at is None and rows[1].final


# --- isolation, a real consumer ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_failing_task_does_not_stop_the_next_in_a_consumer(storage):
    """In consumer threads of this process: a task that raises (no retries
    left) is recorded, and the task queued after it still runs."""
    flaky("E")
    record("after")
    consumer = queue.start_embedded_consumer(workers=1, periodic=False)
    try:
        _wait_for(lambda: "after" in RAN, "the second task")
        _wait_for(lambda: FailedTask.objects.filter(name="test.queue.flaky", final=True).exists(), "the failure record")
    finally:
        consumer.stop()
    assert RAN == ["after"] and queue.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_archive_of_a_terminated_case_is_built_by_the_worker(storage, world, settings, tmp_path):
    """Ending a case enqueues its e-case file on commit; nothing builds it
    until a consumer runs; a consumer (threads, the real storage) builds it
    as the head who ended the case."""
    from sanxiang.cases import services as case_services
    from sanxiang.evidence.models import ArchivePackage

    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    head = make_user("changan_head_q", Role.AGENCY_HEAD, agency=world.amr_changan)
    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某商店无照经营案",
                                   act_kind="penalty", procedure="general", party_name="石家庄某某商店",
                                   party_type="legal_person", opened_on=clock.today(),
                                   officers=[world.changan_officer, world.changan_officer2])
    case_services.terminate_case(actor=head, case=case, reason="违法事实不能成立", on=clock.today())
    assert queue.pending_count() == 1 and not ArchivePackage.objects.filter(case=case).exists()
    consumer = queue.start_embedded_consumer(workers=2, periodic=False)
    try:
        _wait_for(lambda: ArchivePackage.objects.filter(case=case).exists(), "the archive package")
    finally:
        consumer.stop()
    package = ArchivePackage.objects.get(case=case)
    assert package.built_by == head.username
    assert (Path(settings.ARCHIVE_DIR) / package.path).is_file()
    assert not FailedTask.objects.exists() and queue.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_archive_task_of_an_ending_delivered_twice_builds_one_package(storage, world, settings, tmp_path):
    """The queue delivers at least once: the ending's build_archive task run
    a second time (the same message, as a redelivery carries it) finds the
    package of that ending and builds no other; a rebuild asked for later
    (services.rebuild_archive) still makes a new package."""
    from sanxiang.cases import services as case_services
    from sanxiang.evidence import services as evidence_services
    from sanxiang.evidence.models import ArchivePackage

    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    head = make_user("changan_head_q2", Role.AGENCY_HEAD, agency=world.amr_changan)
    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某商店超范围经营案",
                                   act_kind="penalty", procedure="general", party_name="石家庄某某商店",
                                   party_type="legal_person", opened_on=clock.today(),
                                   officers=[world.changan_officer, world.changan_officer2])
    case_services.terminate_case(actor=head, case=case, reason="违法事实不能成立", on=clock.today())
    [message] = queue.huey.storage.enqueued_items()
    assert queue.run_pending() == 1
    queue.huey.storage.enqueue(message)  # the very message, delivered again
    assert queue.run_pending() == 1
    assert ArchivePackage.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    evidence_services.rebuild_archive(actor=head, case=case)
    assert ArchivePackage.objects.filter(case=case).count() == 2
    assert not FailedTask.objects.exists() and queue.pending_count() == 0


# --- configuration ---------------------------------------------------------------------


def test_a_queue_url_of_another_kind_is_refused_naming_the_setting():
    from django.core.exceptions import ImproperlyConfigured

    for url in ("amqp://127.0.0.1/", "sqlite:///", "postgres://x/y"):
        with pytest.raises(ImproperlyConfigured, match="SANXIANG_QUEUE_URL"):
            queue.storage_options(url, "x")
    assert queue.storage_options("sqlite:////tmp/q.sqlite3", "x")[1]["filename"] == "/tmp/q.sqlite3"


def test_the_readiness_helpers_answer_on_both_storages(storage):
    queue.ping()
    assert queue.pending_count() == 0
    record.schedule(("later",), delay=3600)
    record("now")
    assert queue.pending_count() == 2
    assert queue.is_embedded() is (storage.kind == "sqlite")
    assert storage.name in queue.describe()
    queue.run_pending()
    assert RAN == ["now"] and queue.pending_count() == 1


# --- the page in a real browser -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_failed_tasks_page_in_a_browser_from_the_workbench_to_a_retry(storage, cjk_fonts, no_totp, browser_page,
                                                                         tmp_path):
    """The administrator goes 工作台 → 失败的后台任务, sees the error, and
    presses 重试; on a phone (390 px) the page does not scroll sideways,
    nor on a desktop. Screenshots to tmp (or SANXIANG_SCREENSHOT_DIR)."""
    from sanxiang.conftest import log_in, no_horizontal_scroll

    flaky("F")
    queue.run_pending()
    assert FailedTask.objects.filter(final=True).count() == 1
    HEALED.add("F")
    pg = browser_page
    log_in(pg, "sysadmin")
    pg.goto(pg.base + "/workbench/")
    pg.click("main > p > a[href='/workbench/failed-tasks/']")
    assert pg.url.endswith("/workbench/failed-tasks/")
    text = pg.inner_text("main")
    assert "失败的后台任务" in text and "the archive disk is full" in text and "← 返回工作台" in text
    assert no_horizontal_scroll(pg)
    shots = Path(os.environ.get("SANXIANG_SCREENSHOT_DIR") or tmp_path)
    pg.screenshot(path=str(shots / "failed-tasks-phone.png"), full_page=True)
    pg.set_viewport_size({"width": 1280, "height": 800})
    assert no_horizontal_scroll(pg)
    pg.screenshot(path=str(shots / "failed-tasks-desktop.png"), full_page=True)
    pg.click("form button[type=submit]:has-text('重试')")
    assert "任务已重新排队" in pg.inner_text("main")
    assert queue.run_pending() == 1 and RAN == ["healed:F"]
    assert FailedTask.objects.get().resolved_by.username == "sysadmin"
