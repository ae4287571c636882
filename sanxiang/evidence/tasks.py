"""Scheduled jobs of the evidence domain (registered in sanxiang.core.jobs):
thin wrappers over services, each safe to run any number of times."""

from __future__ import annotations

from . import services


def expire_uploads_job() -> int:
    """tus expiration: unfinished uploads idle past Upload-Expires go."""
    return services.expire_uploads()


def purge_deleted_job() -> int:
    """Soft-deleted evidence past the recovery window is purged; objects no
    item names any more are removed."""
    return services.purge_deleted_evidence() + services.sweep_orphan_objects()


def fixity_job() -> int:
    """记录-12: re-hash stored objects; alerts on any mismatch or loss."""
    return services.check_fixity()["alerts"]


def run_evidence_jobs() -> int:
    """The one registry entry (sanxiang.core.jobs): expiry, purge, fixity.
    Fixity only re-hashes objects not checked for EVIDENCE_FIXITY_INTERVAL_DAYS,
    within EVIDENCE_FIXITY_BYTES_PER_RUN, so running it every few minutes
    costs nothing when nothing is due."""
    return expire_uploads_job() + purge_deleted_job() + fixity_job()
