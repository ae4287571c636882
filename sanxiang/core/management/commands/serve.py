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

import sys

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

        from django.urls import get_resolver

        from sanxiang.wsgi import application

        # Import every URLconf now, not on the first request (about 0.9 s:
        # the API's routers and schemas), so the first user does not wait
        # (with gunicorn: once, in the master, before the workers fork).
        get_resolver().url_patterns
        if workers is None:
            self._serve_waitress(application, host, port, threads or 8, jobs_interval)
        else:
            self._serve_gunicorn(application, host, port, workers, threads or 4, jobs_interval)

    def _start_background_work(self, jobs_interval: int, *, workers: int | None):
        """The one place where serve starts the scheduled work in its own
        process: waitress's process, or the gunicorn master (never the
        workers, so N workers do not run the jobs N times)."""
        from sanxiang.core.queue import is_embedded, start_embedded_consumer

        if workers is not None and not is_embedded():
            return None  # the queue is on Redis: `sanxiang worker` processes consume it
        # The job queue's consumer in threads of this process; its scheduler
        # offers the scheduled jobs unless --jobs-interval is 0.
        settings.JOBS_INTERVAL = jobs_interval
        return start_embedded_consumer(periodic=jobs_interval > 0)

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

    def _serve_gunicorn(self, application, host, port, workers, threads, jobs_interval):
        from django.db import connections

        from sanxiang.core.gunicorn_app import ProductionServer
        from sanxiang.core.queue import reset_after_fork

        _check_can_listen(host, port)

        def ready():
            self._start_background_work(jobs_interval, workers=workers)
            self._announce(host, port)

        # A worker must not inherit the master's database connections, nor
        # its job-queue storage (the embedded consumer's threads use it).
        server = ProductionServer(application, host=host, port=port, workers=workers, threads=threads,
                                  on_ready=ready, before_fork=connections.close_all, after_fork=reset_after_fork)
        try:
            server.run()
        except SystemExit as exc:
            # gunicorn's master leaves through sys.exit: 0 after SIGTERM
            # (graceful: requests in flight finish) or Ctrl+C.
            if exc.code not in (0, None):
                raise CommandError(f"gunicorn stopped with exit status {exc.code} (see the messages above)")
            self.stdout.write("Stopped.")
