"""The operator's probes: /healthz, /readyz (core/health.py) and /metrics
(core/metrics.py). No login, no session, no writes; machine-readable
answers, not pages (docs/deploy.md, "Health and metrics")."""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics
from .lockout import client_ip


def _answer(status: int, body: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def _get_only(request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise Http404("not found")


def healthz(request):
    """GET /healthz: the process takes requests (no database, queue or disk)."""
    _get_only(request)
    return _answer(200, b"ok\n", "text/plain; charset=utf-8")


def readyz(request):
    """GET /readyz: 200 when every registered check passes, else 503 naming
    each failing one with a short reason."""
    _get_only(request)
    checks = health.run_checks()
    ready = all(result == "ok" for result in checks.values())
    body = json.dumps({"status": "ok" if ready else "failing", "checks": checks}).encode()
    return _answer(200 if ready else 503, body, "application/json")


def metrics_view(request):
    """GET /metrics: the Prometheus text for settings.METRICS_NETWORKS; 404
    to anyone else, as if there were nothing here."""
    _get_only(request)
    if not metrics.may_read_metrics(client_ip(request)):
        raise Http404("not found")
    return _answer(200, metrics.render(), CONTENT_TYPE_LATEST)
