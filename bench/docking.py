"""Docking benchmark: a county, a city and the province platform on this
machine, county → city → province, under load and kills (issue 13;
docs/docking-bench.md).

`run_docking_bench(rate=100, duration=600, ...)`:

1. makes three platforms, each a `sanxiang serve` subprocess in its own
   process group with its own data directory, its own embedded job queue
   (SQLite in the data directory, a queue name unique to the run) and its
   log in a temporary directory: the county on SQLite, the city and the
   province each on a fresh PostgreSQL database (127.0.0.1:5432, copies of
   an empty database that `sanxiang migrate` brought to the source's
   migrations, made once per migration state; dropped at the end unless
   ``keep``). Each knows the regions 河北省 / 石家庄市 / 长安区 and the
   county's agency (bench/docking_world.py);
2. registers the trust — the city trusts the county for 长安区, the province
   trusts the city for 石家庄市 (a city speaks for its counties' regions) —
   with each lower platform's key (`sanxiang docking key`, `register`) and
   configures the upstreams (`sanxiang docking upstream`): county → city →
   province;
3. pushes generated decisions into the county's push API (automatic
   publication, so each is published in its push's transaction) at
   ``rate`` per second for ``duration`` seconds, in batches of ``batch``
   sent on schedule, while a poller follows the province's public search
   API (`/api/v1/publicity/search`, newest first, and by 文号 for any
   record still missing after a while): a record is *received* when the
   province's public search finds it, and its lag is from its publication
   at the county (Decision.published_at there) to the moment the poller
   first found it at the province;
4. SIGKILLs the province at 25 % and 75 % of the run and the city at 50 %
   (the whole process group, as systemd's KillMode=control-group leaves
   nothing) and restarts each ``down`` seconds later on the same port (as
   systemd's Restart= would; by default RestartSec= of
   deploy/systemd/sanxiang-web.service);
5. stops pushing, waits (at most ``drain_timeout`` seconds) until every
   record pushed is found at the province, and checks the province's
   database for duplicates (a second row or a second version of a record).

The last stdout line is one JSON object — rate, duration_s, sent, received,
lost, duplicates, lag_p50_s, lag_p95_s, kills and more — also written to
bench/results/docking.json. Every process started is stopped and every
database made is dropped, also on Ctrl+C or a failure. Timing never decides
a test.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench.cluster import PG, Service, _migration_state, _pg_connect, _percentile, _stop_all

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGE = 100  # the public search API's largest page
PUSHERS = 2  # connections pushing into the county at once


def say(message: str) -> None:
    print(f"[{datetime.now(timezone.utc).strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG_NAME_MAX = 63  # PostgreSQL's NAMEDATALEN - 1: a longer database name is cut short silently
PREFIX_MAX = 24  # leaves room for "_template_<16 hex>_building" and "_<run id>_province"


def _fitting_prefix(prefix: str) -> str:
    """The database-name prefix, shortened when needed so that every name
    built on it fits PostgreSQL's 63 bytes: a long prefix (CI's database
    name with its process id, say) keeps its head and a hash of the whole,
    so two long prefixes still name different databases."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", prefix):
        raise ValueError(f"--db-prefix: {prefix!r} is not a lower-case PostgreSQL name (letters, digits, _)")
    if len(prefix) <= PREFIX_MAX:
        return prefix
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
    return f"{prefix[:PREFIX_MAX - 9]}_{digest}"


def _template(prefix: str, env: dict, logs: Path) -> str:
    """An empty PostgreSQL database migrated to the source's migrations,
    made once per migration state (``<prefix>_template_<hash>``; older ones
    of the same prefix are dropped); each platform's database is a copy."""
    name = f"{prefix}_template_{_migration_state()}"
    with _pg_connect() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"{prefix}_template"])
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return name
            like = prefix.replace("_", "\\_") + "\\_template\\_%%"
            for (old,) in conn.execute(f"SELECT datname FROM pg_database WHERE datname LIKE '{like}'").fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
            building = name + "_building"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"')
            conn.execute(f'CREATE DATABASE "{building}"')
            say(f"migrating a template database {name} (once per migration state)")
            with open(logs / "setup.log", "ab") as out:
                subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                               env={**env, "DATABASE_URL": _pg_url(building)}, check=True, stdout=out,
                               stderr=subprocess.STDOUT)
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"{prefix}_template"])


def _sqlite_template(env: dict, logs: Path) -> Path:
    """An empty SQLite database migrated to the source's migrations, kept in
    the system's temporary directory once per migration state (migrating
    SQLite from nothing takes half a minute here); the county starts from
    a copy."""
    path = Path(tempfile.gettempdir()) / f"sanxiang-docking-sqlite-{_migration_state()}.sqlite3"
    if path.exists():
        return path
    with tempfile.TemporaryDirectory(prefix="sanxiang-docking-migrate-") as tmp:
        say("migrating a template SQLite database (once per migration state)")
        with open(logs / "setup.log", "ab") as out:
            subprocess.run([sys.executable, "-m", "sanxiang", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                           env={**env, "SANXIANG_DATA_DIR": tmp}, check=True, stdout=out, stderr=subprocess.STDOUT)
        import sqlite3

        with sqlite3.connect(Path(tmp) / "sanxiang.sqlite3") as con:  # everything in the main file
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building = path.with_suffix(f".{os.getpid()}")
        shutil.copyfile(Path(tmp) / "sanxiang.sqlite3", building)
        os.replace(building, path)
    for old in path.parent.glob("sanxiang-docking-sqlite-*.sqlite3"):  # earlier migration states
        if old != path:
            old.unlink(missing_ok=True)
    return path


def _pg_url(database: str) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{database}"


class Platform:
    """One platform: its environment, data directory, port and server."""

    def __init__(self, role: str, work: Path, base_env: dict, run_id: str, database: str | None, threads: int):
        self.role, self.database = role, database
        self.data_dir = work / role
        self.data_dir.mkdir()
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**base_env, "SANXIANG_DATA_DIR": str(self.data_dir),
                    "SANXIANG_QUEUE_NAME": f"sx-docking-{role}-{run_id}",
                    "SANXIANG_DOCKING_KEY_FILE": str(self.data_dir / "keys" / "docking-ed25519.pem")}
        if database:
            self.env["DATABASE_URL"] = _pg_url(database)
        self.service = Service(role, [sys.executable, "-m", "sanxiang", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port), "--threads", str(threads)],
                               self.env, work / "logs" / f"{role}.log", ready="Serving on", port=self.port)

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "sanxiang", *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{self.role}: sanxiang {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def world(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bench.docking_world", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{self.role}: docking_world {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def public_key(self) -> str:
        found = re.search(r"whpk_[A-Za-z0-9+/=_-]+", self.manage("docking", "key"))
        if not found:
            raise RuntimeError(f"{self.role}: no whpk_ key in `sanxiang docking key`")
        return found.group(0)


class Load:
    """The pusher (county's push API, on schedule) and the poller (the
    province's public search)."""

    def __init__(self, *, county: Platform, province: Platform, token: str, records: list[dict], rate: float,
                 duration: float, batch: int, poll_interval: float):
        self.county, self.province, self.token = county, province, token
        self.records, self.rate, self.duration, self.batch = records, rate, duration, batch
        self.poll_interval = poll_interval
        self.by_number = {r["doc_number"]: r["external_id"] for r in records}
        self.lock = threading.Lock()
        self.sent: dict[str, float] = {}  # external_id -> when its push was answered (monotonic → wall below)
        self.rejected: dict[str, object] = {}
        self.seen: dict[str, float] = {}  # external_id -> wall time first found at the province
        self.push_errors = 0
        self.poll_errors = 0
        self.polls = 0
        self.stop_push = threading.Event()
        self.stop_poll = threading.Event()
        self.started = 0.0
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._pushers, name="pusher", daemon=True),
                        threading.Thread(target=self._poller, name="poller", daemon=True),
                        threading.Thread(target=self._straggler_poller, name="stragglers", daemon=True)]
        for t in self.threads:
            t.start()

    def _pushers(self) -> None:
        """PUSHERS connections, each taking the next batch when it is due:
        a slow answer of the county delays one connection, not the schedule
        (one connection alone offered about 90 records a second for 100)."""
        counter = itertools.count()
        threads = [threading.Thread(target=self._pusher, args=(counter,), name=f"pusher-{n}", daemon=True)
                   for n in range(PUSHERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _pusher(self, counter) -> None:
        import requests

        session = requests.Session()
        url = f"{self.county.base}/api/v1/publicity/decisions"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   "User-Agent": "sanxiang-docking-bench"}
        while not self.stop_push.is_set():
            with self.lock:
                k = next(counter)
            chunk = self.records[k * self.batch:(k + 1) * self.batch]
            if not chunk:
                return
            due = k * self.batch / self.rate
            if due >= self.duration:
                return
            wait = due - (time.monotonic() - self.started)
            if wait > 0 and self.stop_push.wait(wait):
                return
            body = json.dumps({"records": chunk}, ensure_ascii=False).encode("utf-8")
            for attempt in range(20):
                try:
                    response = session.post(url, data=body, headers=headers, timeout=30)
                except requests.RequestException:
                    response = None
                if response is not None and response.status_code == 200:
                    break
                with self.lock:
                    self.push_errors += 1
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
            else:
                continue
            now = time.time()
            with self.lock:
                for r in response.json()["results"]:
                    if r["status"] in ("created", "unchanged", "corrected"):
                        self.sent.setdefault(r["external_id"], now)
                    else:
                        self.rejected[r["external_id"]] = r.get("errors")

    def _note(self, items: list[dict], at: float) -> int:
        new = 0
        with self.lock:
            for item in items:
                key = self.by_number.get(item.get("doc_number"))
                if key is not None and key not in self.seen:
                    self.seen[key] = at
                    new += 1
        return new

    def _poller(self) -> None:
        """Newest first (all records are decided today, so the newest are
        the last stored), page after page while a page brings new ones."""
        import requests

        session = requests.Session()
        while not self.stop_poll.is_set():
            started = time.monotonic()
            try:
                for page in range(1, 200):
                    answer = session.get(f"{self.province.base}/api/v1/publicity/search",
                                         params={"sort": "newest", "page_size": PAGE, "page": page}, timeout=30)
                    at = time.time()
                    if answer.status_code != 200:
                        self.poll_errors += 1
                        break
                    items = answer.json()["items"]
                    self.polls += 1
                    if not self._note(items, at) or len(items) < PAGE:
                        break
            except requests.RequestException:
                self.poll_errors += 1
            self.stop_poll.wait(max(self.poll_interval - (time.monotonic() - started), 0.05))

    def _straggler_poller(self) -> None:
        """Records pushed a while ago and not found yet, looked up by their
        文号 (a record stored out of order would hide below the ones seen)."""
        import requests

        session = requests.Session()
        numbers = {r["external_id"]: r["doc_number"] for r in self.records}
        while not self.stop_poll.wait(2.0):
            now = time.time()
            with self.lock:
                missing = [k for k, t in self.sent.items() if k not in self.seen and now - t > 10]
            for key in missing[:10]:
                try:
                    answer = session.get(f"{self.province.base}/api/v1/publicity/search",
                                         params={"q": numbers[key]}, timeout=30)
                except requests.RequestException:
                    self.poll_errors += 1
                    break
                if answer.status_code == 200:
                    self._note(answer.json()["items"], time.time())

    def missing(self) -> int:
        with self.lock:
            return sum(1 for k in self.sent if k not in self.seen)


UNIT = ROOT / "deploy" / "systemd" / "sanxiang-web.service"


def restart_pause() -> float:
    """RestartSec= of the web server's systemd unit: how long systemd leaves
    a killed platform down before it starts it again."""
    found = re.search(r"^RestartSec=([0-9.]+)s?$", UNIT.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise ValueError(f"{UNIT}: no RestartSec= line")
    return float(found.group(1))


def run_docking_bench(*, rate: float = 100, duration: float = 600, batch: int | None = None, down: float | None = None,
                      drain_timeout: float = 300, poll_interval: float = 0.5, threads: int = 8, keep: bool = False,
                      db_prefix: str = "sx_docking") -> dict:
    run_id = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + f"{os.getpid() % 10000:04d}"
    db_prefix = _fitting_prefix(db_prefix)
    down = restart_pause() if down is None else down
    batch = batch or max(1, round(rate / 10))
    work = Path(tempfile.mkdtemp(prefix="sanxiang-docking-"))
    logs = work / "logs"
    logs.mkdir()
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith("SANXIANG_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    base_env.update({
        "PYTHONPATH": str(ROOT) + os.pathsep + base_env.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1",
        "SANXIANG_ENV": "production", "SANXIANG_SECRET_KEY": secrets.token_urlsafe(48), "SANXIANG_SSL_REDIRECT": "0",
        "SANXIANG_ALLOWED_HOSTS": "127.0.0.1,localhost", "SANXIANG_REQUIRE_TOTP": "0",
    })
    databases = {"city": f"{db_prefix}_{run_id}_city", "province": f"{db_prefix}_{run_id}_province"}
    created: list[str] = []
    platforms: list[Platform] = []
    load: Load | None = None
    kills: list[dict] = []
    uptime_before = _uptime()
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def on_term(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
    try:
        say(f"work directory {work} (logs in {logs}); load: {uptime_before}")
        template = _template(db_prefix, base_env, logs)
        with _pg_connect() as conn:
            for name in databases.values():
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                created.append(name)
        county = Platform("county", work, base_env, run_id, None, threads)
        city = Platform("city", work, base_env, run_id, databases["city"], threads)
        province = Platform("province", work, base_env, run_id, databases["province"], threads)
        platforms = [county, city, province]
        shutil.copyfile(_sqlite_template(base_env, logs), county.data_dir / "sanxiang.sqlite3")
        say(f"databases {', '.join(created)} (copies of {template}); the county's SQLite a copy of a migrated one")
        n_records = int(rate * duration) + batch
        records_file = work / "records.json"
        with ThreadPoolExecutor(3) as pool:  # the three platforms are set up side by side
            list(pool.map(lambda args: args[0].world(*args[1:]), [
                (county, "seed", "county", str(work / "county.json"), str(records_file), str(n_records), run_id),
                (city, "seed", "city", str(work / "city.json")),
                (province, "seed", "province", str(work / "province.json"))]))
            county_key, city_key = pool.map(Platform.public_key, (county, city))
        county_world = json.loads((work / "county.json").read_text(encoding="utf-8"))
        records = json.loads(records_file.read_text(encoding="utf-8"))
        # The trust, and the upstreams: county → city → province.
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda args: args[0].manage(*args[1:]), [
                (city, "docking", "register", "county", "--name", "长安区行政执法公示平台", "--key", county_key,
                 "--region", "130102"),
                (province, "docking", "register", "city", "--name", "石家庄市行政执法公示平台", "--key", city_key,
                 "--region", "130100"),
                (county, "docking", "upstream", "--url", f"{city.base}/api/v1/docking/messages", "--as", "county")]))
            list(pool.map(lambda args: args[0].manage(*args[1:]), [
                (city, "docking", "upstream", "--url", f"{province.base}/api/v1/docking/messages", "--as", "city")]))
            list(pool.map(lambda p: p.service.start(), (province, city, county)))
        say(f"county {county.base} (SQLite) → city {city.base} → province {province.base} (PostgreSQL); "
            f"{len(records)} records generated; pushing {rate:g}/s for {duration:g} s in batches of {batch}")

        load = Load(county=county, province=province, token=county_world["push_token"], records=records, rate=rate,
                    duration=duration, batch=batch, poll_interval=poll_interval)
        load.start()
        plan = sorted([(0.25 * duration, province), (0.5 * duration, city), (0.75 * duration, province)],
                      key=lambda x: x[0])
        for at, platform in plan:
            _sleep_until(load, at)
            killed_at = time.time()
            platform.service.kill()
            say(f"SIGKILL {platform.role} at {at:.0f} s; restart in {down:g} s")
            time.sleep(down)
            platform.service.start()
            back = time.time()
            kills.append({"platform": platform.role, "at_s": round(at, 1), "killed_at": killed_at,
                          "back_at": back, "down_s": round(back - killed_at, 1)})
            say(f"{platform.role} serves again after {back - killed_at:.1f} s")
        _sleep_until(load, duration)
        load.stop_push.set()
        load.threads[0].join()
        pushed_at = time.time()
        say(f"pushing stopped: {len(load.sent)} records accepted by the county; waiting for the province")
        deadline = time.monotonic() + drain_timeout
        while load.missing() and time.monotonic() < deadline:
            time.sleep(1)
        drain_s = time.time() - pushed_at
        load.stop_poll.set()
        for t in load.threads[1:]:
            t.join(timeout=60)
        keys_file = work / "keys.json"
        keys_file.write_text(json.dumps(sorted(load.sent)), encoding="utf-8")
        ended_at = time.time()
        missing_file = work / "missing.json"
        missing_file.write_text(json.dumps(sorted(set(load.sent) - set(load.seen))), encoding="utf-8")

        def last_line(p: Platform, *args: str):
            return json.loads(p.world(*args).strip().splitlines()[-1])

        with ThreadPoolExecutor(2) as pool:
            side = pool.map(lambda a: last_line(*a), [(county, "published", str(keys_file)),
                                                      (city, "check", str(keys_file))])
            # In the order a record travels (a record leaves an outbox only
            # once the next platform has committed it): nothing is missed.
            waiting_county = last_line(county, "waiting", str(missing_file))
            waiting_city = last_line(city, "waiting", str(missing_file))
            stored = last_line(province, "check", str(keys_file))
            published, city_stored = side
        waiting = set(waiting_county["waiting"]) | set(waiting_city["waiting"])
        refused = {**waiting_county["refused"], **waiting_city["refused"]}
        uptime_after = _uptime()
        figures = _figures(load=load, published=published, stored=stored, city_stored=city_stored, kills=kills,
                           waiting=waiting, refused=refused, ended_at=ended_at,
                           rate=rate, duration=duration, batch=batch, drain_s=drain_s, down=down)
        figures.update({"uptime_before": uptime_before, "uptime_after": uptime_after,
                        "topology": "county: sanxiang serve on SQLite; city and province: sanxiang serve on "
                                    "PostgreSQL 127.0.0.1:5432; each its own embedded SQLite job queue",
                        "threads": threads, "poll_interval_s": poll_interval})
        return figures
    finally:
        if load is not None:
            load.stop_push.set()
            load.stop_poll.set()
        _stop_all([p.service for p in platforms])
        if created and not keep:
            with _pg_connect() as conn:
                for name in created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if keep:
            say(f"kept: {work} and databases {', '.join(created)}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        if threading.current_thread() is threading.main_thread():
            for s, handler in previous.items():
                signal.signal(s, handler)


def _sleep_until(load: Load, at: float) -> None:
    wait = at - (time.monotonic() - load.started)
    if wait > 0:
        time.sleep(wait)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _figures(*, load: Load, published: dict, stored: dict, city_stored: dict, kills: list[dict], waiting: set,
             refused: dict, ended_at: float, rate: float,
             duration: float, batch: int, drain_s: float, down: float) -> dict:
    sent = set(load.sent)
    seen = {k: t for k, t in load.seen.items() if k in sent}
    # A record not found by the end counts with the lag it had then (a lower
    # bound), so the percentiles are over every record sent.
    lags, during_outage, unreceived, steady = [], [], [], []
    origin = min(published.values(), default=0.0)
    timeline: dict[int, list[float]] = {}
    for key in sent:
        at_county = published.get(key)
        if at_county is None:
            continue
        lag = max(seen.get(key, ended_at) - at_county, 0.0)
        lags.append(lag)
        timeline.setdefault(int((at_county - origin) // TIMELINE_STEP), []).append(lag)
        if key not in seen:
            unreceived.append(lag)
        if any(k["killed_at"] <= at_county <= k["back_at"] for k in kills):
            during_outage.append(lag)
        if not any(k["killed_at"] <= at_county <= k["back_at"] + SETTLED_AFTER for k in kills):
            steady.append(lag)
    lags.sort()
    during_outage.sort()
    hops = _hops(published=published, city=city_stored.get("received_at", {}),
                 province=stored.get("received_at", {}), seen=seen)
    not_found = sent - set(seen)
    not_stored = set(stored["missing"])  # at the province, when it was asked (after the poller stopped)
    duplicates = stored["extra_rows"] + stored["extra_versions"] + stored["extra_public"]
    return {
        "rate": rate, "duration_s": duration, "batch": batch,
        "sent": len(sent), "received": len(seen), "lost": len(not_found & not_stored - waiting - set(refused)),
        "lost_sample": sorted(not_found & not_stored - waiting - set(refused))[:5],
        "refused": len(refused), "refused_sample": dict(list(refused.items())[:3]),
        "still_waiting": len(waiting & not_found),
        "stored_not_yet_searched": len(not_found - not_stored),
        "duplicates": duplicates,
        "lag_p50_s": _r(_percentile(lags, 50)), "lag_p95_s": _r(_percentile(lags, 95)),
        "lag_p99_s": _r(_percentile(lags, 99)), "lag_max_s": _r(lags[-1] if lags else None),
        "kills": len(kills),
        "kill_log": [{"platform": k["platform"], "at_s": k["at_s"], "down_s": k["down_s"]} for k in kills],
        "lag_steady_p50_s": _r(_percentile(steady, 50)), "lag_steady_p95_s": _r(_percentile(steady, 95)),
        "lag_steady_means": f"records published neither while a platform was down nor in the {SETTLED_AFTER:g} s "
                            "after it served again",
        **hops,
        "lag_timeline": [{"from_s": n * TIMELINE_STEP, "records": len(v), "p50_s": _r(_percentile(v, 50)),
                          "p95_s": _r(_percentile(v, 95)), "max_s": _r(max(v))} for n, v in sorted(timeline.items())],
        "sent_while_down": len(during_outage), "lag_while_down_p95_s": _r(_percentile(during_outage, 95)),
        "lag_while_down_max_s": _r(during_outage[-1] if during_outage else None),
        "rejected_by_county": len(load.rejected), "push_errors": load.push_errors,
        "province_stored": stored["stored"], "province_missing_sample": stored["missing"][:5],
        "city_stored": city_stored["stored"],
        "city_duplicates": city_stored["extra_rows"] + city_stored["extra_versions"] + city_stored["extra_public"],
        "unpublished_at_county": len(sent - set(published)), "drain_s": round(drain_s, 1),
        "search_polls": load.polls, "poll_errors": load.poll_errors, "restart_pause_s": down,
        "sent_per_s": round(len(sent) / duration, 1),
        "lags_lower_bound": len(unreceived),
        "lost_means": "pushed, neither found by the province's search nor stored there by the end, waiting "
                      "in no outbox and refused by no platform (refused: listed for the administrator); still_waiting: not found by the end of the bounded wait, still in the "
                      "county's or the city's outbox (late, not lost); stored_not_yet_searched: stored at the "
                      "province after the poller stopped",
        "lag": "from Decision.published_at at the county to the first answer of the province's public search "
               "API that lists the record (polled every poll_interval_s)",
    }


TIMELINE_STEP = 30  # seconds of publication time per row of lag_timeline
SETTLED_AFTER = 60  # seconds after a restart still counted as the outage's aftermath (lag_steady)


def _hops(*, published: dict, city: dict, province: dict, seen: dict) -> dict:
    """Where the lag goes: county publication → first stored at the city →
    first stored at the province → first found by the province's search
    (p50 and p95 of each hop, over the records that made it)."""
    def hop(start: dict, end: dict) -> list[float]:
        return [max(end[k] - start[k], 0.0) for k in start.keys() & end.keys()]

    out = {}
    for name, values in (("hop_county_to_city", hop(published, city)), ("hop_city_to_province", hop(city, province)),
                         ("hop_province_to_search", hop(province, seen))):
        out[f"{name}_p50_s"], out[f"{name}_p95_s"] = _r(_percentile(values, 50)), _r(_percentile(values, 95))
    return out


def _r(value):
    return None if value is None else round(value, 2)


def write(figures: dict, *, name: str = "docking") -> None:
    import platform

    RESULTS.mkdir(exist_ok=True)
    figures = {"benchmark": "docking", "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": f"{os.cpu_count()} cores", **figures}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"written to {path}")
    print(json.dumps(figures, ensure_ascii=False))

