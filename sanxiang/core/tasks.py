"""Scheduled jobs of core (registered in ``CoreConfig.ready`` with
``sanxiang.core.jobs``): thin wrappers over its services."""

from __future__ import annotations

from .security_log import purge_security_log


def purge_security_log_job() -> int:
    """The security log keeps its rows for the dated retention period
    (security.log_retention, issue 9)."""
    return purge_security_log()
