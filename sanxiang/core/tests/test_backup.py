"""Backups that restore (issue 12 item 5; sanxiang/core/backup.py, docs/backup.md).

Everything goes through the real commands in their own processes, as an
operator runs them: `sanxiang demo --no-serve` builds a demo installation
(cases, evidence uploaded with real bytes, issued documents), its closed
cases' archive packages are built, `sanxiang backup` runs while another
process keeps writing (audit entries and evidence uploads), and `sanxiang
restore` restores into an empty data directory (and, on PostgreSQL, an
empty database). The proof is read back independently of the restore's own
report: `sanxiang audit verify` and `sanxiang archive check` on the
restored installation, and every evidence object hashed from the restored
files against the restored database.

The SQLite tests run in the suite's SQLite pass; the PostgreSQL ones in its
DATABASE_URL=postgres://… pass, on that server, in two databases named after
the suite's (``<name>_bk_src``, ``<name>_bk_dst``), dropped afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _configured_database() -> tuple[str, str | None]:
    """(engine, base URL without the database name) of the suite's database:
    each CI pass proves its own engine (SQLite pass: the SQLite tests; the
    DATABASE_URL=postgres://… pass: the PostgreSQL tests, on its server)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        base, _, name = url.rpartition("/")
        return "postgresql", base if name else url.rstrip("/")
    return "sqlite", None


ENGINE, PG_BASE = _configured_database()

BUILD_ARCHIVES = """
from sanxiang.cases.models import Case
from sanxiang.evidence.archive.build import build_case_archive
from sanxiang.evidence.models import ArchivePackage
for case in Case.objects.filter(status__in=["closed", "terminated"]).order_by("pk"):
    if not ArchivePackage.objects.filter(case=case).exists():
        build_case_archive(case=case, actor="system:backup-test")
print("packages", ArchivePackage.objects.count())
"""

# Keeps writing through the services until the stop file appears: an audit
# entry per round and an evidence upload (new bytes) every fifth.
WRITER = """
import os, pathlib
from django.db import transaction
from sanxiang.core.audit import append_audit
from sanxiang.evidence import demo
from sanxiang.evidence.models import EvidenceItem
stop = pathlib.Path(os.environ["BACKUP_TEST_STOP"])
item = EvidenceItem.objects.filter(case__status="open", step__isnull=False).order_by("pk").first()
n = uploads = 0
while not stop.exists():
    with transaction.atomic():
        append_audit(actor="system:backup-test", action="backup_test.write", payload={"n": n})
    n += 1
    if n % 5 == 0:
        demo.upload_demo_file(actor=item.uploaded_by, case=item.case, step=item.step,
                              data=demo.scene_jpeg(seed=1000 + n), filename=f"t{n}.jpg", captured_at=item.captured_at)
        uploads += 1
    if n == 10:
        (stop.parent / "writing").write_text("yes")
print("WROTE", n, uploads)
"""

STRIPPED = ("DATABASE_URL", "SANXIANG_DATA_DIR", "SANXIANG_SECRET_KEY", "SANXIANG_AUDIT_KEY", "SANXIANG_QUEUE_URL",
            "SANXIANG_TEST_SQLITE_FILE", "SANXIANG_ARCHIVE_DIR", "SANXIANG_AUDIT_ED25519_KEY_FILE",
            "DJANGO_SETTINGS_MODULE", "SANXIANG_EVIDENCE_BACKEND")


def _env(data_dir: Path, database_url: str | None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    env["SANXIANG_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def sx(*args, data_dir: Path, database_url: str | None = None, timeout: int = 900, **extra):
    """Run `sanxiang ARGS` in a process of its own against one installation."""
    return subprocess.run([sys.executable, "-m", "sanxiang", *args], cwd=ROOT, env=_env(data_dir, database_url, **extra),
                          capture_output=True, text=True, timeout=timeout)


def ok(done) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done.stdout


def build_installation(data_dir: Path, database_url: str | None, **extra) -> int:
    ok(sx("demo", "--no-serve", data_dir=data_dir, database_url=database_url, **extra))
    out = ok(sx("manage", "shell", "-c", BUILD_ARCHIVES, data_dir=data_dir, database_url=database_url, **extra))
    packages = int(out.split("packages")[-1].split()[0])
    assert packages >= 1
    return packages


def backup_while_writing(data_dir: Path, database_url: str | None, target: Path, tmp: Path) -> tuple[str, str]:
    """`sanxiang backup` while another process writes to the installation;
    returns (backup's stdout, writer's stdout)."""
    stop = tmp / "stop"
    writer = subprocess.Popen([sys.executable, "-m", "sanxiang", "manage", "shell", "-c", WRITER], cwd=ROOT,
                              env=_env(data_dir, database_url, BACKUP_TEST_STOP=str(stop)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (tmp / "writing").exists():
            assert writer.poll() is None, writer.communicate()
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.2)
        done = sx("backup", str(target), data_dir=data_dir, database_url=database_url)
        assert writer.poll() is None, "the writer stopped before the backup ended: it was not made while writing"
    finally:
        stop.write_text("stop")
        out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    return ok(done), out


def restore_checks(done) -> dict:
    ok(done)
    return json.loads(done.stdout.strip().splitlines()[-1])


def evidence_rows(query) -> list[tuple[str, int]]:
    return sorted(set(query("SELECT sha256, size FROM evidence_evidenceitem WHERE purged_at IS NULL")))


def assert_objects_match(rows: list[tuple[str, int]], evidence_dir: Path) -> None:
    assert rows
    for sha, size in rows:
        path = evidence_dir / sha[:2] / sha[2:4] / sha
        data = path.read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha, size), path


def assert_restored_installation_checks_out(data_dir: Path, database_url: str | None, checks: dict, *,
                                            packages: int, rows: list[tuple[str, int]]) -> None:
    assert checks["ok"] and checks["failures"] == []
    assert checks["checks"]["audit"] == {"passed": 1, "failed": 0}
    assert checks["checks"]["archive"] == {"passed": packages, "failed": 0}
    assert checks["checks"]["evidence"] == {"passed": len(rows), "failed": 0}
    assert checks["checks"]["document"]["failed"] == 0 and checks["checks"]["document"]["passed"] > 0
    # Read back independently of the restore's own report.
    verified = ok(sx("audit", "verify", data_dir=data_dir, database_url=database_url))
    assert "audit chain intact" in verified
    first_package = next((data_dir / "archives").rglob("*.zip"))
    assert "PASS" in ok(sx("archive", "check", str(first_package), data_dir=data_dir, database_url=database_url))
    assert_objects_match(rows, data_dir / "evidence")


def sqlite_rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- SQLite, the embedded default ------------------------------------------------------

@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory):
    if ENGINE != "sqlite":
        pytest.skip("the SQLite pass proves SQLite backups")
    """A demo installation on SQLite with archives, backed up while written to."""
    base = tmp_path_factory.mktemp("backup-sqlite")
    live = base / "live"
    packages = build_installation(live, None)
    target = base / "backup"
    out, wrote = backup_while_writing(live, None, target, base)
    return {"base": base, "live": live, "backup": target, "packages": packages, "stdout": out, "writer": wrote}


def test_sqlite_backup_made_while_writing_restores_into_an_empty_data_dir_and_every_check_passes(sqlite_backup):
    target = sqlite_backup["backup"]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"]["kind"] == "sqlite"
    assert manifest["database"]["sha256"] == hashlib.sha256((target / "database.sqlite3").read_bytes()).hexdigest()
    assert {f["root"] for f in manifest["files"]} == {"data", "archives", "audit_key"}
    assert {"evidence", "files", "secret_key"} <= {f["path"].split("/")[0] for f in manifest["files"]
                                                   if f["root"] == "data"}
    assert len([f for f in manifest["files"] if f["root"] == "archives"]) == sqlite_backup["packages"]
    # Evidence objects on the same file system are hard links, not copies.
    linked = [f for f in manifest["files"] if f["how"] == "link"]
    assert linked and os.stat(target / "data" / linked[0]["path"]).st_nlink >= 2

    restored = sqlite_backup["base"] / "restored"
    checks = restore_checks(sx("restore", str(target), "--json", data_dir=restored))
    rows = evidence_rows(lambda sql: sqlite_rows(restored / "sanxiang.sqlite3", sql))
    # The backup holds the database as it was at one moment of the writes:
    # fewer entries than the writer made in the end, and all of them intact.
    backed_up = sqlite_rows(target / "database.sqlite3", "SELECT count(*) FROM core_auditentry")[0][0]
    live_now = sqlite_rows(sqlite_backup["live"] / "sanxiang.sqlite3", "SELECT count(*) FROM core_auditentry")[0][0]
    assert sqlite_rows(restored / "sanxiang.sqlite3", "SELECT count(*) FROM core_auditentry")[0][0] == backed_up
    assert backed_up < live_now
    assert_restored_installation_checks_out(restored, None, checks, packages=sqlite_backup["packages"], rows=rows)


@pytest.mark.parametrize("what", ["evidence object", "archive package", "database"])
def test_restore_refuses_a_tampered_backup_naming_the_file_and_writes_nothing(sqlite_backup, what, tmp_path):
    copy = tmp_path / "backup"
    shutil.copytree(sqlite_backup["backup"], copy)  # hard links become copies: the live objects stay untouched
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    if what == "database":
        rel = "database.sqlite3"
    else:
        root, folder = ("data", "evidence/") if what == "evidence object" else ("archives", "")
        rel = next(f"{f['root']}/{f['path']}" for f in manifest["files"]
                   if f["root"] == root and f["path"].startswith(folder))
    victim = copy / rel
    victim.chmod(0o600)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    restored = tmp_path / "restored"
    done = sx("restore", str(copy), data_dir=restored)
    assert done.returncode != 0
    assert rel in done.stderr and "changed or damaged" in done.stderr
    assert not (restored / "sanxiang.sqlite3").exists() and not (restored / "evidence").exists()


def test_checks_after_a_restore_fail_naming_an_evidence_object_and_a_package_whose_bytes_changed(sqlite_backup,
                                                                                                    tmp_path):
    restored = tmp_path / "restored"
    ok(sx("restore", str(sqlite_backup["backup"]), "--quiet", data_dir=restored))
    sha = evidence_rows(lambda sql: sqlite_rows(restored / "sanxiang.sqlite3", sql))[0][0]
    victim = restored / "evidence" / sha[:2] / sha[2:4] / sha
    victim.chmod(0o600)
    victim.write_bytes(victim.read_bytes() + b"changed")
    package = sorted((restored / "archives").rglob("*.zip"))[0]
    package.write_bytes(package.read_bytes()[:-10])
    done = sx("restore", "--check-only", data_dir=restored)
    assert done.returncode != 0 and "check(s) failed" in done.stderr
    assert f"FAIL evidence: {sha}: the stored bytes hash to" in done.stdout
    assert f"FAIL archive: {package.relative_to(restored / 'archives').as_posix()}: SHA-256" in done.stdout
    assert "PASS audit" in done.stdout


def test_restore_refuses_a_data_dir_that_is_not_empty_naming_what_is_there(sqlite_backup, tmp_path):
    done = sx("restore", str(sqlite_backup["backup"]), data_dir=sqlite_backup["live"])
    assert done.returncode != 0
    assert "needs an empty installation" in done.stderr and "sanxiang.sqlite3 has tables" in done.stderr
    stray = tmp_path / "used"
    (stray / "files").mkdir(parents=True)
    (stray / "files" / "note.txt").write_text("kept")
    done = sx("restore", str(sqlite_backup["backup"]), data_dir=stray)
    assert done.returncode != 0 and str(stray / "files" / "note.txt") in done.stderr
    assert (stray / "files" / "note.txt").read_text() == "kept" and not (stray / "sanxiang.sqlite3").exists()


def test_restore_refuses_a_backup_without_its_manifest_as_unfinished(sqlite_backup, tmp_path):
    copy = tmp_path / "backup"
    shutil.copytree(sqlite_backup["backup"], copy)
    (copy / "manifest.json").unlink()
    done = sx("restore", str(copy), data_dir=tmp_path / "restored")
    assert done.returncode != 0 and "manifest.json is missing" in done.stderr and "unfinished" in done.stderr


def test_backup_refuses_a_non_empty_directory_unless_forced(sqlite_backup, tmp_path):
    target = tmp_path / "old"
    target.mkdir()
    (target / "something").write_text("x")
    done = sx("backup", str(target), data_dir=sqlite_backup["live"])
    assert done.returncode != 0 and "is not empty" in done.stderr and "--force" in done.stderr
    assert not (target / "manifest.json").exists()
    ok(sx("backup", str(target), "--force", "--quiet", data_dir=sqlite_backup["live"]))
    assert (target / "manifest.json").is_file()


def test_s3_evidence_stays_in_the_store_listed_with_its_hashes_and_the_restore_checks_every_object(tmp_path):
    """S3 evidence (a real S3-compatible server, moto, on this helper's port):
    the backup lists the objects the database names (key, SHA-256, size)
    without copying them; the restored installation, pointed at the same
    bucket, reads every object back and hashes it; a missing one is named."""
    if ENGINE != "sqlite":
        pytest.skip("the SQLite pass proves SQLite backups")
    server_mod = pytest.importorskip("moto.server")
    import boto3

    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=18610, verbose=False)
    server.start()
    try:
        endpoint = "http://127.0.0.1:18610"
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                              region_name="us-east-1")
        client.create_bucket(Bucket="sx-backup")
        s3 = {"SANXIANG_EVIDENCE_BACKEND": "s3", "SANXIANG_S3_ENDPOINT": endpoint, "SANXIANG_S3_BUCKET": "sx-backup",
              "SANXIANG_S3_ACCESS_KEY": "testing", "SANXIANG_S3_SECRET_KEY": "testing", "SANXIANG_S3_REGION": "us-east-1"}
        live = tmp_path / "live"
        packages = build_installation(live, None, **s3)
        target = tmp_path / "backup"
        ok(sx("backup", str(target), "--quiet", data_dir=live, **s3))
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        rows = evidence_rows(lambda sql: sqlite_rows(live / "sanxiang.sqlite3", sql))
        listed = [json.loads(line) for line in (target / "object-store.jsonl").read_text(encoding="utf-8").splitlines()]
        assert sorted((o["sha256"], o["size"]) for o in listed) == rows
        assert {o["key"] for o in listed} == {f"evidence/{sha}" for sha, _ in rows}
        assert manifest["object_store"]["objects"] == len(rows) and manifest["object_store"]["bucket"] == "sx-backup"
        assert not any(f["path"].startswith("evidence/") for f in manifest["files"])  # the objects stay in the store

        restored = tmp_path / "restored"
        checks = restore_checks(sx("restore", str(target), "--json", data_dir=restored, **s3))
        assert checks["ok"] and checks["checks"]["evidence"] == {"passed": len(rows), "failed": 0}
        assert checks["checks"]["archive"] == {"passed": packages, "failed": 0}

        client.delete_object(Bucket="sx-backup", Key=f"evidence/{rows[0][0]}")
        done = sx("restore", "--check-only", data_dir=restored, **s3)
        assert done.returncode != 0
        assert f"FAIL evidence: {rows[0][0]}: the object is missing from the evidence store" in done.stdout
    finally:
        server.stop()


# --- PostgreSQL -------------------------------------------------------------------------

def _recreate_database(name: str, *, create: bool = True) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            con.execute(f'CREATE DATABASE "{name}"')


def _pg_rows(name: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/{name}") as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def pg_backup(tmp_path_factory):
    """A demo installation on a fresh PostgreSQL database (named after the
    suite's own), backed up while written to; the restore goes to another."""
    if ENGINE != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    prefix = os.environ["DATABASE_URL"].rstrip("/").rpartition("/")[2]
    source, dest = f"{prefix}_bk_src", f"{prefix}_bk_dst"
    base = tmp_path_factory.mktemp("backup-pg")
    _recreate_database(source)
    _recreate_database(dest)
    try:
        live = base / "live"
        packages = build_installation(live, f"{PG_BASE}/{source}")
        target = base / "backup"
        backup_while_writing(live, f"{PG_BASE}/{source}", target, base)
        yield {"base": base, "live": live, "backup": target, "packages": packages, "source": source, "dest": dest}
    finally:
        _recreate_database(source, create=False)
        _recreate_database(dest, create=False)


@pytest.mark.postgres_only
def test_postgresql_backup_made_while_writing_restores_into_an_empty_database_and_every_check_passes(pg_backup):
    target = pg_backup["backup"]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"]["kind"] == "postgresql" and (target / "database.pgdump").read_bytes()[:5] == b"PGDMP"
    restored = pg_backup["base"] / "restored"
    url = f"{PG_BASE}/{pg_backup['dest']}"
    checks = restore_checks(sx("restore", str(target), "--json", data_dir=restored, database_url=url))
    rows = evidence_rows(lambda sql: _pg_rows(pg_backup["dest"], sql))
    restored_count = _pg_rows(pg_backup["dest"], "SELECT count(*) FROM core_auditentry")[0][0]
    live_count = _pg_rows(pg_backup["source"], "SELECT count(*) FROM core_auditentry")[0][0]
    assert 0 < restored_count < live_count  # a snapshot taken while the writer went on
    assert_restored_installation_checks_out(restored, url, checks, packages=pg_backup["packages"], rows=rows)
    # The database is no longer empty: a second restore into it is refused, naming it.
    again = sx("restore", str(target), data_dir=pg_backup["base"] / "again", database_url=url)
    assert again.returncode != 0 and f"PostgreSQL database {pg_backup['dest']} has" in again.stderr


@pytest.mark.postgres_only
def test_postgresql_backup_without_pg_dump_on_path_fails_naming_the_program(pg_backup, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = sx("backup", str(tmp_path / "b"), data_dir=pg_backup["live"], database_url=f"{PG_BASE}/{pg_backup['source']}",
              PATH=str(empty))
    assert done.returncode != 0 and "pg_dump is not on PATH" in done.stderr
    assert not (tmp_path / "b" / "manifest.json").exists()
