"""Login lockout (django-axes) by account, by IP and by the pair.

Three counters of failed logins within AXES_COOLOFF_TIME (30 minutes), each
with its own limit (settings.LOGIN_FAILURE_LIMITS):

- (account, IP) pair — 5: someone guessing one account from one place is
  stopped first; the account's owner elsewhere is not affected;
- IP — 20: password spraying (a few guesses on each of many accounts) from
  one address is stopped; high enough for an agency behind one NAT gateway
  where several officers mistype;
- account — 30, from any address: distributed guessing on one account. So
  one attacker's address is locked (pair at 5, IP at 20) long before it can
  lock an account; locking `admin` needs at least 6 addresses, and even
  then the account lock does not apply from an address the account logged
  in from successfully within LOGIN_KNOWN_IP_DAYS: the administrator at the
  usual desk keeps access.

django-axes compares one number with one limit (AXES_FAILURE_LIMIT, set to
the pair's limit), taking the largest count over AXES_LOCKOUT_PARAMETERS;
LoginLockHandler scales each counter to that limit, floor(n × base / own
limit) ≥ base exactly when n ≥ own limit, so each lock trips at its own limit.
An administrator unlocks with `sanxiang unlock` or the back office
(core.services.unlock_login).
"""

from __future__ import annotations

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from django.conf import settings
from django.db.models import Sum

from . import clock

# The order of settings.AXES_LOCKOUT_PARAMETERS, each with its limit's key.
COUNTERS = (("pair", ["username", "ip_address"]), ("ip", "ip_address"), ("account", "username"))


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind SANXIANG_TRUSTED_PROXY_COUNT
    reverse proxies the address the outermost trusted proxy saw (X-Forwarded-For)."""
    count = int(settings.TRUSTED_PROXY_COUNT)
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None


def _known_address(username: str | None, ip: str | None) -> bool:
    """Did this account log in successfully from this address lately?"""
    from axes.models import AccessLog

    days = int(settings.LOGIN_KNOWN_IP_DAYS)
    if not username or not ip or days <= 0:
        return False
    return AccessLog.objects.filter(username=username, ip_address=ip,
                                    attempt_time__gte=clock.now() - timedelta(days=days)).exists()


class LoginLockHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        limits = settings.LOGIN_FAILURE_LIMITS
        base = get_failure_limit(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        worst = 0
        for (key, _params), attempts in zip(COUNTERS, attempts_list):
            if key == "account" and _known_address(get_client_username(request, credentials),
                                                   getattr(request, "axes_ip_address", None)):
                continue
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            worst = max(worst, failures * base // limits[key])
        return worst

    def reset_user_attempts(self, request, credentials=None) -> int:
        """On a successful login forget only this account's failures from
        this address: never the address's failures on other accounts (an
        insider could otherwise spray, log in as himself, and spray again)
        nor the account's failures from elsewhere."""
        from axes.models import AccessAttempt

        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count
