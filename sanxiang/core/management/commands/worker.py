"""`sanxiang worker [--workers N]`: consume the job queue (production, with
SANXIANG_QUEUE_URL=redis://…): N threads execute the tasks, one scheduler
thread moves due retries to the queue and offers the scheduled jobs every
minute. Run several (on one or more machines) for more throughput; each
scheduled job still runs once per interval (docs/queue.md).

Ctrl+C or SIGINT stops after the running tasks finish; SIGTERM (systemd's
stop) interrupts them and puts them back on the queue. A worker killed
outright leaves its tasks in flight until its heartbeat runs out; another
worker then puts them back (at-least-once delivery, tasks safe to run
twice: docs/queue.md)."""

import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import queue


class Command(BaseCommand):
    help = "Consume the job queue: run the tasks and the scheduled jobs (see docs/queue.md)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="worker threads executing tasks (default 2)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="do not offer the scheduled jobs (another worker does)")
        parser.add_argument("--drain", action="store_true",
                            help="run every task due now in this process, then exit (no threads)")
        parser.add_argument("--exit-with", type=int, default=None, metavar="PID",
                            help="stop as on SIGTERM when process PID, its parent, ends (`sanxiang serve --workers N` "
                                 "starts its worker so on the embedded queue)")

    def handle(self, *args, workers, no_periodic, drain, exit_with=None, **options):
        if drain:
            ran = queue.run_pending()
            self.stdout.write(f"{ran} task(s) run; {queue.pending_count()} left for later (retries).")
            return
        if not 1 <= workers <= 64:
            raise CommandError(f"--workers must be between 1 and 64, not {workers}")
        try:
            queue.ping()
        except Exception as exc:
            raise CommandError(f"the queue is unreachable ({queue.describe()}): {exc}")
        consumer = queue.huey.create_consumer(workers=workers, periodic=not no_periodic, worker_type="thread",
                                              **queue.POLLING)
        self.stdout.write(f"Worker consuming {queue.describe()} with {workers} thread(s)"
                          f"{'' if no_periodic else ' and the scheduled jobs'}  (Ctrl+C to stop)")
        self.stdout.flush()
        if exit_with is not None:
            _stop_when_parent_ends(exit_with)
        consumer.run()


def _stop_when_parent_ends(parent: int, every: float = 1.0) -> None:
    """SIGTERM to this process (the consumer then puts its running tasks
    back and stops) once ``parent`` is no longer its parent: the server
    that started it ended, even by SIGKILL, and nothing else would stop it."""

    def watch():
        while os.getppid() == parent:
            threading.Event().wait(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="sanxiang-exit-with-parent", daemon=True).start()
