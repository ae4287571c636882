"""Login with a second factor for the roles that need one.

Legal-office supervisors and system administrators must present a TOTP code
(django-otp) unless settings.REQUIRE_TOTP is off (the demo). An account of
such a role with no confirmed device is sent to enrol one right after its
password is checked; it gets no session until the code is confirmed.
"""

from __future__ import annotations

from django.conf import settings
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import append_audit


def totp_required(user) -> bool:
    return bool(settings.REQUIRE_TOTP and getattr(user, "needs_totp", False))


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def verify_totp(*, request, user, token: str) -> bool:
    device = confirmed_device(user)
    token = (token or "").strip()
    if device is None or not token.isdigit():
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
    if not (token or "").strip().isdigit() or not device.verify_token(token.strip()):
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
