"""`sanxiang bench NAME ...`: run a benchmark from the source checkout's
bench/ folder (see `sanxiang bench --help`)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

import sanxiang

CHECKOUT = Path(sanxiang.__file__).resolve().parent.parent


class Command(BaseCommand):
    help = "Run a benchmark: search, pages, ingest, upload, audit, demo-startup, cluster (figures to bench/results/)."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")

    def run_from_argv(self, argv):
        # Pass everything after "bench" to the benchmark runner untouched.
        self.handle(*argv[2:])

    def handle(self, *args, **options):
        if not (CHECKOUT / "bench" / "__main__.py").exists():
            raise CommandError("benchmarks live in the source checkout (bench/); install with `pip install -e .` from it")
        sys.path.insert(0, str(CHECKOUT))
        from bench.__main__ import main

        main(list(args))
