"""Jurisdiction: who may read whose private data, by page, API and admin."""

import pytest
from django.test import Client

from sanxiang.conftest import client_for


@pytest.fixture(autouse=True)
def _no_totp(settings):
    # TOTP is proven in test_auth; here we look only at scoping.
    settings.REQUIRE_TOTP = False




def test_county_officer_cannot_read_another_countys_officer_by_page(world):
    c = client_for(world.u_changan)
    assert c.get(f"/workbench/officers/{world.changan_officer.pk}/").status_code == 200
    other = c.get(f"/workbench/officers/{world.zhengding_officer.pk}/")
    assert other.status_code == 404
    assert world.zhengding_officer.name not in other.content.decode()
    listing = c.get("/workbench/officers/").content.decode()
    assert world.changan_officer.name in listing
    assert world.zhengding_officer.name not in listing and world.lunan_officer.name not in listing


def test_county_officer_cannot_read_another_countys_officer_by_api(world):
    c = client_for(world.u_changan)
    assert c.get(f"/api/v1/officers/{world.changan_officer.pk}").status_code == 200
    r = c.get(f"/api/v1/officers/{world.zhengding_officer.pk}")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    names = {o["name"] for o in c.get("/api/v1/officers?limit=100").json()["items"]}
    assert names == {world.changan_officer.name, world.changan_officer2.name}
    assert c.get(f"/api/v1/agencies/{world.amr_zhengding.pk}").status_code == 404


def test_county_officer_cannot_read_another_countys_officer_by_admin(world):
    c = client_for(world.u_changan)
    own = c.get(f"/admin/core/officer/{world.changan_officer.pk}/change/")
    assert own.status_code == 200 and world.changan_officer.name in own.content.decode()
    other = c.get(f"/admin/core/officer/{world.zhengding_officer.pk}/change/", follow=True)
    assert world.zhengding_officer.name not in other.content.decode()
    listing = c.get("/admin/core/officer/").content.decode()
    assert world.changan_officer.name in listing and world.zhengding_officer.name not in listing


def test_city_legal_office_reads_its_counties_but_not_a_sibling_city(world):
    c = client_for(world.u_legal_sjz)
    for officer in (world.changan_officer, world.zhengding_officer):
        assert c.get(f"/workbench/officers/{officer.pk}/").status_code == 200
        assert c.get(f"/api/v1/officers/{officer.pk}").status_code == 200
        assert officer.name in c.get(f"/admin/core/officer/{officer.pk}/change/").content.decode()
    assert c.get(f"/workbench/officers/{world.lunan_officer.pk}/").status_code == 404
    assert c.get(f"/api/v1/officers/{world.lunan_officer.pk}").status_code == 404
    assert world.lunan_officer.name not in c.get(f"/admin/core/officer/{world.lunan_officer.pk}/change/", follow=True).content.decode()
    agencies = {a["name"] for a in c.get("/api/v1/agencies?limit=100").json()["items"]}
    assert world.amr_changan.name in agencies and world.amr_zhengding.name in agencies
    assert world.amr_lunan.name not in agencies


def test_province_legal_office_sees_every_agency(world):
    c = client_for(world.u_legal_hebei)
    agencies = {a["name"] for a in c.get("/api/v1/agencies?limit=100").json()["items"]}
    assert {world.amr_changan.name, world.amr_zhengding.name, world.amr_lunan.name} <= agencies


def test_api_token_is_scoped_to_its_agency(world):
    from sanxiang.api.services import create_token

    _, clear = create_token(actor="t", agency=world.amr_lunan, name="办案系统", scopes=["read"])
    c = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert c.get(f"/api/v1/officers/{world.lunan_officer.pk}").status_code == 200
    assert c.get(f"/api/v1/officers/{world.changan_officer.pk}").status_code == 404


def test_anonymous_gets_no_private_data(world):
    c = Client()
    assert c.get("/api/v1/officers").status_code == 401
    assert c.get(f"/workbench/officers/{world.changan_officer.pk}/").status_code == 302
    assert c.get("/admin/core/officer/").status_code == 302


def test_city_legal_office_edits_an_officer_in_the_admin_through_the_service(world):
    from sanxiang.core.models import AuditEntry

    c = client_for(world.u_legal_sjz)
    officer = world.zhengding_officer
    url = f"/admin/core/officer/{officer.pk}/change/"
    form = {"name": officer.name, "agency": officer.agency_id, "post": "科长", "categories": '["penalty", "inspection"]',
            "enforcement_region": officer.enforcement_region_id, "valid_from": "2024-01-01", "valid_to": "2029-12-31"}
    r = c.post(url, form)
    assert r.status_code == 302, r.content.decode()[:2000]
    officer.refresh_from_db()
    assert officer.post == "科长"
    entry = AuditEntry.objects.filter(action="officer.update", object_id=str(officer.pk)).latest("seq")
    assert '"before":{"post":"执法队员"}' in entry.payload and '"after":{"post":"科长"}' in entry.payload
    # A county officer may look but not change.
    c2 = client_for(world.u_zhengding)
    assert c2.post(url, {**form, "post": "局长"}).status_code == 403
