"""The job queue (issue 12 item 1; docs/decisions/0014-job-queue.md,
docs/queue.md): Huey on an existing engine.

- ``SANXIANG_QUEUE_URL`` names the storage: ``sqlite:///PATH`` (the default,
  ``<SANXIANG_DATA_DIR>/queue.sqlite3``: the embedded default, whose consumer
  runs in threads of ``sanxiang serve``) or ``redis://HOST:PORT/DB``
  (production: ``sanxiang worker`` processes consume it).
  ``SANXIANG_QUEUE_NAME`` (default "sanxiang") namespaces the queue, so two
  instances or two test runs can share one Redis or one file.
- Apps declare their tasks in their ``tasks.py`` with ``task()`` (and core's
  scheduled jobs with ``periodic()``, through ``sanxiang.core.jobs``); calling
  a task enqueues it. Core names no app above it: the tasks are registered
  when the apps' modules load (AppConfig.ready).
- A task that raises is retried ``QUEUE_RETRIES`` times, the delay doubling
  from ``QUEUE_RETRY_DELAY`` seconds; each failed attempt is written to
  ``core.FailedTask`` (one row per task, attempts counted), and the row is
  marked final when the attempts are spent. Administrators see final
  failures on the 失败任务 page and re-enqueue them from there
  (``services.retry_failed_task``). One task's failure never stops another:
  each runs alone and the consumer goes on.
- ``run_pending()`` executes what the real storage holds, here and now (the
  tests' way to run the queue without a consumer thread; also `sanxiang
  worker --drain`).
- Delivery is at least once (decision 0014, "Delivery"): taking a task moves
  it into an in-flight record of the taking process (its consumer id),
  acknowledged when the task ends in any way (done, failed for good, retry
  scheduled, revoked). Every process that takes tasks keeps a heartbeat
  (lease ``QUEUE_LEASE_SECONDS``) and reaps: the in-flight tasks of a
  process whose heartbeat ran out (SIGKILL, OOM, power loss) go back to the
  queue. Due retries move from the schedule to the queue in one step of
  the storage. Every task is therefore written to be safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, transaction
from django.db.models import F
from huey import Huey
from huey import signals as huey_signals
from huey.consumer import Consumer
from huey.storage import RedisStorage, SqliteStorage
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import clock

log = logging.getLogger(__name__)

# Name → TaskWrapper of every task declared through task()/periodic(): what
# the failed-tasks page re-enqueues by name.
TASKS: dict = {}
# Name → what the task does, in words (translatable; the failed-tasks page).
LABELS: dict = {}

_inline = threading.local()  # set while run_pending() executes in the caller's thread


class _Delivery:
    """What the acknowledging storages share: this process's consumer id,
    the lease, and the heartbeat thread (started by the first claim) that
    renews this process's heartbeat and reaps the tasks of dead consumers
    every third of a lease."""

    def _init_delivery(self, lease):
        self.lease = max(float(lease), 1.0)
        self.consumer_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._beat_lock = threading.Lock()
        self._beat_thread = None
        self._beat_stop = threading.Event()

    def _ensure_heartbeat(self):
        if self._beat_thread is not None:
            return
        with self._beat_lock:
            if self._beat_thread is None:
                self.heartbeat()  # alive before the first claim
                thread = threading.Thread(target=self._beat_loop, name="sanxiang-queue-heartbeat", daemon=True)
                thread.start()
                self._beat_thread = thread

    def _beat_loop(self):
        while not self._beat_stop.wait(self.lease / 3):
            try:
                self.heartbeat()
                self.reap()
            except Exception:  # storage unreachable for a moment: the next beat tries again
                log.exception("queue heartbeat failed")

    def stop_heartbeat(self):
        self._beat_stop.set()

    def dequeue(self):
        claimed = self.claim()
        return None if claimed is None else claimed[1]


class QueueSqliteStorage(_Delivery, SqliteStorage):
    """Huey's SQLite storage with the durability of the platform's own
    SQLite database (settings.py): WAL with synchronous=NORMAL, which
    survives a crash of the process (the OS has the pages) and syncs at
    checkpoints, instead of one fsync per enqueue and per dequeue.

    A claim moves the task's row from ``task`` to ``inflight`` (with the
    claiming consumer) in one transaction; ``consumer`` holds each
    consumer's heartbeat (alive_until, wall clock: one machine)."""

    ddl = SqliteStorage.ddl + [
        "create table if not exists inflight (id integer not null primary key autoincrement, "
        "queue text not null, data blob not null, priority real not null default 0.0, consumer text not null)",
        "create index if not exists inflight_queue_consumer on inflight (queue, consumer)",
        "create table if not exists consumer (queue text not null, id text not null, "
        "alive_until real not null, primary key (queue, id))",
    ]

    def __init__(self, name="huey", lease=30, **kwargs):
        self._init_delivery(lease)
        super().__init__(name, **kwargs)

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn

    def claim(self):
        """(token, data) of the next task, now in flight for this process;
        None when the queue is empty."""
        self._ensure_heartbeat()  # and the reaper, which must run in an idle consumer too
        if not self.sql("select 1 from task where queue = ? limit 1", (self.name,), results=True):
            return None
        with self.db(commit=True) as curs:
            curs.execute("select id, data, priority from task where queue = ? order by priority desc, id limit 1",
                         (self.name,))
            row = curs.fetchone()
            if row is None:
                return None
            tid, data, priority = row
            curs.execute("delete from task where id = ?", (tid,))
            curs.execute("insert into inflight (queue, data, priority, consumer) values (?, ?, ?, ?)",
                         (self.name, data, priority, self.consumer_id))
            return curs.lastrowid, data

    def ack(self, token) -> None:
        self.sql("delete from inflight where id = ?", (token,), commit=True)

    def nack(self, token) -> None:
        """Back to the queue at once (a consumer interrupted while stopping)."""
        with self.db(commit=True) as curs:
            curs.execute("insert into task (queue, data, priority) select queue, data, priority "
                         "from inflight where id = ?", (token,))
            curs.execute("delete from inflight where id = ?", (token,))

    def heartbeat(self) -> None:
        self.sql("insert or replace into consumer (queue, id, alive_until) values (?, ?, ?)",
                 (self.name, self.consumer_id, time.time() + self.lease), commit=True)

    def reap(self) -> int:
        """Put back the in-flight tasks of consumers whose heartbeat ran
        out (one transaction: of several reapers, one moves each task)."""
        now = time.time()
        dead = ("select id from consumer where queue = ? and alive_until <= ? union "
                "select consumer from inflight where queue = ? and consumer not in "
                "(select id from consumer where queue = ?)")
        with self.db(commit=True) as curs:
            curs.execute(f"insert into task (queue, data, priority) select queue, data, priority from inflight "
                         f"where queue = ? and consumer in ({dead}) order by id",
                         (self.name, self.name, now, self.name, self.name))
            moved = curs.rowcount
            curs.execute(f"delete from inflight where queue = ? and consumer in ({dead})",
                         (self.name, self.name, now, self.name, self.name))
            curs.execute("delete from consumer where queue = ? and alive_until <= ?", (self.name, now))
            return moved

    def inflight_count(self) -> int:
        return self.sql("select count(id) from inflight where queue = ?", (self.name,), results=True)[0][0]

    def read_schedule(self, ts):
        """Move the due scheduled tasks (retries) into the queue in one
        transaction (Huey reads them out and enqueues them after: a crash
        between the two lost them); nothing is returned to enqueue."""
        with self.db(commit=True) as curs:
            params = (self.name, ts.timestamp())
            curs.execute("insert into task (queue, data, priority) select queue, data, 0 from schedule "
                         "where queue = ? and timestamp <= ? order by timestamp, id", params)
            curs.execute("delete from schedule where queue = ? and timestamp <= ?", params)
        return []

    def flush_queue(self):
        super().flush_queue()
        self.sql("delete from inflight where queue = ?", (self.name,), commit=True)
        self.sql("delete from consumer where queue = ?", (self.name,), commit=True)


# Redis: a claim moves the task from the queue list into this consumer's
# processing list (BLMOVE, atomic); the heartbeat is a key with a TTL of one
# lease; the consumers that ever claimed are in a set. The reaper is one
# script (atomic: of several reapers, one moves each task).
_REAP_LUA = """
local moved = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    local processing = ARGV[2] .. id
    while redis.call('LMOVE', processing, KEYS[2], 'LEFT', 'RIGHT') do
      moved = moved + 1
    end
    redis.call('SREM', KEYS[1], id)
  end
end
return moved
"""

_NACK_LUA = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""

_SCHEDULE_TO_QUEUE_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, data in ipairs(due) do
  redis.call('LPUSH', KEYS[2], data)
end
if #due > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
end
return #due
"""


class QueueRedisStorage(_Delivery, RedisStorage):
    """Huey's Redis storage with acknowledged delivery (see _REAP_LUA)."""

    def __init__(self, name="huey", lease=30, **kwargs):
        self._init_delivery(lease)
        super().__init__(name, **kwargs)
        self.consumers_key = f"{self.queue_key}.consumers"
        self.alive_prefix = f"{self.queue_key}.alive."
        self.processing_prefix = f"{self.queue_key}.processing."
        self.processing_key = self.processing_prefix + self.consumer_id
        self._reap = self.conn.register_script(_REAP_LUA)
        self._nack = self.conn.register_script(_NACK_LUA)
        self._move_due = self.conn.register_script(_SCHEDULE_TO_QUEUE_LUA)

    def claim(self):
        self._ensure_heartbeat()
        if self.blocking:
            try:
                data = self.conn.blmove(self.queue_key, self.processing_key, self.read_timeout, "RIGHT", "LEFT")
            except RedisTimeoutError:  # as Huey's own dequeue: a timed-out blocking read is an empty queue
                data = None
        else:
            data = self.conn.lmove(self.queue_key, self.processing_key, "RIGHT", "LEFT")
        return None if data is None else (data, data)

    def ack(self, token) -> None:
        self.conn.lrem(self.processing_key, 1, token)

    def nack(self, token) -> None:
        self._nack(keys=[self.processing_key, self.queue_key], args=[token])

    def heartbeat(self) -> None:
        pipe = self.conn.pipeline()
        pipe.set(self.alive_prefix + self.consumer_id, b"1", px=int(self.lease * 1000))
        pipe.sadd(self.consumers_key, self.consumer_id)
        pipe.execute()

    def reap(self) -> int:
        return int(self._reap(keys=[self.consumers_key, self.queue_key],
                              args=[self.alive_prefix, self.processing_prefix]))

    def inflight_count(self) -> int:
        ids = self.conn.smembers(self.consumers_key)
        return sum(self.conn.llen(self.processing_prefix + i.decode()) for i in ids)

    def read_schedule(self, ts):
        self._move_due(keys=[self.schedule_key, self.queue_key], args=[self.convert_ts(ts)])
        return []

    def flush_queue(self):
        super().flush_queue()
        ids = [i.decode() for i in self.conn.smembers(self.consumers_key)]
        keys = [self.processing_prefix + i for i in ids] + [self.alive_prefix + i for i in ids]
        self.conn.delete(self.consumers_key, *keys)


class QueueHuey(Huey):
    """Huey whose dequeue claims (the task remembers its delivery token) and
    whose execute acknowledges when the task has ended in any way: done,
    failed for good (recorded), retry scheduled, revoked, or put off to its
    eta. A task interrupted by a stopping consumer goes back to the queue
    at once (``_interrupted``); a consumer killed outright leaves its tasks
    in flight until the reaper returns them."""

    def dequeue(self):
        claimed = self.storage.claim()
        if claimed is None:
            return None
        token, data = claimed
        task_obj = self.deserialize_task(data)
        task_obj._delivery = token
        return task_obj

    def execute(self, task, timestamp=None):
        try:
            return super().execute(task, timestamp)
        finally:
            token = task.__dict__.pop("_delivery", None)
            if token is not None:
                self.storage.ack(token)


def storage_options(url: str, name: str) -> tuple[type, dict]:
    """The Huey storage class and its options for a queue URL; a clear error
    naming SANXIANG_QUEUE_URL for anything else."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/file, sqlite:////absolute/file (as SQLAlchemy).
        path = unquote(parsed.netloc + parsed.path)[1:] if not parsed.netloc else unquote(parsed.netloc + parsed.path)
        if not path or path.endswith("/"):
            raise ImproperlyConfigured(f"SANXIANG_QUEUE_URL {url!r} names no file (sqlite:///PATH)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return QueueSqliteStorage, {"filename": path, "timeout": 30, "lease": settings.QUEUE_LEASE_SECONDS}
    if parsed.scheme in ("redis", "rediss", "unix"):
        return QueueRedisStorage, {"url": url, "lease": settings.QUEUE_LEASE_SECONDS}
    raise ImproperlyConfigured(
        f"SANXIANG_QUEUE_URL must start with sqlite:/// or redis://, not {url!r}")


def _make_huey() -> Huey:
    storage_class, options = storage_options(settings.QUEUE_URL, settings.QUEUE_NAME)
    # results=False: nothing reads a task's return value, and stored results
    # would only grow; what a task does is in the database and the audit log.
    return QueueHuey(settings.QUEUE_NAME, results=False, utc=True, storage_class=storage_class, **options)


huey = _make_huey()


def use_storage(url: str, name: str) -> None:
    """Point this process's queue at another storage (the tests run every
    queue test on SQLite and on Redis with one set of tasks)."""
    storage_class, options = storage_options(url, name)
    huey.storage.stop_heartbeat()
    huey.storage.close()
    huey.name, huey.storage_class, huey.storage_kwargs = name, storage_class, options
    huey.storage = huey.create_storage()


def reset_after_fork() -> None:
    """Give a process just forked from one that used the queue a storage of
    its own (gunicorn's workers, forked from the master, where the embedded
    consumer's threads use the storage at any moment). Huey's SQLite storage
    has one connection behind one lock per process: a fork while a consumer
    thread held that lock left the worker's copy locked forever (its first
    enqueue hung; found by the upload bench), and an SQLite connection must
    not be used on both sides of a fork. The inherited storage is left
    alone: closing it would wait for that lock."""
    huey.storage = huey.create_storage()


def describe() -> str:
    """The storage in words, without any password of the URL."""
    storage = huey.storage
    if isinstance(storage, SqliteStorage):
        return f"SQLite {storage.filename} (queue {huey.name!r})"
    kwargs = storage.conn.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
    return f"Redis {where} (queue {huey.name!r})"


def is_embedded() -> bool:
    """True when the queue is the SQLite file: no separate worker is
    expected, the serving process consumes it."""
    return isinstance(huey.storage, SqliteStorage)


def pending_count() -> int:
    """Tasks waiting to run now plus those scheduled later (retries)."""
    return huey.pending_count() + huey.scheduled_count()


def failed_count() -> int:
    """Tasks whose attempts are spent and that nobody retried yet."""
    from .models import FailedTask

    return FailedTask.objects.filter(final=True, resolved_at__isnull=True).count()


def ping() -> None:
    """Raise when the storage is unreachable (for /readyz)."""
    storage = huey.storage
    if isinstance(storage, SqliteStorage):
        storage.sql("select 1", results=True)
    else:
        storage.conn.ping()


def _defaults(retries, retry_delay) -> dict:
    return {
        "retries": settings.QUEUE_RETRIES if retries is None else retries,
        "retry_delay": settings.QUEUE_RETRY_DELAY if retry_delay is None else retry_delay,
        "retry_backoff": 2,  # each retry waits twice as long as the one before
    }


def task(*, name: str, label=None, retries: int | None = None, retry_delay: int | None = None):
    """Declare a task (a function whose arguments are plain JSON-like
    values); calling the result enqueues it. ``name`` is stable (the failed-
    tasks page and the storage refer to it), e.g. "evidence.build_archive";
    ``label`` says what it does (gettext_lazy)."""

    def decorator(func):
        if name in TASKS and TASKS[name].func is not func:
            raise RuntimeError(f"task {name!r} is already declared by {TASKS[name].func.__module__}")
        wrapper = huey.task(name=name, **_defaults(retries, retry_delay))(func)
        TASKS[name] = wrapper
        if label is not None:
            LABELS[name] = label
        return wrapper

    return decorator


def periodic(*, name: str, label=None, retries: int | None = None, retry_delay: int | None = None):
    """Declare a periodic task: every consumer with periodic tasks on
    enqueues it every minute; the function decides whether work is due (the
    scheduled jobs do that under their lock row, so one of any number of
    consumers runs a due job, sanxiang.core.jobs). The function receives the
    Huey task (``task``) so a retry can be told from a scheduled run."""

    def decorator(func):
        wrapper = huey.periodic_task(lambda moment: True, name=name, context=True,
                                     **_defaults(retries, retry_delay))(func)
        TASKS[name] = wrapper
        if label is not None:
            LABELS[name] = label
        return wrapper

    return decorator


def is_retry(task_obj) -> bool:
    """The task object passed to a periodic function is a retry of a failed
    attempt (fewer attempts left than declared)."""
    return task_obj is not None and task_obj.retries < task_obj.default_retries


def enqueue_on_commit(wrapper, *args, **kwargs) -> None:
    """Enqueue once the current transaction commits (at once outside one):
    a worker must see the rows the task reads."""
    transaction.on_commit(lambda: wrapper(*args, **kwargs), robust=True)


# --- database connections and failure records ---------------------------------


@huey.pre_execute(name="sanxiang-db-before")
def _connections_before(task_obj):
    if not getattr(_inline, "active", False):
        close_old_connections()


@huey.post_execute(name="sanxiang-db-after")
def _connections_after(task_obj, value, exc):
    if not getattr(_inline, "active", False):
        close_old_connections()


def _summary(args, kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
    return ", ".join(parts)[:500]


@huey.signal(huey_signals.SIGNAL_INTERRUPTED)
def _put_back_interrupted(signal, task_obj, *args, **kwargs):
    """A consumer stopping (SIGTERM) abandons its running tasks: they go
    back to the queue now rather than after a lease."""
    token = task_obj.__dict__.pop("_delivery", None)
    if token is not None:
        try:
            huey.storage.nack(token)
        except Exception:  # the reaper returns it once this process's heartbeat runs out
            log.exception("could not put back the interrupted task %s", task_obj.id)


def inflight_count() -> int:
    """Tasks taken by a consumer and not yet acknowledged."""
    return huey.storage.inflight_count()


def reap() -> int:
    """Put back the in-flight tasks of consumers whose heartbeat ran out
    (every consumer does it every third of a lease); returns how many."""
    return huey.storage.reap()


@huey.signal(huey_signals.SIGNAL_ERROR)
def _record_failure(signal, task_obj, exc=None):
    """Each failed attempt updates the task's FailedTask row (created by the
    first); the last attempt marks it final (shown on the failed-tasks page)."""
    from .models import FailedTask  # noqa: PLC0415 — same app; this module loads before the models

    try:
        if not getattr(_inline, "active", False):
            close_old_connections()
        now = clock.now()
        text = getattr(exc, "traceback_text", "") or "".join(traceback.format_exception(exc))
        message = (str(exc).strip().splitlines() or [""])[-1] if exc else ""
        error = f"{type(exc).__name__}: {message}"[:1000] if exc else ""
        args, kwargs = task_obj.args or (), task_obj.kwargs or {}
        row, created = FailedTask.objects.get_or_create(task_id=str(task_obj.id), defaults=dict(
            name=task_obj.name, args=list(args), kwargs=dict(kwargs), args_summary=_summary(args, kwargs),
            first_failed_at=now, last_failed_at=now, attempts=0, error=error, traceback=text[-20000:]))
        FailedTask.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, last_failed_at=now, error=error, traceback=text[-20000:],
            final=not task_obj.retries)
    except Exception:  # the consumer goes on; the task's own log line stays
        log.exception("could not record the failure of task %s", getattr(task_obj, "name", "?"))


def task_again(name: str, args: list, kwargs: dict):
    """A new Huey task for task ``name`` with these arguments and its full
    number of attempts (not enqueued: ``enqueue`` it, e.g. on commit). A
    name no longer declared is a ValueError naming it."""
    wrapper = TASKS.get(name)
    if wrapper is None:
        raise ValueError(f"no task is named {name!r} in this version")
    if wrapper.context:
        # A periodic job: run it now under its lock, not only when due.
        return wrapper.s(**{RUN_NOW: True})
    return wrapper.s(*args, **kwargs)


def enqueue(task_obj) -> None:
    huey.enqueue(task_obj)


# The keyword a periodic function receives when it must run now (a retry
# from the failed-tasks page), not only when its interval is due.
RUN_NOW = "run_now"


# --- running the queue -----------------------------------------------------------


def run_pending(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Execute, in this thread, every task the storage holds that is due at
    ``now`` (default: now; a later time also takes retries scheduled before
    it), including the ones those tasks enqueue, up to ``limit``; returns how
    many ran. The real storage and the real execution path (retries, failure
    records) — the tests' consumer; never Huey's in-memory immediate mode."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    ran = 0
    _inline.active = True
    try:
        while ran < limit:
            for scheduled in huey.read_schedule(moment):
                huey.enqueue(scheduled)
            queued = huey.dequeue()
            if queued is None:
                break
            huey.execute(queued, moment)
            ran += 1
    finally:
        _inline.active = False
    return ran


def flush() -> None:
    """Drop every task of this queue (its name only) from the storage."""
    huey.flush()


class _Consumer(Consumer):
    def _create_scheduler(self):
        # Kept, so that offer_periodic() can act as this consumer's scheduler.
        self.scheduler_impl = super()._create_scheduler()
        return self.scheduler_impl


# How a consumer looks for work on storage it must poll (the embedded SQLite
# queue; Redis claims block instead): at once after a task, then a little
# later each time it found nothing, never more than max_delay seconds
# apart. A task written to an idle queue — the docking outbox's next pass
# after a quiet moment — waits at most that long; each look is one small
# query.
POLLING = {"initial_delay": 0.1, "backoff": 1.5, "max_delay": 0.5}


class EmbeddedConsumer:
    """A Huey consumer in threads of the calling process (the scheduler and
    ``workers`` worker threads), without taking over its signals."""

    def __init__(self, workers: int = 2, *, periodic: bool = True):
        self.consumer = _Consumer(huey, workers=workers, periodic=periodic, worker_type="thread",
                                  check_worker_health=False, **POLLING)
        self.threads = [thread for _, thread in self.consumer.worker_threads]

    def start(self, *, scheduler: bool = True) -> EmbeddedConsumer:
        """Start the worker threads and (unless told not to) the scheduler
        thread, which moves due retries to the queue and offers the
        periodic tasks every minute."""
        if scheduler:
            self.threads.append(self.consumer.scheduler)
        for thread in self.threads:
            thread.start()
        return self

    def offer_periodic(self, now: dt.datetime | None = None) -> None:
        """What this consumer's scheduler does every minute: enqueue the
        periodic tasks (each decides whether it is due)."""
        self.consumer.scheduler_impl.enqueue_periodic_tasks(now)

    def stop(self) -> None:
        """Stop taking tasks and wait for the running ones to finish."""
        self.consumer.stop_flag.set()
        for thread in self.threads:
            thread.join()


def start_embedded_consumer(workers: int = 2, *, periodic: bool = True) -> EmbeddedConsumer:
    """Consume the queue in threads of this process (``sanxiang serve``'s
    embedded default); ``.stop()`` ends them."""
    return EmbeddedConsumer(workers, periodic=periodic).start()
