"""Health probes: /healthz (the process answers) and /readyz (what it needs
is reachable), for load balancers, systemd watchers and monitoring.

/healthz answers 200 "ok" without touching the database, the queue or the
disk: it says only that a web process takes requests.

/readyz runs every check in this registry, in the order registered, and
answers 200 when all pass, else 503; the body is JSON
``{"status": "ok"|"failing", "checks": {"database": "ok", "queue": "...", ...}}``.
Core registers ``database`` and ``queue``; evidence registers ``storage``
in its AppConfig.ready (docs/decisions/0011: a higher app plugs into a
lower one's registry). A check is a function that returns when its resource
is reachable and raises when not: ``CheckFailed("short reason")`` gives the
reason shown; any other exception is shown by its class name only (never
its message, which may hold host names, paths or credentials); the whole
exception goes to the log.

Neither probe needs a login, and neither writes (no session, no audit entry,
no file). The views are in core/probe_views.py; docs/deploy.md, "Health and
metrics", is the operator's side.
"""

from __future__ import annotations

import logging
from typing import Callable

from django.db import connection

from . import queue

logger = logging.getLogger(__name__)


class CheckFailed(Exception):
    """A check's resource is not usable; ``str(exc)`` is the short reason
    shown on /readyz (no host names, paths or secrets in it)."""


CHECKS: dict[str, Callable[[], object]] = {}


def register_check(name: str, fn: Callable[[], object]) -> None:
    """Add a readiness check under ``name`` (once; apps call this in
    AppConfig.ready)."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"a check name is letters, digits and _: {name!r}")
    if name in CHECKS:
        raise ValueError(f"check {name!r} is registered twice")
    CHECKS[name] = fn


def run_checks() -> dict[str, str]:
    """Every check's result: "ok" or a short reason."""
    results = {}
    for name, fn in CHECKS.items():
        try:
            fn()
        except CheckFailed as exc:
            logger.warning("readyz: %s failing: %s", name, exc)
            results[name] = str(exc)[:120] or "failing"
        except Exception as exc:  # any failure of one check is that check's answer, never a 500
            logger.warning("readyz: %s failing", name, exc_info=True)
            results[name] = f"failing ({type(exc).__name__})"
        else:
            results[name] = "ok"
    return results


def check_database() -> None:
    """The default database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A broken connection must not stay in the thread for the next request.
        connection.close_if_unusable_or_obsolete()
        raise CheckFailed("unreachable") from None


def check_queue() -> None:
    """The job queue's storage answers (Redis, or the SQLite file)."""
    try:
        queue.ping()
    except Exception:
        raise CheckFailed("unreachable") from None
