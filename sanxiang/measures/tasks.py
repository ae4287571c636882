"""Scheduled job (registered in sanxiang.core.jobs): the platform's evidence
check over every open task of the task table (proofs.py)."""

from __future__ import annotations

JOB = "measures.evidence"


def check_evidence_job() -> int:
    from .services import check_all_platform_evidence

    return check_all_platform_evidence()
