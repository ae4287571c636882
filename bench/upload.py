"""Upload benchmark of the tus endpoint through the production server
(记录-5, 记录-11; issue 12 item 2).

`run_upload_bench(size_bytes=N)`:

1. makes a fresh data directory (SQLite: the database is not what is
   measured here), migrates it and creates an agency, a case, a step and an
   API token (sanxiang.evidence.fixtures) in a subprocess;
2. writes a file of N random bytes next to it, fsyncs it (so its own
   write-back does not compete with the upload) and computes its SHA-256
   (the client's declared hash; not timed);
3. measures the ceiling on the same disk (before): SHA-256 of the file with
   hashlib (1 MiB reads), and a copy of it with fsync (the durable-write
   rate); ceiling = min(hash rate, write rate), what an upload that hides
   hashing entirely behind writing could reach. Also, as extra fields, a
   copy written with O_DIRECT from one reused 1 MiB buffer, then fsync
   (`direct_write_fsync_mb_per_s`, the disk without the page cache, as the
   server writes a large body on Linux) and min(hash, that rate);
4. starts the real server in a subprocess on a free port — by default the
   production one, `sanxiang serve --workers 2` (gunicorn, gthread,
   streaming bodies); `server="waitress"` for the embedded default — and
   uploads the file over loopback through /api/v1/uploads/: POST, then
   PATCH requests of CHUNK bytes sent from the file with sendfile
   (http.client for the headers; nothing held whole), timed from the POST
   (to a server that loaded its URLconf at start) to the response of the
   last PATCH, which includes the server's hashing, the SHA-256 check, the
   move into the content-addressed store and the evidence item with its
   audit entry;
5. samples the memory of the server's processes while it works (the
   gunicorn master and each worker, found as the master's children in
   /proc) and reads each one's peak (VmHWM) at the end;
6. measures the ceiling again (after): the disk's speed drifts on this VM,
   so the ratio divides by the higher of the two ceilings.

Each of the three measurements starts after `sync` and once the kernel's
pending writes (Dirty + Writeback) are below 64 MiB, so none pays for the
write-back of the one before it.

Reports {"size_mb", "mb_per_s", "ceiling_mb_per_s", "ratio",
"direct_ceiling_mb_per_s", "ratio_direct", "worker_peak_rss_mb", "server",
"loadavg", ...}: `ratio` against the issue's ceiling (the higher of before
and after), `ratio_direct` against the higher O_DIRECT ceiling.
Run: `sanxiang bench upload --size 2G` (written to
bench/results/upload-sqlite-2G-gunicorn.json), or `python -m bench.upload
--size 2G [--server waitress]`. Timing never decides a test.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import urlsplit

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
MB = 1024 * 1024
CHUNK = 256 * MB  # bytes per PATCH (waitress refuses bodies over 1 GiB)
BLOCK = MB  # client send block and hash read block


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": MB, "G": 1024 * MB, "T": 1024 * 1024 * MB}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="sanxiang.settings", SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0",
               SANXIANG_EVIDENCE_BACKEND="local", SANXIANG_QUEUE_URL="",
               PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class _Sampler(threading.Thread):
    """Polls the resident memory of the server's processes (for systems
    without VmHWM, and to see a worker that exits before the end)."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.stop = pids, threading.Event()
        self.peak_kb = {pid: 0 for pid in pids}

    def run(self):
        while not self.stop.wait(0.05):
            for pid in self.pids:
                self.peak_kb[pid] = max(self.peak_kb[pid], _status_kb(pid, "VmRSS"))

    def peaks_kb(self) -> dict[int, int]:
        return {pid: max(self.peak_kb[pid], _status_kb(pid, "VmHWM")) for pid in self.pids}


def _request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body=None):
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return response, payload


def _upload(base: str, token: str, world: dict, path: Path, sha256: str, chunk: int) -> None:
    size = path.stat().st_size
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600, blocksize=BLOCK)
    common = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
    meta = {"case": str(world["case"]), "step": str(world["step"]), "sha256": sha256, "filename": path.name,
            "category": "scene"}
    metadata = ",".join(f"{k} {b64encode(v.encode()).decode()}" for k, v in meta.items())
    response, payload = _request(conn, "POST", "/api/v1/uploads/",
                                 {**common, "Upload-Length": str(size), "Upload-Metadata": metadata})
    if response.status != 201:
        raise RuntimeError(f"creation failed: {response.status} {payload[:300]!r}")
    location = urlsplit(response.getheader("Location")).path
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            length = min(chunk, size - offset)
            headers = {**common, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                       "Content-Length": str(length)}
            conn.putrequest("PATCH", location, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key, value)
            conn.endheaders()
            # The body straight from the page cache to the socket (sendfile):
            # the load generator should cost the 2 shared cores as little as
            # possible, like a dock's client written in C would.
            sent = conn.sock.sendfile(fh, offset, length)
            if sent != length:
                raise RuntimeError(f"sent {sent} of {length} bytes at {offset}")
            response = conn.getresponse()
            payload = response.read()
            if response.status != 204:
                raise RuntimeError(f"PATCH at {offset} failed: {response.status} {payload[:300]!r}")
            offset = int(response.getheader("Upload-Offset"))
    conn.close()


def _dirty_kb() -> int:
    """Bytes the kernel still has to write to disk (Dirty + Writeback), KiB."""
    total = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    except (OSError, ValueError):
        pass
    return total


def _settle(limit_kb: int = 64 * 1024, timeout: float = 60) -> None:
    """Start each measurement from the same state: the system's pending
    writes (other files, the previous measurement's) on disk, so no
    measurement pays for the one before it."""
    os.sync()
    deadline = time.monotonic() + timeout
    while _dirty_kb() > limit_kb and time.monotonic() < deadline:
        time.sleep(0.2)


def _ceiling(path: Path, work: Path) -> dict:
    """Hash rate and durable-write rate of the same file on the same disk,
    MB/s; the ceiling is the lower of the two (an upload that hides hashing
    behind writing runs at the write rate at best)."""
    size_mb = path.stat().st_size / MB
    _settle()
    started = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    hash_s = time.perf_counter() - started
    copy = work / "ceiling-copy.bin"
    started = time.perf_counter()
    with open(path, "rb") as src, open(copy, "wb") as dst:
        shutil.copyfileobj(src, dst, BLOCK)
        dst.flush()
        os.fsync(dst.fileno())
    copy_s = time.perf_counter() - started
    copy.unlink()
    hash_rate, write_rate = size_mb / hash_s, size_mb / copy_s
    figures = {"hash_mb_per_s": round(hash_rate, 1), "write_fsync_mb_per_s": round(write_rate, 1),
               "ceiling_mb_per_s": round(min(hash_rate, write_rate), 1)}
    direct_s = _direct_copy_s(path, copy)
    if direct_s is not None:
        direct_rate = size_mb / direct_s
        figures.update(direct_write_fsync_mb_per_s=round(direct_rate, 1),
                       direct_ceiling_mb_per_s=round(min(hash_rate, direct_rate), 1))
    return figures


def _direct_copy_s(path: Path, copy: Path) -> float | None:
    """Seconds to copy the file with O_DIRECT writes from one reused page-
    aligned buffer, then fsync: the disk's durable-write rate without the
    page cache (what the server's O_DIRECT path writes at); None where the
    system or filesystem refuses O_DIRECT."""
    if not hasattr(os, "O_DIRECT"):
        return None
    _settle()
    buffer = mmap.mmap(-1, BLOCK)
    try:
        started = time.perf_counter()
        try:
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
        except OSError:
            return None
        try:
            with open(path, "rb", buffering=0) as src, memoryview(buffer) as view:
                position = 0
                while n := src.readinto(view):
                    aligned = n - n % 4096
                    done = 0
                    while done < aligned:
                        with view[done:aligned] as block:
                            done += os.pwrite(fd, block, position + done)
                    if n > aligned:  # the file's unaligned tail, through the page cache
                        with open(copy, "r+b", buffering=0) as tail, view[aligned:n] as rest:
                            os.pwrite(tail.fileno(), rest, position + aligned)
                            os.fsync(tail.fileno())
                    position += n
            os.fsync(fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        return time.perf_counter() - started
    finally:
        copy.unlink(missing_ok=True)
        buffer.close()


def _serve_command(port: int, server: str, workers: int, threads: int | None, recv_bytes: int | None) -> list[str]:
    serve = ["serve", "--port", str(port), "--jobs-interval", "0"]
    if server == "gunicorn":
        serve += ["--workers", str(workers)]
    if threads:
        serve += ["--threads", str(threads)]
    if server == "gunicorn" or not recv_bytes:
        return [sys.executable, "-m", "sanxiang", *serve]
    # The same `sanxiang serve`, with waitress reading the socket in bigger
    # pieces than its 8 KiB default (docs/evidence.md, "Benchmark").
    code = ("import sys, waitress.adjustments as a; a.Adjustments.recv_bytes = int(sys.argv[1]); "
            "from sanxiang.cli import main; sys.exit(main(sys.argv[2:]))")
    return [sys.executable, "-c", code, str(recv_bytes), *serve]


def _wait_for_serving(proc: subprocess.Popen, timeout: float = 120) -> list[str]:
    """Read the server's output until its "Serving on" line; the lines so far."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server exited before serving:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("Serving on http://"):
            return lines
    raise RuntimeError("server did not announce itself:\n" + "".join(lines))


def _drain(stream) -> None:
    """Keep reading a child's output so it never blocks on a full pipe."""
    threading.Thread(target=lambda: [None for _ in iter(stream.readline, "")], daemon=True).start()


def run_upload_bench(*, size_bytes: int, progress=None, chunk_bytes: int = CHUNK, workdir: str | None = None,
                     server: str = "gunicorn", workers: int = 2, threads: int | None = None,
                     recv_bytes: int | None = None) -> dict:
    """Upload `size_bytes` through tus to a real server and measure the
    ceiling on the same disk before and after. `progress(message)` is
    called at each phase. `server`: "gunicorn" (`serve --workers N`) or
    "waitress" (`serve`); `recv_bytes` overrides waitress's socket read size."""
    if server not in ("gunicorn", "waitress"):
        raise ValueError(f"server must be gunicorn or waitress, not {server!r}")
    say = progress or (lambda *a: None)
    loadavg = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="sanxiang-bench-upload-", dir=workdir))
    data_dir = work / "data"
    data_dir.mkdir()
    env = _env(data_dir)
    proc = None
    try:
        free = shutil.disk_usage(work).free
        if free < size_bytes * 3 + 512 * MB:
            raise RuntimeError(f"needs about {3 * size_bytes // MB} MB free next to {work}; {free // MB} MB free")
        say("migrating a fresh SQLite database and making an agency, a case and a token")
        subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], env=env, check=True,
                       cwd=ROOT)
        out = subprocess.run([sys.executable, "-c", "import django; django.setup(); import sanxiang.evidence.fixtures as f; f.main()"], env=env,
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
        world = json.loads(out.strip().splitlines()[-1])
        say(f"writing {size_bytes // MB} MB of random bytes")
        source = work / "recording.bin"
        digest = hashlib.sha256()
        with open(source, "wb") as fh:
            left = size_bytes
            while left > 0:
                block = os.urandom(min(8 * MB, left))
                digest.update(block)
                fh.write(block)
                left -= len(block)
            # Durable before anything is timed: otherwise the kernel writes
            # the fresh source back to disk during the upload, competing with
            # it, but not during the ceiling measured afterwards.
            fh.flush()
            os.fsync(fh.fileno())
        sha256 = digest.hexdigest()
        say("measuring the ceiling before: hashlib SHA-256, then a copy with fsync, same file, same disk")
        before = _ceiling(source, work)
        port = free_port()
        command = _serve_command(port, server, workers, threads, recv_bytes)
        say(f"starting {' '.join(command[2:] if command[1] == '-m' else command[4:])} on port {port}")
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _wait_for_serving(proc)
        _drain(proc.stdout)
        pids = [proc.pid]
        if server == "gunicorn":
            deadline = time.monotonic() + 60
            while len(_children(proc.pid)) < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn started {len(_children(proc.pid))} of {workers} workers")
                time.sleep(0.1)
            pids += _children(proc.pid)
        idle_rss_kb = {pid: _status_kb(pid, "VmRSS") for pid in pids}
        sampler = _Sampler(pids)
        sampler.start()
        say(f"uploading through tus in PATCHes of {chunk_bytes // MB} MB")
        _settle()
        started = time.perf_counter()
        _upload(f"http://127.0.0.1:{port}", world["token"], world, source, sha256, chunk_bytes)
        upload_s = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        peaks_kb = sampler.peaks_kb()
        stored = data_dir / "evidence" / sha256[:2] / sha256[2:4] / sha256
        if not stored.is_file() or stored.stat().st_size != size_bytes:
            raise RuntimeError("the uploaded object is not in the store")
        proc.terminate()
        proc.wait(timeout=60)
        stored.unlink()
        say("measuring the ceiling after: the same two measurements again")
        after = _ceiling(source, work)
        size_mb = size_bytes / MB
        mb_per_s = size_mb / upload_s
        ceiling = max(before["ceiling_mb_per_s"], after["ceiling_mb_per_s"])
        mib = lambda kb: round(kb / 1024, 1)  # noqa: E731
        worker_pids = pids[1:] if server == "gunicorn" else pids
        figures = {
            "database": "sqlite", "size_mb": round(size_mb), "chunk_mb": chunk_bytes // MB,
            "server": (f"sanxiang serve --workers {workers} --threads {threads or 4} (gunicorn gthread)"
                       if server == "gunicorn" else f"sanxiang serve --threads {threads or 8} (waitress)"),
            "upload_s": round(upload_s, 2), "mb_per_s": round(mb_per_s, 1),
            "ceiling_mb_per_s": ceiling, "ratio": round(mb_per_s / ceiling, 3),
            "ceiling_before": before, "ceiling_after": after,
            "worker_peak_rss_mb": [mib(peaks_kb[pid]) for pid in worker_pids],
            "worker_idle_rss_mb": [mib(idle_rss_kb[pid]) for pid in worker_pids],
            "loadavg": round(loadavg, 2),
        }
        direct = [c["direct_ceiling_mb_per_s"] for c in (before, after) if "direct_ceiling_mb_per_s" in c]
        if direct:
            # Besides the ceiling: the same min(hash, durable write)
            # with the write done as the server does it, O_DIRECT
            # (docs/evidence.md, "Benchmark": the page cache's fresh pages
            # are what is slow on this VM, not the disk).
            figures["direct_ceiling_mb_per_s"] = max(direct)
            figures["ratio_direct"] = round(mb_per_s / max(direct), 3)
        if server == "gunicorn":
            figures["master_peak_rss_mb"] = mib(peaks_kb[proc.pid])
        else:
            figures["waitress_recv_bytes"] = recv_bytes or "serve default"
        return figures
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upload", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="256M", help="file size, e.g. 256M or 2G (default 256M)")
    parser.add_argument("--chunk", default=f"{CHUNK // MB}M", help="bytes per PATCH (default %(default)s)")
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn",
                        help="gunicorn: `sanxiang serve --workers N` (default); waitress: `sanxiang serve`")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="threads per server process (default: serve's)")
    parser.add_argument("--recv-bytes", default="0",
                        help="waitress only: override its socket read size, e.g. 64K (default: what `sanxiang serve` sets, 1 MiB)")
    parser.add_argument("--dir", default=None, help="where to work (default: the system temp dir); the disk measured")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    figures = run_upload_bench(size_bytes=size, chunk_bytes=parse_size(args.chunk), workdir=args.dir,
                               server=args.server, workers=args.workers, threads=args.threads,
                               recv_bytes=parse_size(args.recv_bytes) or None,
                               progress=lambda m: print(m, file=sys.stderr, flush=True))
    RESULTS.mkdir(exist_ok=True)
    tag = f"upload-{args.size.lower()}-{args.server}" + (f"-recv{args.recv_bytes.lower()}" if parse_size(args.recv_bytes) else "")
    (RESULTS / f"{tag}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
