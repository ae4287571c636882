"""A certificate is shown in the state it is in today (公示-8/9, issue 11
item 8): the public officer list and /verify name suspended and expired
certificates as such, the back office never calls an expired certificate
有效 because its status field says active, and /verify names where to
report an officer (the agency's own channel, or the 12345 hotline)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from sanxiang.conftest import client_for, make_user
from sanxiang.core import services
from sanxiang.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def states(world, no_totp):
    services.set_officer_status(actor="t", officer=world.zhengding_officer, status="suspended", reason="违纪调查")
    services.update_officer(actor="t", officer=world.changan_officer2, valid_to=date(2025, 6, 30))
    return world


def _row_of(html: str, name: str) -> str:
    match = re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", html, re.S)
    assert match, name
    return match.group(0)


def _state_cell(row: str) -> str:
    return re.search(r'data-label="状态"[^>]*>([^<]*)<', row).group(1)


def test_public_officer_list_names_suspended_and_expired_certificates(states):
    html = Client().get("/officers/").content.decode()
    assert _state_cell(_row_of(html, states.zhengding_officer.name)) == "已暂扣"
    assert _state_cell(_row_of(html, states.changan_officer2.name)) == "已过期"
    assert _state_cell(_row_of(html, states.changan_officer.name)) == "有效"


def test_back_office_never_calls_an_expired_certificate_valid(states):
    client = client_for(states.u_legal_sjz)
    expired = states.changan_officer2
    listing = client.get("/workbench/officers/").content.decode()
    assert _state_cell(_row_of(listing, expired.name)) == "已过期"
    detail = client.get(f"/workbench/officers/{expired.pk}/").content.decode()
    assert re.search(r"<dt>状态</dt><dd[^>]*>([^<]*)</dd>", detail).group(1) == "已过期"
    assert "expired" not in re.sub(r'class="[^"]*"', "", detail)
    agency = client.get(f"/workbench/agencies/{states.amr_changan.pk}/").content.decode()
    assert "已过期" in agency


def test_verify_names_the_12345_hotline_when_the_agency_set_no_channel(states):
    html = Client().get(f"/verify/{states.changan_officer.certificate_number}").content.decode()
    assert "12345" in html and "举报" in html


def test_the_agency_head_sets_the_reporting_channel_shown_on_verify(states):
    head = make_user("head_changan", Role.AGENCY_HEAD, agency=states.amr_changan)
    page = client_for(head).post(f"/workbench/agencies/{states.amr_changan.pk}/",
                                 {"report_phone": "0311-12315", "report_url": "https://example.gov.cn/jubao"})
    assert page.status_code == 302
    html = Client().get(f"/verify/{states.changan_officer.certificate_number}").content.decode()
    assert "0311-12315" in html and "https://example.gov.cn/jubao" in html and "12345" not in html
    entry = AuditEntry.objects.filter(action="agency.reporting_channel").latest("pk")
    assert json.loads(entry.payload)["after"] == {"report_phone": "0311-12315", "report_url": "https://example.gov.cn/jubao"}
    # another agency's officers keep the default
    other = Client().get(f"/verify/{states.zhengding_officer2.certificate_number}").content.decode()
    assert "12345" in other and "0311-12315" not in other


def test_an_officer_cannot_set_the_reporting_channel_and_a_bad_address_is_refused(states):
    with pytest.raises(PermissionDenied):
        services.set_reporting_channel(actor=states.u_changan, agency=states.amr_changan, report_phone="1", report_url="")
    head = make_user("head_changan", Role.AGENCY_HEAD, agency=states.amr_changan)
    with pytest.raises(PermissionDenied):  # not the head of another agency
        services.set_reporting_channel(actor=head, agency=states.amr_zhengding, report_phone="1", report_url="")
    page = client_for(head).post(f"/workbench/agencies/{states.amr_changan.pk}/",
                                 {"report_phone": "", "report_url": "not a web address"})
    assert page.status_code == 200 and 'class="error"' in page.content.decode()
    states.amr_changan.refresh_from_db()
    assert states.amr_changan.report_url == ""
