"""Logins: argon2 hashes, TOTP for legal-office and admin roles, lockout after
repeated failures, and every login or failure in the audit chain."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sanxiang.core.models import AuditEntry


def post_login(client, username, password, otp=""):
    return client.post("/login/", {"username": username, "password": password, "otp_token": otp})


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_passwords_are_stored_as_argon2_hashes(world):
    world.u_changan.refresh_from_db()
    assert world.u_changan.password.startswith("argon2$")
    assert world.password not in world.u_changan.password


def test_officer_logs_in_with_password_alone_and_the_login_is_audited(world):
    c = Client()
    r = post_login(c, "changan_officer", world.password)
    assert r.status_code == 302 and r["Location"] == "/workbench/"
    assert c.get("/workbench/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.login", actor="changan_officer").exists()


def test_legal_office_supervisor_must_enrol_and_then_present_totp(world, settings):
    settings.REQUIRE_TOTP = True
    c = Client()
    r = post_login(c, "legal_sjz", world.password)
    assert r.status_code == 302 and r["Location"] == "/login/totp/"
    # No session yet: the workbench still asks for a login.
    assert c.get("/workbench/").status_code == 302
    page = c.get("/login/totp/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=world.u_legal_sjz, confirmed=False)
    assert c.post("/login/totp/", {"otp_token": "000000" if current_code(device) != "000000" else "111111"}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # django-otp throttles after a wrong code; skip the wait
    r = c.post("/login/totp/", {"otp_token": current_code(device)})
    assert r.status_code == 302
    assert c.get("/workbench/").status_code == 200

    # Next time the code is required with the password.
    c2 = Client()
    r = post_login(c2, "legal_sjz", world.password)
    assert r.status_code == 400 and "动态码".encode() in r.content
    assert c2.get("/workbench/").status_code == 302
    device.refresh_from_db()
    device.last_t = -1  # allow the same time step again for this test
    device.save()
    device.throttle_reset()
    r = post_login(c2, "legal_sjz", world.password, current_code(device))
    assert r.status_code == 302
    assert c2.get("/workbench/").status_code == 200


def test_admin_site_refuses_a_supervisor_without_totp_verification(world, settings):
    settings.REQUIRE_TOTP = True
    c = Client()
    c.force_login(world.u_admin)  # password only, no second factor
    assert c.get("/admin/").status_code == 302
    assert c.get("/api/v1/agencies").status_code == 401


def test_demo_setting_relaxes_totp(world, settings):
    settings.REQUIRE_TOTP = False
    c = Client()
    assert post_login(c, "legal_sjz", world.password).status_code == 302
    assert c.get("/workbench/").status_code == 200


def test_repeated_failed_logins_lock_the_account_and_are_audited(world, settings):
    limit = settings.AXES_FAILURE_LIMIT
    c = Client()
    for _ in range(limit):
        assert post_login(c, "changan_officer", "wrong-password").status_code in (400, 403)
    r = post_login(c, "changan_officer", world.password)
    assert r.status_code == 403
    assert "锁定".encode() in r.content
    assert c.get("/workbench/").status_code == 302
    failures = AuditEntry.objects.filter(action="auth.login_failed", object_id="changan_officer").count()
    assert failures >= limit
    # Another account is not affected.
    assert post_login(Client(), "zhengding_officer", world.password).status_code == 302


@pytest.mark.parametrize("role_user", ["u_legal_sjz", "u_admin"])
def test_roles_that_need_totp(world, role_user):
    assert getattr(world, role_user).needs_totp
    assert not world.u_changan.needs_totp
