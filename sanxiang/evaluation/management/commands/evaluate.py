"""`sanxiang evaluate`: 案卷评查 from the console (issue 15 "Interfaces").

- ``evaluate case --case ID [--scheme CODE] --format json`` prints exactly one
  JSON object {"case", "scheme", "score", "grade", "vetoes": [codes],
  "items": [{"code", "points", "automatic", "finding"}]}: the automatic items
  judged now from the case; the manual items and vetoes of the case's latest
  submitted evaluation under that scheme, else not scored yet (``points``
  null, and ``score`` / ``grade`` null until every item is scored). An
  unknown case or scheme: a clear message on stderr, exit code 2.
- ``evaluate schemes`` loads the scheme files not loaded yet and lists them.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sanxiang.cases.models import Case
from sanxiang.evaluation import schemes, selectors, services
from sanxiang.evaluation.models import Scheme

ACTOR = "cli:evaluate"


class Command(BaseCommand):
    help = "Case-file evaluation (案卷评查): `case --case ID [--scheme CODE] --format json`; `schemes` loads and lists the schemes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        case = sub.add_parser("case", help="evaluate one case file and print the result as one JSON object")
        case.add_argument("--case", required=True, help="the case's id")
        case.add_argument("--scheme", default="", help="a scheme code (default: the scheme in force for the case's act kind)")
        case.add_argument("--format", choices=["json"], default="json", help="output format (json)")
        sub.add_parser("schemes", help="load the scheme files not loaded yet and list every scheme version")

    def handle(self, *args, action, **options):
        try:
            services.load_schemes(actor=ACTOR)
        except schemes.SchemeError as exc:
            raise CommandError(f"evaluation scheme: {exc}", returncode=2)
        if action == "schemes":
            for s in Scheme.objects.order_by("code", "version"):
                self.stdout.write(f"{s.code}@{s.version}  valid from {s.valid_from}  {','.join(s.act_kinds)}  {s.title}  "
                                  f"sha256 {s.digest[:12]}")
            return
        raw = str(options["case"]).strip()
        case = Case.objects.select_related("agency").filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
        if case is None:
            raise CommandError(f"case: no case with id {raw!r}", returncode=2)
        try:
            scheme = selectors.scheme_for(case, code=options["scheme"].strip())
        except selectors.SchemeNotFound as exc:
            raise CommandError(f"scheme: {exc}", returncode=2)
        evaluation = selectors.latest_evaluation(case=case, scheme=scheme)
        result = selectors.compute_result(case=case, scheme=scheme, evaluation=evaluation)
        self.stdout.write(json.dumps(selectors.interface_result(result), ensure_ascii=False))
