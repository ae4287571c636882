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

from sanxiang.statistics import docked

from . import agency_objects

OBJECT_TYPE = "annual_report"
SCHEMA_VERSION = 1
EVENT = "annual_report.published"


# The owning app's listener (its registry calls it in the change's
# transaction) and the type's receiving side (agency_objects.py).
on_report_published = agency_objects.change_listener(
    event=EVENT, object_type_name=OBJECT_TYPE, travelling_form=docked.travelling_form, key_of=docked.key_of)
ANNUAL_REPORTS = agency_objects.object_type(
    name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, receive=docked.receive_published_report, local_id="report_id")
