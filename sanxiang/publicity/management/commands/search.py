"""`sanxiang search rebuild`: rebuild the portal's full-text index from the
published copies (after a restore, or a change of tokenisation)."""

import sys

from django.core.management.base import BaseCommand

from sanxiang.publicity.search import rebuild_index


class Command(BaseCommand):
    help = "Rebuild the full-text search index of published decisions."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])

    def handle(self, *args, **options):
        def progress(done, total):
            sys.stderr.write(f"\rindexed {done}/{total}")
            sys.stderr.flush()

        count = rebuild_index(progress=progress)
        sys.stderr.write("\n")
        self.stdout.write(f"{count} published decisions indexed.")
