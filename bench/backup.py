"""Backup and restore time and size (issue 12 item 5, docs/backup.md):
`python -m bench.backup [--extra-mb N] [--database-url postgres://…/fresh_db --restore-url postgres://…/fresh_db2]`.

Builds a demo installation in a temporary directory (`sanxiang demo
--no-serve`, its closed cases' archive packages built), optionally adds
N MB of extra evidence (uploaded through the evidence service as WAV
recordings of random samples, 8 MB each), then times the real commands:
`sanxiang backup DIR` and `sanxiang restore DIR` into an empty data
directory (and database), split into the restore proper and its checks.
Sizes: the data set (database + stored files), the backup directory's own
bytes (hard-linked evidence objects counted once, on the source side), and
the whole backup as a copy elsewhere would take it.

The last stdout line is one JSON object; it is also written to
bench/results/backup-<database>[-<extra>mb].json. Measure one bench at a
time on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXTRA = """
import io, os, wave
from sanxiang.evidence import demo
from sanxiang.evidence.models import EvidenceItem
item = EvidenceItem.objects.filter(case__status="open", step__isnull=False).order_by("pk").first()
for n in range({count}):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(os.urandom(8 * 1024 * 1024 - 44))
    demo.upload_demo_file(actor=item.uploaded_by, case=item.case, step=item.step, data=out.getvalue(),
                          filename=f"bench{{n}}.wav", captured_at=item.captured_at, duration=524.0)
print("extra", {count})
"""

BUILD_ARCHIVES = """
from sanxiang.cases.models import Case
from sanxiang.evidence.archive.build import build_case_archive
from sanxiang.evidence.models import ArchivePackage
for case in Case.objects.filter(status__in=["closed", "terminated"]).order_by("pk"):
    if not ArchivePackage.objects.filter(case=case).exists():
        build_case_archive(case=case, actor="system:bench")
print("packages", ArchivePackage.objects.count())
"""


def sx(*args, data_dir: Path, database_url: str | None) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SANXIANG_DATA_DIR")}
    env["SANXIANG_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sanxiang", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sanxiang {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout, elapsed


def tree_bytes(path: Path, *, count_links_once: bool) -> int:
    seen, total = set(), 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            st = os.stat(os.path.join(dirpath, name))
            if count_links_once and st.st_nlink > 1:
                continue  # shared with the live store: costs nothing here
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra-mb", type=int, default=0, help="extra evidence to add, in MB (8 MB files)")
    parser.add_argument("--database-url", help="a fresh PostgreSQL database for the source installation")
    parser.add_argument("--restore-url", help="a fresh PostgreSQL database to restore into")
    parser.add_argument("--no-results", action="store_true", help="figures on stdout only")
    args = parser.parse_args(argv)
    if bool(args.database_url) != bool(args.restore_url):
        parser.error("--database-url and --restore-url go together")
    loadavg = os.getloadavg()[0]
    base = Path(tempfile.mkdtemp(prefix="sanxiang-bench-backup-"))
    live, target, restored = base / "live", base / "backup", base / "restored"
    print(f"building the demo in {live} ...", file=sys.stderr)
    sx("demo", "--no-serve", data_dir=live, database_url=args.database_url)
    out, _ = sx("manage", "shell", "-c", BUILD_ARCHIVES, data_dir=live, database_url=args.database_url)
    packages = int(out.split("packages")[-1].split()[0])
    count = args.extra_mb // 8
    if count:
        print(f"adding {count} evidence files of 8 MB ...", file=sys.stderr)
        sx("manage", "shell", "-c", EXTRA.format(count=count), data_dir=live, database_url=args.database_url)

    print("backup ...", file=sys.stderr)
    _, backup_s = sx("backup", str(target), "--quiet", data_dir=live, database_url=args.database_url)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    print("restore ...", file=sys.stderr)
    out, restore_total_s = sx("restore", str(target), "--quiet", data_dir=restored, database_url=args.restore_url)
    restore_s = float(re.search(r" in ([0-9.]+) s; checking", out).group(1))
    checks = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+): (\d+) passed, 0 failed$", out, re.M)}
    data_set = manifest["database"]["size"] + manifest["files_total_bytes"]
    figures = {
        "database": "postgresql" if args.database_url else "sqlite",
        "extra_evidence_mb": count * 8,
        "evidence_objects": checks.get("evidence", 0), "archive_packages": packages,
        "documents_checked": checks.get("document", 0),
        "files": len(manifest["files"]), "files_linked": manifest["files_linked"],
        "data_set_bytes": data_set, "database_bytes": manifest["database"]["size"],
        "backup_own_bytes": tree_bytes(target, count_links_once=True),
        "backup_full_copy_bytes": tree_bytes(target, count_links_once=False),
        "backup_s": round(backup_s, 2),
        "restore_s": round(restore_s, 2),
        "restore_with_checks_s": round(restore_total_s, 2),
        "checks_s": round(restore_total_s - restore_s, 2),
        "checks": checks,
        "loadavg": round(loadavg, 2),
        "note": "each time includes a Python/Django start (~1-2 s idle, more under load); backup and restore on the "
                "same file system as the data (evidence hard-linked by backup, copied by restore)",
    }
    shutil.rmtree(base, ignore_errors=True)
    if args.no_results:
        print(json.dumps(figures))
        return
    import platform
    from datetime import datetime, timezone

    figures = {"benchmark": "backup", "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": f"{os.cpu_count()} cores", **figures}
    path = ROOT / "bench" / "results" / f"backup-{figures['database']}{f'-{count * 8}mb' if count else ''}.json"
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {path}", file=sys.stderr)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
