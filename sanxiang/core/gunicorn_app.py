"""gunicorn run from Python for `sanxiang serve --workers N` (Linux/Unix).

A `BaseApplication` subclass: no gunicorn.conf.py, no command line of its
own; `sanxiang serve` passes the settings below, and the WSGI application
is the one the command has already imported (so the master loads Django
once and the workers are forked from it).

Why gunicorn next to waitress (docs/server.md):
- waitress reads a whole request body into memory or a temporary file
  before the application sees it; gunicorn hands the application the socket
  as `wsgi.input`, so a tus PATCH of a body-camera file is hashed and
  written while it arrives (sanxiang/evidence/uploads.receive_chunk);
- several processes use more than one core, and a worker that dies is
  replaced by the master.

Settings chosen here:
- gthread workers (threads per process), bodies read in pieces of up to
  1 MiB from the socket (gunicorn's own SocketUnreader for a body of known
  length);
- `timeout` 120 s: for a gthread worker this is how long its main loop may
  go without telling the master it is alive, not a limit on a request, so a
  30-minute upload is not cut; 120 s leaves room for a busy machine;
- `graceful_timeout` 30 s: on SIGTERM, requests in flight get this long to
  finish; an upload cut then resumes from its stored offset (tus);
- `keepalive` 5 s, access log off (the audit trail and the metrics are the
  record), error log to stderr (journald under systemd);
- the control socket is off: its default path is shared by every gunicorn
  of a user, and nothing here uses it;
- the worker class is `BalancedThreadWorker` (below): a worker accepts a
  new connection only while one of its threads is free.
"""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

UPLOAD_FRIENDLY_TIMEOUT = 120
GRACEFUL_TIMEOUT = 30
KEEPALIVE = 5


def worker_tmp_dir() -> str | None:
    """The heartbeat files in memory where the system offers it: a worker
    touches its file every second, and a slow disk must not make the
    master think it hung."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, accepting a new connection only while one
    of its threads is free.

    A gthread worker serves every connection it accepted for as long as the
    connection lives, and all its workers wait on the same listening
    socket, so the first to wake takes whatever is waiting: with keep-alive
    (a client's connections, or nginx's upstream keep-alive) one process
    ended up with 7 of 8 connections and served them on one core while the
    other idled (docs/performance.md, "connections stuck to one worker").
    Here a worker whose threads are all busy (or waiting for a new
    connection's first bytes) stops listening until one is free; the
    connection waits in the kernel's queue for a worker that has one.
    Requests on connections a worker already holds are never refused.

    Counts the requests handed to its thread pool (`enqueue_req`) and given
    back (`finish_request`: each hand-over ends there once) and gates the
    worker's own accept switch (`set_accept_enabled`, which its loop turns
    on whenever it holds fewer than `worker_connections`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_pool = 0

    def enqueue_req(self, conn):
        self.in_pool += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_pool -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self.in_pool < self.cfg.threads)

    def accept(self, listener):
        super().accept(listener)
        if self.in_pool >= self.cfg.threads:
            super().set_accept_enabled(False)


class ProductionServer(BaseApplication):
    """`application` served by `workers` processes of `threads` threads.

    `on_ready()` runs in the master once the listening socket accepts
    (gunicorn's when_ready, before the workers are forked: connections
    wait in the backlog meanwhile). `before_fork()` runs in the master
    before each worker is forked, `after_fork()` in each worker just after
    (what must not be shared across the fork: database connections, the
    job queue's storage)."""

    def __init__(self, application, *, host: str, port: int, workers: int, threads: int,
                 on_ready=None, before_fork=None, after_fork=None, loglevel: str = "info"):
        self.application = application
        self.on_ready, self.before_fork, self.after_fork = on_ready, before_fork, after_fork
        self.options = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            "threads": threads,
            "worker_class": f"{__name__}.BalancedThreadWorker",
            "timeout": UPLOAD_FRIENDLY_TIMEOUT,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "keepalive": KEEPALIVE,
            "preload_app": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": loglevel,
            "proc_name": "sanxiang",
            "control_socket_disable": True,
            "worker_tmp_dir": worker_tmp_dir(),
            "when_ready": self._when_ready,
            "pre_fork": self._pre_fork,
            "post_fork": self._post_fork,
        }
        super().__init__()

    def _when_ready(self, arbiter) -> None:
        if self.on_ready is not None:
            self.on_ready()

    def _pre_fork(self, arbiter, worker) -> None:
        if self.before_fork is not None:
            self.before_fork()

    def _post_fork(self, arbiter, worker) -> None:
        if self.after_fork is not None:
            self.after_fork()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self):
        return self.application
