"""The back office changes nothing except through the services (issue 9).

Found: the cases admin let an agency head set ``decided_on`` on a case with
no steps and no audit entry. Every registered ModelAdmin now derives from
``core.admin.BackOfficeAdmin``, read-only by default; an admin that offers
add or change names the services its ``save_model`` calls. Checked for
every registered admin, for every role, so a new admin cannot slip by."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.test import Client

from sanxiang.cases import services as case_services
from sanxiang.cases.models import Case
from sanxiang.core import services
from sanxiang.core.admin import BackOfficeAdmin, site
from sanxiang.core.models import AuditEntry, Role


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in test_auth


@pytest.fixture
def people(world):
    head = services.create_user(actor="t", username="changan_head", password=world.password, role=Role.AGENCY_HEAD,
                                agency=world.amr_changan)
    superuser = services.create_user(actor="t", username="root", password=world.password, role=Role.SYSADMIN)
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    return {"officer": world.u_changan, "head": head, "supervisor": world.u_legal_sjz, "sysadmin": world.u_admin,
            "superuser": superuser}


@pytest.fixture
def case(world):
    return case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案",
                                   act_kind="penalty", party_name="石家庄某某超市有限公司", party_type="legal_person",
                                   opened_on=date(2026, 9, 1), officers=[world.changan_officer, world.changan_officer2])


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _service(dotted: str):
    module, name = dotted.rsplit(".", 1)
    assert module.endswith(".services"), f"{dotted} is not a service"
    return getattr(importlib.import_module(module), name)


def test_every_registered_admin_is_read_only_unless_it_names_the_services_it_writes_through(people, case):
    assert len(site._registry) >= 12
    for model, model_admin in site._registry.items():
        name = type(model_admin).__name__
        assert isinstance(model_admin, BackOfficeAdmin), f"{name} does not derive from core.admin.BackOfficeAdmin"
        for role, user in people.items():
            request = _request(user)
            obj = model._default_manager.first()
            assert not model_admin.has_delete_permission(request), (name, role)
            assert not model_admin.has_delete_permission(request, obj), (name, role)
            assert "delete_selected" not in model_admin.get_actions(request), (name, role)
            if model_admin.has_add_permission(request) or model_admin.has_change_permission(request, obj):
                assert model_admin.writes_through, f"{name} lets {role} write without naming a service"
                assert all(callable(_service(s)) for s in model_admin.writes_through)
                assert type(model_admin).save_model is not BackOfficeAdmin.save_model, name


def _counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if not m._meta.proxy}


def test_posting_to_every_admin_change_add_and_delete_form_writes_nothing_outside_a_service(people, case):
    """Every role posts to every add, change and delete URL (and the bulk
    delete action) of every registered admin: no table changes, except
    through a service where one is named (then its audit entry shows it)."""
    clients = {}
    for role, user in people.items():
        c = Client()
        c.force_login(user)
        clients[role] = c
    counts, audit = _counts(), AuditEntry.objects.count()
    for model, model_admin in site._registry.items():
        meta = model._meta
        obj = model._default_manager.first()
        for role, c in clients.items():
            urls = [f"/admin/{meta.app_label}/{meta.model_name}/add/"]
            if obj is not None:
                urls += [f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/",
                         f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/delete/"]
            for url in urls:
                r = c.post(url, {"post": "yes"})
                assert r.status_code in (200, 302, 403, 404), (role, url, r.status_code)
            if obj is not None:
                r = c.post(f"/admin/{meta.app_label}/{meta.model_name}/",
                           {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
                assert r.status_code in (200, 302, 403), (role, meta.label, r.status_code)
    after = _counts()
    after.pop("admin.LogEntry", None), counts.pop("admin.LogEntry", None)
    after.pop("core.SecurityEvent", None), counts.pop("core.SecurityEvent", None)
    assert after == counts
    assert AuditEntry.objects.count() == audit


@pytest.mark.parametrize("role", ["head", "sysadmin", "superuser"])
def test_no_one_sets_a_cases_decision_date_in_the_back_office(people, case, role):
    c = Client()
    c.force_login(people[role])
    before = Case.objects.filter(pk=case.pk).values().get()
    audit = AuditEntry.objects.count()
    r = c.post(f"/admin/cases/case/{case.pk}/change/", {
        "title": case.title, "party_name": case.party_name, "party_type": case.party_type,
        "party_credit_code": case.party_credit_code, "decided_on": "2026-09-30", "served_on": ""})
    assert r.status_code == 403
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert AuditEntry.objects.count() == audit
    # still readable
    assert c.get(f"/admin/cases/case/{case.pk}/change/").status_code == 200


def test_the_base_refuses_a_save_even_if_a_subclass_forgot_its_permissions(people, case):
    from django.core.exceptions import PermissionDenied

    model_admin = site._registry[Case]
    request = _request(people["superuser"])
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, case, None, True)
    with pytest.raises(PermissionDenied):
        model_admin.delete_model(request, case)
    with pytest.raises(PermissionDenied):
        model_admin.delete_queryset(request, Case.objects.all())
    assert Case.objects.filter(pk=case.pk).exists()
