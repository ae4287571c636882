"""`sanxiang demo`: from an empty directory to a running platform with demo
data. Safe to re-run: migrations are idempotent and the demo data loads once."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create ./sanxiang-data, migrate, load the demo data once, and serve on http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up and load, but do not serve")

    def handle(self, *args, host, port, no_serve, **options):
        from sanxiang.core.demo import DemoConflict, load_demo

        started = time.monotonic()
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        (settings.DATA_DIR / "files").mkdir(exist_ok=True)
        self.stdout.write(f"Data directory: {settings.DATA_DIR}")
        self.stdout.write("Creating or upgrading the database ...")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading the demo data (Hebei province) ...")
        try:
            result = load_demo()
        except DemoConflict as exc:
            raise CommandError(str(exc))
        self.stdout.write("Demo data loaded." if result.loaded else "Demo data already present: nothing loaded.")
        from sanxiang.catalog.demo import load_catalogue_demo
        from sanxiang.publicity.demo import load_publicity_demo

        if load_catalogue_demo():
            self.stdout.write("Demo catalogues filed and accepted (石家庄市市场监督管理局).")

        decisions = load_publicity_demo()
        if decisions:
            self.stdout.write(f"Demo decisions received and published: {decisions}.")
        self.stdout.write(f"Ready in {time.monotonic() - started:.1f} s.\n")
        self.stdout.write(f"Open http://{host}:{port}/\n")
        self.stdout.write("Logins (one per role):")
        for role, username, password, scope in result.logins:
            self.stdout.write(f"  {username:<15} {password}  {role}：{scope}")
        self.stdout.write("")
        self.stdout.flush()
        if not no_serve:
            call_command("serve", host=host, port=port)
