"""Backups that restore (issue 12 item 5; operators' guide: docs/backup.md).

``sanxiang backup DIR`` writes, while the platform runs:

    DIR/database.sqlite3      SQLite: a copy made through SQLite's online backup API
    DIR/database.pgdump       PostgreSQL: ``pg_dump --format=custom``
    DIR/data/...              the stored files of the data directory (evidence
                              objects, documents, unfinished uploads, import
                              reports, the data-dir secret key)
    DIR/<root>/...            each other registered file root (the archive
                              packages when ARCHIVE_DIR is set elsewhere ...)
    DIR/audit_key/<name>      the audit Ed25519 key file (core.signing)
    DIR/object-store.jsonl    S3 evidence: one line per object the database
                              names (key, SHA-256, size); the objects stay in
                              the store
    DIR/manifest.json         written LAST: every file's path, size, SHA-256;
                              the database file's SHA-256; versions, time,
                              database kind, applied migrations

The database is copied first and the files after it: every file a database
row names was written before its row committed, so it is in the backup.
Evidence objects are content-addressed and never change: on the same file
system they are hard-linked (their name is their SHA-256), elsewhere copied
and the copy's hash compared with the name.

``sanxiang restore DIR`` refuses unless the data directory, the other file
roots and the database are empty (naming what is not), checks every hash
of the manifest before writing anything, restores database, files and keys,
then runs the checks (``run_checks``) in a fresh process, which reads the
restored keys: the audit chain, and what the apps registered here.

Apps above core plug in through the registries below, filled in their
AppConfig.ready (docs/decisions/0011): file roots outside the data
directory, object-store listings, and checks run after a restore.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from django.conf import settings

FORMAT = "sanxiang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
OBJECT_STORE_FILE = "object-store.jsonl"
DATA_ROOT = "data"
AUDIT_KEY_ROOT = "audit_key"
CHUNK = 1024 * 1024
# Top-level folders of the data directory that are not backed up: collected
# static files and caches are made again by the code.
SKIPPED_DIRS = {"static": "collected static files, made again by `serve`",
                "cache": "caches (subset fonts), made again on use"}
SQLITE_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".db", ".db-wal", ".db-shm",
                   ".db-journal")
TEMP_PREFIXES = (".put-", ".secret_key.", ".backup-")


class BackupError(Exception):
    """The backup or restore cannot go on; the message says what and where."""


# --- registries (filled by higher apps in AppConfig.ready) ---------------------------

_roots: dict[str, Callable[[], Path]] = {}
_object_lists: dict[str, Callable[[], Iterable[dict]]] = {}
_checks: dict[str, Callable[..., Iterable["Check"]]] = {}


def register_file_root(name: str, path: Callable[[], Path]) -> None:
    """A directory of stored files an app keeps (``path()`` from settings),
    backed up under DIR/<name>/ and restored to wherever ``path()`` points
    on the restoring installation. Files inside it are left out of the
    data-directory copy, so each file is backed up once."""
    if name in {DATA_ROOT, AUDIT_KEY_ROOT} or not name.isidentifier():
        raise ValueError(f"bad file root name {name!r}")
    _roots[name] = path


def register_object_list(name: str, objects: Callable[[], Iterable[dict]]) -> None:
    """Objects kept outside the backup (S3 evidence): ``objects()`` yields
    dicts with at least ``key``, ``sha256`` and ``size``, read from the
    database; they go to DIR/object-store.jsonl. An app whose objects are
    local files yields nothing."""
    _object_lists[name] = objects


def register_check(name: str, check: Callable[..., Iterable["Check"]]) -> None:
    """A check run after a restore (and by ``restore --check-only``):
    ``check(quick=bool)`` yields ``Check`` results."""
    _checks[name] = check


@dataclass(frozen=True)
class Check:
    name: str  # the kind of check: "audit", "archive", "evidence" ...
    subject: str  # what was checked: a package path, an object's SHA-256 ...
    ok: bool
    detail: str = ""


# --- small helpers ---------------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path, mode: int | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``target`` through a temporary file renamed into
    place (never writing into an existing file, which may be a hard link to
    a live object); returns (size, SHA-256) of the bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".backup-")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _link(source: Path, target: Path) -> bool:
    """Hard-link ``source`` at ``target``; False when they are on different
    file systems (or links are not allowed there)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if source.stat().st_dev != target.parent.stat().st_dev:
            return False
        tmp = target.with_name(f".backup-{os.getpid()}-{target.name}")
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
        os.replace(tmp, target)
        return True
    except OSError:
        return False


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _under(path: Path, root: Path) -> bool:
    """``_is_inside`` for paths already resolved (the walk's own): no
    system call per file."""
    return path == root or str(path).startswith(str(root) + os.sep)


def _is_evidence_object(path: Path, evidence_dir: Path) -> bool:
    """An object of the local evidence store: DATA_DIR/evidence/ab/cd/<sha256>."""
    name = path.name
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name) and _under(path, evidence_dir)


class Progress:
    """Progress on stderr, at most every two seconds."""

    def __init__(self, stream, verb: str, total_files: int, total_bytes: int):
        self.stream, self.verb = stream, verb
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = self.bytes = 0
        self.last = time.monotonic()

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        now = time.monotonic()
        if self.stream is not None and now - self.last >= 2:
            self.last = now
            self.stream.write(f"{self.verb}: {self.files}/{self.total_files} files, "
                              f"{self.bytes / 1e6:.1f}/{self.total_bytes / 1e6:.1f} MB\n")
            self.stream.flush()


# --- what is where ---------------------------------------------------------------------

def database_kind() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"no backup for the database engine {engine}")


def sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"]).resolve()


def audit_key_path() -> Path:
    from . import signing

    return signing.key_path().resolve()


def roots() -> dict[str, Path]:
    """Every file root by name: the data directory, the registered roots,
    and the audit key file (a single file)."""
    found = {DATA_ROOT: Path(settings.DATA_DIR).resolve()}
    for name, path in sorted(_roots.items()):
        found[name] = Path(path()).resolve()
    found[AUDIT_KEY_ROOT] = audit_key_path()
    return found


@dataclass
class SourceFile:
    root: str
    rel: str
    path: Path
    size: int
    immutable: bool  # a content-addressed evidence object
    sqlite: bool = False  # another live SQLite database (the embedded job queue)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def source_files() -> tuple[list[SourceFile], list[dict]]:
    """(files to back up, files and folders left out with the reason)."""
    all_roots = roots()
    data = all_roots[DATA_ROOT]
    others = [p for name, p in all_roots.items() if name != DATA_ROOT]
    db_file = sqlite_path() if database_kind() == "sqlite" else None
    evidence_dir = Path(settings.EVIDENCE_DIR).resolve()
    files: list[SourceFile] = []
    skipped: list[dict] = []
    if data.is_dir():
        for name, reason in SKIPPED_DIRS.items():
            if (data / name).is_dir():
                skipped.append({"root": DATA_ROOT, "path": name + "/", "reason": reason})
        for path in _walk(data):
            rel = path.relative_to(data)
            if rel.parts[0] in SKIPPED_DIRS and len(rel.parts) > 1:
                continue
            if any(_under(path, other) for other in others):
                continue  # backed up under its own root
            if path.name.startswith(TEMP_PREFIXES):
                continue
            if db_file is not None and (path == db_file or str(path).startswith(str(db_file) + "-")):
                continue  # the database, copied through the backup API
            if len(rel.parts) == 1 and path.name.endswith(SQLITE_SUFFIXES):
                if path.name.endswith(".sqlite3") and not path.name.startswith("test-"):
                    # The embedded job queue (queue.sqlite3): its pending tasks
                    # (archive builds ...) go with the database, through the same API.
                    files.append(SourceFile(DATA_ROOT, rel.as_posix(), path, path.stat().st_size, False, True))
                elif not path.name.startswith("test-") and not path.name.endswith(("-wal", "-shm", "-journal")):
                    skipped.append({"root": DATA_ROOT, "path": str(rel), "reason": "another database file"})
                continue
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue  # removed while we walked (an upload finished)
            files.append(SourceFile(DATA_ROOT, rel.as_posix(), path, size, _is_evidence_object(path, evidence_dir)))
    for name, root in all_roots.items():
        if name == DATA_ROOT:
            continue
        if name == AUDIT_KEY_ROOT:
            if root.is_file():
                files.append(SourceFile(name, root.name, root, root.stat().st_size, False))
            continue
        if root.is_dir():
            for path in _walk(root):
                if path.name.startswith(TEMP_PREFIXES):
                    continue
                files.append(SourceFile(name, path.relative_to(root).as_posix(), path, path.stat().st_size, False))
    return files, skipped


def _secret_key_file() -> Path | None:
    """The data directory's secret_key file when it holds the key this
    process runs with (no SANXIANG_SECRET_KEY: settings read or made it)."""
    from sanxiang.secret_key import KEY_FILE_NAME

    path = Path(settings.DATA_DIR).resolve() / KEY_FILE_NAME
    try:
        return path if path.read_text(encoding="ascii").strip() == settings.SECRET_KEY else None
    except (OSError, UnicodeDecodeError):
        return None


def applied_migrations() -> dict[str, list[str]]:
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    by_app: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        by_app.setdefault(app, []).append(name)
    return by_app


def known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


# --- PostgreSQL tools ------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"the PostgreSQL program {name} is not on PATH: install the PostgreSQL client programs "
                          f"(Debian: apt install postgresql-client-15, the server's major version) or add their "
                          f"folder to PATH")
    return found


def _pg_args_env() -> tuple[list[str], dict]:
    db = settings.DATABASES["default"]
    args = ["--no-password"]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return args, env


def _run_tool(argv: list[str], env: dict) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()[-2000:]}")


# --- backup ----------------------------------------------------------------------------

def _check_backup_dir(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BackupError(f"{target} is not empty: choose an empty or new directory, or pass --force to write "
                          f"over a previous backup there")
    data = Path(settings.DATA_DIR).resolve()
    if _is_inside(target, data):
        raise BackupError(f"{target} is inside the data directory {data}: back up to a directory outside it")


def _backup_sqlite(target: Path) -> dict:
    source = sqlite_path()
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}: run `sanxiang migrate` first, or set "
                          f"SANXIANG_DATA_DIR / DATABASE_URL to the installation to back up")
    sqlite_version = _sqlite_copy(source, target)
    return {"kind": "sqlite", "file": target.name, "size": target.stat().st_size, "sha256": sha256_of(target),
            "source": str(source), "engine_version": sqlite_version}


def _sqlite_copy(source: Path, target: Path) -> str:
    """Copy the live SQLite database ``source`` to ``target`` through
    SQLite's online backup API; returns SQLite's version."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".backup-" + target.name)
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), timeout=60)
    dst = sqlite3.connect(str(tmp))
    try:
        # One step (pages=-1): one read transaction, so the copy is the
        # database at one moment; in WAL mode writers go on meanwhile.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        sqlite_version = sqlite3.sqlite_version
    finally:
        dst.close()
        src.close()
    if problem != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"the copy of {source} fails SQLite's quick_check: {problem}")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return sqlite_version


def _backup_postgresql(target: Path) -> dict:
    pg_dump = _pg_tool("pg_dump")
    args, env = _pg_args_env()
    name = settings.DATABASES["default"]["NAME"]
    tmp = target.with_name(".backup-" + target.name)
    tmp.unlink(missing_ok=True)
    _run_tool([pg_dump, *args, "--format=custom", "--file", str(tmp), "--dbname", name], env)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {"kind": "postgresql", "file": target.name, "size": target.stat().st_size, "sha256": sha256_of(target),
            "source": f"{settings.DATABASES['default'].get('HOST') or 'local socket'}/{name}",
            "engine_version": server}


def backup(target, *, force: bool = False, progress=None) -> dict:
    """Back up the configured installation to ``target``; returns the
    manifest (also written as target/manifest.json, last). Raises
    BackupError with a clear message."""
    import django

    from sanxiang import __version__

    target = Path(target).resolve()
    _check_backup_dir(target, force)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)  # the database holds password hashes; keys
    (target / MANIFEST).unlink(missing_ok=True)  # a backup without its manifest is recognisably unfinished
    started = _now()
    kind = database_kind()
    migrations = applied_migrations()
    database = _backup_sqlite(target / SQLITE_FILE) if kind == "sqlite" else _backup_postgresql(target / PG_FILE)

    files, skipped = source_files()
    bar = Progress(progress, "backup", len(files), sum(f.size for f in files))
    entries: list[dict] = []
    problems: list[str] = []
    linked = 0
    for item in files:
        dest = target / item.root / item.rel
        try:
            mode = item.path.stat().st_mode & 0o777
            if item.sqlite:
                _sqlite_copy(item.path, dest)
                size, sha, how = dest.stat().st_size, sha256_of(dest), "sqlite-backup"
            elif item.immutable and _link(item.path, dest):
                size, sha, how = dest.stat().st_size, item.path.name, "link"
                linked += 1
            else:
                size, sha = _copy_hashing(item.path, dest, mode)
                how = "copy"
                if item.immutable and sha != item.path.name:
                    problems.append(f"evidence object {item.rel} does not match its name (SHA-256 {sha}): "
                                    f"its stored bytes changed; see the fixity alerts")
        except FileNotFoundError:
            continue  # removed while we copied (an unfinished upload completed or expired)
        entries.append({"root": item.root, "path": item.rel, "size": size, "sha256": sha, "mode": mode, "how": how})
        bar.add(size)

    object_store = None
    lines = []
    for name, objects in sorted(_object_lists.items()):
        for obj in objects():
            lines.append(json.dumps({"list": name, **obj}, sort_keys=True, ensure_ascii=False))
    if lines:
        path = target / OBJECT_STORE_FILE
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        object_store = {"file": OBJECT_STORE_FILE, "objects": len(lines), "size": path.stat().st_size,
                        "sha256": sha256_of(path), "backend": settings.EVIDENCE_BACKEND,
                        "bucket": settings.EVIDENCE_S3.get("bucket") if settings.EVIDENCE_BACKEND == "s3" else None,
                        "prefix": settings.EVIDENCE_S3.get("prefix") if settings.EVIDENCE_BACKEND == "s3" else None}

    from . import signing

    public = signing.public_key_hex() if audit_key_path().is_file() else None
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "started_at": started, "finished_at": _now(),
        "versions": {"sanxiang": __version__, "django": django.get_version(), "python": platform.python_version()},
        "host": platform.node(),
        "database": database,
        "migrations": migrations,
        "evidence_backend": settings.EVIDENCE_BACKEND,
        "roots": {name: str(path) for name, path in roots().items()},
        "secret_key": "data directory file secret_key" if _secret_key_file() is not None
        else "environment (SANXIANG_SECRET_KEY: not in the backup)",
        "audit_key": "the secret key" if settings.AUDIT_SIGNING_KEY == settings.SECRET_KEY
        else "environment (SANXIANG_AUDIT_KEY: not in the backup)",
        "audit_public_key": public, "audit_key_id": signing.key_id(public) if public else None,
        "files": entries, "files_linked": linked, "files_total_bytes": sum(e["size"] for e in entries),
        "skipped": skipped,
        "object_store": object_store,
        "problems": problems,
    }
    tmp = target / (".backup-" + MANIFEST)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target / MANIFEST)
    _fsync_dir(target)
    return manifest


# --- restore ---------------------------------------------------------------------------

def read_manifest(source: Path) -> dict:
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory")
    if not path.is_file():
        raise BackupError(f"{path} is missing: {source} is not a backup, or an unfinished one "
                          f"(the manifest is written last)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a sanxiang backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} has format version {manifest.get('format_version')}; this code reads "
                          f"version {FORMAT_VERSION}")
    return manifest


def _safe_rel(rel: str) -> str:
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts:
        raise BackupError(f"the manifest names an unsafe path {rel!r}")
    return rel


def verify_backup(source: Path, manifest: dict, progress=None) -> None:
    """Every file of the manifest is present with its size and SHA-256;
    raises BackupError naming the first that is not."""
    db = manifest["database"]
    checks = [(db["file"], db["size"], db["sha256"])]
    if manifest.get("object_store"):
        store = manifest["object_store"]
        checks.append((store["file"], store["size"], store["sha256"]))
    for entry in manifest["files"]:
        checks.append((f"{_safe_rel(entry['root'])}/{_safe_rel(entry['path'])}", entry["size"], entry["sha256"]))
    bar = Progress(progress, "restore: checking", len(checks), sum(c[1] for c in checks))
    for rel, size, sha in checks:
        path = source / rel
        if not path.is_file():
            raise BackupError(f"backup file {rel} is missing from {source}: the backup is incomplete")
        actual_size = path.stat().st_size
        if actual_size != size:
            raise BackupError(f"backup file {rel} has {actual_size} bytes, the manifest says {size}: "
                              f"the backup was changed or damaged")
        actual = sha256_of(path)
        if actual != sha:
            raise BackupError(f"backup file {rel} has SHA-256 {actual}, the manifest says {sha}: "
                              f"the backup was changed or damaged")
        bar.add(size)


def _sqlite_has_tables(path: Path) -> bool:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0])
    finally:
        con.close()


def not_empty(manifest: dict) -> list[str]:
    """What on the restoring installation is not empty (each a sentence)."""
    found: list[str] = []
    kind = database_kind()
    if kind == "sqlite":
        path = sqlite_path()
        if path.exists() and path.stat().st_size and _sqlite_has_tables(path):
            found.append(f"the SQLite database {path} has tables")
    else:
        from django.db import connection

        tables = connection.introspection.table_names()
        if tables:
            found.append(f"the PostgreSQL database {settings.DATABASES['default']['NAME']} has {len(tables)} tables "
                         f"({', '.join(sorted(tables)[:3])} ...)")
    all_roots = roots()
    data = all_roots[DATA_ROOT]
    db_file = sqlite_path() if kind == "sqlite" else None
    made_key = _secret_key_file()
    for name, root in all_roots.items():
        if name == AUDIT_KEY_ROOT:
            if root.exists():
                found.append(f"the audit key file {root} exists")
            continue
        if not root.is_dir():
            if root.exists():
                found.append(f"{root} exists and is not a directory")
            continue
        for path in _walk(root):
            if path == made_key or (db_file is not None and str(path).startswith(str(db_file))):
                continue  # the key settings made on this start; the database, checked above
            if name == DATA_ROOT and (path.parent == data and path.name.endswith(SQLITE_SUFFIXES)
                                      or path.relative_to(data).parts[0] in SKIPPED_DIRS):
                continue  # not restored either: the job queue's file, caches, static files
            if name == DATA_ROOT and any(_under(path, r) for n, r in all_roots.items() if n != DATA_ROOT):
                continue  # reported under its own root
            found.append(f"{path} exists (in {'the data directory' if name == DATA_ROOT else name} {root})")
            break
    return found


def restore(source, *, progress=None, link: bool = False) -> dict:
    """Restore the backup at ``source`` into this (empty) installation;
    returns the manifest. Raises BackupError before writing anything if
    the backup is damaged, of another database kind, newer than this code,
    or the installation is not empty."""
    source = Path(source).resolve()
    manifest = read_manifest(source)
    kind = database_kind()
    if manifest["database"]["kind"] != kind:
        raise BackupError(f"the backup holds a {manifest['database']['kind']} database and this installation uses "
                          f"{kind} (DATABASE_URL): restore into the same kind of database")
    if manifest.get("object_store") and settings.EVIDENCE_BACKEND != manifest["object_store"].get("backend"):
        raise BackupError(f"the backup's evidence is in the {manifest['object_store']['backend']} store and this "
                          f"installation uses {settings.EVIDENCE_BACKEND} (SANXIANG_EVIDENCE_BACKEND)")
    known = known_migrations()
    unknown = [f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names
               if (app, name) not in known]
    if unknown:
        raise BackupError(f"the backup's database has migrations this code does not know ({', '.join(unknown[:5])}"
                          f"{' ...' if len(unknown) > 5 else ''}): restore with the sanxiang version that made it "
                          f"({manifest['versions']['sanxiang']}) or a later one")
    found = not_empty(manifest)
    if found:
        raise BackupError("restore needs an empty installation, and this one is not: " + "; ".join(found))
    verify_backup(source, manifest, progress)

    # The database.
    db = manifest["database"]
    if kind == "sqlite":
        target = sqlite_path()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        _copy_hashing(source / db["file"], target, 0o600)
    else:
        pg_restore = _pg_tool("pg_restore")
        args, env = _pg_args_env()
        from django.db import connection

        connection.close()
        _run_tool([pg_restore, *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                   "--dbname", settings.DATABASES["default"]["NAME"], str(source / db["file"])], env)

    # The files and keys, each to where this installation keeps it.
    all_roots = roots()
    bar = Progress(progress, "restore: copying", len(manifest["files"]), manifest.get("files_total_bytes", 0))
    for entry in manifest["files"]:
        root = entry["root"]
        if root not in all_roots:
            raise BackupError(f"the backup has files of {root!r}, which this installation does not keep")
        from_path = source / root / entry["path"]
        to_path = all_roots[root] if root == AUDIT_KEY_ROOT else all_roots[root] / entry["path"]
        if entry.get("how") == "sqlite-backup":
            for suffix in ("-wal", "-shm", "-journal"):
                Path(str(to_path) + suffix).unlink(missing_ok=True)
        if not (link and entry.get("how") == "link" and _link(from_path, to_path)):
            _copy_hashing(from_path, to_path, entry.get("mode"))
        bar.add(entry["size"])
    for root in all_roots.values():
        if root.is_dir():
            _fsync_dir(root)
    return manifest


# --- checks after a restore ------------------------------------------------------------

def _audit_check(quick: bool = False) -> Iterator[Check]:
    from . import audit

    result = audit.verify_chain()
    if result.ok:
        yield Check("audit", "audit chain", True, f"{result.count} entries intact, Merkle root {result.latest_root}, "
                                                  f"{result.checkpoints_checked} checkpoints' signatures valid")
    else:
        yield Check("audit", "audit chain", False, f"broken at entry #{result.first_bad_seq}: {result.reason}")
    for table in audit.unprotected_tables():
        yield Check("audit", table, False, "no append-only triggers")


def run_checks(*, quick: bool = False) -> Iterator[Check]:
    """The audit chain, then every registered check (archives, evidence
    objects, documents ...). A check that raises is reported as failed."""
    for name, check in [("audit", _audit_check), *sorted(_checks.items())]:
        try:
            yield from check(quick=quick)
        except Exception as exc:  # one broken check never hides the others
            yield Check(name, "(the check itself)", False, f"{type(exc).__name__}: {exc}")


def pending_migrations() -> list[str]:
    applied = {(app, name) for app, names in applied_migrations().items() for name in names}
    return sorted(f"{app}.{name}" for app, name in known_migrations() - applied)


def run_checks_in_new_process(*, quick: bool = False, as_json: bool = False, stdout=None) -> int:
    """``sanxiang restore --check-only`` in a fresh process: the settings
    there read the restored secret key and audit key."""
    argv = [sys.executable, "-m", "sanxiang", "restore", "--check-only"]
    if quick:
        argv.append("--quick")
    if as_json:
        argv.append("--json")
    done = subprocess.run(argv, env=dict(os.environ), capture_output=True, text=True)
    if stdout is not None:
        stdout.write(done.stdout)
    if done.stderr:
        sys.stderr.write(done.stderr)
    return done.returncode
