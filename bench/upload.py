"""Upload benchmark of the tus endpoint (记录-5, 记录-11).

`run_upload_bench(size_bytes=N)`:

1. makes a fresh data directory (SQLite: the database is not what is
   measured here), migrates it and creates an agency, a case, a step and an
   API token (sanxiang.evidence.fixtures) in a subprocess;
2. writes a file of N random bytes next to it, fsyncs it (so its own
   write-back does not compete with the upload) and computes its SHA-256
   (the client's declared hash; not timed);
3. starts the real server (`sanxiang serve`, waitress) in a subprocess on a
   free port and uploads the file over loopback through /api/v1/uploads/:
   POST, then PATCH requests of CHUNK bytes sent from the file with
   sendfile (http.client for the headers; nothing held whole), timed from
   the POST (to a server that loaded its URLconf at start) to
   the response of the last PATCH, which includes the server's hashing,
   the SHA-256 check, the move into the content-addressed store and the
   evidence item with its audit entry;
4. samples the server's memory while it works and reads its peak (VmHWM
   from /proc/<pid>/status) at the end;
5. measures the ceiling on the same disk in the same run, back to back:
   SHA-256 of the file with hashlib (1 MiB reads) and a plain copy of it
   with fsync; ceiling = N / (hash time + copy time), the serial cost of
   one hash and one durable write. (An upload that overlaps hashing with
   writing can pass it.)

Reports {"mb_per_s", "ceiling_mb_per_s", "ratio", "server_peak_rss_mb", ...}.
Run: `python -m bench.upload --size 2G` (figures printed, last line one JSON
object, and written to bench/results/upload-<size>.json). Timing never
decides a test.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import urlsplit

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(SANXIANG_DATA_DIR=str(data_dir), SANXIANG_JOBS_INTERVAL="0", SANXIANG_EVIDENCE_BACKEND="local",
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


class _Sampler(threading.Thread):
    """Polls the server's resident memory (for systems without VmHWM)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))


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


def _ceiling(path: Path, work: Path) -> tuple[float, float]:
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
    return hash_s, copy_s


def _serve_command(port: int, recv_bytes: int | None) -> list[str]:
    serve = ["serve", "--port", str(port), "--jobs-interval", "0"]
    if not recv_bytes:
        return [sys.executable, "-m", "sanxiang", *serve]
    # The same `sanxiang serve`, with waitress reading the socket in bigger
    # pieces than its 8 KiB default (docs/evidence.md, "Benchmark").
    code = ("import sys, waitress.adjustments as a; a.Adjustments.recv_bytes = int(sys.argv[1]); "
            "from sanxiang.cli import main; sys.exit(main(sys.argv[2:]))")
    return [sys.executable, "-c", code, str(recv_bytes), *serve]


def run_upload_bench(*, size_bytes: int, progress=None, chunk_bytes: int = CHUNK, workdir: str | None = None,
                     recv_bytes: int | None = None) -> dict:
    """Upload `size_bytes` through tus to a real server and measure the
    ceiling on the same disk. `progress(message)` is called at each phase.
    `recv_bytes` overrides waitress's socket read size (default: what
    `sanxiang serve` sets)."""
    say = progress or (lambda *a: None)
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
        out = subprocess.run([sys.executable, "-c", "import sanxiang.evidence.fixtures as f; f.main()"], env=env,
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
        port = _free_port()
        say(f"starting `sanxiang serve` on port {port}")
        proc = subprocess.Popen(_serve_command(port, recv_bytes), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.1)
        idle_rss_kb = _status_kb(proc.pid, "VmRSS")
        sampler = _Sampler(proc.pid)
        sampler.start()
        say(f"uploading through tus in PATCHes of {chunk_bytes // MB} MB")
        started = time.perf_counter()
        _upload(f"http://127.0.0.1:{port}", world["token"], world, source, sha256, chunk_bytes)
        upload_s = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        peak_kb = max(_status_kb(proc.pid, "VmHWM"), sampler.peak_kb)
        stored = data_dir / "evidence" / sha256[:2] / sha256[2:4] / sha256
        if not stored.is_file() or stored.stat().st_size != size_bytes:
            raise RuntimeError("the uploaded object is not in the store")
        proc.terminate()
        proc.wait(timeout=30)
        stored.unlink()
        say("measuring the ceiling: hashlib SHA-256, then a copy with fsync, same file, same disk")
        hash_s, copy_s = _ceiling(source, work)
        size_mb = size_bytes / MB
        mb_per_s = size_mb / upload_s
        ceiling = size_mb / (hash_s + copy_s)
        return {
            "size_mb": round(size_mb), "chunk_mb": chunk_bytes // MB, "waitress_recv_bytes": recv_bytes or "serve default",
            "upload_s": round(upload_s, 2),
            "hash_mb_per_s": round(size_mb / hash_s), "copy_fsync_mb_per_s": round(size_mb / copy_s),
            "server_idle_rss_mb": round(idle_rss_kb / 1024, 1),
            "mb_per_s": round(mb_per_s, 1), "ceiling_mb_per_s": round(ceiling, 1), "ratio": round(mb_per_s / ceiling, 3),
            "server_peak_rss_mb": round(peak_kb / 1024, 1),
        }
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
    parser.add_argument("--recv-bytes", default="0",
                        help="override waitress's socket read size, e.g. 64K (default: what `sanxiang serve` sets, 1 MiB)")
    parser.add_argument("--dir", default=None, help="where to work (default: the system temp dir); the disk measured")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    figures = run_upload_bench(size_bytes=size, chunk_bytes=parse_size(args.chunk), workdir=args.dir,
                               recv_bytes=parse_size(args.recv_bytes) or None,
                               progress=lambda m: print(m, file=sys.stderr, flush=True))
    RESULTS.mkdir(exist_ok=True)
    tag = f"upload-{args.size.lower()}" + (f"-recv{args.recv_bytes.lower()}" if parse_size(args.recv_bytes) else "")
    (RESULTS / f"{tag}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
