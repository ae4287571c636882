"""`sanxiang serve`: the platform over HTTP.

- Without --workers (and always on Windows): waitress, pure Python, one
  process with --threads threads; the embedded default of a county or a
  demo (docs/decisions/0001-embedded-default.md).
- With --workers N (Linux/Unix): gunicorn, N processes of --threads
  threads each (gthread), request bodies streamed to the application, so an
  evidence upload is hashed and written while it arrives (docs/server.md).

Static files are served by WhiteNoise from the installed packages; nothing
comes from the internet. "Serving on http://HOST:PORT/" is printed once the
port accepts connections (tests and benchmarks wait for that line)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _checked_port(port: int) -> int:
    if not 0 < port < 65536:
        raise CommandError(f"--port must be between 1 and 65535, not {port}")
    return port


def _check_can_listen(host: str, port: int) -> None:
    """Bind once, as the server will, so a taken port is named in one
    clear line instead of gunicorn's five retries."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}. Try --port with another number.")


class Command(BaseCommand):
    help = "Serve the platform over HTTP: waitress (one process), or gunicorn with --workers N (Linux)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--threads", type=int, default=None,
                            help="threads per process (default 8 with waitress, 4 per worker with --workers)")
        parser.add_argument("--workers", type=int, default=None,
                            help="run gunicorn with this many worker processes (Linux/Unix; streams request bodies). "
                                 "Without it: waitress, one process")
        parser.add_argument("--jobs-interval", type=int, default=settings.JOBS_INTERVAL,
                            help="seconds between runs of each scheduled job, offered by the job queue's consumer in this process; "
                                 "0 = none here (`sanxiang worker` or `sanxiang jobs run` instead)")

    def handle(self, *args, host, port, threads, workers, jobs_interval, **options):
        _checked_port(port)
        if threads is not None and threads < 1:
            raise CommandError(f"--threads must be 1 or more, not {threads}")
        if workers is not None:
            if workers < 1:
                raise CommandError(f"--workers must be 1 or more, not {workers} (leave it out to serve with waitress in one process)")
            if sys.platform == "win32":
                raise CommandError("--workers runs gunicorn, which works only on Linux and other Unix systems; "
                                   "on Windows leave out --workers (waitress, one process)")
            try:
                import gunicorn  # noqa: F401  (checked before Django loads the application)
            except ImportError:
                raise CommandError("--workers needs gunicorn, which is not installed: pip install gunicorn "
                                   "(or leave out --workers to serve with waitress)") from None

        # Before the WSGI application loads: WhiteNoise warns at start-up
        # about a missing STATIC_ROOT (files come from the installed packages).
        (settings.DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

        if workers is None:
            self._serve_waitress(self._application(), host, port, threads or 8, jobs_interval)
            return
        _check_can_listen(host, port)
        # With gunicorn, the job queue's worker process starts before the
        # application loads: its own start-up (a second interpreter loading
        # Django, about 2 s) runs beside the master's instead of after it,
        # so a restarted platform sends its outbox as soon as it serves.
        background = self._start_background_work(jobs_interval, workers=workers)
        try:
            self._serve_gunicorn(self._application(), host, port, workers, threads or 4)
        finally:
            if isinstance(background, QueueWorkerProcess):
                background.stop()

    @staticmethod
    def _application():
        from django.urls import get_resolver

        from sanxiang.wsgi import application

        # Import every URLconf now, not on the first request (about 0.9 s:
        # the API's routers and schemas), so the first user does not wait
        # (with gunicorn: once, in the master, before the workers fork).
        get_resolver().url_patterns
        return application

    def _start_background_work(self, jobs_interval: int, *, workers: int | None):
        """The one place where serve starts the job queue's consumer (its
        scheduler offers the scheduled jobs unless --jobs-interval is 0):
        in threads of waitress's process; with gunicorn, in one `sanxiang
        worker` child of the master (never in the gunicorn workers, so N
        workers do not run the jobs N times) — and only on the embedded
        SQLite queue: on Redis, `sanxiang worker` services consume it."""
        from sanxiang.core.queue import is_embedded, start_embedded_consumer

        if workers is not None and not is_embedded():
            return None
        settings.JOBS_INTERVAL = jobs_interval
        if workers is None:
            return start_embedded_consumer(periodic=jobs_interval > 0)
        # Not in the master's own threads: a worker forked while any thread
        # of the master is inside an SQLite write transaction (the queue's
        # claim, a job's write to the database) inherits SQLite's record of
        # that lock and can never write that file again ("database is
        # locked" for the life of the worker; docs/server.md). The master
        # therefore touches no SQLite file once it serves.
        from sanxiang.core.queue import huey

        worker = QueueWorkerProcess(jobs_interval).start()
        huey.storage.close()  # opened when the master loaded the queue; not used here again
        return worker

    def _announce(self, host: str, port: int) -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(f"Serving on http://{shown}:{port}/  (Ctrl+C to stop)")
        self.stdout.flush()

    def _serve_waitress(self, application, host, port, threads, jobs_interval):
        from waitress import create_server

        try:
            # Bind first, announce after: "Serving on" means the port accepts.
            # recv_bytes: read the socket in 1 MiB pieces, not waitress's 8 KiB,
            # which alone capped one evidence upload at ~130 MB/s (docs/evidence.md).
            server = create_server(application, host=host, port=port, threads=threads, ident="sanxiang",
                                   recv_bytes=1024 * 1024)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}. Try --port with another number.")
        self._start_background_work(jobs_interval, workers=None)
        self._announce(host, port)
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.close()

    def _serve_gunicorn(self, application, host, port, workers, threads):
        from django.db import connections

        from sanxiang.core.gunicorn_app import ProductionServer
        from sanxiang.core.queue import reset_after_fork

        # A worker must not inherit the master's database connections, nor
        # its job-queue storage (the embedded consumer's threads use it).
        server = ProductionServer(application, host=host, port=port, workers=workers, threads=threads,
                                  on_ready=lambda: self._announce(host, port), before_fork=connections.close_all,
                                  after_fork=reset_after_fork)
        master = os.getpid()
        try:
            server.run()
        except SystemExit as exc:
            if os.getpid() != master:
                _leave_worker(exc)
            # gunicorn's master leaves through sys.exit: 0 after SIGTERM
            # (graceful: requests in flight finish) or Ctrl+C.
            if exc.code not in (0, None):
                raise CommandError(f"gunicorn stopped with exit status {exc.code} (see the messages above)")
            self.stdout.write("Stopped.")


def _leave_worker(exc: SystemExit) -> None:
    """A gunicorn worker is forked inside server.run() and leaves through
    sys.exit, which would unwind through the master's code after run(): it
    would print "Stopped." and wait for the master's queue worker child,
    which is not its child, on a lock a master thread held when it was
    forked — forever (orphaned workers of a killed master never ended).
    It ends here, as gunicorn meant it to."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))


class QueueWorkerProcess:
    """`sanxiang worker` as a child of the gunicorn master, for the embedded
    SQLite queue: started before the master loads the application, started again 2 s after
    it ends unexpectedly (as gunicorn replaces a worker), stopped with
    SIGTERM (its running tasks go back to the queue) when the master stops,
    and told the master's pid so that it also stops when the master is
    killed outright."""

    RESTART_DELAY = 2.0
    STOP_TIMEOUT = 30

    # Popen's child reports a failed exec through a pipe, and Popen returns
    # only when every copy of that pipe's write end is closed. A gunicorn
    # worker forked by the master's main thread while this thread is inside
    # Popen (at start-up gunicorn forks its workers just after on_ready)
    # inherits a copy and never closes it: Popen never returned, so the
    # queue worker was never watched nor restarted (seen on a loaded CI
    # machine). Every os.fork() of this process therefore waits for the
    # spawn in progress (os.register_at_fork; Popen's own fork runs no such
    # hooks, so the guard cannot wait for itself).
    _spawn_guard = threading.Lock()
    _guard_registered = False

    @classmethod
    def _guard_forks(cls) -> None:
        if not cls._guard_registered:
            os.register_at_fork(before=cls._spawn_guard.acquire, after_in_parent=cls._spawn_guard.release,
                                after_in_child=cls._spawn_guard.release)
            cls._guard_registered = True

    def __init__(self, jobs_interval: int):
        self.args = [sys.executable, "-m", "sanxiang", "worker", "--workers", "2", "--exit-with", str(os.getpid())]
        if jobs_interval <= 0:
            self.args.append("--no-periodic")
        self.env = {**os.environ, "SANXIANG_JOBS_INTERVAL": str(jobs_interval)}
        self.stopping = threading.Event()
        self.proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._supervise, name="sanxiang-queue-worker", daemon=True)

    def start(self) -> QueueWorkerProcess:
        self._guard_forks()
        self.thread.start()
        return self

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            with self._lock:
                if self.stopping.is_set():
                    return
                # Its "Worker consuming" line is not the server's to print;
                # its errors go to the server's stderr (journald).
                try:
                    with self._spawn_guard:
                        self.proc = subprocess.Popen(self.args, env=self.env, stdin=subprocess.DEVNULL,
                                                     stdout=subprocess.DEVNULL)
                except OSError as exc:  # no process to be had now (EAGAIN, ENOMEM): try again shortly
                    self.proc = None
                    sys.stderr.write(f"sanxiang: cannot start the job queue's worker process ({exc}); trying again\n")
            if self.proc is not None:
                self.proc.wait()  # gunicorn's master may reap it first: wait() then returns all the same
            if not self.stopping.wait(self.RESTART_DELAY):
                sys.stderr.write("sanxiang: the job queue's worker process ended; starting it again\n")

    def stop(self) -> None:
        with self._lock:
            self.stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
