"""`sanxiang backup DIR`: the database (SQLite online backup API or
pg_dump), the stored files, the signing keys and a manifest written last
(sanxiang/core/backup.py, docs/backup.md)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from sanxiang.core import backup


class Command(BaseCommand):
    help = ("Back up the database, the stored files (evidence, archives, documents ...) and the keys into DIR, "
            "while the platform runs; DIR/manifest.json, written last, lists every file with its SHA-256. "
            "See docs/backup.md.")

    def add_arguments(self, parser):
        parser.add_argument("directory", help="an empty or new directory, outside the data directory")
        parser.add_argument("--force", action="store_true", help="write into a non-empty DIR (a previous backup)")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def handle(self, *args, directory, force=False, quiet=False, **options):
        started = time.monotonic()
        try:
            manifest = backup.backup(directory, force=force, progress=None if quiet else self.stderr._out)
        except backup.BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from None
        db = manifest["database"]
        total = db["size"] + manifest["files_total_bytes"]
        self.stdout.write(f"backup written to {directory} in {time.monotonic() - started:.1f} s")
        self.stdout.write(f"database:  {db['kind']} {db['file']} ({db['size']:,} bytes, sha256 {db['sha256']})")
        self.stdout.write(f"files:     {len(manifest['files'])} ({manifest['files_total_bytes']:,} bytes; "
                          f"{manifest['files_linked']} evidence objects hard-linked)")
        if manifest["object_store"]:
            store = manifest["object_store"]
            self.stdout.write(f"object store: {store['objects']} objects listed in {store['file']} "
                              f"(they stay in bucket {store['bucket']})")
        for skipped in manifest["skipped"]:
            self.stdout.write(f"not backed up: {skipped['path']} ({skipped['reason']})")
        self.stdout.write(f"total:     {total:,} bytes; manifest: {directory}/manifest.json")
        if manifest["problems"]:
            for problem in manifest["problems"]:
                self.stderr.write(f"problem: {problem}")
            raise CommandError(f"backup written with {len(manifest['problems'])} problem(s) listed in its manifest")
