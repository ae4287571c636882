"""Scheduled job (registered in sanxiang.core.jobs): the refresh of the
alert table (预警, issue 15 item 2) from every registered alert rule."""

from __future__ import annotations

JOB = "supervision.alerts"


def refresh_alerts_job() -> int:
    from .services import refresh_alerts

    totals = refresh_alerts()
    return sum(totals.values())
