"""`sanxiang jobs run [NAME ...]`: run the scheduled jobs now (for cron)."""

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core.jobs import JOBS, run_jobs


class Command(BaseCommand):
    help = "Run the scheduled jobs now: " + ", ".join(JOBS)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run jobs (all by default)")
        run.add_argument("names", nargs="*")
        sub.add_parser("list", help="list the jobs")

    def handle(self, *args, action, **options):
        if action == "list":
            for name, path in JOBS.items():
                self.stdout.write(f"{name}  {path}")
            return
        unknown = set(options["names"]) - set(JOBS)
        if unknown:
            raise CommandError(f"unknown job(s): {', '.join(sorted(unknown))}; known: {', '.join(JOBS)}")
        for name, count in run_jobs(names=options["names"] or None).items():
            self.stdout.write(f"{name}: {count}")
