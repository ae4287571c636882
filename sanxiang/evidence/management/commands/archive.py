"""`sanxiang archive check PACKAGE` (四性检测) and `sanxiang archive build CASE_ID`.

Seed 记录-3 / 记录-12: the closed case's e-case file, proven intact offline.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sanxiang.cases.models import Case
from sanxiang.core.parsing import BadNumber, parse_id
from sanxiang.core.audit import hmac_key
from sanxiang.evidence.archive.build import ArchiveError, build_case_archive
from sanxiang.evidence.archive.check import check_archive
from sanxiang.evidence.archive.keys import platform_public_keys
from sanxiang.evidence.archive.layout import PROPERTIES, PROPERTY_NAMES


class Command(BaseCommand):
    help = (
        "check PACKAGE: the four-property check (authenticity, integrity, usability, security) of an e-case file "
        "package; exits non-zero naming what is wrong. build CASE_ID: build the package of a closed or terminated case."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "build"])
        parser.add_argument("target", help="check: the package file; build: the case id")
        parser.add_argument("--json", dest="as_json", action="store_true", help="check: print the report as JSON")
        parser.add_argument("--no-key", action="store_true",
                            help="check: do not verify the checkpoint signature with this installation's key "
                                 "(a package from elsewhere); reported as not checked")
        parser.add_argument("--public-key", help="check: the Ed25519 public key (hex) the checkpoint must be signed "
                                                 "with (default: this platform's)")

    def handle(self, *args, action, target, as_json=False, no_key=False, public_key=None, **options):
        if action == "build":
            return self._build(target)
        key = None if no_key else hmac_key()
        # Pinned to --public-key, else to this platform's keys (current or replaced).
        pins = public_key or (None if no_key else platform_public_keys())
        report = check_archive(target, signing_key=key, public_key=pins)
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else report.text())
        if not report.ok:
            failed = [p for p in PROPERTIES if not report.passed(p)]
            raise CommandError(f"archive check failed: {', '.join(failed)} ({len(report.findings)} findings) / "
                               f"四性检测不通过：{'、'.join(PROPERTY_NAMES[p] for p in failed)}")

    def _build(self, target: str):
        try:
            case = Case.objects.filter(pk=parse_id(target, field="case")).first()
        except BadNumber:  # "¹²".isdigit() is true, and ids beyond 64 bits overflow the database
            case = None
        if case is None:
            raise CommandError(f"no case {target} / 案件不存在")
        try:
            path = build_case_archive(case=case, actor="system:archive-command")
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
