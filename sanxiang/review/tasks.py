"""Scheduled job (registered in sanxiang.core.jobs): review deadline
reminders and escalations (审核-8 time limits)."""

from __future__ import annotations


def review_deadlines_job() -> int:
    from .services import run_deadline_job

    return run_deadline_job()
