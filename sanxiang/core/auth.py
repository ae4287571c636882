"""Login with a second factor for the roles that need one.

Legal-office supervisors and system administrators must present a TOTP code
(django-otp) unless settings.REQUIRE_TOTP is off (the demo). An account of
such a role with no confirmed device is sent to enrol one right after its
password is checked; it gets no session until the code is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import append_audit
from .lockout import client_ip

# One answer for every refused login — wrong username, wrong password, or a
# right password with a wrong or missing code — so the page never tells an
# attacker that the password was right (issue 9, §7).
LOGIN_REFUSED = _("Wrong username, password or authenticator code.")


@dataclass(frozen=True)
class LoginCheck:
    """What a login attempt comes to: ``user`` is set only when the login may
    proceed (``device``: the TOTP device it was verified with; ``enrol``: the
    account must first enrol a device); ``locked``: django-axes refused it."""

    user: object | None = None
    device: TOTPDevice | None = None
    enrol: bool = False
    locked: bool = False


def _digits(token: str) -> str | None:
    token = (token or "").strip()
    return token if token.isascii() and token.isdigit() else None


def check_login(*, request, username: str, password: str, otp_token: str) -> LoginCheck:
    """Password, then the second factor where the role needs one. A wrong
    or missing code counts as a failed login (audit chain, lockout) exactly
    like a wrong password."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        audit_login_failed(request=request, username=username)
    if getattr(request, "axes_locked_out", False):
        return LoginCheck(locked=True)
    if user is None:
        return LoginCheck()
    if not totp_required(user):
        return LoginCheck(user=user)
    device = confirmed_device(user)
    if device is None:
        return LoginCheck(user=user, enrol=True)
    token = _digits(otp_token)
    if token is not None and device.verify_token(token):
        return LoginCheck(user=user, device=device)
    audit_login_failed(request=request, username=username)
    # django-axes counts failures from this signal (its lockout); the audit
    # entry above is written here, not by a receiver.
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    return LoginCheck(locked=bool(getattr(request, "axes_locked_out", False)))


def _client(request) -> dict:
    if request is None:
        return {}
    return {"ip": client_ip(request) or "", "agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


def audit_login_failed(*, request, username: str) -> None:
    """A refused login into the audit chain (issue 2, item 7): a wrong
    username or password (a locked account included) or a wrong or missing
    code. Written by ``check_login``, the one way a login is checked."""
    username = username or ""
    append_audit(actor=f"anonymous:{username}"[:150], action="auth.login_failed", object_type="core.user",
                 object_id=username[:64], payload=_client(request))


def log_in(request, user, *, device: TOTPDevice | None = None, backend: str | None = None) -> None:
    """Start the session of a checked login (and mark it verified with the
    TOTP ``device`` it was checked with), and append ``auth.login`` to the
    audit chain: the one way the platform's login page logs someone in."""
    auth_login(request, user, backend=backend)
    append_audit(actor=user, action="auth.login", obj=user, payload=_client(request))
    if device is not None:
        otp_login(request, device)


def totp_required(user) -> bool:
    return bool(settings.REQUIRE_TOTP and getattr(user, "needs_totp", False))


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def verify_totp(*, request, user, token: str) -> bool:
    device = confirmed_device(user)
    token = _digits(token)
    if device is None or token is None:
        return False
    if device.verify_token(token):
        request.user = user
        otp_login(request, device)
        return True
    return False


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first need)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def confirm_device(*, user, device: TOTPDevice, token: str) -> bool:
    token = _digits(token)
    if token is None or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    append_audit(actor=user, action="auth.totp_enrolled", obj=user, payload={"device": device.persistent_id})
    return True


def is_fully_authenticated(user) -> bool:
    """Logged in, and verified by TOTP where the role requires it."""
    if not getattr(user, "is_authenticated", False):
        return False
    if totp_required(user):
        return bool(getattr(user, "is_verified", lambda: False)())
    return True
