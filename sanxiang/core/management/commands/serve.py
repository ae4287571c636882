"""`sanxiang serve`: the platform over HTTP with waitress (pure Python, runs
the same on an intranet Windows or Linux box). Static files are served by
WhiteNoise from the installed packages; nothing comes from the internet."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the platform over HTTP (waitress)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
        parser.add_argument("--jobs-interval", type=int, default=settings.JOBS_INTERVAL,
                            help="seconds between runs of each scheduled job, offered by the job queue's consumer in this process; "
                                 "0 = none here (`sanxiang worker` or `sanxiang jobs run` instead)")

    def handle(self, *args, host, port, threads, jobs_interval, **options):
        from waitress import create_server

        # Before the WSGI application loads: WhiteNoise warns at start-up
        # about a missing STATIC_ROOT (files come from the installed packages).
        (settings.DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

        from django.urls import get_resolver

        from sanxiang.wsgi import application

        # Import every URLconf now, not on the first request (about 0.9 s:
        # the API's routers and schemas), so the first user does not wait.
        get_resolver().url_patterns
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        try:
            # Bind first, announce after: "Serving on" means the port accepts.
            # recv_bytes: read the socket in 1 MiB pieces, not waitress's 8 KiB,
            # which alone capped one evidence upload at ~130 MB/s (docs/evidence.md).
            server = create_server(application, host=host, port=port, threads=threads, ident="sanxiang",
                                   recv_bytes=1024 * 1024)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}. Try --port with another number.")
        from sanxiang.core.queue import start_embedded_consumer

        # The job queue's consumer in threads of this process; its scheduler
        # offers the scheduled jobs unless --jobs-interval is 0.
        settings.JOBS_INTERVAL = jobs_interval
        start_embedded_consumer(periodic=jobs_interval > 0)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(f"Serving on http://{shown}:{port}/  (Ctrl+C to stop)")
        self.stdout.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.close()
