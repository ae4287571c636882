"""`sanxiang report annual`: the annual enforcement statistics
(行政执法数据年度报告, issue 16) from the console.

``report annual --year 2026 --agency CODE --format json`` prints exactly one
JSON object {"year", "template", "agency", "agency_name", "penalty": {...},
"license": {...}, "reviews": {...}} computed now from the platform's records
(amounts as decimal strings, a power the agency does not hold as null);
``--region CODE`` instead of ``--agency`` prints the same summed over every
agency of the region and the regions below it ("region", "agencies" name
them). An unknown agency, region or year: a clear message on stderr, exit 2.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import clock
from sanxiang.core.models import Agency, Region
from sanxiang.statistics import annual, annual_rules


class Command(BaseCommand):
    help = "Reports: `annual --year YYYY (--agency CREDIT_CODE | --region CODE) --format json` prints the annual enforcement statistics."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rep = sub.add_parser("annual", help="the annual enforcement statistics of an agency or a region as one JSON object")
        rep.add_argument("--year", required=True, help="the reporting year, e.g. 2026")
        who = rep.add_mutually_exclusive_group(required=True)
        who.add_argument("--agency", help="the agency's unified social credit code")
        who.add_argument("--region", help="the region's code (GB/T 2260), summed over its agencies")
        rep.add_argument("--format", choices=["json"], default="json", help="output format (json)")

    def handle(self, *args, action, **options):
        raw_year = str(options["year"]).strip()
        today = clock.today()
        if not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4):
            raise CommandError(f"year: {raw_year!r} is not a year (four digits, e.g. 2026)", returncode=2)
        year = int(raw_year)
        if year > today.year:
            raise CommandError(f"year: {year} has not begun yet (today is {today.isoformat()})", returncode=2)
        try:
            annual_rules.template_for(year)
        except annual_rules.UnknownYear as exc:
            raise CommandError(f"year: {exc}", returncode=2)
        if options["agency"] is not None:
            code = options["agency"].strip().upper()
            agency = Agency.objects.select_related("region").filter(credit_code=code).first()
            if agency is None:
                raise CommandError(f"agency: no agency with credit code {code!r}", returncode=2)
            result = annual.for_agencies([agency], year=year, today=today)[agency.pk]
        else:
            code = options["region"].strip()
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise CommandError(f"region: no region with code {code!r}", returncode=2)
            result = annual.for_region(region, year=year, today=today)
        self.stdout.write(json.dumps(annual.as_json(result), ensure_ascii=False))
