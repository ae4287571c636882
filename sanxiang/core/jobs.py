"""Scheduled jobs: idempotent functions run periodically.

Each app keeps its jobs in its tasks.py and registers them here
(``register_job``). Each job becomes a periodic task of the job queue
(sanxiang/core/queue.py, docs/decisions/0014-job-queue.md): every consumer
(``sanxiang worker``, or the threads of ``sanxiang serve`` in the embedded
default) offers it every minute, and it runs when its interval
(SANXIANG_JOBS_INTERVAL seconds, default 600; 0 = never by itself) has
passed since its last start. Each job is safe to run any number of times: it
acts on what is due "today".

Each job runs under a lock in the database (core.ScheduledJob: a row per
job with its holder and lease), so two processes never run the same job at
once, and of any number of consumers offering a due job exactly one runs it
(the lock is taken only if the job is free and due, in one conditional
UPDATE). A job that raises is logged and recorded on its row (last_ok,
last_error), then retried by the queue with growing delays and, when the
attempts are spent, listed on the failed-tasks page. `sanxiang jobs list`
shows each job's last run; `sanxiang jobs run` runs them now (under the same
lock) and exits non-zero if one failed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from . import clock, queue

log = logging.getLogger(__name__)

# name → dotted path of a function taking no arguments and returning a count.
# The one list of scheduled work: each app keeps its jobs in its tasks.py and
# registers them here in its AppConfig.ready (``register_job``), so core
# names no app above it (docs/decisions/0011). Today: security.log_purge
# (core), publicity.expire, evidence (upload expiry, purge, fixity; 记录-12),
# review.deadlines (reminders and escalation; 审核-8).
JOBS: dict[str, str] = {}

# name → the job's periodic task in the queue ("job.<name>").
PERIODIC: dict = {}


def register_job(name: str, function) -> None:
    """Schedule ``function`` (no arguments, returns a count) as job ``name``.
    Idempotent; a name names one function."""
    path = f"{function.__module__}.{function.__qualname__}"
    if JOBS.get(name, path) != path:
        raise RuntimeError(f"job {name!r} is already {JOBS[name]}")
    JOBS[name] = path
    if name not in PERIODIC:
        PERIODIC[name] = queue.periodic(name=f"job.{name}", label=_("Scheduled job"))(_periodic_body(name))


class JobFailed(RuntimeError):
    """A scheduled job raised (raised again for the queue, so it retries and
    records the failure with the job's own traceback)."""

    def __init__(self, name: str, error: str, traceback_text: str):
        super().__init__(f"job {name} failed: {error}")
        self.traceback_text = traceback_text


def _periodic_body(name: str):
    def run_scheduled_job(task=None, **options):
        if options.get(queue.RUN_NOW):  # 重试 on the failed-tasks page: now, under the lock
            outcome = run_job(name, JOBS[name])
        else:
            interval = int(settings.JOBS_INTERVAL)
            retry = queue.is_retry(task)
            if interval <= 0 and not retry:
                return None
            # Due when the last start is one interval old (less half a
            # minute: the consumers offer jobs once a minute, not on the
            # second). A retry of a failed attempt runs also when the last
            # run failed — never again a job another consumer has just run.
            due_before = clock.now() - timedelta(seconds=max(interval - min(30, interval / 2), 0))
            outcome = run_job(name, JOBS[name], due_before=due_before, or_failed=retry)
        if isinstance(outcome, Failed):
            raise JobFailed(name, outcome.error, outcome.traceback)
        return None

    run_scheduled_job.__qualname__ = run_scheduled_job.__name__ = f"run_scheduled_job_{name}"
    return run_scheduled_job


def _function(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Failed:
    """The job raised: logged with its traceback and recorded on its row."""

    error: str
    traceback: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Busy:
    """Another runner holds the job's lock: this run left it alone."""

    owner: str


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:160]


def _lease() -> timedelta:
    return timedelta(seconds=max(int(settings.JOB_LEASE_SECONDS), 3))


def _acquire(name: str, owner: str, *, due_before=None, or_failed: bool = False) -> bool:
    """Take the job's lock if it is free or its lease ran out (and, with
    ``due_before``, if it last started before that moment, or with
    ``or_failed`` if its last run failed): one conditional UPDATE, so of two
    runners (threads, processes, machines on one database) exactly one sees
    a row updated."""
    from .models import ScheduledJob

    ScheduledJob.objects.get_or_create(name=name)
    now = clock.now()
    free = ScheduledJob.objects.filter(name=name).filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
    if due_before is not None:
        due = Q(last_started_at__isnull=True) | Q(last_started_at__lte=due_before)
        free = free.filter(due | Q(last_ok=False) if or_failed else due)
    return free.update(owner=owner, locked_until=now + _lease(), last_started_at=now) == 1


class _Heartbeat(threading.Thread):
    """Extends the lease while the job runs (every third of a lease), so a
    long job keeps its lock and a crashed runner loses it within one lease."""

    def __init__(self, name: str, owner: str):
        super().__init__(name=f"sanxiang-job-lease-{name}", daemon=True)
        self.job, self.owner, self.stop = name, owner, threading.Event()

    def run(self):
        from .models import ScheduledJob

        try:
            while not self.stop.wait(_lease().total_seconds() / 3):
                ScheduledJob.objects.filter(name=self.job, owner=self.owner).update(locked_until=clock.now() + _lease())
        except Exception:  # the lease then simply runs out; the job itself goes on
            log.exception("could not extend the lease of job %s", self.job)
        finally:
            connection.close()


def _release(name: str, owner: str, *, result: int | None, error: str) -> None:
    from .models import ScheduledJob
    from .services import resolve_failures_of_job  # same app; services needs the models loaded

    values = dict(owner="", locked_until=None, last_finished_at=clock.now(), last_ok=not error,
                  last_result=result, last_error=error[-4000:])
    values["consecutive_failures"] = F("consecutive_failures") + 1 if error else 0
    ScheduledJob.objects.filter(name=name, owner=owner).update(**values)
    if not error:
        # The failures of earlier runs listed on the failed-tasks page are
        # settled by this success.
        resolve_failures_of_job(task_name=PERIODIC[name].name if name in PERIODIC else f"job.{name}")


def run_job(name: str, path: str, *, due_before=None, or_failed: bool = False) -> int | Failed | Busy | None:
    """Run one job under its lock. Whatever the job raises is logged and
    recorded on its row (last_ok, last_error, consecutive_failures), never
    raised: the other jobs of the round still run. With ``due_before``, a
    job started since that moment is not due: None, nothing run."""
    from .models import ScheduledJob

    owner = _owner()
    if not _acquire(name, owner, due_before=due_before, or_failed=or_failed):
        if due_before is not None:
            return None
        holder = ScheduledJob.objects.filter(name=name).values_list("owner", flat=True).first() or ""
        log.info("job %s skipped: running in %s", name, holder)
        return Busy(owner=holder)
    heartbeat = _Heartbeat(name, owner)
    heartbeat.start()
    result: int | None = None
    error = ""
    try:
        result = int(_function(path)() or 0)
    except Exception as exc:
        log.exception("scheduled job %s failed", name)
        error = "".join(traceback.format_exception(exc))
    finally:
        heartbeat.stop.set()
        heartbeat.join()
        try:
            _release(name, owner, result=result, error=error)
        except Exception:  # the lease runs out by itself
            log.exception("could not record the end of job %s", name)
    return Failed(error=error.strip().splitlines()[-1], traceback=error) if error else result


def run_jobs(*, names: list[str] | None = None, registry: dict[str, str] | None = None) -> dict[str, int | Failed | Busy]:
    """Run the named jobs (all by default), each under its own lock and
    isolated from the others; return what each did: a count, Failed or Busy."""
    done: dict[str, int | Failed | Busy] = {}
    for name, path in (JOBS if registry is None else registry).items():
        if names and name not in names:
            continue
        done[name] = run_job(name, path)
    return done
