"""`sanxiang jobs run [NAME ...]`: run the scheduled jobs now (for cron);
`sanxiang jobs list`: each job and how its last run ended."""

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import clock
from sanxiang.core.jobs import JOBS, Busy, Failed, run_jobs
from sanxiang.core.models import ScheduledJob


class Command(BaseCommand):
    help = "Run the scheduled jobs now: " + ", ".join(JOBS)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run jobs (all by default); exits with status 1 if one failed")
        run.add_argument("names", nargs="*")
        sub.add_parser("list", help="list the jobs and their last run")

    def handle(self, *args, action, **options):
        if action == "list":
            rows = {j.name: j for j in ScheduledJob.objects.all()}
            for name, path in JOBS.items():
                row = rows.get(name)
                if row is None or row.last_started_at is None:
                    state = "never run"
                else:
                    ended = f"{clock.local_time(row.last_finished_at):%Y-%m-%d %H:%M}" if row.last_finished_at else "running"
                    state = f"last {ended}: " + ("ok" if row.last_ok else f"FAILED ({row.consecutive_failures}x)" if row.last_ok is False else "…")
                self.stdout.write(f"{name}  {path}  {state}")
            return
        unknown = set(options["names"]) - set(JOBS)
        if unknown:
            raise CommandError(f"unknown job(s): {', '.join(sorted(unknown))}; known: {', '.join(JOBS)}")
        failed = []
        for name, outcome in run_jobs(names=options["names"] or None).items():
            if isinstance(outcome, Failed):
                failed.append(name)
                self.stdout.write(f"{name}: FAILED — {outcome.error}")
            elif isinstance(outcome, Busy):
                self.stdout.write(f"{name}: skipped, running in {outcome.owner}")
            else:
                self.stdout.write(f"{name}: {outcome}")
        if failed:
            raise CommandError(f"job(s) failed: {', '.join(failed)} (details in the log and `sanxiang jobs list`)")
