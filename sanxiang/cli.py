"""The `sanxiang` console command: a thin front over Django's management
commands, with a help text in plain words."""

from __future__ import annotations

import os
import sys

COMMANDS = [
    ("demo", "Set up ./sanxiang-data (SQLite + local files), load the demo data once, and serve on http://127.0.0.1:8000 (--port N)."),
    ("serve", "Serve the platform (--host, --port, --threads; --workers N: gunicorn with N processes, Linux). Uses DATABASE_URL / SANXIANG_DATA_DIR."),
    ("migrate", "Create or upgrade the database tables."),
    ("createuser", "Create a user with a role (interactive, or --username --role --agency/--region)."),
    ("unlock USER", "Lift the login lock of an account after failed logins (--ip ADDRESS: of an address; both: the pair). Audited."),
    ("loaddemo", "Load the demo data (Hebei regions, agencies, officers, users) into the database."),
    ("audit verify", "Check the whole audit chain; exit 0 with count and root, or name the first broken entry."),
    ("audit checkpoint", "Print the latest signed Merkle checkpoint of the audit chain (--create to make one now)."),
    ("audit public-key", "Print the Ed25519 public key that signs checkpoints, to publish for checking archives offline."),
    ("calendar load FILE", "Load an official holiday schedule (holidays and make-up working days) for a year."),
    ("calendar add-working-days DATE N", "Print the date N working days after DATE (first day not counted)."),
    ("calendar add-calendar-days DATE N", "Print DATE plus N calendar days, moved to the next working day if it falls on a holiday or rest day."),
    ("calendar show YEAR", "List a year's holidays and make-up working days, and whether the schedule is the official one."),
    ("rules list", "List the legal time limits and thresholds with their values and sources."),
    ("rules show NAME", "Show one legal parameter: every dated value, scope and reference."),
    ("rules check", "Load and validate every legal-parameter file; exit non-zero naming the first problem."),
    ("token create", "Create an API token for an agency's client system (shown once)."),
    ("token list", "List the API tokens, by prefix only (--agency CODE to show one agency's)."),
    ("token revoke PREFIX", "Revoke an API token by its prefix."),
    ("token key PREFIX", "Register the client system's Ed25519 public key (--key whpk_…; --clear removes it) so it may sign its pushes (docs/docking.md \"Case systems\")."),
    ("archive check PACKAGE", "Four-property check (四性检测) of a case's archive package; exits non-zero naming what is wrong."),
    ("archive build CASE_ID", "Build the archive package (电子案卷) of a closed case again."),
    ("publicity import FILE", "Import a 双公示 CSV/XLSX file for an agency (--agency CODE), with a per-row error report."),
    ("publicity auto-publish", "Show or switch an agency's automatic publication without the pre-publication check (--agency CODE [on|off])."),
    ("publicity export", "Export an agency's decisions of one kind in the 双公示 layout (--agency CODE --kind penalty|license -o FILE.csv|FILE.xlsx)."),
    ("docking key", "Print this platform's docking public key (whpk_…) for the platform above to register (docs/docking.md)."),
    ("docking upstream", "Show or set the platform above (--url URL --as CODE); --enable sends again after it answered 410."),
    ("docking register CODE", "Put a lower platform on the trust list (--name, --key whpk_…, --region CODE / --agency CREDIT_CODE, repeatable)."),
    ("docking rotate-key CODE", "Add a lower platform's new key; its older keys stay valid for the overlap (--key, --overlap-days 7)."),
    ("docking instances", "List the trust list: each lower platform, what it may report, its keys and last message."),
    ("docking deactivate CODE", "Stop receiving from a lower platform (answered 410 Gone); `docking activate CODE` receives again."),
    ("docking activate CODE", "Receive again from a lower platform that was deactivated."),
    ("docking deliver", "Send the messages that are due to the platform above now (the job queue also does it by itself)."),
    ("docking outbox", "List the messages not delivered to the platform above: state, attempts, last error (--all: also delivered)."),
    ("docking retry MSG_ID", "Send an undeliverable or refused message to the platform above again."),
    ("docking reconcile", "Reconcile with the platform above now: counts and hashes per agency and day, the objects it lacks sent again (docs/docking.md \"Reconciliation\")."),
    ("draw verify FILE_OR_URL", "Re-run a published random inspection draw (双随机, sanxiang-draw-v1) and compare its result; exit 1 on any difference (docs/random-inspection.md)."),
    ("evaluate case", "Evaluate a case file (案卷评查) and print one JSON object: --case ID [--scheme CODE] --format json; exit 2 for an unknown case or scheme."),
    ("evaluate schemes", "Load the evaluation scheme files not loaded yet (a loaded version is immutable) and list every scheme version."),
    ("report annual", "Print the annual enforcement statistics (行政执法数据年度报告) as one JSON object: --year YYYY --agency CREDIT_CODE (or --region CODE: summed over the region) --format json; exit 2 for an unknown agency, region or year."),
    ("search rebuild", "Rebuild the full-text search index of published decisions (queued for the workers; --now: here, with progress)."),
    ("worker", "Run the background tasks and scheduled jobs from the job queue (--workers N threads); for production with SANXIANG_QUEUE_URL=redis://... (see docs/queue.md)."),
    ("jobs run", "Run the scheduled jobs now (publicity expiry ...), each under its own lock; exits non-zero if one failed. The queue's workers (or `sanxiang serve`) also run them every 10 minutes."),
    ("jobs list", "List the scheduled jobs and how each one's last run ended."),
    ("backup DIR", "Back up the database, stored files and keys into an empty DIR while the platform runs; DIR/manifest.json (written last) lists every file's SHA-256 (docs/backup.md)."),
    ("restore DIR", "Restore a backup into an empty data directory and database, every hash checked first; then checks the audit chain, archives and evidence objects (--check-only: the checks alone)."),
    ("bench NAME", "Benchmarks from the source checkout: search, ingest, upload, audit, demo-startup, cluster, docking (figures to bench/results/)."),
    ("manage ...", "Any other Django management command (for maintainers)."),
]


def print_help() -> None:
    print("sanxiang — 三项制度平台 (administrative law enforcement: publicity, recording, legal review)\n")
    print("Usage: sanxiang COMMAND [OPTIONS]   (sanxiang COMMAND --help for a command's options)\n")
    width = max(len(name) for name, _ in COMMANDS)
    for name, text in COMMANDS:
        print(f"  {name.ljust(width)}  {text}")
    print("\nSettings come from environment variables: DATABASE_URL, SANXIANG_DATA_DIR, SANXIANG_SECRET_KEY,")
    print("SANXIANG_ENV=production, SANXIANG_REQUIRE_TOTP ... (see README.md).")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print_help()
        return 0
    if argv[0] in {"--version", "version"}:
        from sanxiang import __version__

        print(__version__)
        return 0
    if argv[0] == "manage":
        argv = argv[1:]
    if argv[0] == "demo":
        # The demo relaxes TOTP unless the operator asked otherwise.
        os.environ.setdefault("SANXIANG_REQUIRE_TOTP", "0")
    if argv[0] == "bench" and "DATABASE_URL" not in os.environ:
        # Benchmarks fill a database: never the operator's ./sanxiang-data.
        import tempfile

        os.environ.setdefault("SANXIANG_DATA_DIR", tempfile.mkdtemp(prefix="sanxiang-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"sanxiang: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sanxiang", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
