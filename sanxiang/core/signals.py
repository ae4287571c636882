"""Login events into the audit chain.

Logins reach us only through django.contrib.auth's signals (our login page,
the admin's and any future SSO backend all send them), so these receivers are
the one place where "logins and failed logins append to the audit chain"
(issue 2, item 7) is kept. Business effects never use signals.
"""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .audit import append_audit
from .lockout import client_ip


def _client(request) -> dict:
    if request is None:
        return {}
    return {"ip": client_ip(request) or "", "agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


@receiver(user_logged_in, dispatch_uid="sanxiang-audit-login")
def audit_login(sender, request, user, **kwargs):
    append_audit(actor=user, action="auth.login", obj=user, payload=_client(request))


@receiver(user_login_failed, dispatch_uid="sanxiang-audit-login-failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    append_audit(actor=f"anonymous:{username}"[:150], action="auth.login_failed", object_type="core.user",
                 object_id=username[:64], payload=_client(request))
