"""The annual statistics travel upward (公示-17, 公示-18; issue 13 item 2;
issue 16): an agency's 行政执法数据年度报告 when it is published at a lower
platform — its frozen snapshot (figures with their counting rules, the
figures entered by the agency with their notes), the 情况说明 and when it was
published — so the province's public annual pages show it for that agency
and its status lists count it as published.

Sending side: statistics calls ``on_report_published`` inside the
transaction of the publication (statistics.registry), which writes the
outbox message. Receiving side: ``apply`` stores it through statistics
(statistics.docked.receive_published_report) as published at its source, as
the instance (``instance:<code>``). Key: agency/year — one object per
agency and year; a newer version from the same platform replaces the one
held, a stale one is ignored (services.receive_message), a report the
platform above published itself is never overwritten (``published_here``)."""

from __future__ import annotations

from sanxiang.core.models import Agency
from sanxiang.statistics import docked

from . import services
from .registry import Applied, ObjectType, agency_scope, unknown_agency

OBJECT_TYPE = "annual_report"
SCHEMA_VERSION = 1
EVENT = "annual_report.published"


def on_report_published(report) -> None:
    """statistics.registry listener: one outbox message per publication
    (services.enqueue_change: the next version of its message); nothing
    while no upstream is set."""
    if services.upstream() is None:
        return
    form = docked.travelling_form(report)
    if form is not None:
        services.enqueue_change(event_type=EVENT, object_type_name=OBJECT_TYPE, key=docked.key_of(form), data=form)


scope = agency_scope


def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
    agency = Agency.objects.filter(credit_code=scope(data).agency_code).first()
    if agency is None:
        return unknown_agency(data)
    received = docked.receive_published_report(actor=actor, agency=agency, form=data, source_name=instance.name)
    if received.outcome != "applied":
        return Applied("refused", received.code, received.message)
    return Applied("applied", local_id=str(received.report_id))


ANNUAL_REPORTS = ObjectType(name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, scope=scope, apply=apply)
