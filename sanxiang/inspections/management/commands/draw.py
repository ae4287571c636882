"""`sanxiang draw verify FILE_OR_URL`: re-run a published random
inspection draw (sanxiang-draw-v1) and compare it with its result; exits
1 on any difference, 2 when the record cannot be read (docs/random-inspection.md)."""

from django.core.management.base import BaseCommand, CommandError

from sanxiang.inspections import drawv1


class Command(BaseCommand):
    help = "Random inspection draws: `verify FILE_OR_URL` re-runs a published draw record and compares the result."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="re-run a draw record (a JSON file or its URL on a portal)")
        verify.add_argument("source", help="the record: a file, or https://…/api/v1/inspections/draws/N/record")

    def handle(self, *args, action, source, **options):
        try:
            record = drawv1.load(source)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the draw record {source}: {exc}", returncode=2)
        problems = drawv1.verify(record)
        if problems:
            self.stdout.write("DIFFERENT: the published draw is not what its inputs give")
            for line in problems:
                self.stdout.write(f"- {line}")
            raise CommandError(f"{len(problems)} difference(s)", returncode=1)
        self.stdout.write(f"OK: {len(record['result'])} objects drawn; the result is what the published inputs give "
                          f"(seed {drawv1.drawn_seed(record)})")
