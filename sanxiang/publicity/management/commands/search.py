"""`sanxiang search rebuild`: rebuild the portal's full-text index from the
published copies (after a restore, or a change of tokenisation). The
rebuild is heavy work: it is enqueued for the job queue's consumers
(`sanxiang worker`, or the threads of `sanxiang serve`); `--now` runs it in
this process instead, showing its progress."""

import sys

from django.core.management.base import BaseCommand

from sanxiang.core import queue
from sanxiang.publicity import tasks
from sanxiang.publicity.search import rebuild_index


class Command(BaseCommand):
    help = "Rebuild the full-text search index of published decisions (queued; --now: here and now)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument("--now", action="store_true",
                            help="rebuild in this process and wait (default: enqueue for the workers)")

    def handle(self, *args, now=False, **options):
        if not now:
            tasks.rebuild_search_index()
            self.stdout.write(f"Search index rebuild queued ({queue.describe()}); "
                              "a worker or `sanxiang serve` runs it.")
            return

        def progress(done, total):
            sys.stderr.write(f"\rindexed {done}/{total}")
            sys.stderr.flush()

        count = rebuild_index(progress=progress)
        sys.stderr.write("\n")
        self.stdout.write(f"{count} published decisions indexed.")
