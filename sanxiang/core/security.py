"""Response headers and session idling that Django does not provide itself
(issue 9, §7). Django's SecurityMiddleware sends HSTS, nosniff, the
Referrer-Policy and COOP; XFrameOptionsMiddleware denies framing; this
module adds:

- Content-Security-Policy (settings.CONTENT_SECURITY_POLICY): scripts only
  from our own static files, never inline (templates carry no <script>
  body and no on*= handler: a test reads them all); styles may be inline
  (a few style= attributes and inline SVG flowcharts);
- Permissions-Policy (settings.PERMISSIONS_POLICY): no camera, microphone,
  geolocation, payment ... for any page;
- an idle timeout for signed-in sessions: the session's expiry
  (SESSION_COOKIE_AGE, a working day by default) is pushed forward at most
  every SESSION_REFRESH_SECONDS of activity, so an idle session ends after
  SESSION_COOKIE_AGE without writing the session row on every request.
"""

from __future__ import annotations

import time

from django.conf import settings

_REFRESHED = "_sx_active"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        csp = settings.CONTENT_SECURITY_POLICY
        if csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = csp
        permissions = settings.PERMISSIONS_POLICY
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response


class SessionIdleMiddleware:
    """Place after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - int(session.get(_REFRESHED, 0)) >= settings.SESSION_REFRESH_SECONDS:
                session[_REFRESHED] = now  # modified: saved with a new expiry
        return self.get_response(request)
