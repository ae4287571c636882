"""`sanxiang restore DIR`: a backup of `sanxiang backup` into an empty
installation, every hash checked first; then the checks (audit chain,
archive packages, evidence objects, documents) in a fresh process that
reads the restored keys. `sanxiang restore --check-only` runs the checks
alone (sanxiang/core/backup.py, docs/backup.md)."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import backup


class Command(BaseCommand):
    help = ("Restore a backup made by `sanxiang backup` into an empty data directory and an empty database "
            "(refused otherwise, naming what is not empty). Every file's SHA-256 is checked before anything is "
            "written; afterwards the audit chain, every archive package and every evidence object are checked, "
            "and the command exits non-zero if one fails. --check-only: only the checks, on this installation.")

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", help="the backup directory (with manifest.json)")
        parser.add_argument("--check-only", action="store_true",
                            help="restore nothing: run the checks on this installation")
        parser.add_argument("--quick", action="store_true",
                            help="checks: evidence objects by existence and size, without reading their bytes")
        parser.add_argument("--link", action="store_true",
                            help="hard-link evidence objects from the backup instead of copying them "
                                 "(same file system only; the backup must then stay read-only)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="checks: one JSON object on stdout")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def handle(self, *args, directory=None, check_only=False, quick=False, link=False, as_json=False, quiet=False,
               **options):
        if check_only:
            return self._checks(quick=quick, as_json=as_json)
        if not directory:
            raise CommandError("give the backup directory: sanxiang restore DIR")
        started = time.monotonic()
        try:
            manifest = backup.restore(directory, progress=None if quiet else self.stderr._out, link=link)
        except backup.BackupError as exc:
            raise CommandError(f"restore refused: {exc}") from None
        if not as_json:
            self.stdout.write(f"restored {manifest['database']['kind']} database and {len(manifest['files'])} files "
                              f"from {directory} (backup of {manifest['finished_at']}) in "
                              f"{time.monotonic() - started:.1f} s; checking ...")
        code = backup.run_checks_in_new_process(quick=quick, as_json=as_json, stdout=self.stdout)
        if code != 0:
            raise CommandError("restored, but the checks above failed: do not put this installation in service")

    def _checks(self, *, quick: bool, as_json: bool):
        results = list(backup.run_checks(quick=quick))
        pending = backup.pending_migrations()
        failed = [r for r in results if not r.ok]
        counts: dict[str, list[int]] = {}
        for r in results:
            counts.setdefault(r.name, [0, 0])[0 if r.ok else 1] += 1
        if as_json:
            self.stdout.write(json.dumps({
                "ok": not failed, "checks": {name: {"passed": p, "failed": f} for name, (p, f) in counts.items()},
                "failures": [{"check": r.name, "subject": r.subject, "detail": r.detail} for r in failed],
                "pending_migrations": pending,
            }, ensure_ascii=False))
        else:
            for r in results:
                if r.name == "audit" or not r.ok:
                    self.stdout.write(f"{'PASS' if r.ok else 'FAIL'} {r.name}: {r.subject}: {r.detail}")
            for name, (passed, fails) in counts.items():
                self.stdout.write(f"{name}: {passed} passed, {fails} failed")
            if pending:
                self.stdout.write(f"note: {len(pending)} migrations of this code are not applied yet "
                                  f"(the backup is older): run `sanxiang migrate`")
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed after the restore / 恢复后检查未通过")
        if not as_json:
            self.stdout.write(self.style.SUCCESS("all checks passed / 全部检查通过"))
