"""Prometheus metrics at /metrics, for the operator's network only.

What a scrape shows (docs/deploy.md, "Health and metrics"):

- ``sanxiang_http_request_duration_seconds{route}`` — a histogram of the
  time from the request entering the middleware stack to the response
  leaving it, labelled by the URL pattern's name (``core:workbench``), or
  its route (``api/v1/uploads/<str:upload_id>``) where the pattern has no
  name; ``static`` for WhiteNoise's files and ``unmatched`` where no
  pattern matched. Never the raw path: the label set is bounded by the URL
  configuration, whatever clients send.
- ``sanxiang_http_responses_total{route, status}`` — responses by status
  class (``2xx`` … ``5xx``).
- gauges computed at scrape time by the registry below (``register_gauge``):
  core registers the queue's depth and failed tasks, publicity the
  publication backlog; ``sanxiang_gauge_up{gauge}`` is 0 for a gauge whose
  source could not be read this time (its value is then left out).
- ``sanxiang_process_*{pid}`` — resident memory, CPU seconds, open files
  and start time of every live web process of this data directory, read
  from /proc at scrape time (Linux).

Several processes (``sanxiang serve --workers N``): prometheus-client's
multiprocess mode. settings.py points ``PROMETHEUS_MULTIPROC_DIR`` at
``settings.METRICS_DIR`` before anything imports prometheus-client, so each
process adds its observations to memory-mapped files named by its pid there,
and the process that answers a scrape sums every file. A worker that dies
keeps its counts in the sum (counters never go backwards while the server
runs); when the web server starts (the WSGI handler loads this middleware
once, in the gunicorn master before it forks, or in waitress's process) the
files of processes no longer alive are removed, which Prometheus sees as a
counter reset, as for any restarted exporter. Gauges are not stored in those
files at all: they are computed by the answering process when scraped, from
the database and the queue, and a scrape only reads.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

# Request latency buckets in seconds: pages and API calls in the first ones,
# evidence uploads (tus PATCH of up to a few GB) in the last.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

REQUEST_SECONDS = Histogram("sanxiang_http_request_duration_seconds",
                            "Time from a request entering the middleware stack to its response, by URL pattern",
                            ["route"], buckets=LATENCY_BUCKETS)
RESPONSES = Counter("sanxiang_http_responses", "Responses by URL pattern and status class", ["route", "status"])


# --- the gauge registry ------------------------------------------------------------

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class RegisteredGauge:
    name: str
    help: str
    fn: Callable
    labels: tuple[str, ...]


GAUGES: dict[str, RegisteredGauge] = {}


def register_gauge(name: str, help: str, fn: Callable, *, labels: tuple[str, ...] = ()) -> None:
    """A gauge computed when /metrics is scraped: ``fn()`` returns a number,
    or, with ``labels``, a mapping from label values (a tuple, or one value
    for one label) to numbers. It
    must only read. Apps register theirs in AppConfig.ready, once."""
    if not NAME_RE.match(name) or not all(NAME_RE.match(label) for label in labels):
        raise ValueError(f"not a Prometheus metric or label name: {name!r} {labels!r}")
    if name in GAUGES:
        raise ValueError(f"gauge {name!r} is registered twice")
    GAUGES[name] = RegisteredGauge(name=name, help=help, fn=fn, labels=tuple(labels))


class _RegisteredGauges:
    """A collector running every registered gauge's function at scrape time."""

    def collect(self):
        up = GaugeMetricFamily("sanxiang_gauge_up", "1 if the gauge's source was read at this scrape, else 0",
                               labels=["gauge"])
        for gauge in GAUGES.values():
            try:
                value = gauge.fn()
                family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
                if gauge.labels:
                    for label_values, number in value.items():
                        if not isinstance(label_values, tuple):
                            label_values = (label_values,)
                        family.add_metric([str(v) for v in label_values], float(number))
                else:
                    family.add_metric([], float(value))
            except Exception:  # one unreadable source must not hide the others
                logger.warning("metrics: gauge %s could not be read", gauge.name, exc_info=True)
                up.add_metric([gauge.name], 0)
                continue
            up.add_metric([gauge.name], 1)
            yield family
        yield up


# --- the web processes ---------------------------------------------------------------

_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def _pids_with_files(directory: Path) -> set[int]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return set()
    return {int(m.group(1)) for m in map(_PID_IN_NAME.search, names) if m}


def _alive(pid: int) -> bool:
    if os.name != "posix":
        # On Windows os.kill(pid, 0) would terminate the process; there the
        # platform serves with waitress in one process, so only this one counts.
        return pid == os.getpid()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has ended but is not yet reaped by its parent (a
    gunicorn worker killed a moment ago): gone, though its pid answers."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].startswith(("Z", "X"))


def forget_dead_processes(directory: Path | None = None) -> list[int]:
    """Remove the counter files of processes that are no longer alive (at the
    web server's start); the pids removed."""
    directory = Path(directory or settings.METRICS_DIR)
    gone = sorted(pid for pid in _pids_with_files(directory) if not _alive(pid))
    for pid in gone:
        for path in directory.glob(f"*_{pid}.db"):
            path.unlink(missing_ok=True)
    return gone


def _proc_stat(pid: int) -> dict | None:
    """CPU seconds, resident bytes, start time and open files of a live
    process, from /proc (None where there is no /proc or it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "; fields[0] is the state (field 3)
    if fields[0] in ("Z", "X"):
        return None  # ended, not yet reaped
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "cpu": (int(fields[11]) + int(fields[12])) / ticks,  # utime + stime (fields 14, 15)
        "rss": int(statm[1]) * os.sysconf("SC_PAGE_SIZE"),
        "start": _boot_time() + int(fields[19]) / ticks,  # starttime (field 22), ticks after boot
        "fds": fds,
    }


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


class _WebProcesses:
    """Process metrics of every live process counting into METRICS_DIR (the
    web workers), plus the one answering."""

    def collect(self):
        if not Path("/proc/self/stat").exists():
            return
        pids = {pid for pid in _pids_with_files(Path(settings.METRICS_DIR)) if _alive(pid)} | {os.getpid()}
        families = {
            "rss": GaugeMetricFamily("sanxiang_process_resident_memory_bytes", "Resident memory of a web process",
                                     labels=["pid"]),
            "cpu": CounterMetricFamily("sanxiang_process_cpu_seconds", "CPU time (user and system) of a web process",
                                       labels=["pid"]),
            "fds": GaugeMetricFamily("sanxiang_process_open_fds", "Open file descriptors of a web process",
                                     labels=["pid"]),
            "start": GaugeMetricFamily("sanxiang_process_start_time_seconds",
                                       "Start time of a web process (seconds since the epoch)", labels=["pid"]),
        }
        count = 0
        for pid in sorted(pids):
            stat = _proc_stat(pid)
            if stat is None:
                continue
            count += 1
            for key, family in families.items():
                family.add_metric([str(pid)], stat[key])
        yield from families.values()
        yield GaugeMetricFamily("sanxiang_web_processes", "Live web processes of this data directory", value=count)


def render() -> bytes:
    """The Prometheus text of one scrape."""
    directory = Path(settings.METRICS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    registry.register(_RegisteredGauges())
    registry.register(_WebProcesses())
    return generate_latest(registry)


# --- who may read it ------------------------------------------------------------------


def may_read_metrics(address: str | None) -> bool:
    """Is ``address`` in one of settings.METRICS_NETWORKS?"""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.1.2.3 on a dual-stack socket is 10.1.2.3
    return any(ip.version == net.version and ip in net for net in settings.METRICS_NETWORKS)


# --- recording -------------------------------------------------------------------------


def route_label(request) -> str:
    """The bounded label of the URL pattern that answered ``request``."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if match.url_name:
            return match.view_name
        if match.route:
            return match.route
        return "unnamed"
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """Outermost middleware: observes every response's latency and status
    class under its route label. Loaded once per web server process (before
    gunicorn forks its workers), when it also forgets the counter files of
    processes that are gone (a new server run counts from zero)."""

    def __init__(self, get_response):
        self.get_response = get_response
        Path(settings.METRICS_DIR).mkdir(parents=True, exist_ok=True)
        forget_dead_processes()

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_label(request)
        REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
        RESPONSES.labels(route=route, status=f"{response.status_code // 100}xx").inc()
        return response
