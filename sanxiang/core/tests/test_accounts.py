"""Accounts (issue 9, §7): one answer for every refused login, lockout per
account, per address and per pair with an administrator's unlock, a page to
change one's own password, the password rules everywhere a password is set,
and signed-in sessions that end after a working day idle."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sanxiang.core import services
from sanxiang.core.models import AuditEntry, Role

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def post_login(client, username, password, otp=""):
    return client.post("/login/", {"username": username, "password": password, "otp_token": otp})


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def wrong_code(device) -> str:
    right = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    return "000000" if right != "000000" else "111111"


# --- one answer -------------------------------------------------------------------


def test_a_wrong_password_and_a_right_password_with_a_wrong_or_missing_code_get_the_same_answer(world, settings):
    settings.REQUIRE_TOTP = True
    device = TOTPDevice.objects.create(user=world.u_legal_sjz, name="phone", confirmed=True)
    code = wrong_code(device)
    c = Client()
    answers = {}
    for label, password, otp in [("wrong password, no code", "not-the-password-1", ""),
                                 ("right password, no code", world.password, ""),
                                 ("wrong password, a code", "not-the-password-1", code),
                                 ("right password, wrong code", world.password, code)]:
        device.refresh_from_db()
        device.throttle_reset()
        r = post_login(c, "legal_sjz", password, otp)
        answers[label] = (r.status_code, CSRF.sub(b"", r.content))
    assert answers["wrong password, no code"] == answers["right password, no code"]
    assert answers["wrong password, a code"] == answers["right password, wrong code"]
    status, body = answers["right password, wrong code"]
    assert status == 400 and "用户名、密码或动态码错误".encode() in body
    assert c.get("/workbench/").status_code == 302
    # Each of the four counted as a failed login.
    assert AuditEntry.objects.filter(action="auth.login_failed", object_id="legal_sjz").count() == 4


# --- lockout ----------------------------------------------------------------------


def test_guessing_from_one_address_locks_that_address_not_the_owner_elsewhere(world, settings):
    attacker = from_ip("203.0.113.7")
    for _ in range(settings.LOGIN_FAILURE_LIMITS["pair"]):
        post_login(attacker, "changan_officer", "wrong-password-1")
    r = post_login(attacker, "changan_officer", world.password)
    assert r.status_code == 403 and "锁定".encode() in r.content
    owner = from_ip("10.1.2.3")
    assert post_login(owner, "changan_officer", world.password).status_code == 302
    assert owner.get("/workbench/").status_code == 200


def test_password_spraying_across_accounts_from_one_address_is_stopped(world, settings):
    sprayer = from_ip("198.51.100.9")
    for n in range(settings.LOGIN_FAILURE_LIMITS["ip"]):
        post_login(sprayer, f"user{n:02d}", "Spring2026!")  # one guess per account: no pair reaches its limit
    assert post_login(sprayer, "zhengding_officer", world.password).status_code == 403
    assert post_login(from_ip("10.1.2.4"), "zhengding_officer", world.password).status_code == 302


def test_locking_an_account_takes_many_addresses_and_never_locks_it_at_its_usual_address(world, settings):
    limits = settings.LOGIN_FAILURE_LIMITS
    usual = from_ip("10.9.9.9")
    assert post_login(usual, "changan_officer", world.password).status_code == 302  # a known address
    addresses = -(-limits["account"] // limits["pair"])
    assert addresses >= 6  # one attacker address alone can never lock an account
    for a in range(addresses):
        attacker = from_ip(f"203.0.113.{a + 1}")
        for _ in range(limits["pair"]):
            post_login(attacker, "changan_officer", "wrong-password-1")
    assert post_login(from_ip("192.0.2.50"), "changan_officer", world.password).status_code == 403
    assert post_login(from_ip("10.9.9.9"), "changan_officer", world.password).status_code == 302


def test_an_administrator_unlocks_from_the_command_line_and_the_back_office(world, settings):
    settings.REQUIRE_TOTP = False
    attacker = from_ip("203.0.113.8")
    for _ in range(settings.LOGIN_FAILURE_LIMITS["pair"]):
        post_login(attacker, "changan_officer", "wrong-password-1")
    assert post_login(attacker, "changan_officer", world.password).status_code == 403
    call_command("unlock", "changan_officer", stdout=open(os.devnull, "w"))
    assert post_login(from_ip("203.0.113.8"), "changan_officer", world.password).status_code == 302
    assert AuditEntry.objects.filter(action="auth.unlock", actor="cli:unlock", object_id="changan_officer").exists()

    for _ in range(settings.LOGIN_FAILURE_LIMITS["pair"]):
        post_login(attacker, "zhengding_officer", "wrong-password-1")
    assert post_login(attacker, "zhengding_officer", world.password).status_code == 403
    from axes.models import AccessAttempt

    with pytest.raises(PermissionDenied):
        services.unlock_login(actor=world.u_changan, username="zhengding_officer")
    admin = Client()
    admin.force_login(world.u_admin)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and b"zhengding_officer" in page.content
    ids = list(AccessAttempt.objects.filter(username="zhengding_officer").values_list("pk", flat=True))
    r = admin.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": ids})
    assert r.status_code == 302
    assert post_login(from_ip("203.0.113.8"), "zhengding_officer", world.password).status_code == 302
    assert AuditEntry.objects.filter(action="auth.unlock", actor="sysadmin", object_id="zhengding_officer").exists()


# --- passwords --------------------------------------------------------------------


def test_a_user_changes_their_own_password_from_the_navigation(world):
    c = Client()
    assert post_login(c, "changan_officer", world.password).status_code == 302
    assert b'href="/account/password/"' in c.get("/workbench/").content
    page = c.get("/account/password/")
    assert page.status_code == 200 and "修改密码".encode() in page.content

    def change(old, new, again=None):
        return c.post("/account/password/", {"old_password": old, "new_password": new, "new_password2": again or new})

    r = change("not-my-password", "a-new-and-long-one-42")
    assert r.status_code == 400 and "原密码不正确".encode() in r.content
    r = change(world.password, "changan_officer1")
    assert r.status_code == 400 and "太相似".encode() in r.content
    r = change(world.password, "password123")
    assert r.status_code == 400 and "太常见".encode() in r.content
    r = change(world.password, "a-new-and-long-one-42", "a-new-and-long-one-43")
    assert r.status_code == 400
    assert change(world.password, "a-new-and-long-one-42").status_code == 302
    assert c.get("/workbench/").status_code == 200  # this session stays signed in
    assert post_login(Client(), "changan_officer", world.password).status_code == 400
    assert post_login(Client(), "changan_officer", "a-new-and-long-one-42").status_code == 302
    assert AuditEntry.objects.filter(action="user.password_change", actor="changan_officer").exists()
    with pytest.raises(PermissionDenied):  # nobody changes another's password this way
        services.change_password(actor=world.u_zhengding, user=world.u_changan, old_password="a-new-and-long-one-42",
                                 new_password="another-long-one-77")


@pytest.mark.parametrize("password", ["zhangwei2026", "password123", "12345678901"])
def test_createuser_refuses_a_password_like_the_username_common_or_all_digits(db, monkeypatch, password):
    monkeypatch.setenv("SANXIANG_NEW_PASSWORD", password)
    with pytest.raises(CommandError, match="password"):
        call_command("createuser", "--username", "zhangwei2026", "--role", Role.SYSADMIN, stdout=open(os.devnull, "w"))


# --- sessions ---------------------------------------------------------------------


def test_a_signed_in_session_ends_after_a_working_day_idle_and_lives_while_used(world, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    start = datetime(2026, 12, 1, 1, 0, tzinfo=ZoneInfo("UTC"))
    c = Client()
    with time_machine.travel(start, tick=False) as t:
        assert post_login(c, "changan_officer", world.password).status_code == 302
        t.move_to(start + timedelta(hours=7))
        assert c.get("/workbench/").status_code == 200  # used within the day: the clock starts again
        t.move_to(start + timedelta(hours=14, minutes=50))
        assert c.get("/workbench/").status_code == 200
        t.move_to(start + timedelta(hours=22, minutes=55))  # 8 h 05 min idle
        assert c.get("/workbench/").status_code == 302
