"""Work of the evidence domain on the job queue (sanxiang/core/queue.py):
the scheduled jobs (registered in sanxiang.core.jobs, each safe to run any
number of times) and the packaging of an ended case's e-case file; thin
wrappers over services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sanxiang.core import queue

from . import services


@queue.task(name="evidence.build_archive", label=_("Build the e-case file of an ended case"))
def build_archive(case_id: int, actor_id: int | None = None, actor_name: str = "", ended_at: str | None = None) -> None:
    """记录-3: the e-case file of a case that has just ended (enqueued by
    services.file_ended_case once the ending commits); once per ending,
    however often the queue delivers it."""
    services.build_ended_case_archive(case_id=case_id, actor_id=actor_id, actor_name=actor_name, ended_at=ended_at)


@queue.task(name="evidence.finish_upload", label=_("Complete an upload whose serving process stopped after its last bytes"))
def finish_upload(upload_id: str) -> None:
    """Queued (delayed) when the last bytes of an upload are durable: if the
    process receiving them died before the evidence item was made, this
    makes it (services.finish_stalled_upload); otherwise nothing."""
    services.finish_stalled_upload(upload_id=upload_id)


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
