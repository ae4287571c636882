"""Supervision's figures for the statistics app's cockpit and annual figures
(registered in apps.py through ``statistics.registry.register_figure_source``:
statistics sits below supervision and never imports it)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count

from .models import Alert, AlertLevel, AlertStatus, Complaint


def complaints_received(*, agency_ids: list[int], date_from: date, date_to: date, today: date) -> dict[int, int]:
    """Complaints and reports (投诉举报) about each agency received in the
    period (by the day received, ``received_on``), whatever their status:
    one GROUP BY agency."""
    rows = (Complaint.objects.filter(agency_id__in=agency_ids, received_on__gte=date_from, received_on__lte=date_to)
            .values("agency_id").annotate(n=Count("id")).order_by())
    return {row["agency_id"]: row["n"] for row in rows}


def _open_alerts(agency_ids: list[int], **level) -> dict[int, int]:
    rows = (Alert.objects.filter(agency_id__in=agency_ids, status=AlertStatus.OPEN, **level)
            .values("agency_id").annotate(n=Count("id")).order_by())
    return {row["agency_id"]: row["n"] for row in rows}


def alerts_open(*, agency_ids: list[int], date_from: date, date_to: date, today: date) -> dict[int, int]:
    """Alerts (预警) open now for each responsible agency, yellow and red:
    the state of the alerts table as the job last refreshed it, whatever
    the period asked (an alert is a standing condition, not an event of
    the period; docs/statistics.md). One GROUP BY agency."""
    return _open_alerts(agency_ids)


def alerts_red(*, agency_ids: list[int], date_from: date, date_to: date, today: date) -> dict[int, int]:
    """Of those, the red ones (past their limit). One GROUP BY agency."""
    return _open_alerts(agency_ids, level=AlertLevel.RED)
