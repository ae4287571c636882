"""`sanxiang publicity import|export`: the 双公示 exchange from the command
line (seed 公示-19).

  sanxiang publicity import FILE --agency CODE [--kind penalty|license] [--report ERRORS.xlsx]
      Validate every row, store the good ones, list the bad ones (row,
      column, problem); a text progress bar with rows/s goes to stderr.
      The layout read is named (the current one, or the older 2016 one,
      recognised from the header); for the older one every row's
      inferences and unmapped cells are listed too.
      Exit status 1 when some rows were rejected, 2 when the file is unusable.
  sanxiang publicity export --agency CODE --kind penalty|license -o FILE.csv|FILE.xlsx [--headers chinese|codes]
      The agency's decisions in the 双公示 layout (private data: for the
      credit platform exchange only). Not-to-be-published records are left out.
  sanxiang publicity auto-publish --agency CODE [on|off]
      Show or switch the agency's automatic publication (a received or
      case-derived decision is published at once, without the
      administrator's pre-publication check); audited.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core.audit import append_audit
from sanxiang.core.models import Agency
from sanxiang.publicity import shuanggongshi
from sanxiang.publicity.models import Decision, DecisionStatus


class ProgressBar:
    """A plain text bar on stderr: [#####.....] 1200/5000 24% 850 rows/s."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(self.width * share)
        rate = done / (now - self.started) if now > self.started else 0.0
        text = f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {share:4.0%} {rate:,.0f} rows/s"
        self._write(text + ("\n" if done >= total else ""))

    def _write(self, text: str) -> None:
        out = getattr(self.stream, "_out", self.stream)  # a command's OutputWrapper: write unwrapped
        out.write(text)
        out.flush()


class Command(BaseCommand):
    help = "Import or export decisions in the 双公示 layout (CSV or XLSX)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV/XLSX file of penalties or licences")
        imp.add_argument("file")
        imp.add_argument("--agency", required=True, help="unified social credit code of the agency")
        imp.add_argument("--kind", choices=["penalty", "license"], help="default: detected from the header")
        imp.add_argument("--report", help="also write the per-row error report to this .xlsx file")
        imp.add_argument("--reason", default="", help="reason recorded on corrected decisions")
        exp = sub.add_parser("export", help="export an agency's decisions of one kind")
        exp.add_argument("--agency", required=True)
        exp.add_argument("--kind", choices=["penalty", "license"], required=True)
        exp.add_argument("-o", "--output", required=True, help="FILE.csv or FILE.xlsx")
        exp.add_argument("--headers", choices=["chinese", "codes"], default="chinese")
        auto = sub.add_parser("auto-publish", help="show or switch an agency's automatic publication")
        auto.add_argument("--agency", required=True)
        auto.add_argument("state", nargs="?", choices=["on", "off"], help="omit to show the current setting")

    def _agency(self, code: str) -> Agency:
        agency = Agency.objects.filter(credit_code=code.strip().upper()).first()
        if agency is None:
            raise CommandError(f"--agency: no agency with credit code {code}")
        return agency

    def handle(self, *args, action, **options):
        agency = self._agency(options["agency"])
        if action == "import":
            return self._import(agency, options)
        if action == "auto-publish":
            return self._auto_publish(agency, options)
        return self._export(agency, options)

    def _import(self, agency, options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        started = time.perf_counter()
        try:
            report = shuanggongshi.import_file(actor="cli:publicity", agency=agency, file=path, filename=path.name,
                                               kind=options["kind"], progress=ProgressBar(self.stderr),
                                               reason=options["reason"])
        except shuanggongshi.ImportFileError as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"文件格式：{report.layout_name}")
        kinds = {"inferred": "推定", "not_mapped": "未导入"}
        for row, column, kind, message in report.notes:
            self.stdout.write(f"第{row}行 [{column}] {kinds.get(kind, kind)}：{message}")
        for row, column, code, message in report.errors:
            self.stdout.write(f"第{row}行 [{column}] {code}: {message}")
        if report.ignored_columns:
            self.stdout.write(f"忽略的列：{'、'.join(report.ignored_columns)}")
        self.stdout.write(f"{agency.name}: {report.rows} rows ({report.kind}, {report.layout} layout, "
                          f"{report.header_style} headers) in {elapsed:.1f} s — "
                          f"created {report.created}, corrected {report.corrected}, unchanged {report.unchanged}, "
                          f"rejected {report.rejected}.")
        if options["report"] and (report.errors or report.notes):
            Path(options["report"]).write_bytes(shuanggongshi.error_report_xlsx(report))
            self.stdout.write(f"Row report written to {options['report']}.")
        if report.rejected:
            sys.exit(1)

    def _auto_publish(self, agency, options):
        from sanxiang.publicity import services

        if options["state"] is not None:
            services.set_auto_publish(actor="cli:publicity", agency=agency, enabled=options["state"] == "on")
        enabled = services.auto_publish_enabled(agency)
        self.stdout.write(f"{agency.name}: automatic publication {'on' if enabled else 'off'}.")

    def _export(self, agency, options):
        out = Path(options["output"])
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            raise CommandError("-o must end in .csv or .xlsx")
        records = Decision.objects.filter(agency=agency, kind=options["kind"]).exclude(status=DecisionStatus.NOT_PUBLIC)
        count = records.count()
        out.write_bytes(shuanggongshi.export_file(records=records, fmt=fmt, kind=options["kind"], headers=options["headers"]))
        append_audit(actor="cli:publicity", action="publicity.export", obj=agency,
                     payload={"kind": options["kind"], "format": fmt, "records": count, "purpose": "双公示 credit platform exchange"})
        self.stdout.write(f"{count} {options['kind']} records of {agency.name} written to {out} "
                          "(contains personal data: for the credit platform exchange only).")
