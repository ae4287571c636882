"""Refused attempts are in a security log; reads of a case's or a review's
personal data are in the audit chain (issue 9).

The security log (``core.security_log``, one middleware) records 401s (a
wrong API token as ``bad_token``), 403s and 404s on private routes with the
user, the IP and the route; it is append-only, read by administrators in the
back office, and kept for the dated retention (``security.log_retention``,
six months under the Cybersecurity Law art. 21) by a scheduled purge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.cases import services as case_services
from sanxiang.core import clock
from sanxiang.core.jobs import run_jobs
from sanxiang.core.models import AuditEntry, SecurityEvent
from sanxiang.core.security_log import purge_security_log


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in test_auth


@pytest.fixture
def case(world):
    return case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案",
                                   act_kind="penalty", party_name="石家庄某某超市有限公司", party_type="legal_person",
                                   opened_on=date(2026, 9, 1), officers=[world.changan_officer, world.changan_officer2])


def _client(user=None, **extra) -> Client:
    c = Client(REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="probe/1.0", **extra)
    if user is not None:
        c.force_login(user)
    return c


def test_a_wrong_api_token_is_logged_with_ip_and_route_but_not_the_token(world, case):
    r = _client(HTTP_AUTHORIZATION="Bearer sx_not-a-real-token").get(f"/api/v1/cases/{case.pk}")
    assert r.status_code == 401
    event = SecurityEvent.objects.get()
    assert (event.kind, event.status, event.method, event.path, event.ip, event.username) == \
        ("bad_token", 401, "GET", f"/api/v1/cases/{case.pk}", "10.1.2.3", "")
    assert event.user_agent == "probe/1.0"
    assert "not-a-real-token" not in str(SecurityEvent.objects.values().get())


def test_a_cross_agency_read_by_page_and_api_is_logged_as_not_found_with_the_user(world, case):
    assert _client(world.u_zhengding).get(f"/workbench/cases/{case.pk}/").status_code == 404
    _, token = create_token(actor="t", agency=world.amr_zhengding, name="正定办案系统", scopes=["read"])
    assert _client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/review/cases/{case.pk}").status_code == 404
    page, api = SecurityEvent.objects.order_by("id")
    assert (page.kind, page.username, page.path) == ("not_found", "zhengding_officer", f"/workbench/cases/{case.pk}/")
    assert api.kind == "not_found" and api.path == f"/api/v1/review/cases/{case.pk}" and api.username
    assert not AuditEntry.objects.filter(action__endswith=".view").exists()  # a refusal is not a read


def test_forbidden_pages_and_csrf_refusals_are_logged(world):
    assert _client(world.u_changan).get("/admin/core/securityevent/").status_code == 403
    c = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.1.2.4")
    c.force_login(world.u_changan)
    assert c.post("/workbench/cases/new/", {"title": "x"}).status_code == 403
    kinds = list(SecurityEvent.objects.order_by("id").values_list("kind", "username", "path"))
    assert kinds == [("forbidden", "changan_officer", "/admin/core/securityevent/"),
                     ("forbidden", "changan_officer", "/workbench/cases/new/")]


def test_public_pages_not_found_by_anonymous_visitors_are_not_refusals(world):
    assert _client().get("/decisions/987654/").status_code == 404
    assert _client().get("/no-such-page/").status_code == 404
    assert _client().get("/api/v1/catalog/processes/penalty/nonexistent").status_code == 404
    assert not SecurityEvent.objects.exists()
    assert _client().get("/workbench/cases/1/").status_code == 302  # to the login page: not a refusal either
    assert not SecurityEvent.objects.exists()


def test_the_security_log_is_append_only_in_the_database(world):
    _client(HTTP_AUTHORIZATION="Bearer wrong").get("/api/v1/cases")
    event = SecurityEvent.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(path="/elsewhere/")
    with pytest.raises(ValueError):
        event.save()
    assert SecurityEvent.objects.get().path == "/api/v1/cases"


def test_events_older_than_the_dated_retention_are_purged_by_the_scheduled_job(world):
    now = clock.now()
    old = SecurityEvent.objects.create(time=now - timedelta(days=200), kind="forbidden", status=403, method="GET",
                                       path="/old/", ip="10.0.0.1")
    kept = SecurityEvent.objects.create(time=now - timedelta(days=150), kind="forbidden", status=403, method="GET",
                                        path="/recent/", ip="10.0.0.1")
    assert run_jobs(names=["security.log_purge"]) == {"security.log_purge": 1}
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()
    assert purge_security_log(today=clock.today()) == 0


def test_administrators_read_the_log_in_the_back_office_and_cannot_change_it(world):
    _client(HTTP_AUTHORIZATION="Bearer wrong").get("/api/v1/cases")
    event = SecurityEvent.objects.get()
    admin = _client(world.u_admin)
    listing = admin.get("/admin/core/securityevent/")
    assert listing.status_code == 200 and "/api/v1/cases" in listing.content.decode()
    assert admin.get(f"/admin/core/securityevent/{event.pk}/change/").status_code == 200
    assert admin.post(f"/admin/core/securityevent/{event.pk}/change/", {"path": "/x/"}).status_code == 403
    assert admin.post(f"/admin/core/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/core/securityevent/add/").status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk, path="/api/v1/cases").exists()


def test_reading_a_case_or_its_review_by_page_or_api_is_in_the_audit_chain_with_the_reader(world, case):
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read"])
    api = _client(HTTP_AUTHORIZATION=f"Bearer {token}")
    page = _client(world.u_changan)
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert page.get(f"/workbench/cases/{case.pk}/").status_code == 200
    assert page.get(f"/review/case/{case.pk}/").status_code == 200
    assert api.get(f"/api/v1/cases/{case.pk}").status_code == 200
    assert api.get(f"/api/v1/review/cases/{case.pk}").status_code == 200
    entries = list(AuditEntry.objects.filter(seq__gt=before).values_list("action", "actor", "object_id", "payload"))
    token_user = entries[2][1]
    assert [(a, who, oid) for a, who, oid, _ in entries] == [
        ("case.view", "changan_officer", str(case.pk)), ("review.view", "changan_officer", str(case.pk)),
        ("case.view", token_user, str(case.pk)), ("review.view", token_user, str(case.pk))]
    assert token_user not in ("", "system", "anonymous")
    assert [p for *_, p in entries] == ['{"via":"page"}', '{"via":"page"}', '{"via":"api"}', '{"via":"api"}']
