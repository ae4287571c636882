"""A refused upload answers its stable code through tus, not a bare
"invalid": the client can tell a closed case from a step of another case
or an unknown recorder without reading the Chinese message."""

from __future__ import annotations

import pytest
from django.test import Client

from sanxiang.core import clock

from .conftest import jpeg_bytes
from .test_tus_protocol import create

pytestmark = pytest.mark.django_db


def test_tus_answers_each_refused_creation_with_its_code(cases):
    w, c, data = cases, Client(), jpeg_bytes(1000)
    for meta, field, code in (
        ({"case": w.other_case.pk, "step": ""}, "case", "not_found"),
        ({"step": w.other_step.pk}, "step", "step_other_case"),
        ({"device": "NO-SUCH-DEVICE"}, "device", "unknown_device"),
        ({"captured_at": "yesterday"}, "captured_at", "invalid_datetime"),
    ):
        r = create(c, w, data, **meta)
        assert (r.status_code, r.json()["field"], r.json()["code"]) == (400, field, code), meta
    w.case.status, w.case.closed_on = "closed", clock.today()
    w.case.save()
    r = create(c, w, data)
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (400, "case", "case_not_open")
