"""Supervision's figures for the statistics app's cockpit and annual figures
(registered in apps.py through ``statistics.registry.register_figure_source``:
statistics sits below supervision and never imports it)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count

from .models import Complaint


def complaints_received(*, agency_ids: list[int], date_from: date, date_to: date, today: date) -> dict[int, int]:
    """Complaints and reports (投诉举报) about each agency received in the
    period (by the day received, ``received_on``), whatever their status:
    one GROUP BY agency."""
    rows = (Complaint.objects.filter(agency_id__in=agency_ids, received_on__gte=date_from, received_on__lte=date_to)
            .values("agency_id").annotate(n=Count("id")).order_by())
    return {row["agency_id"]: row["n"] for row in rows}
