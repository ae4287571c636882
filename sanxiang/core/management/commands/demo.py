"""`sanxiang demo`: from an empty directory to a running platform with demo
data. A thin shim: the loader composes all apps and lives in the project
package (``sanxiang.demo.run_demo``)."""

from django.core.management.base import BaseCommand, CommandError

from sanxiang.demo import DemoConflict, run_demo


class Command(BaseCommand):
    help = "Create ./sanxiang-data, migrate, load the demo data once, and serve on http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up and load, but do not serve")

    def handle(self, *args, host, port, no_serve, **options):
        try:
            run_demo(stdout=self.stdout, host=host, port=port, serve=not no_serve)
        except DemoConflict as exc:
            raise CommandError(str(exc))
