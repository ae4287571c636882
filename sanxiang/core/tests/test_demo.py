"""The demo data: real Hebei codes, valid credit codes and certificate
numbers, every officer state, one login per role, idempotent, atomic and
audited."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from sanxiang.core import demo, services
from sanxiang.core.models import (
    Agency, AgencyKind, AuditEntry, Officer, OfficerStatus, Region, RegionLevel, Role, User,
)
from sanxiang.core.validators import check_certificate_number, check_credit_code, organization_code_check_char
from sanxiang.core import clock

pytestmark = pytest.mark.django_db

REAL_CITIES = {
    "130000": "河北省", "130100": "石家庄市", "130200": "唐山市", "130300": "秦皇岛市", "130400": "邯郸市",
    "130500": "邢台市", "130600": "保定市", "130700": "张家口市", "130800": "承德市", "130900": "沧州市",
    "131000": "廊坊市", "131100": "衡水市",
}


@pytest.fixture
def loaded():
    result = demo.load_demo()
    assert result.loaded
    return result


def test_loading_creates_hebei_and_its_eleven_cities_with_real_codes(loaded):
    upper = Region.objects.filter(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY])
    assert {r.code: r.name for r in upper} == REAL_CITIES
    assert Region.objects.get(code="130000").level == RegionLevel.PROVINCE
    assert all(r.parent.code == "130000" for r in upper.filter(level=RegionLevel.CITY))


def test_every_city_has_at_least_three_counties_coded_under_it(loaded):
    for city in Region.objects.filter(level=RegionLevel.CITY):
        counties = list(city.children.all())
        assert len(counties) >= 3, city.name
        for county in counties:
            assert county.level == RegionLevel.COUNTY
            assert county.code[:4] == city.code[:4], county.code
            assert county.path == f"130000/{city.code}/{county.code}/"
    assert Region.objects.get(code="130123").name == "正定县"
    assert Region.objects.get(code="130102").name == "长安区"


def test_every_agency_credit_code_passes_the_gb32100_check(loaded):
    agencies = list(Agency.objects.all())
    assert agencies
    for agency in agencies:
        assert check_credit_code(agency.credit_code) is None, (agency.name, agency.credit_code)
        assert agency.credit_code[2:8] == agency.region.code
        assert organization_code_check_char(agency.credit_code[8:16]) == agency.credit_code[16]


def test_organisation_code_check_char_follows_gb11714():
    # Weights 3,7,9,10,5,8,4,2; letters count 10-35; C9 = 11 - sum mod 11, 10 -> X, 11 -> 0.
    assert organization_code_check_char("D2143569") == "X"  # the standard's worked example D2143569-X
    assert organization_code_check_char("00000001") == "9"  # 2 -> 9
    assert organization_code_check_char("00000000") == "0"  # 0 -> 11 -> 0
    assert organization_code_check_char("00000050") == "2"  # 20 mod 11 = 9 -> 2
    assert organization_code_check_char("A0000000") == "3"  # 30 mod 11 = 8 -> 3


def test_every_enforcement_agency_answers_to_its_own_regions_legal_office(loaded):
    enforcement = Agency.objects.exclude(kind=AgencyKind.LEGAL_OFFICE)
    assert 18 <= enforcement.count() <= 25
    assert len(set(enforcement.values_list("kind", flat=True))) >= 8
    assert {a.region.level for a in enforcement} == {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY}
    for agency in enforcement:
        assert agency.legal_office is not None, agency.name
        assert agency.legal_office.kind == AgencyKind.LEGAL_OFFICE
        assert agency.legal_office.region_id == agency.region_id
        assert agency.short_name and agency.address and agency.phone
    legal_regions = set(Agency.objects.filter(kind=AgencyKind.LEGAL_OFFICE).values_list("region__code", flat=True))
    assert set(REAL_CITIES) <= legal_regions
    assert Agency.objects.get(name="河北省市场监督管理局").short_name == "冀市监"


def test_every_certificate_number_is_valid_and_issued_in_the_agency_region(loaded):
    for officer in Officer.objects.select_related("agency__region", "enforcement_region"):
        assert check_certificate_number(officer.certificate_number) is None, officer.certificate_number
        assert officer.certificate_number[:6] == officer.agency.region.code
        assert officer.enforcement_region_id == officer.agency.region_id
        assert officer.categories
        assert officer.valid_from < officer.valid_to


def test_about_two_hundred_officers_in_every_state_and_some_expired(loaded):
    officers = Officer.objects.all()
    assert 180 <= officers.count() <= 220
    statuses = {s: officers.filter(status=s).count() for s in OfficerStatus.values}
    assert all(statuses.values()), statuses
    assert statuses[OfficerStatus.ACTIVE] > 0.8 * officers.count()
    today = clock.today()
    expired = officers.filter(valid_to__lt=today)
    assert expired.exists()
    assert officers.filter(status=OfficerStatus.ACTIVE, valid_from__lte=today, valid_to__gte=today).count() > 150
    # Every enforcement agency has officers.
    assert not Agency.objects.exclude(kind=AgencyKind.LEGAL_OFFICE).filter(officers=None).exists()


def test_suspensions_and_revocations_are_recorded_with_a_reason(loaded):
    changed = Officer.objects.exclude(status=OfficerStatus.ACTIVE)
    entries = AuditEntry.objects.filter(action="officer.status")
    assert entries.count() == changed.count()
    assert set(entries.values_list("object_id", flat=True)) == {str(pk) for pk in changed.values_list("pk", flat=True)}


def test_a_demo_login_exists_for_every_role(loaded):
    users = {u.username: u for u in User.objects.filter(username__in=demo.DEMO_USERNAMES)}
    assert set(users) == set(demo.DEMO_USERNAMES)
    assert {u.role for u in users.values()} == set(Role.values)
    assert [login.username for login in loaded.logins] == demo.DEMO_USERNAMES
    assert all(login.password == "sanxiang-demo-2026" and login.role_label and login.sees for login in loaded.logins)
    assert users["officer"].check_password("sanxiang-demo-2026")
    main = Agency.objects.get(name="石家庄市市场监督管理局")
    for name in ["officer", "reviewer", "head", "publicity", "api"]:
        assert users[name].agency == main, name
    assert users["reviewer"].role == Role.LEGAL_REVIEWER
    assert users["head"].role == Role.AGENCY_HEAD
    assert users["publicity"].role == Role.PUBLICITY_ADMIN
    assert users["api"].role == Role.API_CLIENT
    assert users["legal_sjz"].role == Role.LEGAL_SUPERVISOR and users["legal_sjz"].region.code == "130100"
    assert users["legal_hebei"].role == Role.LEGAL_SUPERVISOR and users["legal_hebei"].region.code == "130000"
    assert users["admin"].role == Role.SYSADMIN and users["admin"].is_superuser
    assert users["county_officer"].agency.region.level == RegionLevel.COUNTY
    # Only the demo logins are created, not one account per officer.
    assert User.objects.count() == len(demo.DEMO_USERNAMES)


def test_officer_logins_are_linked_to_their_certificate(loaded):
    officer = User.objects.get(username="officer").officer
    assert officer.agency.name == "石家庄市市场监督管理局"
    assert officer.status == OfficerStatus.ACTIVE and officer.valid_to >= clock.today()
    county = User.objects.get(username="county_officer").officer
    assert county.agency.region.level == RegionLevel.COUNTY
    assert county.enforcement_region == county.agency.region


def test_loading_twice_changes_nothing(loaded):
    before = demo.current_counts()
    assert loaded.counts == before
    second = demo.load_demo()
    assert second.loaded is False
    assert second.counts == before
    assert demo.current_counts() == before
    assert second.logins == loaded.logins


def test_loading_writes_audit_entries_as_the_demo_loader(loaded):
    entries = AuditEntry.objects.all()
    assert entries.count() > 0
    assert set(entries.values_list("actor", flat=True)) == {"demo-loader"}
    assert entries.filter(action="region.create").count() == Region.objects.count()
    assert entries.filter(action="agency.create").count() == Agency.objects.count()
    assert entries.filter(action="officer.create").count() == Officer.objects.count()
    assert entries.filter(action="user.create").count() == User.objects.count()


def test_loading_is_deterministic():
    class Undo(Exception):
        pass

    def snapshot():
        return (
            list(Agency.objects.order_by("credit_code").values_list("name", "credit_code", "address", "phone")),
            list(Officer.objects.order_by("certificate_number").values_list(
                "certificate_number", "name", "post", "categories", "valid_from", "valid_to", "status")),
        )

    with pytest.raises(Undo), transaction.atomic():
        demo.load_demo(seed=7)
        first = snapshot()
        raise Undo
    assert not Region.objects.exists()
    demo.load_demo(seed=7)
    assert snapshot() == first


def test_a_failure_midway_leaves_nothing_behind(monkeypatch):
    real = services.create_officer
    calls = {"n": 0}

    def failing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 150:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(services, "create_officer", failing)
    with pytest.raises(RuntimeError):
        demo.load_demo()
    assert not Region.objects.exists()
    assert not Agency.objects.exists()
    assert not Officer.objects.exists()
    assert not User.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_partly_present_demo_is_refused_not_duplicated():
    services.create_region(actor="someone", code="130000", name="河北省", level=RegionLevel.PROVINCE)
    with pytest.raises(demo.DemoConflict, match="130000"):
        demo.load_demo()
    assert Region.objects.count() == 1


def test_loaddemo_command_prints_counts_and_logins():
    out = io.StringIO()
    call_command("loaddemo", "--quiet", stdout=out)
    text = out.getvalue()
    assert "演示数据已导入" in text
    assert "执法人员 200" in text
    for username in demo.DEMO_USERNAMES:
        assert username in text
    assert "sanxiang-demo-2026" in text

    again = io.StringIO()
    call_command("loaddemo", stdout=again)
    assert "未作改动" in again.getvalue()
