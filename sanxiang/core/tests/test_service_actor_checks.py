"""Every service checks who acts (issue 9).

Found: the core services (regions, agencies, officers, accounts) and
``publicity.set_auto_publish`` checked nothing — any caller, even with no
user, could create an account or switch automatic publication. Each now asks
a ``core.predicates.can_*`` first. The services are enumerated from the
module: a new core service must be listed here with who may not call it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from sanxiang.conftest import services_taking_an_actor
from sanxiang.core import services
from sanxiang.core.models import AgencyKind, AuditEntry, FailedTask, Role, User
from sanxiang.core.validators import make_certificate_number, make_credit_code
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.models import PublicitySettings

# Who must be refused, per service: "nobody" (None), "anonymous", and roles
# of the world fixture. A legal-office supervisor manages agencies and
# officers of the region they supervise only.
NOT_A_PERSON = ("nobody", "anonymous", "inactive_admin")
REFUSED = {
    "create_region": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
    "create_agency": NOT_A_PERSON + ("officer", "head", "supervisor_ts"),
    "update_agency": NOT_A_PERSON + ("officer", "head", "supervisor_ts"),
    "create_officer": NOT_A_PERSON + ("officer", "head", "supervisor_ts"),
    "update_officer": NOT_A_PERSON + ("officer", "head", "supervisor_ts"),
    "set_officer_status": NOT_A_PERSON + ("officer", "head", "supervisor_ts"),
    "create_user": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
    "set_user_role": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
    "update_user_account": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
    "unlock_login": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
    "change_password": ("nobody", "anonymous", "console", "head", "sysadmin"),  # one's own only (here: officer's)
    "record_view": ("nobody", "anonymous", "console"),
    # the agency's own head may (公示-9: the channel shown on /verify), an officer may not
    "set_reporting_channel": NOT_A_PERSON + ("officer", "supervisor_ts"),
    # failed tasks of the job queue: the system administrator (and the console)
    "retry_failed_task": NOT_A_PERSON + ("officer", "head", "supervisor_sjz", "supervisor_ts"),
}


def _failed_task():
    """A task of the job queue whose attempts are spent (a real task name)."""
    now = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    return FailedTask.objects.get_or_create(task_id="t-rebuild-1", defaults=dict(
        name="publicity.rebuild_search_index", error="OperationalError: database is locked", attempts=6,
        first_failed_at=now, last_failed_at=now, final=True))[0]


@pytest.fixture
def actors(world):
    head = services.create_user(actor="t", username="changan_head", password=world.password, role=Role.AGENCY_HEAD,
                                agency=world.amr_changan)
    inactive = services.create_user(actor="t", username="old_admin", password=world.password, role=Role.SYSADMIN)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    return {"nobody": None, "anonymous": AnonymousUser(), "console": "", "inactive_admin": inactive,
            "officer": world.u_changan, "head": head, "supervisor_sjz": world.u_legal_sjz,
            "supervisor_ts": world.u_legal_ts, "sysadmin": world.u_admin}


def _arguments(name: str, world) -> dict:
    """Valid arguments for each service, on 长安区 (under 石家庄's legal office)."""
    return {
        "create_region": dict(code="130104", name="桥西区", level="county", parent=world.sjz),
        "create_agency": dict(name="石家庄市长安区应急管理局", credit_code=make_credit_code(region_code="130102", serial=900),
                              region=world.changan, kind=AgencyKind.MARKET_REGULATION, legal_office=world.legal_sjz),
        "update_agency": dict(agency=world.amr_changan, phone="0311-12345678"),
        "create_officer": dict(name="新队员", agency=world.amr_changan, certificate_number=make_certificate_number("130102", 77),
                               categories=["penalty"], enforcement_region=world.changan, valid_from=date(2025, 1, 1),
                               valid_to=date(2029, 12, 31)),
        "update_officer": dict(officer=world.changan_officer, post="科长"),
        "set_officer_status": dict(officer=world.changan_officer, status="suspended", reason="暂扣执法证"),
        "create_user": dict(username="newcomer", password=world.password, role=Role.OFFICER, agency=world.amr_changan),
        "set_user_role": dict(user=world.u_changan, role=Role.AGENCY_HEAD, agency=world.amr_changan),
        "update_user_account": dict(user=world.u_changan, is_active=False, display_name="王"),
        "record_view": dict(obj=world.amr_changan, action="agency.view", via="test"),
        "set_reporting_channel": dict(agency=world.amr_changan, report_phone="0311-12315", report_url=""),
        "unlock_login": dict(username="changan_officer"),
        "change_password": dict(user=world.u_changan, old_password=world.password, new_password="Another-horse-battery-77"),
        "retry_failed_task": dict(failed=_failed_task()) if name == "retry_failed_task" else None,
    }[name]


def test_every_core_service_is_listed_with_who_it_refuses():
    assert set(services_taking_an_actor(services)) == set(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_core_service_refuses_who_may_not_act_and_writes_nothing(world, actors, name):
    func = services_taking_an_actor(services)[name]
    for who in REFUSED[name]:
        before = AuditEntry.objects.count()
        with pytest.raises(PermissionDenied):
            func(actor=actors[who], **_arguments(name, world))
        assert AuditEntry.objects.count() == before, (name, who)
    world.changan_officer.refresh_from_db()
    world.u_changan.refresh_from_db()
    assert world.changan_officer.post == "执法队员" and world.changan_officer.status == "active"
    assert world.u_changan.role == Role.OFFICER and world.u_changan.is_active


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_core_service_lets_the_right_people_act(world, actors, name):
    allowed = "officer" if name in {"record_view", "change_password"} else "sysadmin"
    if name in {"create_agency", "update_agency", "create_officer", "update_officer", "set_officer_status"}:
        allowed = "supervisor_sjz"  # the legal office supervising 长安区
    before = AuditEntry.objects.count()
    services_taking_an_actor(services)[name](actor=actors[allowed], **_arguments(name, world))
    assert AuditEntry.objects.filter(seq__gt=before).exists()


def test_a_supervisor_cannot_move_an_officer_or_agency_out_of_or_into_another_region(world):
    with pytest.raises(PermissionDenied):
        services.update_officer(actor=world.u_legal_sjz, officer=world.changan_officer, agency=world.amr_lunan)
    with pytest.raises(PermissionDenied):
        services.update_agency(actor=world.u_legal_sjz, agency=world.amr_changan, region=world.lunan)
    with pytest.raises(PermissionDenied):
        services.update_officer(actor=world.u_legal_ts, officer=world.lunan_officer, agency=world.amr_changan)


def test_set_auto_publish_is_for_the_agencys_publicity_administrator_or_head(world, actors):
    publicity_admin = services.create_user(actor="t", username="changan_pub", password=world.password,
                                           role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    other_head = services.create_user(actor="t", username="zd_head", password=world.password, role=Role.AGENCY_HEAD,
                                      agency=world.amr_zhengding)
    for who in (None, AnonymousUser(), "", actors["officer"], actors["supervisor_sjz"], other_head, actors["inactive_admin"]):
        with pytest.raises(PermissionDenied):
            publicity_services.set_auto_publish(actor=who, agency=world.amr_changan, enabled=True)
    assert not PublicitySettings.objects.filter(agency=world.amr_changan, auto_publish=True).exists()
    for who in (publicity_admin, actors["head"], actors["sysadmin"]):
        publicity_services.set_auto_publish(actor=who, agency=world.amr_changan, enabled=True)
    entries = AuditEntry.objects.filter(action="publicity.auto_publish").values_list("actor", flat=True)
    assert list(entries) == ["changan_pub", "changan_head", "sysadmin"]
