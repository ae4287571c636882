"""Scheduled jobs: idempotent functions run periodically.

`sanxiang serve` runs them in a background thread (every
SANXIANG_JOBS_INTERVAL seconds, default 600; 0 turns it off, e.g. when
several web workers run and cron calls `sanxiang jobs run` instead). Each job
is safe to run any number of times: it acts on what is due "today".
See docs/decisions/0007-scheduled-jobs.md for why not Huey yet.
"""

from __future__ import annotations

import logging
import threading
import time
from importlib import import_module

from django.db import close_old_connections

log = logging.getLogger(__name__)

# name → dotted path of a function taking no arguments and returning a count.
JOBS = {
    "publicity.expire": "sanxiang.publicity.tasks.expire_publicity_job",
    "evidence": "sanxiang.evidence.tasks.run_evidence_jobs",  # upload expiry, purge, fixity (记录-12)
    "review.deadlines": "sanxiang.review.tasks.review_deadlines_job",  # reminders and escalation (审核-8)
}


def _function(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def run_jobs(*, names: list[str] | None = None) -> dict[str, int]:
    """Run the named jobs (all by default); return what each did."""
    done = {}
    for name, path in JOBS.items():
        if names and name not in names:
            continue
        done[name] = _function(path)()
    "security.log_purge": "sanxiang.core.security_log.purge_job",  # retention of the security log (issue 9)
    return done


def start_background_runner(*, interval: int) -> threading.Thread | None:
    if interval <= 0:
        return None

    def loop():
        while True:
            close_old_connections()
            try:
                run_jobs()
            except Exception:  # a failing job must not kill the server; it is logged and retried
                log.exception("scheduled jobs failed")
            finally:
                close_old_connections()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="sanxiang-jobs", daemon=True)
    thread.start()
    return thread
