"""Recorders (记录-6..9): registry, assignment over time, uploads linked to
the device, usage and gaps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanxiang.evidence import services
from sanxiang.evidence.selectors import device_usage

from .conftest import jpeg_bytes
from .test_custody import login, upload
from sanxiang.core import clock

pytestmark = pytest.mark.django_db


def test_assignment_links_uploads_to_the_officer_and_shows_gaps(cases, settings):
    w = cases
    device = services.register_device(actor=w.u_admin, agency=w.amr_changan, serial="dsj-2026-0001", model="DSJ-V9")
    assert device.serial == "DSJ-2026-0001"
    today = clock.today()
    start = today - timedelta(days=4)
    services.assign_device(actor=w.u_admin, device=device, officer=w.changan_officer2, valid_from=start)
    captured = timezone.make_aware(timezone.datetime.combine(start + timedelta(days=1), timezone.datetime.min.time())
                                   ) + timedelta(hours=10)
    item = upload(w, jpeg_bytes(1000), device=device.serial, captured_at=captured.isoformat())
    assert item.device == device and item.officer == w.changan_officer2  # a dock's token: officer from the assignment
    usage = device_usage(device=device, today=today)
    (row,) = usage.per_assignment
    assert (row.days, row.days_used, row.uploads) == (5, 1, 1)
    assert row.gaps == [(start, start), (start + timedelta(days=2), today)]
    settings.REQUIRE_TOTP = False
    page = login(w.u_changan).get(f"/workbench/devices/{device.pk}/").content.decode()
    assert "李秀英" in page and "无上传的日期" in page


def test_a_new_assignment_ends_the_open_one_and_overlaps_are_refused(cases):
    w = cases
    device = services.register_device(actor=w.u_admin, agency=w.amr_changan, serial="DSJ-0002", model="DSJ-V9")
    services.assign_device(actor=w.u_admin, device=device, officer=w.changan_officer, valid_from=date(2026, 1, 1))
    services.assign_device(actor=w.u_admin, device=device, officer=w.changan_officer2, valid_from=date(2026, 2, 1))
    first, second = device.assignments.order_by("valid_from")
    assert first.valid_to == date(2026, 1, 31) and second.valid_to is None
    with pytest.raises(ValidationError):
        services.assign_device(actor=w.u_admin, device=device, officer=w.changan_officer, valid_from=date(2026, 1, 15),
                               valid_to=date(2026, 1, 20))
    with pytest.raises(ValidationError):
        services.assign_device(actor=w.u_admin, device=device, officer=w.zhengding_officer, valid_from=date(2026, 3, 1))
    with pytest.raises(ValidationError):
        services.register_device(actor=w.u_admin, agency=w.amr_changan, serial="DSJ-0002", model="again")


def test_another_agencys_device_is_404(cases):
    w = cases
    device = services.register_device(actor=w.u_admin, agency=w.amr_zhengding, serial="ZD-0001", model="DSJ")
    assert login(w.u_changan).get(f"/workbench/devices/{device.pk}/").status_code == 404
    assert "ZD-0001" not in login(w.u_changan).get("/workbench/devices/").content.decode()
