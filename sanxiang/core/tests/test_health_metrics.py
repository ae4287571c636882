"""The operator's probes and metrics (issue 12 item 4; docs/deploy.md,
"Health and metrics"): /healthz, /readyz and /metrics through real HTTP
servers — Django's live server on the test database, and `sanxiang serve`
in a subprocess where the fault is in the process's own configuration (an
unreachable Redis or database) or where several gunicorn workers count."""

from __future__ import annotations

import ipaddress
import os
import random
import re
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sanxiang.conftest import free_port, process_gone
from sanxiang.core import clock, metrics
from sanxiang.core.models import AuditEntry
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.tests.test_publication import penalty

REPO = Path(__file__).resolve().parents[3]


def closed_port() -> int:
    """A port in our range that nothing listens on (connections refused)."""
    return free_port()


def database_url_of_this_run() -> str | None:
    """The test database as a URL for a subprocess server on PostgreSQL
    runs (None on SQLite: the subprocess gets its own file)."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return None
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Server:
    """`sanxiang serve` in a subprocess with its own data directory."""

    def __init__(self, tmp_path: Path, *args: str, **env: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SANXIANG_", "PROMETHEUS_")) and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
        # On PostgreSQL runs the server shares this run's test database: its
        # embedded consumer must not run the scheduled jobs there by itself
        # (a server stopped mid-job leaves the job's lock held for a lease,
        # and a later test running that job finds it busy).
        clean.update(SANXIANG_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", SANXIANG_JOBS_INTERVAL="0",
                     SANXIANG_FONT_CACHE_DIR=os.environ.get("SANXIANG_FONT_CACHE_DIR", ""))
        url = database_url_of_this_run()
        if url:
            clean["DATABASE_URL"] = url
        clean.update(env)
        self.proc = subprocess.Popen([sys.executable, "-m", "sanxiang", "serve", "--port", str(self.port), *args],
                                     cwd=tmp_path, env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.proc.stdout:
            self.lines.append(line)
            if "Serving on" in line:
                break
        else:
            raise AssertionError("the server did not start:\n" + "".join(self.lines))
        # Keep reading what it prints, so a full pipe never blocks it.
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def output(self) -> str:
        return "".join(self.lines[-40:])

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.base + path, timeout=30, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=30)  # the pipe ends with the server


@pytest.fixture
def server(tmp_path, db):
    """Starts `sanxiang serve` subprocesses (stopped at the end). On
    PostgreSQL runs they use the test database (``db``: made and named before
    the URL is taken, whatever tests ran before)."""
    started = []

    def start(*args, **env) -> Server:
        s = Server(tmp_path, *args, **env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one sample of the Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


# --- /healthz and /readyz -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_healthz_and_readyz_answer_200_with_every_check_ok_on_a_healthy_instance(live_server):
    health = requests.get(live_server.url + "/healthz", timeout=30)
    assert (health.status_code, health.text) == (200, "ok\n")
    ready = requests.get(live_server.url + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok", "storage": "ok"}}
    assert ready.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in ready.headers


def test_readyz_answers_503_naming_the_queue_when_redis_is_unreachable(server):
    redis_port = closed_port()
    s = server(SANXIANG_QUEUE_URL=f"redis://127.0.0.1:{redis_port}/2", SANXIANG_QUEUE_NAME="sx_ops_readyz")
    assert s.get("/healthz").status_code == 200  # the process is up ...
    ready = s.get("/readyz")  # ... but not ready
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "queue": "unreachable", "storage": "ok"}
    assert str(redis_port) not in ready.text  # check names and short reasons only


def test_healthz_stays_up_while_the_database_is_unreachable_and_readyz_names_it(server):
    s = server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/sx_ops_absent")
    health = s.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok\n")  # no database access at all
    ready = s.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unreachable"
    assert ready.json()["checks"]["storage"] == "ok"


def test_the_probes_answer_over_plain_http_on_the_machine_in_production_mode(server):
    """A monitor on the machine asks http://127.0.0.1:8000/readyz: in
    production every other path is redirected to HTTPS, the probes are not."""
    s = server(SANXIANG_ENV="production", SANXIANG_SECRET_KEY="p" * 20 + "-production-key-of-this-test",
               SANXIANG_TRUSTED_PROXY_COUNT="1")
    assert s.get("/", allow_redirects=False).status_code == 301  # the rest goes to HTTPS
    assert s.get("/healthz", allow_redirects=False).status_code == 200
    assert s.get("/readyz", allow_redirects=False).status_code == 200
    metrics_page = s.get("/metrics", allow_redirects=False)
    assert metrics_page.status_code == 200 and "sanxiang_gauge_up" in metrics_page.text


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_naming_storage_when_the_evidence_directory_cannot_take_files(live_server, settings, tmp_path):
    # The tests run as root, whom a mode of 0555 does not stop: the evidence
    # "directory" is a plain file, which no upload can go into either.
    blocked = tmp_path / "evidence"
    blocked.write_text("not a directory")
    settings.EVIDENCE_DIR = blocked
    ready = requests.get(live_server.url + "/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json() == {"status": "failing",
                            "checks": {"database": "ok", "queue": "ok", "storage": "not writable"}}
    assert str(tmp_path) not in ready.text

    settings.EVIDENCE_DIR = tmp_path / "not-made-yet" / "evidence"  # a new installation: its parent can take it
    assert requests.get(live_server.url + "/readyz", timeout=30).status_code == 200


def test_the_probes_answer_nothing_but_get():
    c = Client()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert c.post(path).status_code in (403, 404)  # CSRF or not found; never a write


# --- /metrics -------------------------------------------------------------------------------


@pytest.fixture
def backlog(world):
    """Two decisions awaiting publication: one decided on 2026-09-30 (due
    2026-10-15, long overdue), one decided today (due in the future)."""
    today = clock.today()
    assert today > date(2026, 10, 15)
    publicity_services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[
        penalty("CF-1"), penalty("CF-2", doc_number="冀长市监罚〔2026〕902号", decision_date=today.isoformat())])
    return world


@pytest.mark.django_db(transaction=True)
def test_metrics_from_this_machine_show_latency_by_route_name_status_classes_and_the_gauges(live_server, backlog):
    base = live_server.url
    # Counters live for the test process (earlier tests served pages too):
    # what this test's requests add is the difference between two scrapes.
    earlier = requests.get(base + "/metrics", timeout=30).text

    def added(name, **labels):
        return (sample(text, name, **labels) or 0) - (sample(earlier, name, **labels) or 0)

    for _ in range(3):
        assert requests.get(base + "/", timeout=30).status_code == 200
    assert requests.get(base + "/api/v1/public/officers?limit=1", timeout=30).status_code == 200
    assert requests.get(base + "/no-such-page-4711/", timeout=30).status_code == 404
    response = requests.get(base + "/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")  # the Prometheus text format
    text = response.text

    assert added("sanxiang_http_request_duration_seconds_count", route="home") == 3
    assert added("sanxiang_http_request_duration_seconds_bucket", route="home", le="+Inf") == 3
    assert added("sanxiang_http_request_duration_seconds_count", route="api:public_officers") == 1
    assert added("sanxiang_http_responses_total", route="home", status="2xx") == 3
    assert added("sanxiang_http_responses_total", route="unmatched", status="4xx") == 1
    assert "no-such-page-4711" not in text  # the route's name, never the raw path

    assert sample(text, "sanxiang_publication_backlog", state="awaiting") == 2
    assert sample(text, "sanxiang_publication_backlog", state="overdue") == 1
    assert sample(text, "sanxiang_queue_pending") is not None
    assert sample(text, "sanxiang_queue_failed_tasks") == 0
    for gauge in ("sanxiang_publication_backlog", "sanxiang_queue_pending", "sanxiang_queue_failed_tasks"):
        assert sample(text, "sanxiang_gauge_up", gauge=gauge) == 1
    assert sample(text, "sanxiang_process_resident_memory_bytes", pid=str(os.getpid())) > 10 * 1024 * 1024
    assert sample(text, "sanxiang_web_processes") >= 1


@pytest.mark.django_db(transaction=True)
def test_metrics_answer_404_to_an_address_outside_the_configured_networks(live_server, settings):
    settings.METRICS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    refused = requests.get(live_server.url + "/metrics", timeout=30)
    assert refused.status_code == 404 and "sanxiang_" not in refused.text

    # Behind one reverse proxy (nginx on this machine): the client is the
    # address the proxy saw, not the proxy's own loopback address.
    settings.TRUSTED_PROXY_COUNT = 1
    assert requests.get(live_server.url + "/metrics", headers={"X-Forwarded-For": "10.20.3.4"}, timeout=30).status_code == 200
    assert requests.get(live_server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30).status_code == 404
    settings.METRICS_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    assert requests.get(live_server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30).status_code == 404


def test_the_network_check_reads_v4_mapped_addresses_and_refuses_garbage(settings):
    settings.METRICS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("fd00::/8")]
    assert metrics.may_read_metrics("10.20.3.4") and metrics.may_read_metrics("::ffff:10.20.3.4")
    assert metrics.may_read_metrics("fd00::1")
    assert not any(map(metrics.may_read_metrics, ["10.21.0.1", "127.0.0.1", "::1", "", None, "not-an-ip"]))


def test_a_malformed_metrics_network_stops_the_start_naming_the_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANXIANG_METRICS")}
    env.update(SANXIANG_METRICS_NETWORKS="10.0.0.0/8, 10.0.0.300/24", SANXIANG_DATA_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "sanxiang", "check"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode != 0
    assert "SANXIANG_METRICS_NETWORKS" in r.stderr and "10.0.0.300/24" in r.stderr


def test_a_scrape_only_reads_the_database(backlog):
    entries = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/metrics")
    assert response.status_code == 200 and "sanxiang_publication_backlog" in response.content.decode()
    statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries.captured_queries]
    assert statements and set(statements) <= {"SELECT"}, statements
    assert AuditEntry.objects.count() == entries


def test_a_gauge_whose_source_fails_is_marked_down_and_the_others_still_show(db, monkeypatch):
    def broken():
        raise ConnectionError("10.9.9.9:6379 refused")

    monkeypatch.setitem(metrics.GAUGES, "sanxiang_test_broken",
                        metrics.RegisteredGauge(name="sanxiang_test_broken", help="t", fn=broken, labels=()))
    text = Client().get("/metrics").content.decode()
    assert sample(text, "sanxiang_gauge_up", gauge="sanxiang_test_broken") == 0
    assert sample(text, "sanxiang_test_broken") is None and "10.9.9.9" not in text
    assert sample(text, "sanxiang_gauge_up", gauge="sanxiang_publication_backlog") == 1


def test_a_gauge_is_registered_once():
    with pytest.raises(ValueError, match="twice"):
        metrics.register_gauge("sanxiang_publication_backlog", "again", lambda: 0)
    with pytest.raises(ValueError, match="not a Prometheus"):
        metrics.register_gauge("sanxiang publication", "bad name", lambda: 0)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn: Linux/Unix only")
def test_metrics_add_up_the_requests_of_every_gunicorn_worker(server):
    """Two worker processes answer; whichever answers a scrape, the counts
    are the sum of both (prometheus-client multiprocess files)."""
    # The production topology: gunicorn with the queue on Redis (our db 2,
    # a queue name of this run), consumed by `sanxiang worker`, not here.
    s = server("--workers", "2", "--threads", "2", SANXIANG_QUEUE_URL="redis://127.0.0.1:6379/2",
               SANXIANG_QUEUE_NAME=f"sx_ops_{os.getpid()}_{random.randrange(10**6)}")
    sent, pids = 0, set()
    # New connections until both workers have answered at least one request
    # (the kernel hands connections to whichever worker accepts first).
    while len(pids) < 2 and sent < 400:
        with requests.Session() as fresh:
            assert fresh.get(s.base + "/healthz", timeout=30).status_code == 200
        sent += 1
        if sent % 20 == 0:
            text = s.get("/metrics").text
            pids = set(re.findall(r'sanxiang_process_resident_memory_bytes\{pid="(\d+)"\}', text))
    assert len(pids) >= 2, "the second worker never answered:\n" + s.output()
    for _ in range(6):  # any worker may answer the scrape: each sees the same sum
        with requests.Session() as fresh:
            text = fresh.get(s.base + "/metrics", timeout=30).text
        assert sample(text, "sanxiang_http_request_duration_seconds_count", route="healthz") == sent, s.output()
        assert sample(text, "sanxiang_http_responses_total", route="healthz", status="2xx") == sent, s.output()
        assert sample(text, "sanxiang_web_processes") >= 2

    # A worker killed outright keeps its counts in the sum (gunicorn starts
    # another in its place); the counters never go backwards while the
    # server runs.
    killed = int(sorted(pids)[0])
    os.kill(killed, signal.SIGKILL)
    # Gone or a zombie is what "no longer alive" means to /metrics.
    assert process_gone(killed)
    for _ in range(10):
        with requests.Session() as fresh:
            assert fresh.get(s.base + "/healthz", timeout=30).status_code == 200
        sent += 1
    text = s.get("/metrics").text
    assert sample(text, "sanxiang_http_request_duration_seconds_count", route="healthz") == sent, s.output()
    assert sorted(pids)[0] not in re.findall(r'sanxiang_process_resident_memory_bytes\{pid="(\d+)"\}', text)


# --- the environment template ------------------------------------------------------------------


def test_every_variable_settings_reads_is_in_the_environment_template():
    read = set(re.findall(r"\b(SANXIANG_[A-Z0-9_]+|DATABASE_URL)\b", (REPO / "sanxiang" / "settings.py").read_text()))
    template = (REPO / "deploy" / "sanxiang.env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", template, flags=re.M))
    assert read - named == set(), "add these to deploy/sanxiang.env.example"
    assert {"SANXIANG_ENV", "SANXIANG_SECRET_KEY", "DATABASE_URL", "SANXIANG_QUEUE_URL"} <= set(
        re.findall(r"^([A-Z][A-Z0-9_]*)=", template, flags=re.M))  # set, not only commented
