"""The security log: refused attempts, recorded at one place.

``SecurityLogMiddleware`` looks at every response once the view (page, API,
admin, tus) has answered and records a ``SecurityEvent`` when the answer is
a refusal:

- 401 anywhere (``bad_token`` when the request carried an Authorization
  header — a wrong, expired or revoked API token —, else
  ``unauthenticated``);
- 403 anywhere (``forbidden``: no right to the object or the action, CSRF);
- 404 on a private route (``PRIVATE_PREFIXES``) or by a signed-in caller or
  a caller presenting a token (``not_found``: ids outside the caller's
  jurisdiction answer 404 like missing ones, so probing shows here). 404s of
  anonymous visitors on the public portal are not refusals and are not
  logged; neither are anonymous 404s under ``/api/v1/``: every private API
  operation answers an anonymous caller 401 before it looks anything up, so
  an anonymous 404 there comes from a public operation (a process definition,
  a catalogue, a search) or an unknown route.

Each row says when, who (username, empty when anonymous), from which IP
(``lockout.client_ip``, the same address the login lockout counts:
``REMOTE_ADDR``, or behind ``SANXIANG_TRUSTED_PROXY_COUNT`` reverse proxies
the address the outermost trusted proxy saw), the method and the route. No
request body, query string or token is stored. Administrators read the log
in the back office (read-only); rows older than the dated retention
(``security.log_retention``, the Cybersecurity Law's six months) are deleted
by the ``security.log_purge`` job.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction

from . import clock
from .lockout import client_ip
from .models import SecurityEvent

log = logging.getLogger(__name__)

PRIVATE_PREFIXES = ("/admin/", "/workbench/", "/review/", "/documents/", "/catalog/office/", "/api/v1/",
                    "/evidence/shared/")
# Public routes under the private prefixes: an anonymous 404 there is not a refusal.
PUBLIC_PREFIXES = ("/api/v1/public/", "/api/v1/docs", "/api/v1/openapi.json")
API_PREFIX = "/api/v1/"
KINDS = {401: SecurityEvent.Kind.UNAUTHENTICATED, 403: SecurityEvent.Kind.FORBIDDEN, 404: SecurityEvent.Kind.NOT_FOUND}


def _username(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    return ""


def kind_of(request, status: int) -> str | None:
    """The kind of refusal a response is, or None when it is not one to log."""
    if status not in KINDS:
        return None
    has_credentials = bool(request.META.get("HTTP_AUTHORIZATION"))
    if status == 401:
        return SecurityEvent.Kind.BAD_TOKEN if has_credentials else SecurityEvent.Kind.UNAUTHENTICATED
    if status == 404:
        path = request.path
        private = (path.startswith(PRIVATE_PREFIXES) and not path.startswith(PUBLIC_PREFIXES)
                   and not path.startswith(API_PREFIX))
        if not (private or _username(request) or has_credentials):
            return None
    return KINDS[status]


def record(request, status: int) -> SecurityEvent | None:
    """Append the event for a refused request; never lets a logging failure
    change the answer (it is logged to the application log instead)."""
    kind = kind_of(request, status)
    if kind is None:
        return None
    try:
        with transaction.atomic():
            return SecurityEvent.objects.create(
                time=clock.now(), kind=kind, status=status, method=request.method[:8], path=request.path[:500],
                username=_username(request)[:150], ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:255])
    except (DatabaseError, ValueError):
        log.exception("security log: could not record %s %s (%s)", request.method, request.path, status)
        return None


class SecurityLogMiddleware:
    """Records refused attempts (see the module docstring). Placed after
    the authentication middleware so the session user is known; the API's
    token user is set by the view and is seen here on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record(request, response.status_code)
        return response


def purge_security_log(*, today=None) -> int:
    """Delete events older than the dated retention; returns how many."""
    from sanxiang.rules.loader import get_rule

    from .calendar import _add_months

    today = today or clock.today()
    rule = get_rule("security.log_retention", on=today)
    cutoff = _add_months(today, -int(rule.value))
    deleted, _ = SecurityEvent.objects.filter(time__date__lt=cutoff).delete()
    return deleted


__all__ = ["PRIVATE_PREFIXES", "SecurityLogMiddleware", "kind_of", "purge_security_log", "record"]
